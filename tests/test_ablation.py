"""Ablation runner: resumable, one row per config and seed, summary maths, SE placement wiring."""
from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import pandas as pd
import pytest

from selib.training import trainer as training
from selib.studies.ablation import (Study, read_run, run_dir, run_study, step_times, studies, summarize,
                            summarize_times, unique_runs, verdict)
from selib.training.profiles import PROFILES
from toyfolder import make_toy_folder

# two 1-epoch trainings of a network with a few thousand weights on 32² images: seconds
TINY = PROFILES["ci"].replace(max_per_class=None, epochs=1, image_size=32, batch_size=32, depth=(1, 1),
                              filters=(8, 16), initial_filters=8, ratio=4, augment=None, val_size=0.1)


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> Path:
    return make_toy_folder(tmp_path_factory.mktemp("toy") / "seats", per_class=12, size=32)


@pytest.fixture
def calls(monkeypatch):
    """Records every call of selib.training.trainer.train (the real one still runs)."""
    made = []
    real, real_prepare = training.train, training.prepare_data

    def counting(config, data_dir, out_dir, **kw):
        made.append(Path(out_dir))
        return real(config, data_dir, out_dir, **kw)

    def preparing(config, data_dir, **kw):
        made.append(("prepare_data", config.seed))
        return real_prepare(config, data_dir, **kw)

    monkeypatch.setattr(training, "train", counting)
    monkeypatch.setattr(training, "prepare_data", preparing)
    return made


@pytest.fixture
def fake_train(monkeypatch):
    """Replaces training with an instant fake that writes a finished run; records the calls."""
    made = []

    def fake(config, data_dir, out_dir, **kw):
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        config.save(out / "config.json")
        acc = 0.5 + 0.01 * config.seed + (0.1 if config.ratio else 0.0)
        pd.DataFrame({"epoch": [0, 1, 2], "epoch_seconds": [9.0, 2.0, 4.0],
                      "val_accuracy": [0.3, 0.6, 0.5]}).to_csv(out / "history.csv", index=False)
        (out / "metrics.json").write_text(json.dumps({"test_accuracy": acc, "test_loss": 1.0, "params": 1000,
                                                      "train_seconds": 15.0, "epochs_run": 3}))
        made.append(out)

    import keras

    monkeypatch.setattr(training, "train", fake)
    monkeypatch.setattr(keras.backend, "clear_session", lambda *a, **k: None)  # its gc.collect costs ~1 s
    return made


def _mtimes(root: Path) -> dict[str, int]:
    return {str(p): p.stat().st_mtime_ns for p in sorted(root.rglob("metrics.json"))}


# ---------------------------------------------------------------------------------------------
def test_real_runs_then_skips_finished_ones(toy, tmp_path, calls):
    study = Study("se", TINY, {"SE": {}, "no SE": {"ratio": None}}, seeds=(0, 1), reference="no SE")
    df = run_study(study, toy, tmp_path, progress=False)
    # the data are loaded and split once, with the split seed, and shared by all four runs
    assert calls[0] == ("prepare_data", 42) and len(calls) == 5
    # one row per config and seed, in the study's order, each in its own folder
    assert list(zip(df["label"], df["seed"])) == [("SE", 0), ("SE", 1), ("no SE", 0), ("no SE", 1)]
    assert df["run_dir"].nunique() == 4 and set(df["status"]) == {"trained"}
    assert Path(df["run_dir"][2]) == tmp_path / "se" / "no_SE" / "seed0"
    for _, row in df.iterrows():
        cfg = json.loads((Path(row["run_dir"]) / "config.json").read_text())
        assert cfg["seed"] == row["seed"] and cfg["extra"]["split_seed"] == 42
        assert (cfg["ratio"] is None) == (row["label"] == "no SE")
    assert df["accuracy"].between(0, 100).all() and (df["epochs_run"] == 1).all()
    assert (df.loc[df["label"] == "SE", "params"] > df.loc[df["label"] == "no SE", "params"].max()).all()
    assert not logging.getLogger("tensorflow").filters          # the retracing filter is removed
    saved = pd.read_csv(tmp_path / "se" / "results.csv")
    assert len(saved) == 4 and (tmp_path / "se" / "summary.csv").exists()

    before = _mtimes(tmp_path)
    again = run_study(study, toy, tmp_path, progress=False)
    assert len(calls) == 5                                    # nothing re-run
    assert set(again["status"]) == {"cached"} and _mtimes(tmp_path) == before
    pd.testing.assert_series_equal(again["accuracy"], df["accuracy"])


def test_resume_rerun_changed_and_shared(toy, tmp_path, fake_train):
    study = Study("gate", TINY, {"sigmoid": {}, "tanh": {"se_gate": "tanh"}}, seeds=(0, 1, 2),
                  reference="sigmoid")
    cache: dict = {}                                          # load the toy folder once for all calls
    df = run_study(study, toy, tmp_path, progress=False, cache=cache)
    assert len(fake_train) == 6 and len(df) == 6
    assert sorted(zip(df["label"], df["seed"])) == sorted((l, s) for l in study.labels for s in (0, 1, 2))
    assert df["epoch_seconds"].eq(3.0).all() and df["first_epoch_seconds"].eq(9.0).all()

    # a run that crashed before writing metrics.json is trained again; finished ones are not
    (run_dir(study, tmp_path, "tanh", 1) / "metrics.json").unlink()
    df = run_study(study, toy, tmp_path, progress=False, cache=cache)
    assert fake_train[6:] == [run_dir(study, tmp_path, "tanh", 1)]
    assert df["status"].tolist().count("trained") == 1

    # a finished run made with another config (the study was edited) is not passed off as this one
    edited = Study("gate", TINY.replace(epochs=2), {"sigmoid": {}}, seeds=(0,))
    run_study(edited, toy, tmp_path, progress=False, cache=cache)
    assert fake_train[7:] == [run_dir(edited, tmp_path, "sigmoid", 0)]
    assert json.loads((fake_train[7] / "config.json").read_text())["epochs"] == 2

    # another study whose variant is the very same config links to the finished run
    other = Study("squeeze", TINY, {"avg": {}, "max": {"se_squeeze": "max"}}, seeds=(1,))
    df2 = run_study(other, toy, tmp_path, progress=False, cache=cache)
    assert len(fake_train) == 9                               # only "max" trained
    avg = run_dir(other, tmp_path, "avg", 1)
    assert df2["status"].tolist() == ["shared", "trained"]
    assert avg.resolve() == run_dir(study, tmp_path, "sigmoid", 1).resolve()
    assert read_run(avg)["accuracy"] == pytest.approx(df.loc[(df.label == "sigmoid") & (df.seed == 1),
                                                             "accuracy"].item())
    assert len(pd.read_csv(tmp_path / "squeeze" / "results.csv")) == 2


# ---------------------------------------------------------------------------------------------
def _table(rows):
    return pd.DataFrame([{"study": "t", "label": l, "seed": s, "accuracy": a, "params": p, "epoch_seconds": e}
                         for l, s, a, p, e in rows])


def test_summary_maths():
    df = _table([("B", 0, 70, 10, 1.0), ("B", 1, 70, 10, 1.0), ("B", 2, 70, 10, 1.0),
                 ("A", 0, 80, 20, 1.1), ("A", 1, 82, 20, 1.3), ("A", 2, 84, 20, 1.2),
                 ("C", 0, 50, 30, 2.0)])
    study = Study("t", TINY, {"A": {}, "B": {"ratio": None}, "C": {"ratio": 2}}, seeds=(0, 1, 2), reference="B")
    s = summarize(df, study).set_index("label")
    assert list(s.index) == ["A", "B", "C"]                    # the study's order, not alphabetical
    assert s.loc["A", "n"] == 3 and s.loc["A", "mean"] == pytest.approx(82)
    assert s.loc["A", "std"] == pytest.approx(2.0)             # sample std (ddof = 1)
    assert s.loc["B", "std"] == 0 and math.isnan(s.loc["C", "std"]) and s.loc["C", "n"] == 1
    assert (s.loc["A", "min"], s.loc["A", "max"], s.loc["A", "params"]) == (80, 84, 20)
    assert s.loc["A", "epoch_seconds"] == pytest.approx(1.2)
    assert s.loc["A", "delta"] == pytest.approx(12)
    assert s.loc["A", "delta_se"] == pytest.approx(math.sqrt(4 / 3))
    assert bool(s.loc["A", "clear"]) and not bool(s.loc["B", "clear"]) and not bool(s.loc["C", "clear"])
    assert s.loc["A", "time_vs_ref"] == pytest.approx(20)
    # without a study: first-seen order, no reference columns
    plain = summarize(df)
    assert list(plain["label"]) == ["B", "A", "C"] and "delta" not in plain


def test_verdict_words():
    study = Study("gate", TINY, {"sigmoid": {}, "relu": {"se_gate": "relu"}}, seeds=(0, 1, 2),
                  reference="sigmoid", paper_best=("sigmoid",), paper_worst=("relu",))
    clear = _table([("sigmoid", s, 90 + s, 1, 1) for s in range(3)] + [("relu", s, 70 + s, 1, 1) for s in range(3)])
    assert "agrees with the paper" in verdict(summarize(clear, study), study)
    flipped = clear.assign(label=clear["label"].map({"sigmoid": "relu", "relu": "sigmoid"}))
    assert "disagrees" in verdict(summarize(flipped, study), study)
    noisy = _table([("sigmoid", s, a, 1, 1) for s, a in enumerate([70, 80, 90])] +
                   [("relu", s, a, 1, 1) for s, a in enumerate([72, 79, 86])])
    text = verdict(summarize(noisy, study), study)
    assert "within the seed-to-seed noise" in text and "neither confirms nor contradicts" in text
    one = _table([("sigmoid", 0, 80, 1, 1), ("relu", 0, 60, 1, 1)])
    assert "no conclusion" in verdict(summarize(one, study), study)


# ---------------------------------------------------------------------------------------------
def _se_wiring(model):
    """SE layer name -> (layers feeding it, layers it feeds, channels it gates)."""
    from selib.layers.squeeze_excite import se_layers
    from wiring import wiring

    ses = se_layers(model)
    edges = wiring(model, [layer.name for layer in ses])
    return {layer.name: (*edges[layer.name], layer.channels, tuple(layer.w1.shape)) for layer in ses}


def test_placement_study_puts_se_where_it_says():
    import keras

    study = next(s for s in studies("cpu") if s.name == "placement")
    assert study.labels == ["standard", "pre", "post", "identity"]
    wiring = {}
    for label in study.labels:
        cfg = study.config(label, 0).replace(image_size=32, depth=(1, 1), filters=(16, 32))
        assert cfg.se_placement == label
        keras.backend.clear_session()
        wiring[label] = _se_wiring(training.build_model(cfg, 4))
    for label, w in wiring.items():
        assert sorted(w) == ["stage1_block1_se", "stage2_block1_se"], label
    for block, c_in, c_out in (("stage1_block1", 16, 16), ("stage2_block1", 16, 32)):
        name = f"{block}_se"
        src, dst, ch, w1 = wiring["standard"][name]          # residual branch, before the sum
        assert src == [f"{block}_2_conv"] and dst == [f"{block}_add"] and ch == c_out
        src, dst, ch, w1 = wiring["pre"][name]               # on the branch input
        assert src == [f"{block}_preact_relu"] and dst == [f"{block}_1_conv"] and ch == c_in
        src, dst, ch, w1 = wiring["post"][name]              # after the sum
        assert src == [f"{block}_add"] and ch == c_out and f"{block}_add" not in dst
        src, dst, ch, w1 = wiring["identity"][name]          # on the shortcut
        assert dst == [f"{block}_add"] and ch == c_out and not src[0].startswith(f"{block}_2")
        assert w1 == (ch, max(1, ch // 16))                  # r = 16, the study's base
    # where the shape changes, SE-Identity gates the projected shortcut; else the block input
    assert wiring["identity"]["stage2_block1_se"][0] == ["stage2_block1_proj"]
    assert wiring["identity"]["stage1_block1_se"][0] == ["stem_pool"]


# ---------------------------------------------------------------------------------------------
def test_profiles_size_the_suite():
    ci = studies("ci")
    assert len(ci) == 1 and len(ci[0].variants) == 2 and ci[0].seeds == (0,)
    cfg = ci[0].config(ci[0].labels[0], 0)
    assert cfg.epochs == 1 and cfg.image_size <= 32
    n_train = math.ceil(cfg.max_per_class * 4 * (1 - cfg.test_size) * (1 - cfg.val_size))
    assert n_train <= cfg.batch_size                            # one training step per config

    cpu = studies("cpu")
    assert [s.name for s in cpu] == ["ratio", "se", "squeeze", "gate", "placement", "schedule", "optimizer"]
    assert all(len(s.seeds) >= 2 and s.reference in s.variants and s.paper for s in cpu)
    ratio = cpu[0]
    assert ratio.labels == ["r=2", "r=4", "r=8", "r=16", "r=32", "no SE"]
    assert [ratio.config(l, 0).ratio for l in ratio.labels] == [2, 4, 8, 16, 32, None]
    # every study's unchanged variant (r=16, SE, avg, sigmoid, standard, cosine, Adam) is the same
    # network and recipe, so those runs are trained once and shared
    base = {json.dumps(s.config(l, 0).to_dict(), sort_keys=True) for s in cpu for l, o in s.variants.items()
            if not o or o == {"ratio": 16}}
    assert len(base) == 1
    assert unique_runs(cpu) == 15 * len(cpu[0].seeds) < sum(s.n_runs for s in cpu)
    opt = cpu[-1]
    assert {opt.config(l, 0).optimizer for l in opt.labels} == {"adam", "sgd", "adamw"}
    with pytest.raises(ValueError, match="unknown TrainConfig field"):
        Study("bad", TINY, {"x": {"ratoi": 4}})


def test_step_times_interleaves_and_reports_overhead():
    t = step_times({"plain": TINY.replace(ratio=None), "SE": TINY}, batch_size=4, steps=1, rounds=2)
    assert len(t) == 4 and (t["ms_per_step"] > 0).all()
    assert t["label"].tolist() == ["plain", "SE", "SE", "plain"]   # the order rotates each round
    s = summarize_times(t, "plain").set_index("label")
    assert s.loc["SE", "ms_per_step"] == t.loc[t["label"] == "SE", "ms_per_step"].min()   # best round
    assert s.loc["plain", "overhead_%"] == 0
    assert s.loc["SE", "overhead_%"] == pytest.approx(100 * (s.loc["SE", "ms_per_step"] /
                                                             s.loc["plain", "ms_per_step"] - 1))
