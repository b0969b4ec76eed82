"""Python's multiprocessing.Process start + join, fork and spawn.

    python3 bench/python/process_peer.py [rounds, default 10]

The same figure as bench_process_start: a child that does nothing, started
and joined, best of several rounds. Peer benchmarks only.
"""
import multiprocessing as mp
import sys
import time


def noop():
    pass


def per_start(ctx, n):
    t0 = time.perf_counter()
    for _ in range(n):
        p = ctx.Process(target=noop)
        p.start()
        p.join()
    return (time.perf_counter() - t0) / n


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    fork, spawn = mp.get_context("fork"), mp.get_context("spawn")
    best_fork = min(per_start(fork, 50) for _ in range(rounds))
    best_spawn = min(per_start(spawn, 5) for _ in range(max(2, rounds // 3)))
    print("# python multiprocessing.Process start + join")
    print(f"python fork start+join  {best_fork * 1e6:9.1f} us")
    print(f"python spawn start+join {best_spawn * 1e6:9.1f} us")
    print(f"@ process.start.fork python {best_fork * 1e6:.1f} us")
    print(f"@ process.start.spawn python {best_spawn * 1e6:.1f} us")


if __name__ == "__main__":
    main()
