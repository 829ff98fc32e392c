"""selib.studies: the study definition, the resumable runner, verdicts, charts, suite and paper numbers."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from selib.errors import ConfigError
from selib.studies import (STUDY_SIZES, Study, StudyRecord, cite, command, compare, cost_summary,
                           data_identity, paper_table, plan, plot_accuracy, plot_differences,
                           prepare_seed, read_run, reference, resize, resolution, run_dir, run_study,
                           studies, study_size, unique_runs, verdict_lines)
from selib.studies import paper
from selib.studies import catalog
from selib.training import trainer
from selib.training.profiles import PROFILES
from toyfolder import make_toy_folder, tiny_config

TINY = tiny_config(val_size=0.25, test_size=0.2, augment=None, epochs=1)


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> Path:
    return make_toy_folder(tmp_path_factory.mktemp("toy") / "seats", per_class=8, size=24)


@pytest.fixture(scope="module")
def toy_test(tmp_path_factory) -> Path:
    """A separately drawn test folder: other images than ``toy``, 5 per class."""
    return make_toy_folder(tmp_path_factory.mktemp("toytest") / "seats", per_class=5, size=24, seed=7)


@pytest.fixture
def fake_train(monkeypatch):
    """An instant stand-in for trainer.train that writes a finished run folder; records calls."""
    from selib.training.run_folder import RunFolder

    made = []

    def fake(config, data_dir, out_dir, *, prepared, overwrite=False, **kw):
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        run = RunFolder(out_dir)
        run.begin(config, prepared.info, prepared.class_names, {}, overwrite=overwrite)
        run.file("model.keras").write_bytes(b"")
        pd.DataFrame({"epoch": [0, 1, 2], "epoch_seconds": [9.0, 2.0, 4.0]}).to_csv(
            run.file("history.csv"), index=False)
        acc = 0.5 + 0.01 * config.get("seed") + (0.1 if config.get("attn") else 0.0)
        run.finish({"test_accuracy": acc, "n_test": len(prepared.split.x_test), "params": 10,
                    "train_seconds": 15.0})
        made.append((Path(out_dir), config.get("seed"), id(prepared)))

    import keras

    monkeypatch.setattr(trainer, "train", fake)
    monkeypatch.setattr(keras.backend, "clear_session", lambda *a, **k: None)  # its gc costs ~1 s
    return made


# ---------------------------------------------------------------------------------------------
# The study.
# ---------------------------------------------------------------------------------------------
def test_study_configs_pair_the_seed_and_fail_early():
    study = Study("se", TINY, {"SE": {}, "no SE": {"attn": None}}, seeds=(3, 5), reference="no SE")
    assert study.labels == ["no SE", "SE"] and study.n_runs == 4
    cfg = study.config("no SE", 5)
    assert (cfg.get("seed"), cfg.get("split_seed"), cfg.get("attn")) == (5, 5, None)
    assert [(label, s) for label, s, _ in study.runs()] == [("no SE", 3), ("SE", 3), ("no SE", 5), ("SE", 5)]
    with pytest.raises(ConfigError, match="unknown setting"):
        Study("bad", TINY, {"a": {}, "b": {"ratoi": 4}}, seeds=(0,), reference="a")
    with pytest.raises(ConfigError):
        Study("bad", TINY, {"a": {}, "b": {"attn_kwargs.gate": "softmax"}}, seeds=(0,), reference="a")
    with pytest.raises(ValueError, match="reference"):
        Study("bad", TINY, {"a": {}, "b": {}}, seeds=(0,), reference="c")


def test_run_folders_are_named_by_config(tmp_path):
    a, b = TINY.replace(seed=1), TINY.replace(seed=1, attn=None)
    assert run_dir(tmp_path, a) == run_dir(tmp_path, TINY.replace(seed=1))
    assert run_dir(tmp_path, a) != run_dir(tmp_path, b) != run_dir(tmp_path, TINY.replace(seed=2, attn=None))
    assert run_dir(tmp_path, a).name.startswith("seed1-")


def test_separate_test_set(toy, toy_test):
    cfg = TINY.replace(seed=0, split_seed=0)
    p = prepare_seed(cfg, toy, toy_test)
    sp = p.split
    assert len(sp.x_train) + len(sp.x_val) == 32                 # all of the training folder
    assert len(sp.x_val) == 8 and len(sp.x_test) == 20           # val_size; every test image
    assert np.bincount(sp.y_test).tolist() == [5, 5, 5, 5]
    assert p.info["test"]["files"] == 20
    plain = prepare_seed(cfg, toy)                               # without: the trainer's own split
    assert p.info["fingerprint"] != plain.info["fingerprint"]
    other = prepare_seed(TINY.replace(seed=1, split_seed=1), toy, toy_test)
    assert not np.array_equal(other.split.train_idx, sp.train_idx)   # the split follows the seed


def test_runner_pairs_reuses_and_shares(toy, toy_test, tmp_path, fake_train):
    se = Study("se", TINY, {"no SE": {"attn": None}, "SE": {}}, seeds=(0, 1), reference="no SE")
    cache: dict = {}
    df = run_study(se, toy, tmp_path, test_dir=toy_test, cache=cache, progress=False)
    assert list(zip(df["label"], df["seed"])) == [("no SE", 0), ("SE", 0), ("no SE", 1), ("SE", 1)]
    assert set(df["status"]) == {"trained"} and (df["n_test"] == 20).all()
    # one prepared dataset per seed, shared by both arms
    assert fake_train[0][2] == fake_train[1][2] != fake_train[2][2]
    assert not any(Path(p).is_absolute() for p in df["run_dir"])  # no machine paths in the table
    assert df["epoch_seconds"].eq(3.0).all()                     # median of the epochs after the first
    assert len(pd.read_csv(tmp_path / "se" / "results.csv")) == 4

    again = run_study(se, toy, tmp_path, test_dir=toy_test, cache=cache, progress=False)
    assert len(fake_train) == 4 and set(again["status"]) == {"cached"}
    # another study whose reference is the same config reads those runs back
    gate = Study("gate", TINY, {"sigmoid": {}, "tanh": {"attn_kwargs.gate": "tanh"}}, seeds=(0, 1), reference="sigmoid")
    g = run_study(gate, toy, tmp_path, test_dir=toy_test, cache=cache, progress=False)
    assert g["status"].tolist() == ["cached", "trained", "cached", "trained"] and len(fake_train) == 6
    assert unique_runs([se, gate]) == 6
    # new test data: the finished run no longer counts and is replaced
    (toy_test / "bench" / "extra.png").write_bytes((toy_test / "bench").glob("*.png").__next__().read_bytes())
    cache.clear()
    fresh = run_study(se, toy, tmp_path, test_dir=toy_test, cache=cache, progress=False)
    assert set(fresh["status"]) == {"trained"} and (fresh["n_test"] == 21).all()
    (toy_test / "bench" / "extra.png").unlink()


def test_a_diverged_run_drops_one_pair(toy, toy_test, tmp_path, fake_train, monkeypatch):
    from selib.errors import TrainingDiverged

    fake = trainer.train

    def sometimes(config, data_dir, out_dir, **kw):
        if config.get("attn") is None and config.get("seed") == 1:
            raise TrainingDiverged("loss became NaN")
        return fake(config, data_dir, out_dir, **kw)

    monkeypatch.setattr(trainer, "train", sometimes)
    se = Study("se", TINY, {"no SE": {"attn": None}, "SE": {}}, seeds=(0, 1, 2), reference="no SE")
    df = run_study(se, toy, tmp_path, test_dir=toy_test, progress=False)
    bad = df[df["status"] == "diverged"]
    assert len(bad) == 1 and bad["accuracy"].isna().all() and bad["seed"].tolist() == [1]
    table = compare(df, se).set_index("label")
    assert table.loc["SE", "n_pairs"] == 2


@pytest.mark.usefixtures("eager_steps")     # about which images are tested, not how a step runs
def test_real_training_uses_the_separate_test_set(toy, toy_test, tmp_path):
    study = Study("se", TINY, {"no SE": {"attn": None}, "SE": {}}, seeds=(0,), reference="no SE")
    df = run_study(study, toy, tmp_path, test_dir=toy_test, progress=False)
    assert (df["n_test"] == 20).all() and set(df["status"]) == {"trained"}
    # accuracy is a count of 20 test images, so a multiple of 5 points
    assert np.allclose(df["accuracy"] / 5, np.round(df["accuracy"] / 5))
    assert df.loc[1, "params"] > df.loc[0, "params"]             # SE adds weights
    m = json.loads((tmp_path / df.loc[0, "run_dir"] / "manifest.json").read_text())
    assert m["data"]["test"]["files"] == 20
    again = run_study(study, toy, tmp_path, test_dir=toy_test, progress=False)
    assert set(again["status"]) == {"cached"}
    assert read_run(tmp_path / df.loc[1, "run_dir"])["accuracy"] == df.loc[1, "accuracy"]


# ---------------------------------------------------------------------------------------------
# Verdicts and charts.
# ---------------------------------------------------------------------------------------------
def _results(study: Study, effects: dict[str, float], noise: float = 0.1, n_test: int = 2000):
    rng = np.random.default_rng(0)
    level = 70 + 10 * rng.standard_normal(len(study.seeds))      # seeds differ a lot
    rows = [{"label": lab, "seed": s, "accuracy": level[k] + effects.get(lab, 0.0) + noise * rng.standard_normal(),
             "n_test": n_test} for k, s in enumerate(study.seeds) for lab in study.labels]
    return pd.DataFrame(rows)


GATE = Study("gate", TINY,
             {"sigmoid": {}, "tanh": {"attn_kwargs.gate": "tanh"}, "relu": {"attn_kwargs.gate": "relu"}},
             seeds=tuple(range(8)), reference="sigmoid")


def test_compare_reads_paired_intervals():
    table = compare(_results(GATE, {"relu": -2.0, "tanh": 0.0}), GATE).set_index("label")
    assert list(table.index) == ["sigmoid", "tanh", "relu"]
    assert table.loc["relu", "verdict"].startswith("relu (vs sigmoid) hurts by 2.0 ±")
    assert table.loc["tanh", "verdict"].startswith("tanh (vs sigmoid): no effect larger than ±0.")
    assert table.loc["sigmoid", "resolution"] == pytest.approx(resolution(table.loc["sigmoid", "mean"], 2000))
    lines = verdict_lines(table.reset_index())
    assert lines.count("\n") == 1 and "reference" not in lines


def test_compare_says_when_holm_undoes_a_nominal_effect():
    # relu is nominally better (p = 0.037, its 95 % interval excludes 0), but Holm for the two
    # comparisons doubles that p to 0.074: the verdict must say so instead of declaring a win
    level = 70 + 5 * np.arange(8)
    relu = [0.3, 0.1, 0.5, -0.1, 0.4, 0.2, 0.6, -0.1]
    tanh = [0.2, -0.2, 0.1, -0.1, 0.3, -0.3, 0.05, -0.05]
    rows = [{"label": lab, "seed": s, "accuracy": level[s] + d[s], "n_test": 2000}
            for s in range(8) for lab, d in (("sigmoid", [0] * 8), ("relu", relu), ("tanh", tanh))]
    table = compare(pd.DataFrame(rows), GATE).set_index("label")
    r = table.loc["relu"]
    assert r["p"] == pytest.approx(0.037, abs=0.002) and r["diff_lo"] > 0
    assert r["p_holm"] == pytest.approx(2 * r["p"]) and not r["significant"]
    assert r["verdict"].startswith("relu (vs sigmoid) helps by 0.2 ±")
    assert r["verdict"].endswith("not significant after Holm's correction for 2 comparisons")
    assert "Holm" not in table.loc["tanh", "verdict"]             # an interval around 0 needs no caveat


def test_resolution_of_a_2000_image_test_set():
    assert resolution(90, 2000) == pytest.approx(0.671, abs=1e-3)
    assert resolution(50, 240) == pytest.approx(3.23, abs=1e-2)   # the old 240-image test set


def test_charts_do_not_exaggerate():
    res = _results(GATE, {"relu": -2.0})
    table = compare(res, GATE)
    fig = plot_differences(res, table, GATE)
    ax = fig.axes[0]
    lo, hi = ax.get_xlim()
    assert lo == pytest.approx(-hi)                              # zero in the middle
    assert hi >= table["diff_hi"].abs().max() and "percentage points" in ax.get_xlabel()
    assert ax.get_title()
    fig2 = plot_accuracy(res, GATE)
    assert fig2.axes[0].get_ylim() == (0, 100) and fig2.axes[0].get_ylabel() == "test accuracy (%)"
    import matplotlib.pyplot as plt

    plt.close("all")


# ---------------------------------------------------------------------------------------------
# The suite, for every profile.
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_every_profile_has_a_suite(profile):
    suite = studies(profile)
    assert suite and all(len(s.seeds) >= 2 and s.reference in s.variants for s in suite)
    size = study_size(profile)
    assert all(s.base == size.base for s in suite)


def test_every_profile_has_a_study_size():
    assert set(STUDY_SIZES) == set(PROFILES)


def test_ci_is_tiny_and_cpu_has_the_power():
    ci, cpu = studies("ci"), studies("cpu")
    assert [s.name for s in ci] == ["se"] and unique_runs(ci) == 4
    assert ci[0].config("SE", 0).get("epochs") == 1
    assert [s.name for s in cpu] == ["se"] and all(len(s.seeds) >= 5 for s in cpu)   # the default
    assert study_size("cpu").test_images >= 2000
    every = _all_cpu_studies()
    for s in every:                                # never a degenerate 1- or 2-unit bottleneck
        assert s.base.get("attn_kwargs.min_units") >= 8
    # every study but "se" has the same reference config: it is trained once for all of them
    refs = {json.dumps(s.config(s.reference, 0).to_dict(), sort_keys=True) for s in every if s.name != "se"}
    assert len(refs) == 1
    assert unique_runs(every) < sum(s.n_runs for s in every)


def _all_cpu_studies():
    """Every study of the cpu size, the ones that run only on request included."""
    from selib.studies.catalog import suite

    return suite(resize(study_size("cpu"), only=None))


def _se_wiring(model):
    """SE layer name -> (layers feeding it, layers it feeds, channels it gates, W1's shape)."""
    from selib.layers.squeeze_excite import se_layers
    from wiring import wiring

    ses = se_layers(model)
    edges = wiring(model, [layer.name for layer in ses])
    return {layer.name: (*edges[layer.name], layer.channels, tuple(layer.w1.shape)) for layer in ses}


def test_placement_study_puts_se_where_it_says():
    import keras

    study = next(s for s in _all_cpu_studies() if s.name == "placement")
    assert study.labels == ["standard", "pre", "post", "identity"]
    wiring = {}
    for label in study.labels:
        cfg = study.config(label, 0).replace(image_size=32, depth=(1, 1), filters=(16, 32), initial_filters=16)
        assert cfg.get("se_placement") == label
        keras.backend.clear_session()
        wiring[label] = _se_wiring(trainer.build_model(cfg, 4))
    for label, w in wiring.items():
        assert sorted(w) == ["conv2_block1_se", "conv3_block1_se"], label
    for block, c_in, c_out in (("conv2_block1", 16, 16), ("conv3_block1", 16, 32)):
        name = f"{block}_se"
        src, dst, ch, w1 = wiring["standard"][name]          # residual branch, before the sum
        assert src == [f"{block}_2_conv"] and dst == [f"{block}_out"] and ch == c_out
        src, dst, ch, w1 = wiring["pre"][name]               # on the branch input
        assert src == [f"{block}_preact_relu"] and dst == [f"{block}_1_conv"] and ch == c_in
        src, dst, ch, w1 = wiring["post"][name]              # after the sum
        assert src == [f"{block}_out"] and ch == c_out and f"{block}_out" not in dst
        src, dst, ch, w1 = wiring["identity"][name]          # on the shortcut
        assert dst == [f"{block}_out"] and ch == c_out and not src[0].startswith(f"{block}_2")
        assert w1 == (ch, max(8, ch // 16))                  # r = 16, at least 8 units
    # where the shape changes, SE-Identity gates the projected shortcut; else the block input
    assert wiring["identity"]["conv3_block1_se"][0] == ["conv3_block1_0_conv"]
    assert wiring["identity"]["conv2_block1_se"][0] == ["pool1_pool"]


# ---------------------------------------------------------------------------------------------
# The paper's numbers.
# ---------------------------------------------------------------------------------------------
def test_both_versions_of_the_paper_are_labelled():
    assert reference("se", "SE", "cvpr2018").top1_err == 23.29
    assert reference("se", "no SE", "cvpr2018").top1_err == 24.80
    assert reference("ratio", "r=16", "tpami").top1_err == 22.28
    assert reference("ratio", "no SE", "tpami").top1_err == 23.30
    assert cite("ratio", "r=16") == "22.28 % (TPAMI journal version, Table 10)"
    assert "CVPR 2018" in cite("se", "SE", "cvpr2018")
    t = paper_table("gate")
    assert set(t["version"]) == {"tpami"} and t.set_index("label").loc["relu", "top1_err"] == 23.47
    assert paper.TABLE10_PARAMS_M == {2: 45.7, 4: 35.7, 8: 30.7, 16: 28.1, 32: 26.9}
    with pytest.raises(KeyError, match="cvpr2018"):
        reference("gate", "relu", "cvpr2018")
    # every study label the suite maps to the paper exists there (in the journal version)
    for s in studies("cpu"):
        for ours, theirs in s.paper_labels.items():
            if s.paper != "ratio" or theirs in set(paper_table("ratio")["label"]):
                reference(s.paper, theirs, "tpami")


def test_stage_and_no_squeeze_studies(monkeypatch):
    """The journal's Tables 13 and 16 as studies: each variant builds what its label says."""
    from selib.layers.squeeze_excite import se_layers
    from selib.studies.catalog import STUDIES_ENV

    monkeypatch.setenv(STUDIES_ENV, "stage,no_squeeze")
    byname = {s.name: s for s in studies("cpu")}
    assert sorted(byname) == ["no_squeeze", "stage"]
    stage, nosq = byname["stage"], byname["no_squeeze"]
    assert stage.labels == ["all", "stage 2", "stage 3", "stage 4", "stage 5"]
    assert nosq.labels == ["SE", "no squeeze", "no SE"]
    small = dict(image_size=32, initial_filters=16)
    for label, want in (("stage 3", ["conv3_block1_se"]), ("all", ["conv2_block1_se", "conv3_block1_se",
                                                                    "conv4_block1_se", "conv5_block1_se"])):
        model = trainer.build_model(stage.config(label, 0).replace(**small), 4)
        assert [layer.name for layer in se_layers(model)] == want
    model = trainer.build_model(nosq.config("no squeeze", 0).replace(**small), 4)
    assert {layer.squeeze for layer in se_layers(model)} == {"none"}
    # the references are the shared configs: SE (every study's) and no SE (the SE study's)
    monkeypatch.setenv(STUDIES_ENV, "all")
    every = {s.name: s for s in studies("cpu")}
    assert set(every) == set(catalog.ALL_STUDIES)
    assert every["no_squeeze"].config("no SE", 3) == every["se"].config("no SE", 3)
    assert every["no_squeeze"].config("SE", 3) == every["gate"].config("sigmoid", 3)
    monkeypatch.setenv(STUDIES_ENV, "se,typo")
    with pytest.raises(ValueError, match="unknown studies"):
        studies("cpu")


# ---------------------------------------------------------------------------------------------
# The recorded study: one JSON that the notebook and the README read, and that resumes a study.
# ---------------------------------------------------------------------------------------------
SE_STUDY = Study("se", TINY, {"no SE": {"attn": None}, "SE": {}}, seeds=(0, 1), reference="no SE")
DATA = {"train": {"renderer_version": "r1", "per_class": 8}, "test": {"renderer_version": "r1", "per_class": 5}}


def test_the_record_holds_every_seed_and_arm_and_resumes(toy, toy_test, tmp_path, fake_train):
    path = tmp_path / "results" / "06_ablation.json"
    rec = StudyRecord(path, TINY, DATA, command="SELIB_PROFILE=ci make ablations")
    df = run_study(SE_STUDY, toy, tmp_path / "a", test_dir=toy_test, progress=False, record=rec)
    assert len(fake_train) == 4 and set(df["status"]) == {"trained"}
    doc = json.loads(path.read_text())
    assert len(doc["trainings"]) == 4 and len(doc["studies"]["se"]["rows"]) == 4
    one = next(iter(doc["trainings"].values()))
    assert {"accuracy", "params", "epoch_seconds", "train_seconds", "changes"} <= set(one)
    prov = doc["provenance"][one["provenance"]]
    assert prov["command"] == "SELIB_PROFILE=ci make ablations" and prov["cpu"] and prov["date"]
    assert isinstance(prov["cpu_flags"], list)
    # the committed file alone, without any run folder: nothing is retrained, the numbers are the same
    again = run_study(SE_STUDY, toy, tmp_path / "elsewhere", test_dir=toy_test, progress=False,
                      record=StudyRecord(path, TINY, DATA))
    assert len(fake_train) == 4 and set(again["status"]) == {"recorded"}
    assert again["accuracy"].tolist() == df["accuracy"].tolist()
    read = StudyRecord.read(path)
    back = read.results("se")
    assert back[["label", "seed"]].values.tolist() == df[["label", "seed"]].values.tolist()
    assert np.allclose(back["accuracy"], df["accuracy"]) and (back["params"] == 10).all()
    # each training's full config is rebuilt from the base and its changes
    key = doc["studies"]["se"]["rows"][0]["training"]
    assert read.config(key) == SE_STUDY.config("no SE", 0)
    prov_table = read.provenance_table()
    assert prov_table["trainings"].tolist() == [4] and "make ablations" in prov_table["command"][0]
    # a record of another base or other data is not reused: everything trains again
    StudyRecord(path, TINY.replace(epochs=2), DATA).save()
    assert StudyRecord.read(path).doc["trainings"] == {}
    rec = StudyRecord(path, TINY, {**DATA, "test": {"renderer_version": "r2"}})
    assert rec.lookup(key) is None and not rec.reused


def test_a_record_is_resumed_half_way(toy, toy_test, tmp_path, fake_train, monkeypatch):
    """An interrupted study keeps its finished pairs; the next session trains only the rest."""
    path = tmp_path / "rec.json"
    fake = trainer.train
    calls = []

    def stop_at_seed_1(config, data_dir, out_dir, **kw):
        if config.get("seed") == 1:
            raise KeyboardInterrupt
        calls.append(config.get("seed"))
        return fake(config, data_dir, out_dir, **kw)

    monkeypatch.setattr(trainer, "train", stop_at_seed_1)
    with pytest.raises(KeyboardInterrupt):
        run_study(SE_STUDY, toy, tmp_path / "a", test_dir=toy_test, progress=False,
                  record=StudyRecord(path, TINY, DATA))
    assert len(StudyRecord.read(path).doc["trainings"]) == 2
    monkeypatch.setattr(trainer, "train", fake)
    df = run_study(SE_STUDY, toy, tmp_path / "b", test_dir=toy_test, progress=False,
                   record=StudyRecord(path, TINY, DATA))
    assert df["status"].tolist() == ["recorded", "recorded", "trained", "trained"]


def test_only_portable_data_are_recorded(toy, tmp_path):
    from selib.synth import generate

    assert data_identity(toy) is None                            # a user's folder: no identity
    assert data_identity(None) == {"kind": "none"}               # the split's own test part
    made = generate(tmp_path / "synth", per_class=1, progress=False, workers=1)
    ident = data_identity(made)
    assert ident["per_class"] == 1 and ident["renderer_version"]
    assert not StudyRecord.portable({"train": None, "test": ident}) and StudyRecord.portable({"train": ident, "test": ident})


def test_the_cost_is_computed_from_the_record(tmp_path):
    size = resize(study_size("cpu", default=True), seeds=2, only=("se", "squeeze"))
    assert len(size.seeds) == 2
    rec = StudyRecord(tmp_path / "r.json", size.base, DATA)
    from selib.studies.catalog import suite
    se, squeeze = [s for s in suite(size) if s.name in ("se", "squeeze")]
    for s in (se, squeeze):
        for label, seed, cfg in s.runs():
            from selib.studies import config_key
            key = config_key(cfg)
            if rec.lookup(key) is None:
                rec.add_training(key, cfg, {"accuracy": 80.0, "train_seconds": 60.0 * (1 + seed)})
            rec.add_row(s.name, s.reference, label, seed, key)
    table = plan(size, "cpu", rec).set_index("study")
    # SE study: 4 trainings (2 arms × 2 seeds); squeeze adds only "max" (avg is the shared SE reference)
    assert table.loc["se", "new trainings"] == 4 and table.loc["squeeze", "new trainings"] == 2
    assert table.loc["se", "recorded min"] == pytest.approx((60 + 120) * 2 / 60)
    assert table.loc["squeeze", "recorded min"] == pytest.approx(3.0) and table.loc["squeeze", "estimated min"] == 0
    # unrecorded studies are priced at the recorded median (90 s) per training
    gate = table.loc["gate"]
    assert gate["recorded"] == 0 and gate["estimated min"] == pytest.approx(gate["new trainings"] * 1.5)
    assert set(table.index[:len(size.only)]) == set(size.only)      # the default studies come first
    assert not table.loc["stage", "by default"] and table.loc["stage", "command"] == \
        "SELIB_STUDIES=stage SELIB_PROFILE=cpu make ablations"
    total = cost_summary(table.reset_index(), "cpu")
    assert total["default"]["trainings"] == table.loc[list(size.only), "new trainings"].sum()
    assert total["command all"] == "SELIB_STUDIES=all SELIB_PROFILE=cpu make ablations"
    assert command("cpu", ("ratio", "stage")) == "SELIB_STUDIES=ratio,stage SELIB_PROFILE=cpu make ablations"


def test_seed_tradeoff_is_the_paired_interval_of_each_prefix_of_seeds():
    """Row n is the first n seeds, paired by seed, with the minutes both arms cost so far."""
    from selib.analysis.stats import paired_difference
    from selib.studies import seed_tradeoff
    ref = [80.0, 70.0, 90.0, 75.0, 85.0]
    diff = [1.0, 2.0, 0.0, 1.5, 0.5]
    rows = [{"label": "no SE", "seed": s, "accuracy": ref[s], "train_seconds": 60.0} for s in range(5)]
    rows += [{"label": "SE", "seed": s, "accuracy": ref[s] + diff[s], "train_seconds": 120.0} for s in range(5)]
    t = seed_tradeoff(pd.DataFrame(rows[::-1]), "SE", "no SE")      # row order must not matter
    assert list(t["seeds"]) == [2, 3, 4, 5]
    assert list(t["minutes"]) == pytest.approx([6.0, 9.0, 12.0, 15.0])     # 3 min per pair, cumulative
    for _, row in t.iterrows():
        n = int(row["seeds"])
        d = paired_difference([r + x for r, x in zip(ref[:n], diff[:n])], ref[:n])
        assert row["halfwidth"] == pytest.approx(d.halfwidth) and row["diff"] == pytest.approx(np.mean(diff[:n]))
        assert row["reference mean"] == pytest.approx(np.mean(ref[:n]))
    # unpaired, the seed spread of ±10 points would make the last interval far wider than ±1
    assert t["halfwidth"].iloc[-1] < 1.0
    with pytest.raises(ValueError, match="no 'relu'"):
        seed_tradeoff(pd.DataFrame(rows), "relu", "no SE")


def test_plot_tradeoff_draws_width_and_accuracy_against_minutes():
    import matplotlib
    matplotlib.use("Agg")
    from selib.studies import plot_tradeoff
    t = pd.DataFrame({"seeds": [2, 3], "minutes": [10.0, 15.0], "reference mean": [80.0, 81.0],
                      "variant mean": [81.0, 82.0], "diff": [1.0, 1.0], "diff_lo": [-2.0, 0.0],
                      "diff_hi": [4.0, 2.0], "halfwidth": [3.0, 1.0]})
    fig = plot_tradeoff(t, target=2.0, budget_min=90)
    left, right = fig.axes
    assert list(left.lines[0].get_ydata()) == [3.0, 1.0] and left.get_ylim()[0] == 0
    assert right.get_ylim() == (0, 100) and left.get_xlim()[0] == 0 and left.get_xlim()[1] >= 90
    assert all(ax.get_xlabel() and ax.get_ylabel() and ax.get_title() for ax in (left, right))


def test_every_verdict_is_also_read_against_no_se():
    """A variant that 'helps' a reference trailing no SE may only restore the plain network."""
    level = 60 + 4 * np.arange(8)
    se_ref = level - 6 + 0.2 * np.sin(np.arange(8))              # the SE reference trails no SE by ~6
    rows = [{"label": "sigmoid", "seed": s, "accuracy": se_ref[s], "n_test": 2000} for s in range(8)]
    rows += [{"label": "relu", "seed": s, "accuracy": level[s] + 0.1 * (-1) ** s, "n_test": 2000} for s in range(8)]
    rows += [{"label": "tanh", "seed": s, "accuracy": level[s] + 3 + 0.1 * (-1) ** s, "n_test": 2000} for s in range(8)]
    no_se = pd.DataFrame({"seed": range(8), "accuracy": level})
    table = compare(pd.DataFrame(rows), GATE, no_se=no_se).set_index("label")
    assert table.loc["relu", "verdict"].startswith("relu (vs sigmoid) helps by 6.")
    assert table.loc["relu", "vs_no_se"] == pytest.approx(0.0, abs=0.05)
    assert table.loc["relu", "verdict_no_se"].startswith("relu (vs no SE): no effect larger than")
    assert table.loc["tanh", "verdict_no_se"].startswith("tanh (vs no SE) helps by 3.0")
    assert table.loc["sigmoid", "verdict_no_se"].startswith("sigmoid (vs no SE) hurts by 6.")
    lines = verdict_lines(table.reset_index())
    assert "- the reference, sigmoid (vs no SE) hurts" in lines and "against no SE: relu (vs no SE)" in lines


def test_a_session_reads_its_record_without_rendering(tmp_path, monkeypatch):
    """The cpu record lives with the notebooks; ci's never does; a fully recorded study needs no data."""
    from selib.studies import open_session, record_path
    from selib.studies import session as session_mod

    monkeypatch.setenv("SELIB_ROOT", str(tmp_path))
    assert record_path("cpu") == tmp_path / "notebooks" / "results" / "06_ablation.json"
    assert record_path("quick") == record_path("cpu")                 # the same size, SE study only
    assert record_path("ci").is_relative_to(tmp_path / "runs")        # never into committed results
    monkeypatch.setattr(session_mod, "ensure_test_set", lambda *a, **k: pytest.fail("rendered"))
    monkeypatch.setattr(session_mod, "ensure_train_set", lambda *a, **k: pytest.fail("rendered"))
    s = open_session("ci")
    se = s.studies["se"]
    for label, seed, cfg in se.runs():                                # a record that holds them all
        from selib.studies import config_key
        s.record.add_training(config_key(cfg), cfg, {"accuracy": 50.0 + seed + (label == "SE"), "n_test": 48})
    s.record.save()
    again = open_session("ci")
    assert again.missing("se") == 0
    table = again.run("se").set_index("label")
    assert set(again.results["se"]["status"]) == {"recorded"}
    assert table.loc["SE", "diff"] == pytest.approx(1.0)
    assert "vs_no_se" not in table                                    # the SE study is that comparison
