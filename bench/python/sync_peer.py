"""Python's multiprocessing.Lock on the same figures as bench_sync_lock,
and the ratios between the two when given the C benchmark to run.

    python3 bench/python/sync_peer.py [seconds per figure, default 1] [path/to/bench_sync_lock]

Uncontended: one process acquires and releases in a loop (best of five
slices). Contended: this
process and one child each acquire, add 1 to a shared counter and release;
the figure is the time per acquire+release over both. Peer benchmarks only:
nothing in mproc needs Python.
"""
import multiprocessing as mp
import re
import subprocess
import sys
import time


def uncontended(lock, count):
    acquire, release = lock.acquire, lock.release
    for _ in range(1000):
        acquire()
        release()
    best = float("inf")
    for _ in range(5):  # best of five slices, as the C benchmark does
        t0 = time.perf_counter()
        for _ in range(count // 5):
            acquire()
            release()
        best = min(best, (time.perf_counter() - t0) / (count // 5))
    return best


def hammer(lock, counter, count):
    for _ in range(count):
        with lock:
            counter.value += 1


def contended(count):
    lock = mp.Lock()
    counter = mp.RawValue("q", 0)
    child = mp.Process(target=hammer, args=(lock, counter, count))
    child.start()
    while counter.value == 0 and child.is_alive():
        pass
    t0 = time.perf_counter()
    at_start = counter.value
    hammer(lock, counter, count)
    child.join()
    elapsed = time.perf_counter() - t0
    assert counter.value == 2 * count, counter.value
    return elapsed / (2 * count - at_start)


def mproc_figures(exe, secs):
    """The C benchmark's figures in ns, by name."""
    out = subprocess.run([exe, str(secs)], check=True, capture_output=True, text=True).stdout
    sys.stdout.write(out)
    figures = {}
    for line in out.splitlines():
        m = re.match(r"mproc (\w+), (\w+ ?\w*)\s+([0-9.]+) ns", line)
        if m:
            figures[(m.group(1), m.group(2).strip())] = float(m.group(3))
    return figures


def main():
    secs = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    exe = sys.argv[2] if len(sys.argv) > 2 else None
    mp.set_start_method("fork")
    lock_ns = uncontended(mp.Lock(), int(3_000_000 * secs)) * 1e9
    rlock_ns = uncontended(mp.RLock(), int(3_000_000 * secs)) * 1e9
    two_ns = contended(int(300_000 * secs)) * 1e9
    print("# python multiprocessing, processes on this machine")
    print(f"python lock, uncontended  {lock_ns:8.1f} ns per acquire+release")
    print(f"python rlock, uncontended {rlock_ns:8.1f} ns per acquire+release")
    print(f"python lock, 2 processes  {two_ns:8.1f} ns per acquire+release")
    print(f"@ lock.uncontended python {lock_ns:.1f} ns")
    print(f"@ rlock.uncontended python {rlock_ns:.1f} ns")
    print(f"@ lock.contended2 python {two_ns:.1f} ns")
    if exe:
        c = mproc_figures(exe, secs)
        print("# ratios (python time / mproc time: how many times faster mproc is)")
        for name, py in (("lock, uncontended", lock_ns), ("rlock, uncontended", rlock_ns),
                         ("lock, 2 processes", two_ns)):
            kind, what = name.split(", ")
            ours = c.get((kind, what))
            if ours:
                print(f"{name:26s} {py / ours:6.1f}x")


if __name__ == "__main__":
    main()
