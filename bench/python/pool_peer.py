"""Python's multiprocessing.Pool on the figures of bench_pool, one run of
each, taken the same way.

    python3 bench/python/pool_peer.py [scale, default 1]

Peer benchmarks only: nothing in mproc needs Python.
"""
import multiprocessing as mp
import time

from peer_cli import scale_arg

WORKERS = range(1, 9)


def noop(x):
    return None


def square(x):
    return x * x


def burn(x):
    h = x
    for _ in range(40000):  # a few milliseconds: the C task's work, in Python's time
        h = (h * 6364136223846793005 + 1442695040888963407) & 0xFFFFFFFFFFFFFFFF
    return h


def apply_round_trip(pool, n):
    t0 = time.perf_counter()
    for _ in range(n):
        pool.apply(noop, (1,))
    return (time.perf_counter() - t0) / n


def map_rate(pool, fn, n, chunksize=None, times=1):
    """Items per second over `times` maps of n items in a row."""
    items = list(range(n))
    t0 = time.perf_counter()
    for _ in range(times):
        pool.map(fn, items, chunksize)
    return n * times / (time.perf_counter() - t0)


def create_map_free(method, n):
    ctx = mp.get_context(method)
    t0 = time.perf_counter()
    for _ in range(n):
        with ctx.Pool(2) as pool:
            pool.map(square, [1, 2, 3, 4])
    return (time.perf_counter() - t0) / n


def burn_seconds(workers, n):
    with mp.Pool(workers) as pool:
        return n / map_rate(pool, burn, n)


def main():
    scale = scale_arg("Python's Pool on bench_pool's figures, one run of each.")
    mp.set_start_method("fork")
    with mp.Pool(2) as pool:
        apply_round_trip(pool, 50)  # warm
        rt = apply_round_trip(pool, max(10, int(1000 * scale)))
        map_default = map_rate(pool, square, 200_000, times=5)  # as bench_pool: 5 in a row
        map_one = map_rate(pool, square, max(10, int(5000 * scale)), 1)
    cmf = {m: create_map_free(m, max(1, int(5 * scale))) for m in ("fork", "spawn")}
    n = max(8, int(100 * scale))
    one = burn_seconds(1, n)
    speedup = {w: 1.0 if w == 1 else one / burn_seconds(w, n) for w in WORKERS}
    print("# python multiprocessing.Pool, 2 workers, one run of each figure, on this machine")
    print(f"apply round trip (no-op)             {rt * 1e6:10.1f} us")
    print(f"map 200k 8-byte items, default chunks{map_default / 1e6:10.2f} M items/s")
    print(f"map chunksize 1                      {map_one / 1e3:10.1f} k tasks/s")
    print(f"create + first map + free, fork      {cmf['fork'] * 1e3:10.2f} ms")
    print(f"create + first map + free, spawn     {cmf['spawn'] * 1e3:10.2f} ms")
    print(f"CPU-bound map speed-up, 2 workers    {speedup[2]:10.2f} x")
    print(f"@ pool.apply_rt python {rt * 1e6:.1f} us")
    print(f"@ pool.map_default python {map_default / 1e6:.3f} M/s")
    print(f"@ pool.map_chunk1 python {map_one / 1e3:.1f} k/s")
    for m in ("fork", "spawn"):
        print(f"@ pool.create_map_free.{m} python {cmf[m] * 1e3:.2f} ms")
    for w in WORKERS:
        print(f"@ pool.speedup.{w} python {speedup[w]:.2f} x")


if __name__ == "__main__":
    main()
