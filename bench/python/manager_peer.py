"""Python's multiprocessing.Manager().dict() on the same figures as
bench_manager_roundtrip (which runs this script itself when python3 is on
PATH, so both figures come from the same moment of the machine).

    python3 bench/python/manager_peer.py [seconds per figure, default 1]

One client process, one 16-byte value under one key, each call a full
round trip to the manager's server process. Prints lines of the form
"python <figure> <round trips per second>". Peer benchmarks only: nothing
in mproc needs Python.
"""
import multiprocessing as mp
import sys
import time


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


def rate(fn, secs):
    # The best of five slices, as the C benchmark does: a slice in which
    # other programs took the CPUs measures them, not this.
    return max(slice_rate(fn, secs / 5) for _ in range(5))


def main():
    secs = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    with mp.Manager() as manager:
        d = manager.dict()
        value = bytes(16)
        d["key"] = value

        def put():
            d["key"] = value

        def get():
            return d["key"]

        put_rate = rate(put, secs)
        get_rate = rate(get, secs)
    print(f"python set {put_rate:.0f}")
    print(f"python get {get_rate:.0f}")
    print(f"@ manager.set python {1e6 / put_rate:.2f} us")
    print(f"@ manager.get python {1e6 / get_rate:.2f} us")


if __name__ == "__main__":
    main()
