"""The run folder as a transaction (issue 15): crash injection at every step, damaged backups,
non-finite checkpoints, re-runs of another config or data, the lock, and the one-line error
contract of every command for bad values.

Crashes are injected deterministically (``SELIB_CRASH_AT=<point>[#n]``): in-process with
``SELIB_CRASH_MODE=raise`` (a :class:`SimulatedCrash` out of ``train``) for speed, and as a real
``os._exit(137)`` (what ``kill -9`` leaves) in subprocesses.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest

from selib.errors import ModelFileError, RunFolderError, RunLockedError, TrainingDiverged
from selib.training.run_folder import CRASH_ENV, CRASH_MODE_ENV, RunFolder, SimulatedCrash, reset_crash_points
from toyfolder import (CLASSES, ENV, REPO, TINY_SET, make_toy_folder, one_line_error, selib_cli, tiny_config,
                       truncate_half)

pytestmark = pytest.mark.usefixtures("eager_steps")   # steps run eagerly: see conftest
CFG = tiny_config()                 # 2 epochs
EPOCHS = CFG.optim.epochs


class EpochLog(keras.callbacks.Callback):
    """Which epochs this process actually trained (a resumed run skips the committed ones)."""

    def __init__(self):
        super().__init__()
        self.epochs: list[int] = []

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(epoch)


@pytest.fixture(scope="module")
def prepared(toy_data):
    from selib.training.trainer import prepare_data

    return prepare_data(CFG, toy_data)


def _train(out, config=CFG, data=None, prepared=None, **kw):
    from selib.training.trainer import train

    log = EpochLog()
    res = train(config, data if data is not None else prepared.data.paths[0].rsplit("/", 2)[0], out,
                verbose=0, prepared=prepared, callbacks=[log], evaluate_test=False, **kw)
    return res, log.epochs


def _crashing_train(crash, point, out, **kw):
    crash(point)
    with pytest.raises(SimulatedCrash, match=re.escape(point.split("#")[0])):
        _train(out, **kw)
    crash(None)


def assert_finished_run(out: Path, config=CFG, epochs: int | None = None):
    """A complete run folder of exactly ``epochs`` epochs and nothing left of a crash."""
    epochs = config.optim.epochs if epochs is None else epochs
    h = pd.read_csv(out / "history.csv")
    assert list(h["epoch"]) == list(range(epochs)), h
    m = json.loads((out / "metrics.json").read_text())
    assert m["epochs_run"] == epochs
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["state"] == "finished" and manifest["config"] == config.to_dict()
    assert json.loads((out / "config.json").read_text()) == config.to_dict()
    assert json.loads((out / "preprocessing.json").read_text())["class_names"] == list(CLASSES)
    assert not (out / "backup").exists()
    leftovers = [p.name for p in out.rglob(".tmp-*")]
    assert not leftovers, leftovers
    model = keras.saving.load_model(out / "model.keras", safe_mode=True)
    assert all(np.isfinite(w).all() for w in model.get_weights())


# ---------------------------------------------------------------------------------------------
# 1. Crash at every step of a 2-epoch run; the same command again finishes it.
#    (point, epochs the re-run must still train: 2 = clean start, 0 = only finishing)
# ---------------------------------------------------------------------------------------------
CRASH_TABLE = [
    ("write:manifest.json", 2),            # the first write of a fresh run
    ("fresh:manifest", 2),                 # manifest written, old files not yet removed
    ("write:config.json", 2),
    ("write:preprocessing.json", 2),
    ("write:epoch00001.weights.h5", 2),    # issue 15 #1: inside the backup's weights write
    ("write:best-epoch00001.keras", 2),    # inside the candidate best model's write
    ("commit", 2),                         # epoch 1 written, not committed
    ("write:state.json", 2),               # inside the commit point's own write
    ("committed", 1),                      # committed, not published
    ("publish:model", 1),                  # model.keras published, history.csv not yet
    ("write:history.csv", 1),
    ("write:epoch00002.weights.h5", 1),
    ("commit#2", 1),
    ("write:state.json#2", 1),
    ("committed#2", 0),                    # the last epoch committed, not published
    ("write:history.csv#2", 0),
    ("write:metrics.json", 0),
    ("write:manifest.json#2", 0),          # the "finished" manifest
    ("finished", 0),                       # finished, backup not yet removed
]


#: one crash point of each kind runs by default (first write, fresh start, inside a weights write,
#: before and after the commit, between publishing files, the last epoch, the finish); the others
#: are the same atomic write or commit for another file name, and run in `make test-full`
DEFAULT_CRASHES = {"write:manifest.json", "fresh:manifest", "write:epoch00001.weights.h5", "commit", "committed",
                   "publish:model", "commit#2", "write:metrics.json", "finished"}
CRASH_CASES = [pytest.param(p, n, id=p, marks=() if p in DEFAULT_CRASHES else pytest.mark.full)
               for p, n in CRASH_TABLE]


@pytest.mark.parametrize("point,still_to_train", CRASH_CASES)
def test_crash_then_rerun_finishes_exactly(point, still_to_train, crash, prepared, tmp_path):
    out = tmp_path / "run"
    _crashing_train(crash, point, out, prepared=prepared)
    if still_to_train < EPOCHS:      # something was committed: the folder is not "finished" yet
        with pytest.raises(ModelFileError) if point != "finished" else _nullcontext():
            from selib.training.run_io import load_run
            load_run(out)
    _, trained = _train(out, prepared=prepared)
    assert trained == list(range(EPOCHS - still_to_train, EPOCHS)), (point, trained)
    assert_finished_run(out)


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.slow
def test_real_kill_inside_writes_then_rerun(toy_data, tmp_path):
    """``os._exit(137)`` (no ``finally``, no cleanup: what ``kill -9`` leaves) inside the backup's
    weights write and inside the last history write; both re-runs finish exactly."""
    cases = {"write:epoch00001.weights.h5": 2, "write:history.csv#2": 0}
    procs = {}
    for i, point in enumerate(cases):
        out = tmp_path / f"run{i}"
        procs[point] = (out, subprocess.Popen(
            [sys.executable, "-m", "selib", "train", "--data", str(toy_data), "--profile", "ci", "--out", str(out),
             "--verbose", "0", *TINY_SET], env={**ENV, CRASH_ENV: point}, cwd=REPO,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
    for point, (out, proc) in procs.items():
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 137, (point, err[-1500:])
        assert list(out.rglob(".tmp-*")), "the kill should leave a half-written temporary file"
    for point, (out, _) in procs.items():
        _, trained = _train(out, data=toy_data)
        assert trained == list(range(EPOCHS - cases[point], EPOCHS)), (point, trained)
        assert_finished_run(out)


# ---------------------------------------------------------------------------------------------
# 2. A damaged backup: one warning, a clean restart, never a crash on every later attempt.
# ---------------------------------------------------------------------------------------------
#: what each damage is refused for; the ``full`` cases take the same branch as a default one
#: (a size that disagrees with the record; a state that is not JSON) and run in ``make test-full``
DAMAGE = [
    pytest.param(lambda b: truncate_half(b / "epoch00001.weights.h5"), r"epoch00001\.weights\.h5 has \d+ bytes, \d+ were written",
                 id="truncated weights"),
    pytest.param(lambda b: (b / "epoch00001.weights.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"x" * 100),
                 r"epoch00001\.weights\.h5 has 108 bytes", id="garbage weights", marks=pytest.mark.full),
    pytest.param(lambda b: (b / "epoch00001.weights.h5").unlink(), r"epoch00001\.weights\.h5 is missing",
                 id="weights missing"),
    pytest.param(lambda b: (b / "state.json").write_text("{not json"), r"its state cannot be read \(Expecting",
                 id="garbage state"),
    pytest.param(lambda b: truncate_half(b / "state.json"), r"its state cannot be read", id="truncated state",
                 marks=pytest.mark.full),
    pytest.param(lambda b: (b / "state.json").write_text('{"epoch": 1, "colour": "red"}'),
                 r"its state cannot be read \(.*colour", id="state of another shape"),
]


@pytest.mark.parametrize("damage, why", DAMAGE)
def test_damaged_backup_warns_and_restarts_cleanly(damage, why, crash, prepared, tmp_path):
    out = tmp_path / "run"
    _crashing_train(crash, "committed", out, prepared=prepared)     # epoch 1 committed
    damage(out / "backup")
    with pytest.warns(RuntimeWarning, match=rf"the backup in .* is damaged: .*{why}.*; restarting this run from epoch 1"):
        _, trained = _train(out, prepared=prepared)
    assert trained == list(range(EPOCHS))
    assert_finished_run(out)


# ---------------------------------------------------------------------------------------------
# 3. Non-finite checkpoints are never kept; the message names a good one or says there is none.
# ---------------------------------------------------------------------------------------------
class PoisonWeights(keras.callbacks.Callback):
    def __init__(self, at_epoch):
        super().__init__()
        self.at = at_epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at:
            self.model.set_weights([np.full(w.shape, np.nan, w.dtype) if w.dtype.kind == "f" else w
                                    for w in self.model.get_weights()])


class PoisonValLoss(keras.callbacks.Callback):
    """Issue 15 #2 as it was seen: val_loss NaN but a *better* val_accuracy in epoch 2."""

    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1:
            logs["val_loss"], logs["val_accuracy"] = float("nan"), 1.0


def test_nan_weights_keep_the_last_good_checkpoint_and_predict_stays_finite(toy_data, tmp_path, capsys):
    from selib.cli import main
    from selib.training.trainer import train

    out = tmp_path / "nan"
    with pytest.raises(TrainingDiverged, match=r"training diverged in epoch 2 \(.*not finite\): the last good "
                                               r"checkpoint \(epoch 1, .*; lower the learning rate$"):
        train(CFG.replace(epochs=3), toy_data, out, verbose=0, callbacks=[PoisonWeights(1)])
    kept = keras.saving.load_model(out / "model.keras", safe_mode=True)
    assert all(np.isfinite(w).all() for w in kept.get_weights())
    assert list(pd.read_csv(out / "history.csv")["epoch"]) == [0]
    capsys.readouterr()
    image = sorted((toy_data / "chair").iterdir())[0]
    assert main(["predict", "--model", str(out), str(image), "--top-k", "4"]) == 0
    text = capsys.readouterr().out
    assert "nan" not in text.lower() and text.startswith(f"{image}: ")
    probs = [float(p) for p in re.findall(r" ([0-9.]+) %", text)]
    assert len(probs) == 4 and sum(probs) == pytest.approx(100, abs=0.5)


def test_nan_from_the_first_epoch_says_there_is_no_checkpoint(toy_data, tmp_path):
    from selib.training.trainer import train

    out = tmp_path / "nan0"
    with pytest.raises(TrainingDiverged, match="training diverged in epoch 1 .* no epoch finished with finite "
                                               "values, so there is no checkpoint"):
        train(CFG, toy_data, out, verbose=0, callbacks=[PoisonWeights(0)])
    assert not (out / "model.keras").exists() and not (out / "backup").exists()
    # the same command again (without the poison) starts cleanly and finishes
    _, trained = _train(out, data=toy_data)
    assert trained == [0, 1]
    assert_finished_run(out)


def test_nan_val_loss_with_better_accuracy_is_never_best(toy_data, tmp_path):
    from selib.training.trainer import train

    out = tmp_path / "nanval"
    with pytest.raises(TrainingDiverged, match=r"epoch 2 \(val_loss not finite\).*checkpoint \(epoch 1, "
                                               r"val_accuracy") as err:
        train(CFG.replace(epochs=3), toy_data, out, verbose=0, callbacks=[PoisonValLoss()])
    assert "100.0 %" not in str(err.value)
    assert list(pd.read_csv(out / "history.csv")["epoch"]) == [0]
    state = json.loads((out / "backup" / "state.json").read_text())
    assert state["epoch"] == 1 and state["best"]["epoch"] == 1 and state["best"]["value"] < 1.0


# ---------------------------------------------------------------------------------------------
# 4. Re-runs of another config or data: no mixed folder, class names never rewritten early.
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("point", ["fresh:manifest", "write:config.json", "write:preprocessing.json", "commit"])
def test_overwrite_killed_before_its_first_epoch_leaves_no_mixed_folder(point, crash, run_copy, toy_data, prepared):
    """Issue 15 #3: a re-run with another config, killed before its first epoch, must never
    let the old model pass as the new run's result."""
    from selib.predictor import Predictor
    from selib.training.run_io import load_run
    from selib.training.trainer import ensure_run

    new = CFG.replace(epochs=1)
    _crashing_train(crash, point, run_copy, config=new, prepared=prepared, overwrite=True)
    run = RunFolder(run_copy)
    assert not run.is_finished(CFG.to_dict()) and not run.is_finished(new.to_dict())
    with pytest.raises(ModelFileError, match="holds no finished selib run"):
        load_run(run_copy)
    try:                                  # whatever is left is consistent, or refused in one line
        p = Predictor.load(run_copy)
        assert int(p.model.output_shape[-1]) == len(p.class_names) == 4
    except ModelFileError:
        pass
    res = ensure_run(new, toy_data, run_copy, verbose=0)
    assert res.metrics["epochs_run"] == 1
    assert_finished_run(run_copy, new)


def test_overwrite_of_an_unfinished_run_never_resumes_its_backup(crash, prepared, toy_data, tmp_path):
    """A re-run with --overwrite over an *unfinished* run, killed right after its new manifest,
    must not resume the old run's backup as its own (same network, other epochs)."""
    out = tmp_path / "run"
    old = CFG.replace(epochs=3)
    _crashing_train(crash, "committed", out, config=old, prepared=prepared)       # old: 1 of 3 epochs
    _crashing_train(crash, "fresh:manifest", out, config=CFG, prepared=prepared, overwrite=True)
    _, trained = _train(out, prepared=prepared)
    assert trained == [0, 1]
    assert_finished_run(out)


def _file_bytes(run: Path) -> dict[str, bytes]:
    """Every file of a run folder (the lock aside), to show that a refused command changed nothing."""
    return {p.name: p.read_bytes() for p in run.iterdir() if p.is_file() and p.name != ".lock"}


def test_other_data_never_rewrites_class_names(run_copy, tmp_path):
    """Issue 15 #4: a re-run on a 2-class folder is refused before anything is written; the
    4-class model and its class names stay together and predict keeps working."""
    from selib.predictor import Predictor
    from selib.training.trainer import train

    before = _file_bytes(run_copy)
    two = make_toy_folder(tmp_path / "two", classes=("bench", "chair"), per_class=10, size=24)
    with pytest.raises(RunFolderError, match="holds a finished run of another dataset"):
        train(CFG, two, run_copy, verbose=0)
    after = _file_bytes(run_copy)
    assert after == before
    p = Predictor.load(run_copy)
    assert p.class_names == list(CLASSES)
    res = p.predict_files([sorted((two / "chair").iterdir())[0]])
    assert res[0].ok and res[0].top[0][0] in CLASSES


def test_resume_on_other_data_is_one_line_naming_the_difference(crash, toy_data, prepared, tmp_path):
    """Issue 15 #5: same config, another --data folder (same classes, one photo changed)."""
    from selib.training.trainer import train

    out = tmp_path / "run"
    _crashing_train(crash, "commit#2", out, prepared=prepared)          # epoch 1 committed and published
    other = Path(shutil.copytree(toy_data, tmp_path / "other"))
    victim = sorted((other / "sofa").iterdir())[0]
    victim.write_bytes(victim.read_bytes() + b"\0")          # one file of another size
    history = (out / "history.csv").read_text()
    with pytest.raises(RunFolderError) as err:
        train(CFG, other, out, verbose=0)
    msg = str(err.value)
    assert "\n" not in msg and "holds an unfinished run of another dataset" in msg
    assert str(toy_data) in msg and str(other) in msg and "pass --overwrite" in msg
    assert (out / "history.csv").read_text() == history        # nothing of the other data mixed in
    _, trained = _train(out, prepared=prepared)                # the right data resumes
    assert trained == [1]
    assert_finished_run(out)


def _written_before_ema_mode(run: Path, use_ema: bool) -> None:
    """Make ``run`` read as selib 0.2.0 wrote it: ``use_ema`` set, no ``ema_mode`` field."""
    for name in ("manifest.json", "config.json"):
        d = json.loads((run / name).read_text())
        optim = (d["config"] if name == "manifest.json" else d)["optim"]
        optim.pop("ema_mode")
        optim["use_ema"] = use_ema
        for key in ("files", "seal"):        # 0.2.0 recorded no fingerprints either
            d.pop(key, None)
        (run / name).write_text(json.dumps(d))


def test_a_run_recorded_before_ema_mode_is_read_as_keras_own_average(run_copy, toy_data):
    """A 0.2.0 run with the average used Keras' own: today's default (the evaluation-only average)
    must not resume it, nor count it as finished, and its recorded config must say what it did."""
    from selib.training.run_io import load_run
    from selib.training.trainer import train

    _written_before_ema_mode(run_copy, use_ema=True)
    before = _file_bytes(run_copy)
    with pytest.raises(RunFolderError) as err:
        train(CFG.replace(use_ema=True), toy_data, run_copy, verbose=0)
    assert "\n" not in str(err.value) and "ema_mode 'overwrite' -> 'evaluate'" in str(err.value)
    assert _file_bytes(run_copy) == before
    assert load_run(run_copy)[1].optim.ema_mode == "overwrite"
    _, trained = _train(run_copy, CFG.replace(use_ema=True, ema_mode="overwrite"), data=toy_data)
    assert trained == []                      # the config it was made with finds it finished


def test_a_run_without_the_average_recorded_before_ema_mode_is_still_today_s_run(run_copy, toy_data):
    """Without ``use_ema`` the mode changes nothing: the old run stays finished for today's config."""
    _written_before_ema_mode(run_copy, use_ema=False)
    fingerprint = json.loads((run_copy / "manifest.json").read_text())["data"]["fingerprint"]
    assert RunFolder(run_copy).is_finished(CFG.to_dict(), fingerprint)
    _, trained = _train(run_copy, CFG, data=toy_data)
    assert trained == []


# ---------------------------------------------------------------------------------------------
# 5. One trainer per folder.
# ---------------------------------------------------------------------------------------------
def test_second_trainer_in_process_is_refused(toy_data, tmp_path):
    from selib.training.trainer import train

    out = tmp_path / "run"
    with RunFolder(out).lock():
        with pytest.raises(RunLockedError, match=f"is in use by another selib train \\(PID {os.getpid()}\\)"):
            train(CFG, toy_data, out, verbose=0)
        assert sorted(p.name for p in out.iterdir()) == [".lock"]     # nothing written by the refused one
    _, trained = _train(out, data=toy_data)                            # the lock died with its holder
    assert trained == [0, 1]


@pytest.mark.slow
def test_second_selib_train_exits_2_naming_the_pid(toy_data, tmp_path):
    """Issue 15 #6 through the command line: the holder is another process (this one)."""
    out = tmp_path / "run"
    with RunFolder(out).lock():
        res = selib_cli("train", "--data", toy_data, "--profile", "ci", "--out", out, "--verbose", "0", *TINY_SET)
    assert res.returncode == 2, res.stderr[-1500:]
    line = one_line_error(res.stderr)
    assert f"(PID {os.getpid()})" in line and str(out) in line
    assert sorted(p.name for p in out.iterdir()) == [".lock"]


# ---------------------------------------------------------------------------------------------
# 6. Every user mistake: one line `selib: error: ...` and status 2 (issue 15 #9, #10).
# ---------------------------------------------------------------------------------------------
def _keras_with_truncated_weights(src: Path, dst: Path) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item)
            zout.writestr(item, data[: len(data) // 3] if item.filename.endswith(".h5") else data)
    return dst


def _bad_model_folder(run: Path, tmp: Path, how: str) -> Path:
    folder = tmp / f"model-{how}"
    folder.mkdir()
    shutil.copy(run / "preprocessing.json", folder)
    src = run / "model.keras"
    if how == "truncated":
        (folder / "model.keras").write_bytes(src.read_bytes()[: src.stat().st_size // 2])
    elif how == "weights":
        _keras_with_truncated_weights(src, folder / "model.keras")
    else:
        (folder / "model.keras").write_bytes(b"PK\x03\x04 not really a zip")
    return folder / "model.keras"


def _fifo(tmp: Path) -> Path:
    p = tmp / "pipe.png"
    os.mkfifo(p)
    return p


TRAIN = ["train", "--profile", "ci", "--verbose", "0"]
BAD_VALUES = {   # id: (argv from (data, run, tmp), what the one line must say)
    "set epochs=abc": (lambda d, r, t: [*TRAIN, "--data", d, "--set", "epochs=abc"],
                       "epochs must be an integer ≥ 1 and ≤ 100000, got 'abc'"),
    "batch-size 0": (lambda d, r, t: [*TRAIN, "--data", d, "--batch-size", "0"], "batch_size must be an integer ≥ 1"),
    "epochs 0": (lambda d, r, t: [*TRAIN, "--data", d, "--epochs", "0"], "epochs must be an integer ≥ 1"),
    "epochs abc": (lambda d, r, t: [*TRAIN, "--data", d, "--epochs", "abc"], "invalid int value: 'abc'"),
    "set image_size=abc": (lambda d, r, t: [*TRAIN, "--data", d, "--set", "image_size=abc"],
                           "image_size must be an integer ≥ 8"),
    "set image_size=2.5": (lambda d, r, t: [*TRAIN, "--data", d, "--set", "image_size=2.5"], "image_size must be"),
    "set unknown key": (lambda d, r, t: [*TRAIN, "--data", d, "--set", "epochz=3"], "unknown setting 'epochz'"),
    "set without =": (lambda d, r, t: [*TRAIN, "--data", d, "--set", "epochs"], "--set expects KEY=VALUE"),
    "set color=blue": (lambda d, r, t: [*TRAIN, "--data", d, "--set", "color=blue"],
                       "unknown color 'blue'; choose one of: grayscale, rgb"),
    "set depth/filters": (lambda d, r, t: [*TRAIN, "--data", d, "--set", "depth=[1]"], "must have the same length"),
    "set max_per_class=1": (lambda d, r, t: [*TRAIN, "--data", d, "--set", "max_per_class=1"],
                            "max_per_class must be an integer ≥ 2 or null"),
    "lr -1": (lambda d, r, t: [*TRAIN, "--data", d, "--lr", "-1"], "learning_rate must be a finite number > 0"),
    "profile turbo": (lambda d, r, t: ["train", "--data", d, "--profile", "turbo"], "unknown profile 'turbo'"),
    "data missing": (lambda d, r, t: [*TRAIN, "--data", t / "nope"], "data folder not found"),
    "task-index out of range": (lambda d, r, t: [*TRAIN, "--data", d, "--workers", "127.0.0.1:1,127.0.0.1:2",
                                                 "--task-index", "2"], "--task-index must be in 0..1"),
    "out is a file": (lambda d, r, t: [*TRAIN, "--data", d, *TINY_SET, "--out", r / "config.json"],
                      "is a file, not a folder"),
    "out holds another run": (lambda d, r, t: [*TRAIN, "--data", d, "--out", r],
                              "holds a finished run of another config"),
    "evaluate truncated .keras": (lambda d, r, t: ["evaluate", "--model", _bad_model_folder(r, t, "truncated"),
                                                   "--data", d], "is not a loadable Keras model"),
    "evaluate .keras with truncated weights": (
        lambda d, r, t: ["evaluate", "--model", _bad_model_folder(r, t, "weights"), "--data", d],
        "is not a loadable Keras model"),
    "predict corrupt .keras": (lambda d, r, t: ["predict", "--model", _bad_model_folder(r, t, "garbage"),
                                                next((d / "chair").iterdir())], "is not a loadable Keras model"),
    "predict without model": (lambda d, r, t: ["predict", "--model", t, next((d / "chair").iterdir())],
                              "is not a selib run folder"),
    "predict a directory": (lambda d, r, t: ["predict", "--model", r, d / "chair"],
                            "is a folder: predict takes image files"),
    "predict top-k 0": (lambda d, r, t: ["predict", "--model", r, "--top-k", "0", next((d / "chair").iterdir())],
                        "--top-k must be at least 1"),
    "evaluate other classes": (lambda d, r, t: ["evaluate", "--model", r, "--data",
                                                make_toy_folder(t / "pets", ("cat", "dog"), per_class=2, size=24)],
                               "class names differ"),
    "evaluate out is a file": (lambda d, r, t: ["evaluate", "--model", r, "--data", d, "--no-figures",
                                                "--out", r / "config.json"], "File exists"),
    "inspect missing folder": (lambda d, r, t: ["inspect", t / "nope"], "nope"),
    "unknown command": (lambda d, r, t: ["trian"], "invalid choice: 'trian'"),
}


@pytest.mark.parametrize("case", BAD_VALUES, ids=list(BAD_VALUES))
def test_bad_value_is_one_line_and_status_2(case, trained_run, toy_data, tmp_path, capsys):
    from selib.cli import main

    argv, expected = BAD_VALUES[case]
    argv = [str(a) for a in argv(toy_data, trained_run, tmp_path)]
    if argv[0] == "train" and "--out" not in argv:     # never the default runs/<profile> of the cwd
        argv += ["--out", str(tmp_path / "out")]
    capsys.readouterr()
    try:
        status = main(argv)
    except SystemExit as exc:          # argparse's own errors
        status = exc.code
    err = capsys.readouterr().err
    assert status == 2, err
    line = one_line_error(err)
    assert expected in line, line


@pytest.fixture
def read_only_out(tmp_path, monkeypatch):
    """A folder this process cannot write: chmod where that works, else (as root, who may
    write anywhere) the OS's refusal simulated at the one place selib probes it."""
    out = tmp_path / "ro"
    out.mkdir()
    out.chmod(0o555)
    probe = out / "probe"
    try:
        probe.write_bytes(b"")
        probe.unlink()
        real = Path.write_bytes

        def refuse(self, data):
            if self.parent == out:
                raise PermissionError(13, "Permission denied", str(self))
            return real(self, data)
        monkeypatch.setattr(Path, "write_bytes", refuse)
    except PermissionError:
        pass
    yield out
    out.chmod(0o755)


def test_read_only_out_is_one_line(read_only_out, toy_data, capsys):
    from selib.cli import main

    assert main([*TRAIN, "--data", str(toy_data), *TINY_SET, "--out", str(read_only_out)]) == 2
    line = one_line_error(capsys.readouterr().err)
    assert f"cannot write the run folder {read_only_out}: Permission denied" in line


def test_debug_shows_the_traceback(capsys):
    from selib.cli import main
    from selib.errors import ConfigError

    with pytest.raises(ConfigError):
        main(["--debug", *TRAIN, "--data", ".", "--set", "epochs=abc"])


def test_predict_partial_failure_exits_1_with_a_line_per_bad_file(trained_run, toy_data, tmp_path, capsys):
    """Issue 15 #10: predictions for the readable images on stdout, one `selib: error: <file>:`
    line per unreadable one on stderr, status 1; a FIFO is refused, never opened (no hang)."""
    from selib.cli import main

    good = sorted((toy_data / "chair").iterdir())[:2]
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n this is not a png")
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    bad_files = [bad, empty, _fifo(tmp_path), tmp_path / "missing.png"]
    capsys.readouterr()
    assert main(["predict", "--model", str(trained_run), *map(str, [good[0], *bad_files, good[1]]),
                 "--top-k", "2"]) == 1
    out, err = capsys.readouterr()
    assert [line.split(": ")[0] for line in out.splitlines()] == [str(good[0]), str(good[1])]
    assert "nan" not in out
    err_lines = err.strip().splitlines()
    assert [line.split(": ")[2] for line in err_lines] == [str(p) for p in bad_files], err
    assert all(line.startswith("selib: error: ") and len(line.split(": ", 3)[3]) > 3 for line in err_lines)
    assert "not a regular file" in err_lines[2] and "No such file" in err_lines[3]
    # all readable: status 0, and --json has one entry per image in order
    assert main(["predict", "--model", str(trained_run), *map(str, good), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert [r["image"] for r in res] == [str(g) for g in good] and all(len(r["top"]) == 3 for r in res)


@pytest.mark.slow
def test_error_contract_through_the_real_entry_point(toy_data):
    res = selib_cli("train", "--data", toy_data, "--profile", "ci", "--set", "epochs=abc")
    assert res.returncode == 2
    assert "epochs must be an integer" in one_line_error(res.stderr)
