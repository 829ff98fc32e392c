"""The `selib` command end to end: train, inspect, evaluate on another folder, predict, settings.

Every bad value and the error contract in detail: tests/test_run_folder.py (issue 15 #9, #10).
"""
from __future__ import annotations

import json

import pytest

from toyfolder import CLASSES, TINY_SET, make_toy_folder, one_line_error, selib_cli


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory, toy_data):
    """One real `selib train` subprocess (the console path, printing its summary)."""
    out = tmp_path_factory.mktemp("cli") / "run"
    res = selib_cli("train", "--data", toy_data, "--profile", "ci", "--out", out, "--verbose", "0", *TINY_SET)
    assert res.returncode == 0, res.stderr[-2000:]
    return out, res


@pytest.mark.slow
def test_train_prints_its_result_and_writes_the_run(cli_run, trained_run):
    out, res = cli_run
    assert f"run saved in {out}/" in res.stdout
    m = json.loads((out / "metrics.json").read_text())
    assert f"test accuracy {100 * m['test_accuracy']:.2f} %" in res.stdout
    assert f"({m['epochs_run']} epochs" in res.stdout and m["epochs_run"] == 2
    assert f"worst confusions: {m['worst_pairs']}" in res.stdout
    # `--profile ci --set ...` is exactly the config the in-process fixture trained
    assert json.loads((out / "config.json").read_text()) == json.loads((trained_run / "config.json").read_text())
    # the same command again finds the finished run and trains nothing
    before = (out / "model.keras").stat().st_mtime_ns
    from selib.cli import main
    assert main(["train", "--data", str(res.args[res.args.index("--data") + 1]), "--profile", "ci", "--out",
                 str(out), "--verbose", "0", *TINY_SET]) == 0
    assert (out / "model.keras").stat().st_mtime_ns == before


def test_missing_folder_is_one_line(tmp_path, capsys):
    from selib.cli import main

    assert main(["inspect", str(tmp_path / "nope")]) == 2
    assert str(tmp_path / "nope") in one_line_error(capsys.readouterr().err)


def test_inspect_reports_counts(toy_data, capsys):
    from selib.cli import main

    assert main(["inspect", str(toy_data), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["class_names"] == list(CLASSES) and info["loaded"] == 40 and info["seen"] == 40
    assert info["skipped"] == []


def test_evaluate_on_another_folder_and_mismatch(trained_run, tmp_path, capsys):
    from selib.cli import main

    # another folder with some of the trained class names
    other = make_toy_folder(tmp_path / "other", classes=("bench", "chair"), per_class=6, size=24, seed=3)
    assert main(["evaluate", "--model", str(trained_run / "model.keras"), "--data", str(other),
                 "--out", str(tmp_path / "ev"), "--no-figures"]) == 0
    assert "Test accuracy" in capsys.readouterr().out
    m = json.loads((tmp_path / "ev" / "metrics.json").read_text())
    assert m["n"] == 12 and 0 <= m["accuracy"] <= 1 and len(m["confusion"]) == 4
    assert m["class_names"] == list(CLASSES) and sum(map(sum, m["confusion"])) == 12
    assert (tmp_path / "ev" / "misclassified.csv").exists()
    # other class names: one clear line, status 2
    wrong = make_toy_folder(tmp_path / "wrong", classes=("cat", "dog"), per_class=3, size=24)
    assert main(["evaluate", "--model", str(trained_run), "--data", str(wrong)]) == 2
    assert "class names differ" in one_line_error(capsys.readouterr().err)


def test_predict_keeps_going_past_a_bad_image(trained_run, toy_data, tmp_path, capsys):
    from selib.cli import main

    good = sorted((toy_data / "chair").iterdir())[0]
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"this is not a jpeg")
    capsys.readouterr()
    assert main(["predict", "--model", str(trained_run / "model.keras"), str(good), str(bad), "--json",
                 "--top-k", "2"]) == 1                       # some images failed: status 1
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert len(out) == 2 and len(out[0]["top"]) == 2 and out[1]["image"] == str(bad) and out[1]["error"]
    probs = [t["probability"] for t in out[0]["top"]]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1.0001
    assert {t["class"] for t in out[0]["top"]} <= set(CLASSES)
    assert captured.err.startswith(f"selib: error: {bad}: ")


def test_train_with_bad_setting_is_one_line(toy_data, tmp_path, capsys):
    from selib.cli import main

    assert main(["train", "--data", str(toy_data), "--profile", "ci", "--set", "epochz=3",
                 "--out", str(tmp_path / "x")]) == 2
    assert "unknown setting 'epochz'" in one_line_error(capsys.readouterr().err)
    assert not (tmp_path / "x").exists()


def test_settings_lists_every_field_with_its_type_range_and_default(capsys):
    from selib.cli import main
    from selib.training.config import TrainConfig

    assert main(["settings"]) == 0
    header, *lines = capsys.readouterr().out.splitlines()
    assert header.split()[:3] == ["group", "setting", "default"]
    assert [line.split()[1] for line in lines] == list(TrainConfig.fields())
    row = {line.split()[1]: line for line in lines}
    assert row["optimizer"].split()[:3] == ["optim", "optimizer", "adam"] and "one of: adam, adamw, sgd" in row["optimizer"]
    assert row["image_size"].split()[2] == "473" and row["image_size"].endswith("an integer ≥ 8 and ≤ 4096")
    assert "[2, 1, 1, 2]" in row["depth"]
    assert row["max_per_class"].split()[2] == "null" and row["max_per_class"].endswith("≥ 2 or null")
    # a profile's values instead of the defaults
    assert main(["settings", "--profile", "cpu"]) == 0
    header, *lines = capsys.readouterr().out.splitlines()
    assert "cpu profile" in header
    assert {line.split()[1]: line.split()[2] for line in lines}["image_size"] == "144"


def test_the_former_profile_name_is_one_line(toy_data, tmp_path, capsys):
    from selib.cli import main

    assert main(["train", "--data", str(toy_data), "--profile", "seed", "--out", str(tmp_path / "x")]) == 2
    assert "profile 'seed' was renamed to 'report'" in one_line_error(capsys.readouterr().err)
    assert not (tmp_path / "x").exists()
