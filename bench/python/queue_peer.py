"""Python's multiprocessing.Queue on the same figures as bench_queue_throughput.

    python3 bench/python/queue_peer.py [seconds per figure, default 1]

Prints lines in the same shape as the C benchmark so scripts/bench can put
them side by side. Peer benchmarks only: nothing in mproc needs Python.
"""
import multiprocessing as mp
import sys
import time


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


def main():
    secs = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    mp.set_start_method("fork")
    small = int(150_000 * secs)
    large = int(500 * secs)
    r_small = run(1, 0, small, 64, 10000)
    r_4x4 = run(4, 4, small, 64, 10000)
    r_large = run(1, 0, large, 1 << 20, 64)
    print("# python multiprocessing.Queue, processes on this machine")
    print(f"python queue, 64 B, 1->1 {r_small:10.0f} msg/s")
    print(f"python queue, 64 B, 4->4 {r_4x4:10.0f} msg/s")
    print(f"python queue, 1 MiB, 1->1{r_large / 1024:10.2f} GiB/s")


if __name__ == "__main__":
    main()
