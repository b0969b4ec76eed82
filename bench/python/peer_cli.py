"""The command line every Python peer shares, as the C programs'
bench_cli.h: [scale] (default 1: how much work each figure does in this
run) and --help. Each peer prints one sample of each figure per run, in
"@ figure python value unit" lines; scripts/bench runs it several times."""
import argparse


def scale_arg(description):
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("scale", nargs="?", type=float, default=1.0,
                    help="how much work each figure does, default 1 (0.1 for a quick look)")
    a = ap.parse_args()
    if not a.scale > 0:
        ap.error("the scale must be a positive number")
    return a.scale
