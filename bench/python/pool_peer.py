"""Python's multiprocessing.Pool on the figures of bench_pool.

    python3 bench/python/pool_peer.py [scale, default 1]

Same figures, same shape of output, so scripts/bench can set them side by
side. Peer benchmarks only: nothing in mproc needs Python.
"""
import multiprocessing as mp
import sys
import time


def noop(x):
    return None


def square(x):
    return x * x


def burn(x):
    h = x
    for _ in range(40000):  # about the C task's millisecond, in Python
        h = (h * 6364136223846793005 + 1442695040888963407) & 0xFFFFFFFFFFFFFFFF
    return h


def apply_round_trip(pool, n):
    t0 = time.perf_counter()
    for _ in range(n):
        pool.apply(noop, (1,))
    return (time.perf_counter() - t0) / n


def map_rate(pool, fn, n, chunksize=None):
    items = list(range(n))
    t0 = time.perf_counter()
    pool.map(fn, items, chunksize)
    return n / (time.perf_counter() - t0)


def create_map_free(method):
    ctx = mp.get_context(method)
    t0 = time.perf_counter()
    with ctx.Pool(2) as pool:
        pool.map(square, [1, 2, 3, 4])
    return time.perf_counter() - t0


def main():
    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    mp.set_start_method("fork")
    rounds = 5
    rt, map_default, map_one, cmf_fork, cmf_spawn = 1e9, 0.0, 0.0, 1e9, 1e9
    with mp.Pool(2) as pool:
        apply_round_trip(pool, 50)
        for _ in range(rounds):
            rt = min(rt, apply_round_trip(pool, int(1000 * scale)))
            map_default = max(map_default, map_rate(pool, square, 200_000))
            map_one = max(map_one, map_rate(pool, square, int(5000 * scale), 1))
    for _ in range(rounds):
        cmf_fork = min(cmf_fork, create_map_free("fork"))
        cmf_spawn = min(cmf_spawn, create_map_free("spawn"))
    counts = [1, 2, 4]
    took = [1e9, 1e9, 1e9]
    n = int(200 * scale)
    for _ in range(3):
        for k, workers in enumerate(counts):
            with mp.Pool(workers) as pool:
                took[k] = min(took[k], 1 / map_rate(pool, burn, n))
    speedup = took[0] / took[1]
    print(f"# python multiprocessing.Pool, 2 workers, best of {rounds} rounds, on this machine")
    print(f"apply round trip (no-op)             {rt * 1e6:10.1f} us")
    print(f"map 200k 8-byte items, default chunks{map_default / 1e6:10.2f} M items/s")
    print(f"map chunksize 1                      {map_one / 1e3:10.1f} k tasks/s")
    print(f"create + first map + free, fork      {cmf_fork * 1e3:10.2f} ms")
    print(f"create + first map + free, spawn     {cmf_spawn * 1e3:10.2f} ms")
    print(f"CPU-bound map speed-up, 2 workers    {speedup:10.2f} x")
    print(f"@ pool.apply_rt python {rt * 1e6:.1f} us")
    print(f"@ pool.map_default python {map_default / 1e6:.3f} M/s")
    print(f"@ pool.map_chunk1 python {map_one / 1e3:.1f} k/s")
    print(f"@ pool.create_map_free.fork python {cmf_fork * 1e3:.2f} ms")
    print(f"@ pool.create_map_free.spawn python {cmf_spawn * 1e3:.2f} ms")
    for k, workers in enumerate(counts):
        print(f"@ pool.speedup.{workers} python {took[0] / took[k]:.2f} x")


if __name__ == "__main__":
    main()
