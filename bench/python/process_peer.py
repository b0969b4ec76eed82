"""Python's multiprocessing.Process start + join, fork and spawn: the same
figure as bench_process_start, one run of each (the mean over its starts).

    python3 bench/python/process_peer.py [scale, default 1]

Peer benchmarks only: nothing in mproc needs Python.
"""
import multiprocessing as mp
import time

from peer_cli import scale_arg


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
    scale = scale_arg("Python's Process start + join, fork (50 x scale starts) and spawn (5 x scale).")
    fork = per_start(mp.get_context("fork"), max(2, int(50 * scale)))
    spawn = per_start(mp.get_context("spawn"), max(2, int(5 * scale)))
    print("# python multiprocessing.Process start + join")
    print(f"python fork start+join  {fork * 1e6:9.1f} us")
    print(f"python spawn start+join {spawn * 1e6:9.1f} us")
    print(f"@ process.start.fork python {fork * 1e6:.1f} us")
    print(f"@ process.start.spawn python {spawn * 1e6:.1f} us")


if __name__ == "__main__":
    main()
