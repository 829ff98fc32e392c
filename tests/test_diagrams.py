"""selib.plots.diagrams: the paper's figures (labels, shapes, layout) and the channel re-weighting figure."""
from __future__ import annotations

import importlib.util
import itertools
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import FancyBboxPatch, Rectangle  # noqa: E402
from matplotlib.text import Text  # noqa: E402

# The module imports only matplotlib and numpy; load it from its file so these tests neither pay for
# (nor depend on) importing the whole selib package and TensorFlow.
_PATH = Path(__file__).resolve().parents[1] / "selib" / "plots" / "diagrams.py"
_SPEC = importlib.util.spec_from_file_location("_selib_diagrams_under_test", _PATH)
d = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(d)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _drawn_ticks(axis) -> list[Text]:
    lo, hi = sorted(axis.get_view_interval())
    return [t.label1 for t in axis.get_major_ticks() if lo - 1e-9 <= t.get_loc() <= hi + 1e-9]


def _texts(fig) -> list[Text]:
    """Every text a reader sees: figure texts, axes titles and texts, and labels of axes that are on."""
    found = list(fig.texts) + [fig._suptitle, fig._supxlabel]
    for ax in fig.axes:
        found += [ax.title, ax._left_title, ax._right_title, *ax.texts]
        if ax.axison:
            found += [ax.xaxis.label, ax.yaxis.label, *_drawn_ticks(ax.xaxis), *_drawn_ticks(ax.yaxis)]
        if ax.get_legend() is not None:
            found += ax.get_legend().get_texts()
    unique = {id(t): t for t in found if t is not None}.values()  # the suptitle is also in fig.texts
    return [t for t in unique if t.get_visible() and t.get_text().strip()]


def _strings(fig) -> str:
    return "\n".join(t.get_text() for t in _texts(fig))


def _titled(fig) -> bool:
    sup = fig._suptitle.get_text() if fig._suptitle is not None else ""
    return bool(sup.strip()) or any(ax.get_title().strip() for ax in fig.axes)


def _overlaps(a, b, tol: float = 1.0) -> bool:
    return (min(a.x1, b.x1) - max(a.x0, b.x0)) > tol and (min(a.y1, b.y1) - max(a.y0, b.y0)) > tol


def _contains(outer, inner, tol: float = 1.0) -> bool:
    return (inner.x0 >= outer.x0 - tol and inner.x1 <= outer.x1 + tol
            and inner.y0 >= outer.y0 - tol and inner.y1 <= outer.y1 + tol)


def _layout_problems(fig, check_patches: bool = True) -> list[str]:
    """Texts that overlap each other, leave the figure, or straddle a box's edge."""
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    texts = [(t.get_text(), t.get_window_extent(r)) for t in _texts(fig)]
    frame = fig.bbox
    bad = [f"outside figure: {s!r}" for s, e in texts if not _contains(frame, e)]
    bad += [f"{s!r} overlaps {u!r}" for (s, e), (u, f) in itertools.combinations(texts, 2) if _overlaps(e, f)]
    if check_patches:
        boxes = [p.get_window_extent(r) for ax in fig.axes for p in ax.patches
                 if isinstance(p, (FancyBboxPatch, Rectangle))]
        bad += [f"{s!r} straddles a box edge" for s, e in texts for b in boxes
                if _overlaps(e, b) and not _contains(b, e)]
    return bad


# --------------------------------------------------------------------------- Fig. 1
def test_se_block_diagram_labels_and_shapes():
    fig = d.se_block_diagram(h=56, w=56, c=256, ratio=16)
    assert isinstance(fig, Figure) and _titled(fig)
    text = _strings(fig)
    for label in ("F_{tr}", "F_{sq}", "F_{ex}", "F_{scale}", "squeeze", "excitation", "scale"):
        assert label in text, label
    assert "56\u00d756\u00d7256" in text and "1\u00d71\u00d7256" in text and "1\u00d71\u00d716" in text
    assert "\\sigma" in text and "\\delta" in text  # s = σ(W2 δ(W1 z))


def test_se_block_diagram_uses_its_arguments():
    text = _strings(d.se_block_diagram(h=7, w=9, c=512, ratio=8))
    assert "7\u00d79\u00d7512" in text and "1\u00d71\u00d764" in text and "1\u00d71\u00d716" not in text


# --------------------------------------------------------------------------- Figs. 2 and 3
def test_se_module_diagrams_has_both_figures_and_shapes():
    fig = d.se_module_diagrams()
    assert isinstance(fig, Figure) and _titled(fig) and len(fig.axes) == 2
    text = _strings(fig)
    for label in ("Inception", "SE-Inception", "Residual", "SE-ResNet", "Global pooling", "FC", "ReLU",
                  "Sigmoid", "Scale", "H\u00d7W\u00d7C", "1\u00d71\u00d7C", "1\u00d71\u00d7C/r"):
        assert label in text, label
    # each SE variant runs the whole excitation: two FCs per SE column
    assert sum(t.get_text() == "FC" for t in _texts(fig)) == 4


# --------------------------------------------------------------------------- Fig. 5
def test_se_placement_diagram_panels_name_selib_placements():
    fig = d.se_placement_diagram()
    assert isinstance(fig, Figure) and _titled(fig)
    titles = [ax.get_title() for ax in fig.axes]
    assert len(titles) == 5
    for i, (letter, key) in enumerate(zip("abcde", [None, "standard", "pre", "post", "identity"])):
        assert titles[i].startswith(f"({letter})")
        if key:
            assert re.search(rf"\b{key}\b", titles[i]), titles[i]
    # one SE box in each SE variant, none in the plain residual block
    se_count = [sum(t.get_text() == "SE" for t in ax.texts) for ax in fig.axes]
    assert se_count == [0, 1, 1, 1, 1]


# --------------------------------------------------------------------------- layout of the diagrams
@pytest.mark.parametrize("make", [d.se_block_diagram, d.se_module_diagrams, d.se_placement_diagram])
def test_diagram_text_does_not_collide(make):
    assert _layout_problems(make()) == []


# --------------------------------------------------------------------------- channel re-weighting
def _maps(c: int = 40, seed: int = 0):
    rng = np.random.default_rng(seed)
    u = np.abs(rng.normal(size=(12, 10, c)))
    s = rng.uniform(0.02, 0.98, c)  # unsorted, all different, all below 1 so scaling dims every map
    return u, s


def _panels(fig, row: str) -> dict[int, plt.Axes]:
    out = {}
    for ax in fig.axes:
        if ax.get_label().startswith(f"{row}:"):
            out[int(ax.get_label().split(":")[1])] = ax
    return out


def _gate_axes(fig):
    (ax,) = [ax for ax in fig.axes if "gate" in ax.get_ylabel()]
    return ax


def test_reweighting_after_is_gate_times_before_on_one_scale():
    u, s = _maps()
    fig = d.reweighting_figure(u, s, n=8)
    assert isinstance(fig, Figure) and _titled(fig)
    before, after = _panels(fig, "before"), _panels(fig, "after")
    assert len(before) == 8 and before.keys() == after.keys()
    for c in before:
        b, a = before[c].images[0], after[c].images[0]
        np.testing.assert_allclose(b.get_array(), u[..., c])
        np.testing.assert_allclose(a.get_array(), s[c] * u[..., c])
        assert b.get_clim() == a.get_clim()  # one colour scale per channel column
        assert f"{s[c]:.2f}" in before[c].get_title() and str(c) in before[c].get_title()
        assert f"{s[c]:.2f}" in after[c].get_title() and str(c) in after[c].get_title()
    # evenly spaced gate ranks: the strongest and the weakest channel are both shown
    assert int(np.argmax(s)) in before and int(np.argmin(s)) in before


def test_reweighting_gate_chart_sorted_descending_on_unit_range():
    u, s = _maps()
    ax = _gate_axes(d.reweighting_figure(u, s, n=6))
    heights = np.array([p.get_height() for p in ax.patches])
    assert len(heights) == len(s)
    np.testing.assert_allclose(heights, np.sort(s)[::-1])
    lo, hi = ax.get_ylim()
    assert lo <= 0 and hi >= 1
    assert "gate" in ax.get_ylabel() and "sorted" in ax.get_xlabel()


def test_reweighting_with_image_and_small_channel_count():
    u, s = _maps(c=5)
    img = np.random.default_rng(1).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    fig = d.reweighting_figure(u, s, n=8, image=img, title="one block")
    assert fig._suptitle.get_text() == "one block"
    assert any(ax.get_title() == "input image" for ax in fig.axes)
    assert len(_panels(fig, "after")) == 5  # n capped at C
    assert all(ax.get_title() or ax.get_ylabel() or ax.get_xlabel() for ax in fig.axes)
    assert _layout_problems(fig, check_patches=False) == []


def test_reweighting_rejects_mismatched_shapes():
    u, s = _maps()
    with pytest.raises(ValueError):
        d.reweighting_figure(u, s[:-1])
    with pytest.raises(ValueError):
        d.reweighting_figure(u[..., 0], s)


def test_reweighting_needs_at_least_one_channel_shown():
    u, s = _maps()
    with pytest.raises(ValueError):
        d.reweighting_figure(u, s, n=0)


def test_gate_chart_marks_every_shown_channel_at_its_rank():
    u, s = _maps(c=12)
    fig = d.reweighting_figure(u, s, n=4)
    ax = _gate_axes(fig)
    (points,) = ax.collections
    ranks = np.argsort(np.argsort(-s, kind="stable"), kind="stable")
    shown = sorted(_panels(fig, "before"))
    np.testing.assert_allclose(sorted(points.get_offsets()[:, 0]), sorted(ranks[shown]))
    np.testing.assert_allclose(sorted(points.get_offsets()[:, 1]), sorted(s[shown]))


def test_reweighting_uses_one_zero_centred_scale_and_a_colour_bar():
    u, s = _maps()
    u = u - u.mean()                                  # signed maps, as a residual branch gives
    s[0] = 0.0                                        # a channel switched off
    fig = d.reweighting_figure(u, s, n=8)
    panels = list(_panels(fig, "before").values()) + list(_panels(fig, "after").values())
    clims = {p.images[0].get_clim() for p in panels}
    assert len(clims) == 1                            # one scale for the whole figure
    lo, hi = clims.pop()
    assert lo == -hi and hi >= np.abs(u[..., sorted(_panels(fig, "before"))]).max() - 1e-9
    assert all(p.images[0].get_cmap().name == "RdBu_r" for p in panels)   # diverging: 0 is neutral
    assert any("activation" in ax.get_ylabel() for ax in fig.axes)         # the colour bar
    positive = d.reweighting_figure(np.abs(u), s, n=4)
    (p0, *_) = _panels(positive, "before").values()
    assert p0.images[0].get_clim()[0] == 0
