"""Runs every benchmark in bench/ and its Python peer several times, and
writes bench/REPORT.md: for each figure, the median of the runs and their
spread (the lowest and the highest), for mproc, Python's multiprocessing
and the raw OS mechanism underneath, the ratios between the medians, and
whether each goal of docs/architecture.md is met (by the median); plus the
data files the plots are drawn from.

    python3 bench/report.py BUILD_DIR [--runs N] [--scale S] [--out bench]
                                      [--previous bench/REPORT.md]
                                      [--only process|pool|queue|sync|manager ...]

Every program prints one sample of each of its figures per run, in lines
"@ figure implementation value unit" (implementation: mproc, python, raw
or one of the queue's message-passing peers), or "@ figure implementation
none why" for a figure the machine does not allow, among its human ones;
this script only collects those. In each run every C program runs next to
its Python peer, and mproc's queue next to the other message passing too
(POSIX mq, ZeroMQ, Open MPI, each where it was built), the order swapped
from one run to the next, so all of them meet the same moments of the
machine. Each figure of mproc's is set beside the median of the previous
report (the REPORT.md this one replaces, unless --previous names another),
so a regression shows. Absolute figures belong to the machine they were
taken on, which the report names; the ratios are the claim.
"""
import argparse
import datetime
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MIB = 1048576


def goal(text, test):
    """A goal: its text as docs/architecture.md states it, and a test of the
    medians (a dict of mproc, python and raw; raw or python may be None)."""
    return (text, test)


def times_raw(limit):
    return lambda m: m["raw"] is not None and m["mproc"] / m["raw"] <= limit


def at_most(limit):
    return lambda m: m["mproc"] <= limit


def below(limit):
    return lambda m: m["mproc"] < limit


def at_least(limit):
    return lambda m: m["mproc"] >= limit


def times_faster_than_python(factor):
    return lambda m: m["python"] is not None and m["python"] / m["mproc"] >= factor


def of_ideal(fraction):
    """At least fraction of the ideal speed-up (bench_pool's raw figure:
    one worker per CPU)."""
    return lambda m: m["raw"] is not None and m["mproc"] >= fraction * m["raw"]


def cpu_count():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


IDEAL_2 = min(2, cpu_count())  # the ideal speed-up of 2 workers here


# (figure, label, unit shown, better, goal or None, transform of the raw value)
ROWS = [
    ("process.start.fork", "Process start + join, fork", "µs", "lower",
     goal("≤ 1.5× raw fork", times_raw(1.5)), None),
    ("process.start.spawn", "Process start + join, spawn", "µs", "lower",
     goal("≤ 1.5× raw fork+exec", times_raw(1.5)), None),
    ("pool.apply_rt", "Pool apply round trip (no-op)", "µs", "lower", goal("≤ 8 µs", at_most(8)), None),
    ("pool.map_default", "Pool map, 200k 8-byte items, default chunks", "M items/s", "higher",
     goal("≥ 30 M/s", at_least(30)), None),
    ("pool.map_chunk1", "Pool map, chunksize 1", "M tasks/s", "higher", goal("≥ 1 M/s", at_least(1)),
     lambda v: v / 1e3),
    ("pool.create_map_free.fork", "Pool create + first map + free, 2 workers, fork", "ms", "lower",
     goal("≤ 2 ms", at_most(2)), None),
    ("pool.create_map_free.spawn", "Pool create + first map + free, 2 workers, spawn", "ms", "lower",
     goal("≤ 5 ms", at_most(5)), None),
    ("pool.speedup.2", "CPU-bound map speed-up, 2 workers", "×", "higher",
     goal(f"≥ {0.97 * IDEAL_2:.2f}× (0.97 × {IDEAL_2} cores)", of_ideal(0.97)), None),
    ("queue.1to1.64B", "Queue, 64 B messages, 1 → 1 process", "M msg/s", "higher",
     goal("≥ 2 M/s", at_least(2)), lambda v: v / 1e6),
    ("queue.4to4.64B", "Queue, 64 B messages, 4 → 4 processes", "M msg/s", "higher", None, lambda v: v / 1e6),
    ("queue.1to1.1048576B", "Queue, 1 MiB messages, 1 → 1 process", "GiB/s", "higher",
     goal("≥ 3 GiB/s", at_least(3)), lambda v: v * MIB / 2**30),
    ("lock.uncontended", "Lock acquire + release, uncontended", "ns", "lower", goal("< 100 ns", below(100)), None),
    ("lock.contended2", "Lock acquire + release, 2 processes", "ns", "lower", None, None),
    ("manager.set", "Manager dict set round trip", "µs", "lower",
     goal("≥ 10× Python", times_faster_than_python(10)), None),
    ("manager.get", "Manager dict get round trip", "µs", "lower",
     goal("≥ 10× Python", times_faster_than_python(10)), None),
]
QUEUE_SIZES = [64, 1024, 16384, 262144, 1048576]
# The Queue against other message passing, 1 producer process -> 1
# consumer: (implementation, column title, program or None for
# bench_queue_throughput's raw pipe, why the program may be missing).
PEERS = [
    ("raw", "raw pipe", None, None),
    ("posix_mq", "POSIX mq", "bench_posix_mq_peer", "mq_open was not found when the build was configured"),
    ("zmq", "ZeroMQ ipc://", "bench_zmq_peer",
     "libzmq was not found when the build was configured (Debian: libzmq3-dev)"),
    ("mpi", "Open MPI (2 ranks)", "bench_mpi_peer",
     "no MPI was found when the build was configured (Debian: libopenmpi-dev, openmpi-bin)"),
]
PEER_ROWS = [("queue.1to1.64B", "64 B messages, 1 → 1 process", "M msg/s", lambda v: v / 1e6),
             ("queue.1to1.1048576B", "1 MiB messages, 1 → 1 process", "GiB/s", lambda v: v * MIB / 2**30)]
# The goals for both rows: the Queue's median at least this many
# times the peer's median.
PEER_GOALS = [("mpi", "MPI", 1), ("zmq", "ZeroMQ", 3)]
# Open MPI refuses root unless told twice, and more ranks than cores unless
# told once (a 1-CPU machine); other MPIs ignore these.
MPI_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
           "OMPI_MCA_rmaps_base_oversubscribe": "1"}
WORKERS = range(1, 9)
# Each C program, the arguments it takes after the scale, and its Python peer.
PROGRAMS = [
    ("process", "bench_process_start", [], "process_peer.py"),
    ("pool", "bench_pool", [], "pool_peer.py"),
    ("queue", "bench_queue_throughput", [], "queue_peer.py"),
    ("sync", "bench_sync_lock", [], "sync_peer.py"),
    ("manager", "bench_manager_roundtrip", ["--no-python"], "manager_peer.py"),
]


def run(name, cmd, samples, nones, failures, env=None):
    """Runs one program and adds its @ lines to samples, and the reasons of
    the figures it could not take to nones."""
    t0 = time.monotonic()
    try:
        # A program takes seconds at scale 1; one still running after ten
        # minutes hangs (the ZeroMQ peer did once) and is a failed run.
        out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=600,
                             env=dict(os.environ, **env) if env else None).stdout
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, FileNotFoundError) as e:
        detail = getattr(e, "stderr", "") or ""
        if isinstance(detail, bytes):
            detail = detail.decode(errors="replace")
        print(f"  {name}: failed: {e} {detail.strip()}", file=sys.stderr, flush=True)
        failures.append(name)
        return
    got, none = 0, 0
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[0] == "@":
            if parts[3] == "none":
                nones.setdefault((parts[1], parts[2]), []).append(" ".join(parts[4:]))
                none += 1
            else:
                samples.setdefault((parts[1], parts[2]), []).append(float(parts[3]))
                got += 1
    print(f"  {name}: {got} figures{f', {none} not taken here' if none else ''}, "
          f"{time.monotonic() - t0:.1f} s", flush=True)


def peer_commands(bench, scale):
    """The queue's peers to run ([(implementation, name, command, env)]) and
    why the others are not run ({implementation: why})."""
    cmds, missing = [], {}
    for impl, _, exe, why in PEERS:
        if exe is None:
            continue
        path = os.path.join(bench, exe)
        if not os.path.exists(path):
            missing[impl] = f"not built: {why}"
        elif impl == "mpi":
            # By name, as a user would: Open MPI takes its install prefix from
            # the path it was started by (/bin/mpiexec would make it "/").
            if shutil.which("mpiexec"):
                cmds.append((impl, exe, ["mpiexec", "-n", "2", path, scale], MPI_ENV))
            else:
                missing[impl] = "mpiexec is not on PATH (Debian: openmpi-bin)"
        else:
            cmds.append((impl, exe, [path, scale], None))
    return cmds, missing


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
    return f"{platform.system()} {platform.release()}, {cpu}, {cpu_count()} CPUs, Python {platform.python_version()}"


def plural(n, word):
    return f"{n} {word}{'' if n == 1 else 's'}"


def load_average():
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def summary(samples, key, impl, tf=None):
    """(median, lowest, highest) of a figure's samples, transformed, or None."""
    vals = samples.get((key, impl))
    if not vals:
        return None
    vals = [tf(v) if tf else v for v in vals]
    return statistics.median(vals), min(vals), max(vals)


def fmt(v):
    if v is None:
        return "—"
    return f"{v:.3g}" if abs(v) < 1000 else f"{v:,.0f}"


def cell(s):
    """A median and its spread: "15.1 (14.2–17.0)"."""
    if s is None:
        return "—"
    med, lo, hi = s
    return f"{fmt(med)} ({fmt(lo)}–{fmt(hi)})" if lo != hi else fmt(med)


# SI prefixes, to read a previous report's figure in another unit of the
# same kind ("k tasks/s" then, "M tasks/s" now).
PREFIXES = {"n": 1e-9, "µ": 1e-6, "m": 1e-3, "": 1.0, "k": 1e3, "M": 1e6, "G": 1e9}


def split_unit(unit):
    """(multiplier, base) of a unit: "k tasks/s" -> (1e3, "tasks/s"),
    "µs" -> (1e-6, "s"), "GiB/s" -> (1, "GiB/s")."""
    head, _, rest = unit.partition(" ")
    if rest and head in PREFIXES:
        return PREFIXES[head], rest
    if len(unit) == 2 and unit[1] == "s" and unit[0] in PREFIXES:
        return PREFIXES[unit[0]], "s"
    return 1.0, unit


def convert(value, unit, to):
    """value in unit, in unit to; None if they are not of one kind."""
    if unit == to:
        return value
    (m1, b1), (m2, b2) = split_unit(unit), split_unit(to)
    return value * m1 / m2 if b1 == b2 else None


NUMBER = re.compile(r"^\s*([0-9][0-9,]*(?:\.[0-9]*)?(?:e[+-]?[0-9]+)?)")


def previous_report(path):
    """The mproc medians of an earlier REPORT.md's main table, as
    {label: (median, unit)}, and the date it names; None if there is no
    such file."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return None
    when = re.search(r"Made by `scripts/bench` on ([0-9-]+ [0-9:]+)", text)
    scale = re.search(r" at scale ([0-9.eE+-]+)\.", text)
    rows, header = {}, None
    for line in text.splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = cells
        elif not set(line) <= set("|-: ") and {"figure", "mproc", "unit"} <= set(header):
            row = dict(zip(header, cells))
            m = NUMBER.match(row.get("mproc", ""))
            if m:
                rows[row["figure"]] = (float(m.group(1).replace(",", "")), row.get("unit", ""))
    return {"rows": rows, "when": when.group(1) if when else None, "scale": scale.group(1) if scale else None}


def against_previous(s, better, prev):
    """The previous median, and how this report's compares: how many times
    better or worse, and **regressed** when every run of this report is
    worse than the previous median (so it is not the spread of the runs)."""
    if s is None or prev is None or prev == 0 or s[0] == 0:
        return "—", "—", False
    med, lo, hi = s
    r = prev / med if better == "lower" else med / prev
    regressed = (lo > prev) if better == "lower" else (hi < prev)
    if r >= 1:
        change = f"{r:.2f}× better" if r >= 1.005 else "the same"
    else:
        change = f"{1 / r:.2f}× worse" + (", **regressed**" if regressed else "")
    return fmt(prev), change, regressed


def table(samples, previous):
    lines = ["| figure | mproc | Python | raw OS | unit | mproc vs Python | mproc vs raw | goal | previous | "
             "mproc vs previous |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    met, total, regressed = 0, 0, []
    prev_rows = previous["rows"] if previous else {}
    for key, label, unit, better, g, tf in ROWS:
        s = {impl: summary(samples, key, impl, tf) for impl in ("mproc", "python", "raw")}
        med = {impl: (v[0] if v else None) for impl, v in s.items()}
        # How many times better mproc is than Python (> 1: better).
        vp = None
        if med["mproc"] and med["python"]:
            vp = med["python"] / med["mproc"] if better == "lower" else med["mproc"] / med["python"]
        # Against the raw mechanism: mproc's time over the raw time, or its
        # rate over the raw rate, as the goals are stated.
        vr = med["mproc"] / med["raw"] if med["mproc"] and med["raw"] else None
        verdict = ""
        if g:
            total += 1
            ok = med["mproc"] is not None and g[1](med)
            met += ok
            verdict = f"{g[0]}: {'met' if ok else '**not met**'}"
        prev = None
        if label in prev_rows:
            prev = convert(prev_rows[label][0], prev_rows[label][1], unit)
        was, change, worse = against_previous(s["mproc"], better, prev)
        if worse:
            regressed.append(label)
        lines.append(f"| {label} | {cell(s['mproc'])} | {cell(s['python'])} | {cell(s['raw'])} | {unit} | "
                     f"{(f'{vp:.1f}× better' if vp else '—')} | {(f'{vr:.2f}' if vr else '—')} | {verdict} | "
                     f"{was} | {change} |")
    return "\n".join(lines), met, total, regressed


def peer_table(samples, nones, missing, failures):
    """mproc's Queue beside the other message passing, in the same runs,
    with the issue's goals (PEER_GOALS) judged by the medians; a figure
    that is missing says why, in a note under the table."""
    titles = {impl: title for impl, title, _, _ in PEERS}
    exes = {impl: exe for impl, _, exe, _ in PEERS}
    cols = " | ".join(t for _, t, _, _ in PEERS)
    goal_cols = " | ".join(f"vs {name} (goal ≥ {k}×)" for _, name, k in PEER_GOALS)
    lines = [f"| figure | mproc Queue | {cols} | unit | {goal_cols} |",
             "|---" * (len(PEERS) + 3 + len(PEER_GOALS)) + "|"]
    notes, met, total = [], 0, 0

    def why(key, impl, label):
        """The dash of a missing figure, with its note."""
        if impl in missing:  # the whole peer: one note for both rows
            note = f"{titles[impl]}: {missing[impl]}."
            if note not in notes:
                notes.append(note)
            return f"— ({notes.index(note) + 1})"
        if nones.get((key, impl)):
            text = nones[(key, impl)][-1]
        elif exes.get(impl) in failures or (impl == "raw" and "bench_queue_throughput" in failures):
            text = "the program failed (see the failed runs above)"
        else:
            text = "the program printed no such figure"
        note = f"{titles[impl]}, {label}: {text}."
        if note not in notes:
            notes.append(note)
        return f"— ({notes.index(note) + 1})"

    for key, label, unit, tf in PEER_ROWS:
        s = {impl: summary(samples, key, impl, tf) for impl in ["mproc"] + [k for k, *_ in PEERS]}
        short = label.split(",")[0]
        row = " | ".join(cell(s[impl]) if s[impl] else why(key, impl, short) for impl, *_ in PEERS)
        verdicts = []
        for impl, name, k in PEER_GOALS:
            total += 1
            if s["mproc"] is None or s[impl] is None:
                verdicts.append(f"not judged (no {'mproc' if s['mproc'] is None else name} figure): **not met**")
                continue
            r = s["mproc"][0] / s[impl][0]
            ok = r >= k
            met += ok
            verdicts.append(f"{r:.2f}: {'met' if ok else '**not met**'}")
        lines.append(f"| {label} | {cell(s['mproc'])} | {row} | {unit} | {' | '.join(verdicts)} |")
    text = "\n".join(lines)
    if notes:
        text += "\n\n" + "\n".join(f"- ({i + 1}) {n}" for i, n in enumerate(notes))
    return text, met, total


def columns(s):
    return [str(x) for x in (s if s else (float("nan"),) * 3)]


def write_data(samples, out, runs):
    with open(os.path.join(out, "queue_sizes.dat"), "w") as f:
        f.write(f"# GiB/s, 1 producer -> 1 consumer, median of {runs} runs, then the lowest and the highest\n")
        f.write("# size_bytes mproc lo hi python lo hi raw_pipe lo hi\n")
        for size in QUEUE_SIZES:
            row = [str(size)]
            for impl in ("mproc", "python", "raw"):
                row += columns(summary(samples, f"queue.1to1.{size}B", impl, lambda v, n=size: v * n / 2**30))
            f.write(" ".join(row) + "\n")
    cpus = cpu_count()
    with open(os.path.join(out, "speedup.dat"), "w") as f:
        f.write(f"# speed-up over 1 worker, median of {runs} runs, then the lowest and the highest\n")
        f.write("# workers mproc lo hi python lo hi ideal cpus\n")
        for w in WORKERS:
            row = [str(w)]
            for impl in ("mproc", "python"):
                row += columns(summary(samples, f"pool.speedup.{w}", impl))
            f.write(" ".join(row + [str(min(w, cpus)), str(cpus)]) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("build", help="the build folder (its bench/ has the programs)")
    ap.add_argument("--runs", type=int, default=5, help="runs of every program (default 5)")
    ap.add_argument("--scale", default="1", help="work per figure in each run (default 1)")
    ap.add_argument("--out", default=HERE, help="where REPORT.md and the data files go (default bench/)")
    ap.add_argument("--previous", default=os.path.join(HERE, "REPORT.md"),
                    help="the report to set each figure beside (default bench/REPORT.md, read before it is "
                         "replaced); 'none' for no comparison")
    ap.add_argument("--only", nargs="+", choices=[p[0] for p in PROGRAMS],
                    help="only these programs (a quick look; the report then lacks the others)")
    ap.add_argument("--strict", action="store_true",
                    help="exit 1 unless every figure of the report got an mproc and a Python sample in every run, "
                         "every queue peer that was built a sample (or its reason why not) in every run, and the "
                         "previous report, if there is one, could be read (what the bench.report test checks)")
    a = ap.parse_args()
    if a.runs < 1:
        ap.error("--runs must be at least 1")
    try:
        if not float(a.scale) > 0:
            raise ValueError
    except ValueError:
        ap.error(f"--scale must be a positive number, not {a.scale!r}")
    bench = os.path.join(a.build, "bench")
    programs = [p for p in PROGRAMS if not a.only or p[0] in a.only]
    with_queue = any(p[0] == "queue" for p in programs)
    peers, missing = peer_commands(bench, a.scale)
    previous = None if a.previous == "none" else previous_report(a.previous)
    samples, nones, failures = {}, {}, []
    started = datetime.datetime.now()
    load_before = load_average()
    for r in range(a.runs):
        print(f"run {r + 1} of {a.runs}", flush=True)
        for name, exe, extra, peer in programs:
            group = [(exe, [os.path.join(bench, exe), a.scale] + extra, None),
                     (peer, [sys.executable, os.path.join(HERE, "python", peer), a.scale], None)]
            if name == "queue":  # the other message passing, in the same runs as mproc's queue
                group += [(n, cmd, env) for _, n, cmd, env in peers]
            for n, cmd, env in (group if r % 2 == 0 else group[::-1]):
                run(n, cmd, samples, nones, failures, env)
    load_after = load_average()
    os.makedirs(a.out, exist_ok=True)
    write_data(samples, a.out, a.runs)
    took = (datetime.datetime.now() - started).total_seconds()
    text, met, total, regressed = table(samples, previous)
    peer_text, peer_met, peer_total = "", 0, 0
    if with_queue:
        peer_text, peer_met, peer_total = peer_table(samples, nones, missing, failures)
    load = ""
    if load_before is not None:
        load = (f" The load average (1 minute) was {load_before:.2f} at the start and {load_after:.2f} at the end "
                f"(on {cpu_count()} CPUs).")
    if previous and previous["rows"]:
        since = (f"\"previous\" is the median of the report this one replaced (made on {previous['when']})"
                 if previous["when"] else "\"previous\" is the median of the report this one replaced")
        against = (f"{since}, and \"mproc vs previous\" how this median compares with it; a figure is marked "
                   "**regressed** only when every run of this report is worse than that median, so the spread of "
                   "the runs alone does not mark it (on a loaded machine, look at the raw OS column too: a slower "
                   "machine is slower for both). ")
        if a.runs < 3:
            against += f"With only {plural(a.runs, 'run')} that mark says little: a quick look, not a verdict. "
        if previous["scale"] and float(previous["scale"]) != float(a.scale):
            against += (f"The previous report was taken at scale {previous['scale']}, this one at {a.scale}, so "
                        "the comparison is a rough one. ")
        against += (f"Regressed: {'; '.join(regressed)}. " if regressed else "No figure regressed. ")
    else:
        against = "There was no previous report to compare with. "
    goals = f"{met + peer_met} of {total + peer_total} are"
    if peer_total:
        goals += f" ({met} of {total} in the first table, {peer_met} of {peer_total} against the other message passing)"
    with open(os.path.join(a.out, "REPORT.md"), "w") as f:
        f.write("# Benchmark report\n\n")
        f.write(f"Made by `scripts/bench` on {started:%Y-%m-%d %H:%M}, in {took:.0f} s, on this machine: "
                f"{machine()}. {plural(a.runs, 'run')} of every program at scale {a.scale}.{load}\n\n")
        f.write("Each figure is the **median of the runs**, with the lowest and the highest of them in brackets; "
                "Python's and the raw figures are taken the same way, in the same runs (each C program runs next "
                "to its Python peer, the order swapped from one run to the next). Absolute figures are this "
                "machine's; the ratios are the claim, and they are ratios of the medians. \"mproc vs Python\" is "
                "how many times better mproc is than Python's multiprocessing on the same figure (higher is "
                "better); \"mproc vs raw\" compares with the bare OS mechanism underneath (a raw fork, fork+exec, "
                "pipe ping-pong or pipe stream: for times, mproc's time over the raw one; for rates, mproc's rate "
                f"over the raw one). {against}A goal (docs/architecture.md, \"Speed goals\") is met only when the "
                f"median meets it: {goals}.\n\n")
        if failures:
            f.write(f"Runs that failed, whose figures are missing: {', '.join(sorted(set(failures)))}.\n\n")
        f.write(text + "\n\n")
        if with_queue:
            f.write("## The Queue against other message passing\n\n"
                    "One producer process to one consumer, in the same runs as mproc's queue figures above and "
                    "taken the same way (the median of the runs, the lowest and the highest in brackets): the raw "
                    "pipe, POSIX message queues, ZeroMQ PUSH/PULL over ipc://, and Open MPI's send/recv between "
                    "two ranks (its shared-memory transport), the highest anchor. The goals: the Queue's median at "
                    "least MPI's, and at least 3× ZeroMQ's, at both sizes; the columns give the ratio of the "
                    "medians. A figure that is missing says why.\n\n")
            f.write(peer_text + "\n\n")
        f.write("## Queue throughput against message size\n\n"
                "Medians, with bars from the lowest to the highest run.\n\n"
                "![queue throughput](plots/queue_sizes.png)\n\n")
        f.write("## Speed-up of a CPU-bound map against workers\n\n"
                "Medians, with bars from the lowest to the highest run; past the number of CPUs there is nothing "
                "more to gain.\n\n![speed-up](plots/speedup.png)\n")
    print(f"wrote {os.path.join(a.out, 'REPORT.md')}: {met + peer_met} of {total + peer_total} goals met by the "
          f"median of {plural(a.runs, 'run')}; {plural(len(regressed), 'figure')} regressed against the previous "
          "report")
    if a.strict:
        short = [f"{key} ({impl})" for key, *_ in ROWS for impl in ("mproc", "python")
                 if len(samples.get((key, impl), [])) != a.runs]
        if with_queue:
            short += [f"{key} ({impl})" for key, *_ in PEER_ROWS for impl, *_ in peers
                      if len(samples.get((key, impl), [])) + len(nones.get((key, impl), [])) != a.runs]
        if short:
            print(f"figures without a sample in every run: {', '.join(short)}", file=sys.stderr)
            return 1
        if previous is not None and not previous["rows"]:
            print(f"no figure could be read from the previous report, {a.previous}", file=sys.stderr)
            return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
