"""Runs every benchmark in bench/ and its Python peer in one go, and
writes bench/REPORT.md with a table of each figure for mproc, Python's
multiprocessing and the raw OS limit, with ratios, plus the data files the
plots are drawn from.

    python3 bench/report.py BUILD_DIR [--scale S] [--out bench]

Every program prints machine lines "@ figure implementation value unit"
(implementation: mproc, python or raw) among its human ones; this script
only collects those. Absolute times belong to the machine they were taken
on, which the report names; the ratios are the claim.
"""
import argparse
import datetime
import os
import platform
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# (figure, label, unit shown, better, goal text, transform of the raw value)
MIB = 1048576
ROWS = [
    ("process.start.fork", "Process start + join, fork", "µs", "lower", "≤ 1.5× raw fork", None),
    ("process.start.spawn", "Process start + join, spawn", "µs", "lower", "≤ 1.5× raw fork+exec", None),
    ("pool.apply_rt", "Pool apply round trip (no-op)", "µs", "lower", "≤ 25 µs", None),
    ("pool.map_default", "Pool map, 200k 8-byte items, default chunks", "M items/s", "higher", "≥ 20 M/s", None),
    ("pool.map_chunk1", "Pool map, chunksize 1", "k tasks/s", "higher", "≥ 200 k/s", None),
    ("pool.create_map_free.fork", "Pool create + first map + free, 2 workers, fork", "ms", "lower", "≤ 2 ms", None),
    ("pool.create_map_free.spawn", "Pool create + first map + free, 2 workers, spawn", "ms", "lower", "≤ 5 ms", None),
    ("pool.speedup.2", "CPU-bound map speed-up, 2 workers", "×", "higher", "≥ 1.9×", None),
    ("queue.1to1.64B", "Queue, 64 B messages, 1 → 1 process", "M msg/s", "higher", "≥ 2 M/s", lambda v: v / 1e6),
    ("queue.4to4.64B", "Queue, 64 B messages, 4 → 4 processes", "M msg/s", "higher", "", lambda v: v / 1e6),
    ("queue.1to1.1048576B", "Queue, 1 MiB messages, 1 → 1 process", "GiB/s", "higher", "≥ 3 GiB/s",
     lambda v: v * MIB / 2**30),
    ("lock.uncontended", "Lock acquire + release, uncontended", "ns", "lower", "< 100 ns", None),
    ("lock.contended2", "Lock acquire + release, 2 processes", "ns", "lower", "", None),
    ("manager.set", "Manager dict set round trip", "µs", "lower", "≥ 10× Python", None),
    ("manager.get", "Manager dict get round trip", "µs", "lower", "≥ 10× Python", None),
]
QUEUE_SIZES = [64, 1024, 16384, 262144, 1048576]
WORKERS = [1, 2, 4]


def run(cmd, figures):
    """Runs one program, echoes its output, collects its @ lines."""
    print("$ " + " ".join(cmd), flush=True)
    try:
        out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=1800).stdout
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, FileNotFoundError) as e:
        print(f"  failed: {e}", file=sys.stderr)
        return
    for line in out.splitlines():
        if line.startswith("@ "):
            parts = line.split()
            if len(parts) >= 4:
                figures[(parts[1], parts[2])] = float(parts[3])
        else:
            print("  " + line)


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


def fmt(v):
    if v is None:
        return "—"
    return f"{v:.3g}" if abs(v) < 1000 else f"{v:,.0f}"


def ratio(better, ours, other):
    """How many times better mproc is than other (> 1: better)."""
    if ours is None or other is None or ours == 0 or other == 0:
        return None
    return other / ours if better == "lower" else ours / other


def table(figures):
    lines = ["| figure | mproc | Python | raw OS | unit | mproc vs Python | mproc vs raw | goal |",
             "|---|---|---|---|---|---|---|---|"]
    for key, label, unit, better, goal, tf in ROWS:
        vals = {}
        for impl in ("mproc", "python", "raw"):
            v = figures.get((key, impl))
            vals[impl] = tf(v) if (v is not None and tf) else v
        vp = ratio(better, vals["mproc"], vals["python"])
        # Against the raw mechanism: mproc's time over the raw time, or its
        # rate over the raw rate, as the goals are stated.
        vr = vals["mproc"] / vals["raw"] if vals["mproc"] and vals["raw"] else None
        lines.append(f"| {label} | {fmt(vals['mproc'])} | {fmt(vals['python'])} | {fmt(vals['raw'])} | {unit} | "
                     f"{(f'{vp:.1f}× better' if vp else '—')} | {(f'{vr:.2f}' if vr else '—')} | {goal} |")
    return "\n".join(lines)


def write_data(figures, out):
    with open(os.path.join(out, "queue_sizes.dat"), "w") as f:
        f.write("# size_bytes mproc_GiB/s python_GiB/s raw_pipe_GiB/s\n")
        for size in QUEUE_SIZES:
            row = [size]
            for impl in ("mproc", "python", "raw"):
                v = figures.get((f"queue.1to1.{size}B", impl))
                row.append(v * size / 2**30 if v else float("nan"))
            f.write(" ".join(str(x) for x in row) + "\n")
    with open(os.path.join(out, "speedup.dat"), "w") as f:
        f.write("# workers mproc python ideal\n")
        cpus = os.cpu_count() or 1
        for w in WORKERS:
            m = figures.get((f"pool.speedup.{w}", "mproc"), float("nan"))
            p = figures.get((f"pool.speedup.{w}", "python"), float("nan"))
            f.write(f"{w} {m} {p} {min(w, cpus)}\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--scale", default="1")
    ap.add_argument("--out", default=HERE)
    a = ap.parse_args()
    bench = os.path.join(a.build, "bench")
    py = [sys.executable]
    figures = {}
    started = datetime.datetime.now()
    run([os.path.join(bench, "bench_process_start"), "1000"], figures)
    run(py + [os.path.join(HERE, "python", "process_peer.py"), "10"], figures)
    run([os.path.join(bench, "bench_pool"), a.scale], figures)
    run(py + [os.path.join(HERE, "python", "pool_peer.py"), a.scale], figures)
    run([os.path.join(bench, "bench_queue_throughput"), a.scale], figures)
    run(py + [os.path.join(HERE, "python", "queue_peer.py"), a.scale], figures)
    run([os.path.join(bench, "bench_sync_lock"), a.scale], figures)
    run(py + [os.path.join(HERE, "python", "sync_peer.py"), a.scale], figures)
    run([os.path.join(bench, "bench_manager_roundtrip"), a.scale, "--no-python"], figures)
    run(py + [os.path.join(HERE, "python", "manager_peer.py"), a.scale], figures)
    os.makedirs(a.out, exist_ok=True)
    write_data(figures, a.out)
    took = (datetime.datetime.now() - started).total_seconds()
    with open(os.path.join(a.out, "REPORT.md"), "w") as f:
        f.write("# Benchmark report\n\n")
        f.write(f"Made by `scripts/bench` on {started:%Y-%m-%d %H:%M}, in {took:.0f} s, on this machine:\n"
                f"{machine()}.\n\n")
        f.write("Absolute figures are this machine's; the ratios are the claim. \"mproc vs Python\" is how many "
                "times better mproc is than Python's multiprocessing on the same figure (higher is better); "
                "\"mproc vs raw\" compares with the bare OS mechanism underneath (a raw fork, fork+exec, pipe "
                "ping-pong or pipe stream: for times, mproc's time over the raw one; for rates, mproc's rate "
                "over the raw one). Each program takes the best of several rounds, so a burst of load from "
                "other programs skews none of them.\n\n")
        f.write(table(figures) + "\n\n")
        f.write("## Queue throughput against message size\n\n![queue throughput](plots/queue_sizes.png)\n\n")
        f.write("## Speed-up of a CPU-bound map against workers\n\n![speed-up](plots/speedup.png)\n")
    print(f"wrote {os.path.join(a.out, 'REPORT.md')}")


if __name__ == "__main__":
    main()
