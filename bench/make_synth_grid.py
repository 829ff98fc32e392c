"""Draw docs/synth_grid.png: 8 random images per class of the built-in synthetic dataset.

    python bench/make_synth_grid.py [--out docs/synth_grid.png] [--pick 0]

The images are rendered directly with the built-in set's seed, so they are exactly the files
`selib synth` writes (no need to generate the whole set first); the figure is selib's own
`plots.sample_grid`, the one the inspection notebook shows.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import numpy as np  # noqa: E402

from selib.plots.figures import sample_grid, save_figure  # noqa: E402
from selib.synth import CLASSES, DEFAULT_PER_CLASS, render_image  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="docs/synth_grid.png")
    ap.add_argument("--seed", type=int, default=0, help="dataset seed (the built-in set uses 0)")
    ap.add_argument("--pick", type=int, default=0, help="seed for choosing which images to show")
    ap.add_argument("--per-class", type=int, default=8)
    args = ap.parse_args(argv)

    pick = np.random.default_rng(args.pick)
    images, labels = [], []
    for k, c in enumerate(CLASSES):
        for i in pick.choice(DEFAULT_PER_CLASS, args.per_class, replace=False):
            images.append(render_image(c, int(i), args.seed)[0][..., None])
            labels.append(k)
    fig = sample_grid(images, np.array(labels), CLASSES, per_class=args.per_class, seed=args.pick,
                      title="Built-in dataset (synthchairs): 8 random renders per class")
    fig.set_size_inches(1.9 * args.per_class, 2.0 * len(CLASSES))
    fig.tight_layout()
    print(f"wrote {save_figure(fig, args.out, dpi=80)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
