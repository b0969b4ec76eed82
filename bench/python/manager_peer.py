"""Python's multiprocessing.Manager().dict() on the same figures as
bench_manager_roundtrip, one run of each, 0.2 s x scale per figure
(bench_manager_roundtrip, run alone, runs this script itself right after
its own figures).

    python3 bench/python/manager_peer.py [scale, default 1]

One client process, one 16-byte value under one key, each call a full
round trip to the manager's server process. Prints lines of the form
"python <figure> <round trips per second>". Peer benchmarks only: nothing
in mproc needs Python.
"""
import multiprocessing as mp
import time

from peer_cli import scale_arg


def slice_rate(fn, secs):
    n = 0
    t0 = time.perf_counter()
    deadline = t0 + secs
    while True:
        for _ in range(100):
            fn()
        n += 100
        now = time.perf_counter()
        if now >= deadline:
            return n / (now - t0)


def main():
    secs = 0.2 * scale_arg("Python's Manager().dict() set and get round trips, one run of each.")
    with mp.Manager() as manager:
        d = manager.dict()
        value = bytes(16)
        d["key"] = value

        def put():
            d["key"] = value

        def get():
            return d["key"]

        put_rate = slice_rate(put, secs)
        get_rate = slice_rate(get, secs)
    print(f"python set {put_rate:.0f}")
    print(f"python get {get_rate:.0f}")
    print(f"@ manager.set python {1e6 / put_rate:.2f} us")
    print(f"@ manager.get python {1e6 / get_rate:.2f} us")


if __name__ == "__main__":
    main()
