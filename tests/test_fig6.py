"""selib.analysis.fig6: the Fig. 6 record over several trained models, written and read back.

The record's pooled η² is recomputed here from the models' own gates on their own test split, so a
record that used another statistic (the mean η²), other images or another block order fails; the
summary and the verdict are checked on a table whose answer is known.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from selib.analysis import fig6
from selib.analysis.gate_stats import pooled_eta_squared


# --------------------------------------------------------------------------- the paper's names
def test_paper_label_and_panels():
    assert fig6.paper_label("conv5_block2_se") == "SE_5_2"
    assert fig6.paper_label("demo_se") == "demo_se"
    # SE-ResNet-50: last block of stages 2-4, every block of stage 5 (the paper's six panels)
    r50 = [f"conv{s}_block{b}_se" for s, n in ((2, 3), (3, 4), (4, 6), (5, 3)) for b in range(1, n + 1)]
    assert [fig6.paper_label(r50[i]) for i in fig6.paper_panels(r50)] == \
        ["SE_2_3", "SE_3_4", "SE_4_6", "SE_5_1", "SE_5_2", "SE_5_3"]
    one_each = [f"conv{s}_block1_se" for s in (2, 3, 4, 5)]
    assert fig6.paper_panels(one_each) == [0, 1, 2, 3]
    assert fig6.paper_panels(["a", "b"]) == [0, 1]


# --------------------------------------------------------------------------- record and read back
@pytest.fixture(scope="module")
def runs(tmp_path_factory, toy_data):
    """Two SE models (training seeds 0 and 1) with three SE blocks each, and one model without SE."""
    from selib.training.trainer import train
    from toyfolder import eager_steps, tiny_config

    root = tmp_path_factory.mktemp("fig6runs")
    small = dict(depth=[1, 1, 1], filters=[8, 8, 8], epochs=1, image_size=24)
    with eager_steps():     # the gates are read from the saved models; how a step ran does not matter
        for name, changes in {"se0": dict(seed=0), "se1": dict(seed=1), "plain": dict(seed=0, attn=None)}.items():
            train(tiny_config(**small, **changes), toy_data, root / "runs" / name, verbose=0)
    return root


@pytest.mark.slow   # trains the tiny models it reads
def test_record_matches_the_models_own_gates_and_reads_back(runs, toy_data, tmp_path):
    import selib
    from selib.analysis.excitation import collect_gates
    from selib.training.trainer import prepare_data

    out = tmp_path / "fig6.json"
    record = fig6.record_fig6([runs / "runs"], toy_data, out, n_permutations=5, command="test command")
    assert out.is_file() and json.loads(out.read_text())["format"] == fig6.FORMAT
    assert [m["seed"] for m in record["models"]] == [0, 1]
    assert record["skipped"] == [{"run": record["skipped"][0]["run"], "reason": "the model has no SE block"}]
    assert record["skipped"][0]["run"].endswith("plain")
    prov = record["provenance"]
    assert prov["command"] == "test command" and prov["date"] and prov["hardware"]["cpu_count"]
    from selib.hardware import cpu_flags
    assert isinstance(prov["hardware"]["cpu_flags"], list)        # the speed-relevant ones, as the studies keep
    assert set(prov["hardware"]["cpu_flags"]) <= cpu_flags()

    loaded = fig6.load_fig6(out)
    assert loaded.seeds == [0, 1] and loaded.n_permutations == 5
    assert len(loaded.table) == 2 * 3
    for seed, name in ((0, "se0"), (1, "se1")):
        model, config, _ = selib.load_run(runs / "runs" / name)
        sp = prepare_data(config, toy_data).split
        _, gates = collect_gates(model, sp.x_test)
        rows = loaded.table[loaded.table["seed"] == seed].sort_values("depth")
        np.testing.assert_allclose(rows["eta2_pooled"].astype(float),
                                   [pooled_eta_squared(g, sp.y_test) for g in gates], rtol=1e-6)
        assert (rows["images"] == len(sp.y_test)).all()
        assert list(rows["se_block"]) == ["SE_2_1", "SE_3_1", "SE_4_1"]
    t = loaded.table.dropna(subset=["eta2_pooled"])          # a block whose gates never move has none
    assert len(t) and "NaN" not in out.read_text()
    assert (t["pooled_null_lo"] <= t["pooled_null_mean"]).all() and (t["pooled_null_mean"] <= t["pooled_null_hi"]).all()
    assert t["untrained_eta2_pooled"].between(0, 1).all()


def test_a_folder_without_se_models_is_an_error_and_the_cli_says_so_in_one_line(runs, toy_data, tmp_path, capsys):
    with pytest.raises(ValueError, match="no SE block"):
        fig6.record_fig6([runs / "runs" / "plain"], toy_data, None)
    assert fig6.main(["--runs", str(tmp_path / "nothing"), "--data", str(toy_data),
                      "--out", str(tmp_path / "x.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("selib: error: no run folder")


# --------------------------------------------------------------------------- summary and verdict
def _table(eta_by_seed: dict[int, list[float]], null_hi: float = 0.05) -> pd.DataFrame:
    rows = []
    for seed, etas in eta_by_seed.items():
        for d, e in enumerate(etas):
            rows.append({"seed": seed, "depth": d, "se_block": f"SE_{d + 2}_1", "eta2_pooled": e,
                         "pooled_null_mean": 0.01, "pooled_null_lo": 0.0, "pooled_null_hi": null_hi,
                         "pooled_above_null": e > null_hi, "untrained_eta2_pooled": 0.02})
    return pd.DataFrame(rows)


def test_summary_spreads_over_models():
    s = fig6.fig6_summary(_table({0: [0.02, 0.2, 0.5], 1: [0.04, 0.3, 0.7], 2: [0.03, 0.1, 0.6]}))
    assert list(s["se_block"]) == ["SE_2_1", "SE_3_1", "SE_4_1"] and (s["models"] == 3).all()
    np.testing.assert_allclose(s["eta2_mean"], [0.03, 0.2, 0.6])
    np.testing.assert_allclose(s["eta2_sd"], [0.01, 0.1, 0.1])
    np.testing.assert_allclose(s["eta2_min"], [0.02, 0.1, 0.5])
    assert list(s["above_null"]) == [0, 3, 3]


def test_verdict_counts_models_and_gives_the_spread():
    rising = fig6.fig6_verdict(_table({0: [0.02, 0.2, 0.5], 1: [0.04, 0.3, 0.7], 2: [0.03, 0.1, 0.6]}))
    assert "rises with depth in every model" in rising and "ρ 1.00 to 1.00" in rising
    assert "holds in 3 of 3" in rising
    assert "per model: 2/3, 2/3, 2/3" in rising
    mixed = fig6.fig6_verdict(_table({0: [0.02, 0.2, 0.5], 1: [0.6, 0.3, 0.1], 2: [0.4, 0.3, 0.2]}))
    assert "in 1 of 3" in mixed and "ρ -1.00 to 1.00" in mixed and "holds in 1 of 3" in mixed


# --------------------------------------------------------------------------- the figures
def test_class_means_figure_puts_the_class_specific_channels_first():
    import matplotlib
    matplotlib.use("Agg")
    from selib.plots.fig6 import class_means_figure

    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(4), 20)
    g = np.full((80, 6), 0.99)                                  # five channels pinned at 0.99 ...
    g[:, 3] = np.array([0.1, 0.4, 0.6, 0.9])[y] + rng.normal(0, 0.01, 80)   # ... and one class-specific
    fig = class_means_figure([g], y, ["SE_5_1"], ["a", "b", "c", "d"])
    ax = fig.axes[0]
    first = [line.get_ydata()[0] for line in ax.lines]
    np.testing.assert_allclose(sorted(first), [0.1, 0.4, 0.6, 0.9], atol=0.02)   # rank 1 is channel 3
    assert ax.get_ylim() == (0, 1.02) and "SE_5_1" in ax.get_title() and fig._suptitle.get_text()


def test_depth_figure_draws_every_model_and_the_live_one():
    import matplotlib
    matplotlib.use("Agg")
    from selib.plots.fig6 import depth_figure

    t = _table({0: [0.02, 0.2, 0.5], 1: [0.04, 0.3, 0.7], 2: [0.03, 0.1, 0.6]})
    fig = depth_figure(t, live=t[t["seed"] == 0])
    rec, live = fig.axes[:2]
    assert rec.get_ylim() == (0, 1) and live.get_ylim() == (0, 1)
    mean = [l for l in rec.lines if l.get_label().startswith("mean of 3")]
    np.testing.assert_allclose(mean[0].get_ydata(), [0.03, 0.2, 0.6])
    assert [t.get_text() for t in rec.get_xticklabels()] == ["SE_2_1", "SE_3_1", "SE_4_1"]
