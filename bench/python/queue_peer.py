"""Python's multiprocessing.Queue on the same figures as
bench_queue_throughput, one run of each.

    python3 bench/python/queue_peer.py [scale, default 1]

Prints lines in the same shape as the C benchmark so scripts/bench can put
them side by side. Peer benchmarks only: nothing in mproc needs Python.
"""
import multiprocessing as mp
import time

from peer_cli import scale_arg


def produce(q, count, size):
    payload = bytes(size)
    for _ in range(count):
        q.put(payload)


def consume(q, count):
    for _ in range(count):
        q.get()


def run(producers, consumers, count, size, maxsize):
    q = mp.Queue(maxsize)
    per_p = count // producers
    t0 = time.perf_counter()
    ps = [mp.Process(target=produce, args=(q, per_p, size)) for _ in range(producers)]
    cs = [mp.Process(target=consume, args=(q, per_p * producers // consumers)) for _ in range(consumers)] if consumers else []
    for p in ps + cs:
        p.start()
    if not consumers:
        for _ in range(per_p * producers):
            q.get()
    for c in cs:
        c.join()
    elapsed = time.perf_counter() - t0
    for p in ps:
        p.join()
    return per_p * producers / elapsed


SIZES = [64, 1024, 16384, 262144, 1048576]


def messages_for(size, scale):
    # About a quarter of a second per figure at the rates seen here.
    per_sec = 150_000 if size <= 1024 else 0.5e9 / size
    return max(100, int(per_sec * 0.25 * scale))


def main():
    scale = scale_arg("Python's Queue on bench_queue_throughput's figures, one run of each.")
    mp.set_start_method("fork")
    print("# python multiprocessing.Queue, processes on this machine")
    for size in SIZES:
        n = messages_for(size, scale)
        r = run(1, 0, n, size, 10000 if size < 65536 else 64)
        print(f"{size:8d} B: python queue {r:10.0f} msg/s {r * size / 2**30:7.3f} GiB/s")
        print(f"@ queue.1to1.{size}B python {r:.0f} msg/s")
    r_4x4 = run(4, 4, messages_for(64, scale), 64, 10000)
    print(f"python queue, 64 B, 4->4 {r_4x4:10.0f} msg/s")
    print(f"@ queue.4to4.64B python {r_4x4:.0f} msg/s")


if __name__ == "__main__":
    main()
