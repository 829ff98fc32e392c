"""The paper's figures redrawn as matplotlib diagrams (Hu, Shen, Sun, "Squeeze-and-Excitation Networks").

* :func:`se_block_diagram` — Fig. 1, the SE block: ``F_tr`` → squeeze → excitation → scale.
* :func:`se_module_diagrams` — Figs. 2 and 3, Inception vs SE-Inception and ResNet vs SE-ResNet.
* :func:`se_placement_diagram` — Fig. 5, the SE placements ``standard``, ``pre``, ``post``,
  ``identity`` (the values of selib's ``se_placement`` argument).
* :func:`reweighting_figure` — the learned channel re-weighting of one SE block on a real image.

Every function returns a titled ``matplotlib.figure.Figure`` and never calls ``plt.show()``. The
diagrams share a few drawing helpers (:func:`_box`, :func:`_arrow`, :func:`_op`, :func:`_chain`,
:func:`_cuboid`, :func:`_strip`) working in data units on an equal-aspect, axis-less canvas.
This module depends on matplotlib and numpy only.
"""
from __future__ import annotations

from typing import NamedTuple, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyBboxPatch, Polygon, Rectangle
from matplotlib.ticker import MaxNLocator

__all__ = ["se_block_diagram", "se_module_diagrams", "se_placement_diagram", "reweighting_figure"]

# one palette for every diagram, so a colour means the same operation everywhere
COLORS = {
    "module": "#d9d9d9", "pool": "#9ecae1", "fc": "#fdae6b", "relu": "#a1d99b", "sigmoid": "#c9b8e4",
    "scale": "#fdd49e", "se": "#f7a8a8", "tensor": "#dbe9f6", "input": "#e8e8e8", "note": "#fafafa",
}
_INK = "#333333"
_GATE_CMAP = "viridis"
_TIMES = "\u00d7"  # ×, plain text (not mathtext) so the shapes read "56×56×256"


def _shape(*dims) -> str:
    return _TIMES.join(str(d) for d in dims)


# --------------------------------------------------------------------------- drawing helpers
class _Box(NamedTuple):
    """A drawn box: centre ``(x, y)``, width ``w``, height ``h``, with its four edge midpoints."""
    x: float
    y: float
    w: float
    h: float

    @property
    def top(self):
        return (self.x, self.y + self.h / 2)

    @property
    def bottom(self):
        return (self.x, self.y - self.h / 2)

    @property
    def left(self):
        return (self.x - self.w / 2, self.y)

    @property
    def right(self):
        return (self.x + self.w / 2, self.y)


def _canvas(ax, xlim, ylim, title: str | None = None, size: float = 11) -> None:
    """An equal-aspect drawing area without ticks or spines."""
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=size)


def _text(ax, xy, s: str, size: float = 9, **kw):
    kw.setdefault("ha", "center")
    kw.setdefault("va", "center")
    return ax.text(xy[0], xy[1], s, fontsize=size, zorder=4, **kw)


def _box(ax, xy, w: float, h: float, text: str, color: str, size: float = 9) -> _Box:
    """A rounded box centred on ``xy`` with ``text`` in it; ``color`` is a :data:`COLORS` key or a colour."""
    x, y = xy
    face = COLORS.get(color, color)
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0,rounding_size=0.1",
                                fc=face, ec=_INK, lw=1.1, zorder=2))
    _text(ax, xy, text, size=size)
    return _Box(x, y, w, h)


def _arrow(ax, start, end, via: Sequence = (), color: str = _INK, lw: float = 1.2) -> None:
    """An arrow from ``start`` to ``end``, bending through the ``via`` points (head on the last leg)."""
    pts = [tuple(start), *map(tuple, via), tuple(end)]
    if len(pts) > 2:
        xs, ys = zip(*pts[:-1])
        ax.plot(xs, ys, color=color, lw=lw, solid_capstyle="butt", zorder=1)
    ax.annotate("", xy=pts[-1], xytext=pts[-2], zorder=1,
                arrowprops=dict(arrowstyle="-|>,head_length=0.45,head_width=0.22", color=color, lw=lw,
                                shrinkA=0, shrinkB=0))


def _dot(ax, xy, color: str = _INK) -> None:
    """A branching point."""
    ax.add_patch(Circle(xy, 0.07, color=color, zorder=3))


def _op(ax, xy, r: float = 0.25, kind: str = "+") -> _Box:
    """A circled ``+`` (sum) or ``×`` (product) node."""
    ax.add_patch(Circle(xy, r, fc="white", ec=_INK, lw=1.1, zorder=2))
    a = 0.62 * r if kind == "+" else 0.45 * r
    legs = [((-a, 0), (a, 0)), ((0, -a), (0, a))] if kind == "+" else [((-a, -a), (a, a)), ((-a, a), (a, -a))]
    for (x0, y0), (x1, y1) in legs:
        ax.plot([xy[0] + x0, xy[0] + x1], [xy[1] + y0, xy[1] + y1], color=_INK, lw=1.1, zorder=3)
    return _Box(xy[0], xy[1], 2 * r, 2 * r)


def _chain(ax, x: float, y0: float, steps, dy: float, w: float, h: float, size: float = 9) -> list[_Box]:
    """Boxes ``steps = [(text, color, shape or None), ...]`` stacked downwards from ``y0`` every ``dy``,
    joined by arrows, each output shape written to the right of its box."""
    boxes = []
    for i, (label, color, shape) in enumerate(steps):
        b = _box(ax, (x, y0 - i * dy), w, h, label, color, size=size)
        if shape:
            _text(ax, (b.right[0] + 0.15, b.y), shape, size=size, ha="left", color="#444444")
        if boxes:
            _arrow(ax, boxes[-1].bottom, b.top)
        boxes.append(b)
    return boxes


def _cuboid(ax, x: float, y: float, w: float, h: float, depth: float, colors) -> None:
    """A 3-D-looking tensor: front face ``(x, y, w, h)`` cut into one vertical slice per colour (the
    channels), and a top and side face receding by ``depth``."""
    dx, dy = 0.8 * depth, 0.6 * depth
    n = len(colors)
    for i, c in enumerate(colors):
        x0, x1 = x + i * w / n, x + (i + 1) * w / n
        ax.add_patch(Polygon([(x0, y + h), (x1, y + h), (x1 + dx, y + h + dy), (x0 + dx, y + h + dy)],
                             fc=c, ec=_INK, lw=0.4, zorder=2))
        ax.add_patch(Rectangle((x0, y), x1 - x0, h, fc=c, ec=_INK, lw=0.4, zorder=2))
    ax.add_patch(Polygon([(x + w, y), (x + w + dx, y + dy), (x + w + dx, y + h + dy), (x + w, y + h)],
                         fc=colors[-1], ec=_INK, lw=0.8, zorder=2, alpha=0.85))
    ax.add_patch(Rectangle((x, y), w, h, fill=False, ec=_INK, lw=1.0, zorder=3))


def _strip(ax, x: float, y: float, w: float, h: float, colors) -> _Box:
    """A ``1×1×C`` vector drawn as a row of coloured cells, lower-left corner ``(x, y)``."""
    n = len(colors)
    for i, c in enumerate(colors):
        ax.add_patch(Rectangle((x + i * w / n, y), w / n, h, fc=c, ec=_INK, lw=0.4, zorder=2))
    ax.add_patch(Rectangle((x, y), w, h, fill=False, ec=_INK, lw=1.0, zorder=3))
    return _Box(x + w / 2, y + h / 2, w, h)


# --------------------------------------------------------------------------- Fig. 1: the SE block
_FIG1_SLICES = 14


def _fig1_colors():
    """Demo channel colours: ``z`` greys, the gates ``s`` (one fixed pseudo-random draw) and ``U``'s tint."""
    rng = np.random.default_rng(7)
    z = plt.get_cmap("Greys")(rng.uniform(0.15, 0.6, _FIG1_SLICES))
    s = plt.get_cmap(_GATE_CMAP)(rng.uniform(0.0, 1.0, _FIG1_SLICES))
    u = [COLORS["tensor"]] * _FIG1_SLICES
    return z, s, u


def _fig1_tensor(ax, x, y, w, h, depth, colors, name, shape, dims=("H", "W", "C")) -> None:
    """One Fig. 1 tensor: cuboid, its H / W / C edges, and its name and shape underneath."""
    _cuboid(ax, x, y, w, h, depth, colors)
    _text(ax, (x - 0.3, y + 0.75 * h), dims[0], size=10, style="italic")
    _text(ax, (x + w + 0.8 * depth / 2 + 0.35, y + 0.6 * depth / 2 - 0.1), dims[1], size=10, style="italic")
    _text(ax, (x + w / 2, y - 0.35), dims[2], size=10, style="italic")
    _text(ax, (x + w / 2, y - 0.95), name, size=13)
    _text(ax, (x + w / 2, y - 1.6), shape, size=10)


def _fig1_excitation(ax, c: int, cr: int) -> None:
    """The inside of ``F_ex``: FC → ReLU → FC → sigmoid, with their output shapes, in a dashed frame."""
    steps = [("FC $W_1$\nC\u2192C/r", "fc", _shape(1, 1, cr)), ("ReLU $\\delta$", "relu", _shape(1, 1, cr)),
             ("FC $W_2$\nC/r\u2192C", "fc", _shape(1, 1, c)), ("sigmoid $\\sigma$", "sigmoid", _shape(1, 1, c))]
    x0, w, gap, y = 11.55, 1.75, 0.45, 6.55
    for i, (label, color, shape) in enumerate(steps):
        b = _box(ax, (x0 + i * (w + gap), y), w, 0.95, label, color, size=8.5)
        _text(ax, (b.x, b.y - 0.8), shape, size=8.5, color="#444444")
        if i:
            _arrow(ax, (b.left[0] - gap, y), b.left)
    ax.add_patch(FancyBboxPatch((x0 - w / 2 - 0.2, 5.4), 4 * w + 3 * gap + 0.4, 1.85, ls="--", lw=0.9,
                                boxstyle="round,pad=0,rounding_size=0.15", fill=False, ec="#777777", zorder=1))
    ax.plot([15.0, 15.0], [7.25, 8.5], ls="--", lw=0.9, color="#777777", zorder=1)


def _fig1_equations(ax) -> None:
    eqs = [(5.6, "squeeze:  $z_c=F_{sq}(\\mathbf{u}_c)=\\frac{1}{H\\times W}\\sum_{i=1}^{H}\\;\\sum_{j=1}^{W}u_c(i,j)$"),
           (14.2, "excitation:  $\\mathbf{s}=F_{ex}(\\mathbf{z},\\mathbf{W})=\\sigma(\\mathbf{W}_2\\,"
                  "\\delta(\\mathbf{W}_1\\mathbf{z}))$"),
           (21.9, "scale:  $\\widetilde{\\mathbf{x}}_c=F_{scale}(\\mathbf{u}_c,s_c)=s_c\\cdot\\mathbf{u}_c$")]
    for x, eq in eqs:
        _text(ax, (x, -0.75), eq, size=10)


def se_block_diagram(h: int = 56, w: int = 56, c: int = 256, ratio: int = 16) -> Figure:
    """The paper's Fig. 1: ``X`` → ``F_tr`` → ``U`` → squeeze ``F_sq`` (global average pooling, ``1×1×C``)
    → excitation ``F_ex`` (FC ``C→C/r``, ReLU, FC ``C/r→C``, sigmoid) → gates ``s`` → ``F_scale`` → ``X̃``.

    ``h, w, c`` are the shape of ``U`` (and ``X̃``) and ``ratio`` is the reduction ratio ``r``; the labels
    show the resulting shapes (e.g. ``56×56×256`` and ``1×1×16`` for the defaults).
    """
    cr = max(1, c // ratio)
    zc, sc, uc = _fig1_colors()
    fig, ax = plt.subplots(figsize=(12.5, 5.9))
    _canvas(ax, (-0.8, 26.7), (-1.4, 10.0))
    _fig1_tensor(ax, 0.3, 2.6, 1.5, 2.6, 1.2, [COLORS["input"]] * 5, "$\\mathbf{X}$",
                 "H\u2032\u00d7W\u2032\u00d7C\u2032", dims=("H\u2032", "W\u2032", "C\u2032"))
    _arrow(ax, (3.3, 3.7), (5.1, 3.7))
    _text(ax, (4.2, 4.15), "$F_{tr}$", size=12)
    _fig1_tensor(ax, 5.5, 2.3, 3.2, 3.2, 1.6, uc, "$\\mathbf{U}$", _shape(h, w, c))
    z = _strip(ax, 10.4, 8.3, 3.0, 0.4, zc)
    s = _strip(ax, 16.6, 8.3, 3.0, 0.4, sc)
    _arrow(ax, (7.8, 6.6), z.left, via=[(7.8, z.y)])
    _text(ax, (8.9, z.y + 0.45), "$F_{sq}(\\cdot)$", size=12)
    _arrow(ax, z.right, s.left)
    _text(ax, (15.0, z.y + 0.45), "$F_{ex}(\\cdot,\\mathbf{W})$", size=12)
    for b, name in ((z, "$\\mathbf{z}$"), (s, "gates $\\mathbf{s}$")):
        _text(ax, (b.x, b.y + 0.65), name, size=11)
        _text(ax, (b.x, b.y - 0.55), _shape(1, 1, c), size=9.5)
    _fig1_excitation(ax, c, cr)
    prod = _op(ax, (20.4, 4.0), r=0.3, kind="x")
    _arrow(ax, (9.9, 4.0), prod.left)
    _arrow(ax, s.right, prod.top, via=[(20.4, s.y)])
    _text(ax, (20.4, 3.2), "$F_{scale}(\\cdot,\\cdot)$", size=12)
    _arrow(ax, prod.right, (21.6, 4.0))
    _fig1_tensor(ax, 21.8, 2.3, 3.2, 3.2, 1.6, sc, "$\\widetilde{\\mathbf{X}}$", _shape(h, w, c))
    _fig1_equations(ax)
    ax.set_title(f"Fig. 1 \u2014 a Squeeze-and-Excitation block (H={h}, W={w}, C={c}, reduction r={ratio})",
                 fontsize=13)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.94)
    return fig


# --------------------------------------------------------------------------- Figs. 2 and 3: SE modules
_SE_STEPS = [("Global pooling", "pool", "1\u00d71\u00d7C"), ("FC", "fc", "1\u00d71\u00d7C/r"),
             ("ReLU", "relu", "1\u00d71\u00d7C/r"), ("FC", "fc", "1\u00d71\u00d7C"),
             ("Sigmoid", "sigmoid", "1\u00d71\u00d7C")]
_MOD_DY, _MOD_W, _MOD_H = 1.12, 2.3, 0.6


def _module_column(ax, x: float, top: float, module: str, se: bool, residual: bool, caption: str) -> None:
    """One vertical flowchart of Figs. 2/3: ``X`` → module [→ SE branch → Scale] [→ ⊕ identity] → ``X̃``."""
    steps = [(module, "module", "H\u00d7W\u00d7C")]
    if se:
        steps += _SE_STEPS + [("Scale", "scale", "H\u00d7W\u00d7C")]
    _text(ax, (x, top + 0.75), caption, size=10, weight="bold")
    _text(ax, (x, top), "$\\mathbf{X}$", size=12)
    boxes = _chain(ax, x, top - 1.1, steps, _MOD_DY, _MOD_W, _MOD_H)
    _arrow(ax, (x, top - 0.25), boxes[0].top)
    if se:  # U itself goes round the SE branch to be scaled
        fork = (x, boxes[0].bottom[1] - 0.2)
        _dot(ax, fork)
        xl = x - _MOD_W / 2 - 0.3
        _arrow(ax, fork, boxes[-1].left, via=[(xl, fork[1]), (xl, boxes[-1].y)])
    end = boxes[-1].bottom
    if residual:
        plus = _op(ax, (x, end[1] - 0.65), r=0.22)
        _arrow(ax, end, plus.top)
        split = (x, top - 0.5)
        _dot(ax, split)
        xi = x - _MOD_W / 2 - (0.75 if se else 0.4)
        _arrow(ax, split, plus.left, via=[(xi, split[1]), (xi, plus.y)])
        _text(ax, (xi - 0.12, (split[1] + plus.y) / 2), "identity", size=8, rotation=90, ha="right",
              color="#555555")
        end = plus.bottom
    _arrow(ax, end, (x, end[1] - 0.55))
    _text(ax, (x, end[1] - 0.85), "$\\widetilde{\\mathbf{X}}$", size=12)


def _module_pair(ax, module: str, residual: bool, title: str) -> None:
    _canvas(ax, (-0.3, 10.3), (1.4, 13.6), title, size=11.5)
    n_se = len(_SE_STEPS) + 1
    _module_column(ax, 2.2, 12.4 - n_se * _MOD_DY / 2, module, se=False, residual=residual,
                   caption=f"{module} module" if not residual else "ResNet module")
    _module_column(ax, 7.0, 12.4, module, se=True, residual=residual,
                   caption=f"SE-{module} module" if not residual else "SE-ResNet module")


def se_module_diagrams() -> Figure:
    """The paper's Figs. 2 and 3 side by side: the original Inception module vs SE-Inception (left) and
    the original residual module vs SE-ResNet (right), with each box's output shape (``H×W×C``,
    ``1×1×C``, ``1×1×C/r``)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 7.4))
    _module_pair(left, "Inception", residual=False, title="Fig. 2 \u2014 Inception vs SE-Inception")
    _module_pair(right, "Residual", residual=True, title="Fig. 3 \u2014 ResNet vs SE-ResNet")
    fig.suptitle("SE blocks inside existing modules (r: reduction ratio)", fontsize=13)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.9, wspace=0.04)
    return fig


# --------------------------------------------------------------------------- Fig. 5: SE placements
_RES = ("Residual", "module")
_SE = ("SE", "se")
# panel letter, paper name, selib's se_placement value, boxes before the sum on the residual branch,
# boxes on the identity path, boxes after the sum
_PLACEMENTS = [
    ("a", "Residual block", None, [_RES], [], []),
    ("b", "Standard SE block", "standard", [_RES, _SE], [], []),
    ("c", "SE-PRE block", "pre", [_SE, _RES], [], []),
    ("d", "SE-POST block", "post", [_RES], [], [_SE]),
    ("e", "SE-Identity block", "identity", [_RES], [_SE], []),
]
_P_MAIN, _P_ID, _P_SPLIT, _P_SUM = 2.75, 0.85, 8.7, 4.55


def _placement_panel(ax, letter, name, key, branch, shortcut, after) -> None:
    """One Fig. 5 panel: input → split → residual branch (+ identity path) → ⊕ → [after] → output."""
    sub = f"se_placement=\"{key}\"" if key else "no SE"
    _canvas(ax, (0, 4.1), (0.3, 9.9), f"({letter}) {name}\n{sub}", size=10)
    _text(ax, (_P_MAIN, 9.6), "input", size=9)
    _arrow(ax, (_P_MAIN, 9.35), (_P_MAIN, _P_SPLIT))
    _dot(ax, (_P_MAIN, _P_SPLIT))
    gap = (_P_SPLIT - _P_SUM) / (len(branch) + 1)
    boxes = [_box(ax, (_P_MAIN, _P_SPLIT - (i + 1) * gap), 1.9, 0.65, t, c) for i, (t, c) in enumerate(branch)]
    plus = _op(ax, (_P_MAIN, _P_SUM), r=0.24)
    for a, b in zip([(_P_MAIN, _P_SPLIT)] + [bx.bottom for bx in boxes], [bx.top for bx in boxes] + [plus.top]):
        _arrow(ax, a, b)
    if shortcut:
        se = _box(ax, (_P_ID, (_P_SPLIT + _P_SUM) / 2), 1.2, 0.65, *shortcut[0])
        _arrow(ax, (_P_MAIN, _P_SPLIT), se.top, via=[(_P_ID, _P_SPLIT)])
        _arrow(ax, se.bottom, plus.left, via=[(_P_ID, _P_SUM)])
    else:
        _arrow(ax, (_P_MAIN, _P_SPLIT), plus.left, via=[(_P_ID, _P_SPLIT), (_P_ID, _P_SUM)])
    end = plus.bottom
    for t, c in after:
        b = _box(ax, (_P_MAIN, end[1] - 1.05), 1.9, 0.65, t, c)
        _arrow(ax, end, b.top)
        end = b.bottom
    _arrow(ax, end, (_P_MAIN, 1.3))
    _text(ax, (_P_MAIN, 1.0), "output", size=9)


def se_placement_diagram() -> Figure:
    """The paper's Fig. 5: (a) a residual block without SE and the SE placements of the integration
    ablation — (b) standard, (c) pre, (d) post, (e) identity — titled with the paper's names and with
    selib's ``se_placement`` values."""
    fig, axes = plt.subplots(1, len(_PLACEMENTS), figsize=(12, 4.6))
    for ax, spec in zip(axes, _PLACEMENTS):
        _placement_panel(ax, *spec)
    fig.suptitle("Fig. 5 \u2014 where the SE block goes in a residual unit (selib: se_placement=...)",
                 fontsize=13)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.8, wspace=0.08)
    return fig


# --------------------------------------------------------------------------- channel re-weighting
def _check_maps(feature_maps, gates) -> tuple[np.ndarray, np.ndarray]:
    u = np.asarray(feature_maps, dtype=float)
    s = np.asarray(gates, dtype=float).reshape(-1)
    if u.ndim != 3:
        raise ValueError(f"feature_maps must be (H, W, C), got shape {u.shape}")
    if s.shape != (u.shape[-1],):
        raise ValueError(f"gates must have one value per channel ({u.shape[-1]}), got shape {s.shape}")
    return u, s


def _spanning_channels(order: np.ndarray, n: int) -> np.ndarray:
    """``n`` channels at evenly spaced ranks of ``order`` (gate-descending), so the strongest and the
    weakest gate are both shown and the rest span the range between them."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    ranks = np.unique(np.round(np.linspace(0, len(order) - 1, min(n, len(order)))).astype(int))
    return order[ranks]


def _gate_chart(ax, s: np.ndarray, order: np.ndarray, shown: np.ndarray) -> None:
    """All gates sorted descending as bars, the shown channels marked and numbered."""
    ranks = np.arange(len(s))
    ax.bar(ranks, s[order], width=1.0, color="#8fb3d9", edgecolor="none", label="all channels")
    rank_of = np.empty_like(order)
    rank_of[order] = ranks
    pos = rank_of[shown]
    ax.scatter(pos, s[shown], color="#d62728", zorder=3, s=22, label="channels shown below")
    for p, c in zip(pos, shown):
        ax.annotate(str(c), (p, s[c]), xytext=(0, 5), textcoords="offset points", ha="center", fontsize=7.5)
    ax.set_xlim(-0.5, len(s) - 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(0, 1.1)
    ax.set_xlabel("channels sorted by gate")
    ax.set_ylabel("gate $s_c$")
    ax.set_title(f"all {len(s)} gates, sorted (mean {s.mean():.2f})", fontsize=10)
    ax.legend(loc="upper right", fontsize=8, frameon=False)


def _show_image(ax, image: np.ndarray) -> None:
    img = np.asarray(image)
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    if img.dtype != np.uint8:
        img = img.astype(float)
        img = np.clip(img / 255.0 if img.max() > 1 else img, 0, 1)
    ax.imshow(img, cmap="gray" if img.ndim == 2 else None)
    ax.set_title("input image", fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])


def _map_scale(maps: np.ndarray) -> dict:
    """One colour scale for every map of a figure: zero-centred and diverging (blue < 0 < red)
    when the maps have both signs, so a channel gated to 0 shows as the neutral colour; from 0
    with a sequential map when they are all non-negative."""
    lo, hi = float(np.min(maps)), float(np.max(maps))
    if lo < 0 < hi or (lo < 0 and hi <= 0):
        v = max(abs(lo), abs(hi)) or 1e-6
        return {"cmap": "RdBu_r", "vmin": -v, "vmax": v}
    return {"cmap": "magma", "vmin": 0.0, "vmax": hi if hi > 0 else 1e-6}


def _channel_pair(before_ax, after_ax, u: np.ndarray, g: float, c: int, first: bool, scale: dict):
    """Channel ``c`` before (``u_c``) and after (``s_c·u_c``) scaling, on the figure's one colour scale."""
    scaled = g * u
    im = None
    for ax, data, row, cap in ((before_ax, u, "before", f"ch {c}, $s$={g:.2f}"),
                               (after_ax, scaled, "after", f"{g:.2f} \u00b7 ch {c}")):
        im = ax.imshow(data, **scale)
        ax.set_title(cap, fontsize=8.5)
        ax.set_label(f"{row}:{c}")  # lets tests (and readers of the figure object) find each panel
        ax.set_xticks([])
        ax.set_yticks([])
    if first:
        before_ax.set_ylabel("before\n$u_c$", fontsize=9)
        after_ax.set_ylabel("after\n$s_c\\cdot u_c$", fontsize=9)
    return im


def reweighting_figure(feature_maps: np.ndarray, gates: np.ndarray, n: int = 8, image: np.ndarray | None = None,
                       title: str = "Learned channel re-weighting by one SE block") -> Figure:
    """What one SE block does to one image: ``feature_maps`` ``(H, W, C)`` is the block's input ``U`` and
    ``gates`` ``(C,)`` its excitation ``s``.

    Shows the input ``image`` (optional), every gate sorted descending, and ``n`` channels picked at
    evenly spaced gate ranks (the highest and the lowest gate included, the others spanning the range
    between) — top row ``u_c`` before scaling, bottom row ``s_c·u_c`` after. Every map shares one
    colour scale with a colour bar — zero-centred and diverging for signed maps — so a gate of 0.00
    leaves a neutral panel and the dimming by each gate is comparable across channels. Columns run
    from the largest gate to the smallest.
    """
    u, s = _check_maps(feature_maps, gates)
    order = np.argsort(-s, kind="stable")
    shown = _spanning_channels(order, n)
    fig = plt.figure(figsize=(max(10.0, 1.25 * len(shown)), 6.8), layout="constrained")
    grid = fig.add_gridspec(3, len(shown), height_ratios=[1.5, 1, 1])
    if image is not None:
        top = grid[0, :].subgridspec(1, 2, width_ratios=[1, 3.2])
        _show_image(fig.add_subplot(top[0, 0]), image)
        _gate_chart(fig.add_subplot(top[0, 1]), s, order, shown)
    else:
        _gate_chart(fig.add_subplot(grid[0, :]), s, order, shown)
    scale = _map_scale(u[..., shown])
    panels, im = [], None
    for col, c in enumerate(shown):
        axes = fig.add_subplot(grid[1, col]), fig.add_subplot(grid[2, col])
        im = _channel_pair(*axes, u[..., c], s[c], int(c), first=col == 0, scale=scale)
        panels.extend(axes)
    fig.colorbar(im, ax=panels, shrink=0.8, pad=0.01,
                 label="activation (0 = white)" if scale["cmap"] == "RdBu_r" else "activation")
    fig.suptitle(title, fontsize=13)
    fig.supxlabel("every map on one colour scale: each column is one channel, before (top) and after "
                  "(bottom) its gate", fontsize=9)
    return fig
