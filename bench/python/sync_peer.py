"""Python's multiprocessing.Lock on the same figures as bench_sync_lock,
one run of each, taken the same way.

    python3 bench/python/sync_peer.py [scale, default 1]

Uncontended: one process acquires and releases in a loop. Contended: this
process and one child each acquire, add 1 to a shared counter and release;
the figure is the time per acquire+release over both. Peer benchmarks only:
nothing in mproc needs Python.
"""
import multiprocessing as mp
import time

from peer_cli import scale_arg


def uncontended(lock, count):
    acquire, release = lock.acquire, lock.release
    for _ in range(1000):
        acquire()
        release()
    t0 = time.perf_counter()
    for _ in range(count):
        acquire()
        release()
    return (time.perf_counter() - t0) / count


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


def main():
    scale = scale_arg("Python's Lock and RLock, uncontended (2 M x scale pairs) and contended by 2 processes "
                      "(100 k x scale pairs each), one run of each.")
    mp.set_start_method("fork")
    lock_ns = uncontended(mp.Lock(), max(1000, int(2_000_000 * scale))) * 1e9
    rlock_ns = uncontended(mp.RLock(), max(1000, int(2_000_000 * scale))) * 1e9
    two_ns = contended(max(1000, int(100_000 * scale))) * 1e9
    print("# python multiprocessing, processes on this machine, one run of each figure")
    print(f"python lock, uncontended  {lock_ns:8.1f} ns per acquire+release")
    print(f"python rlock, uncontended {rlock_ns:8.1f} ns per acquire+release")
    print(f"python lock, 2 processes  {two_ns:8.1f} ns per acquire+release")
    print(f"@ lock.uncontended python {lock_ns:.1f} ns")
    print(f"@ rlock.uncontended python {rlock_ns:.1f} ns")
    print(f"@ lock.contended2 python {two_ns:.1f} ns")


if __name__ == "__main__":
    main()
