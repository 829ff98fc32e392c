"""Faults a hostile user (or a bad disk) injects, and what selib must do about each.

* non-finite numbers in every numeric setting: refused in one line naming the range;
* the lock: a second trainer is refused before any data is read;
* same-length damage to every kind of run file (finished run and committed backup): checked
  against the recorded fingerprints before use; a damaged backup restarts cleanly, a finished
  run is repaired where it can be re-derived or refused in one line, predict refuses;
* ``preprocessing.json`` that disagrees with the manifest or the model;
* a run folder inside its own data folder: refused up front;
* ``selib cache clear`` on a missing path or a file;
* a full disk (a small tmpfs; skipped where it cannot be mounted), including the backup write;
* Ctrl-C at random moments from start-up on: status 130 and one line, never swallowed;
* ``kill -9`` of ``selib synth``: no worker outlives it.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from selib.errors import ConfigError, ModelFileError, RunFolderError, RunLockedError
from selib.training.config import TrainConfig
from selib.training.run_folder import RunFolder, SimulatedCrash
from toyfolder import CLASSES, ENV, REPO, TINY_SET, one_line_error, selib_cli, tiny_config, truncate_half

pytestmark = pytest.mark.usefixtures("eager_steps")   # steps run eagerly: see conftest
CFG = tiny_config()
TRAIN = ["train", "--profile", "ci", "--verbose", "0", *TINY_SET]


def _train(out, data, config=CFG, **kw):
    """Train in-process; returns the epochs this call trained (a resumed run skips some)."""
    import keras

    from selib.training.trainer import train

    seen: list[int] = []

    class Log(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            seen.append(epoch)

    kw.setdefault("evaluate_test", False)
    result = train(config, data, out, verbose=0, callbacks=[Log(), *kw.pop("callbacks", [])], **kw)
    return result, seen


def _cli(argv, capsys) -> tuple[int, str, str]:
    from selib.cli import main

    capsys.readouterr()
    try:
        status = main([str(a) for a in argv])
    except SystemExit as exc:
        status = exc.code
    out, err = capsys.readouterr()
    return status, out, err


def _files(run: Path) -> dict[str, bytes]:
    return {str(p.relative_to(run)): p.read_bytes() for p in sorted(run.rglob("*"))
            if p.is_file() and p.name != ".lock"}


# ---------------------------------------------------------------------------------------------
# 1. Non-finite numbers.
# ---------------------------------------------------------------------------------------------
NUMERIC = [(g, f.name, f.metadata["kind"]) for g, cls in TrainConfig.GROUPS.items()
           for f in dataclasses.fields(cls) if f.metadata.get("kind") in (int, float, "ints")]
NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


@pytest.mark.parametrize("value", NON_FINITE, ids=list(NON_FINITE))
@pytest.mark.parametrize("group,name,kind", NUMERIC, ids=[n for _, n, _ in NUMERIC])
def test_non_finite_numbers_are_refused_naming_the_range(group, name, kind, value):
    bad = NON_FINITE[value]
    with pytest.raises(ConfigError) as err:
        CFG.replace(**{name: [bad] if kind == "ints" else bad})
    text = str(err.value)
    assert "\n" not in text and text.startswith(f"{name} must be ")
    assert ("a finite number" if kind is float else "integer") in text, text
    # nor through a stored config (JSON's NaN / Infinity)
    d = CFG.to_dict()
    d[group][name] = [bad] if kind == "ints" else bad
    with pytest.raises(ConfigError):
        TrainConfig.from_dict(json.loads(json.dumps(d)))


@pytest.mark.parametrize("argv", [["--lr", "nan"], ["--lr", "inf"], ["--set", "test_size=NaN"],
                                  ["--set", "weight_decay=NaN"], ["--set", "max_train_seconds=NaN"],
                                  ["--set", "epsilon=Infinity"], ["--set", "epochs=Infinity"]],
                         ids=lambda a: " ".join(a))
def test_non_finite_on_the_command_line_is_one_line_and_nothing_is_stored(argv, toy_data, tmp_path, capsys):
    out = tmp_path / "run"
    status, _, err = _cli([*TRAIN, "--data", toy_data, "--out", out, *argv], capsys)
    assert status == 2, err
    assert "must be" in one_line_error(err)
    assert not out.exists()


# ---------------------------------------------------------------------------------------------
# 2. The lock comes first.
# ---------------------------------------------------------------------------------------------
def _no_data_reading(monkeypatch):
    import selib.training.trainer as trainer

    def refuse(*a, **k):
        raise AssertionError("the data was read before the lock was taken")
    monkeypatch.setattr(trainer, "prepare_data", refuse)
    monkeypatch.setattr(trainer, "load_images", refuse)


def test_second_trainer_is_refused_before_reading_any_data(toy_data, tmp_path, monkeypatch):
    from selib.training.trainer import train

    out = tmp_path / "run"
    _no_data_reading(monkeypatch)
    with RunFolder(out).lock():
        t0 = time.perf_counter()
        with pytest.raises(RunLockedError):
            train(CFG, toy_data, out, verbose=0)
        assert time.perf_counter() - t0 < 1.0


def test_second_selib_train_is_refused_before_the_trainer_loads(toy_data, tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    _no_data_reading(monkeypatch)
    with RunFolder(out).lock():
        t0 = time.perf_counter()
        status, _, err = _cli([*TRAIN, "--data", toy_data, "--out", out], capsys)
        seconds = time.perf_counter() - t0
    assert status == 2 and "is in use by another selib train" in one_line_error(err)
    assert seconds < 1.0


# ---------------------------------------------------------------------------------------------
# 3. Same-length damage to the files of a finished run.
# ---------------------------------------------------------------------------------------------
def _flip_middle(path: Path, n: int = 64) -> None:
    """Change ``n`` bytes in the middle of a file, keeping its length (what a bad sector does)."""
    data = bytearray(path.read_bytes())
    mid = len(data) // 2
    data[mid:mid + n] = bytes((b + 1) % 256 for b in data[mid:mid + n])
    path.write_bytes(bytes(data))


def _change_digit(path: Path) -> None:
    """One digit of a text file changed: still valid, same length, another value."""
    text = path.read_text()
    i = max(i for i, c in enumerate(text) if c.isdigit())
    path.write_text(text[:i] + str((int(text[i]) + 1) % 10) + text[i + 1:])


def _reorder_classes(path: Path) -> None:
    spec = json.loads(path.read_text())
    spec["class_names"] = spec["class_names"][::-1]
    path.write_text(json.dumps(spec, indent=2) + "\n")


FINISHED_DAMAGE = {   # id: (damage, what `selib train` of the same run does: "repair" | "refuse")
    "model.keras bytes": (lambda r: _flip_middle(r / "model.keras"), "refuse"),
    "model.keras deleted": (lambda r: (r / "model.keras").unlink(), "refuse"),
    "history.csv digit": (lambda r: _change_digit(r / "history.csv"), "refuse"),
    "history.csv deleted": (lambda r: (r / "history.csv").unlink(), "refuse"),
    "metrics.json digit": (lambda r: _change_digit(r / "metrics.json"), "repair"),
    "metrics.json junk": (lambda r: (r / "metrics.json").write_text("{" * 40), "repair"),
    "metrics.json deleted": (lambda r: (r / "metrics.json").unlink(), "repair"),
    "preprocessing.json classes reordered": (lambda r: _reorder_classes(r / "preprocessing.json"), "repair"),
    "preprocessing.json deleted": (lambda r: (r / "preprocessing.json").unlink(), "repair"),
    "config.json digit": (lambda r: _change_digit(r / "config.json"), "repair"),
}


@pytest.mark.parametrize("damage", FINISHED_DAMAGE, ids=list(FINISHED_DAMAGE))
def test_damaged_finished_run_is_repaired_or_refused_in_one_line(damage, run_copy, toy_data, capsys):
    from selib.predictor import Predictor
    from selib.training.run_io import load_run

    hurt, outcome = FINISHED_DAMAGE[damage]
    hurt(run_copy)
    with pytest.raises(ModelFileError) as err:        # never used as it stands
        load_run(run_copy)
    assert "\n" not in str(err.value)
    before = _files(run_copy)
    if outcome == "refuse":
        status, out, err = _cli([*TRAIN, "--data", toy_data, "--out", run_copy], capsys)
        assert status == 2, err
        line = one_line_error(err)
        assert "damaged" in line and "--overwrite" in line
        assert "run saved" not in out and _files(run_copy) == before
        return
    with pytest.warns(RuntimeWarning, match="; re-deriving it$"):
        status, out, err = _cli([*TRAIN, "--data", toy_data, "--out", run_copy], capsys)
    assert status == 0 and "Traceback" not in err, err
    model, config, metrics = load_run(run_copy)       # intact again, every file verified
    assert config == CFG and metrics["epochs_run"] == CFG.optim.epochs and "test_accuracy" in metrics
    assert Predictor.load(run_copy).class_names == list(CLASSES)


def test_damaged_manifest_is_refused_in_one_line(run_copy, toy_data, capsys):
    _change_digit(run_copy / "manifest.json")
    before = _files(run_copy)
    status, _, err = _cli([*TRAIN, "--data", toy_data, "--out", run_copy], capsys)
    assert status == 2 and "manifest.json is damaged" in one_line_error(err)
    assert _files(run_copy) == before
    status, _, err = _cli(["predict", "--model", run_copy, next((toy_data / "chair").iterdir())], capsys)
    assert status == 2 and "is damaged" in one_line_error(err)


PREDICT_DAMAGE = {   # what predict/evaluate must refuse, and a word of the line
    "model.keras bytes": (lambda r: _flip_middle(r / "model.keras"), "model.keras changed after it was written"),
    "preprocessing.json classes reordered": (lambda r: _reorder_classes(r / "preprocessing.json"), "preprocessing.json"),
    "preprocessing.json image_size": (lambda r: _edit_spec(r, image_size=[17, 17]), "preprocessing.json"),
    "preprocessing.json color": (lambda r: _edit_spec(r, color="rgb"), "preprocessing.json"),
    "preprocessing.json key missing": (lambda r: _edit_spec(r, fit=None), "preprocessing.json"),
}


def _edit_spec(run: Path, **changes) -> None:
    spec = json.loads((run / "preprocessing.json").read_text())
    spec.update(changes)
    (run / "preprocessing.json").write_text(json.dumps({k: v for k, v in spec.items() if v is not None}))


@pytest.mark.parametrize("verified", [True, False], ids=["fingerprinted", "no manifest"])
@pytest.mark.parametrize("damage", PREDICT_DAMAGE, ids=list(PREDICT_DAMAGE))
def test_predict_and_evaluate_refuse_a_damaged_run_in_one_line(damage, verified, run_copy, toy_data, capsys):
    hurt, words = PREDICT_DAMAGE[damage]
    if not verified:        # a folder without the manifest: only what the files say can be checked
        if damage in ("model.keras bytes", "preprocessing.json classes reordered"):
            pytest.skip("without a record, a same-length change of these cannot be seen")
        (run_copy / "manifest.json").unlink()
    hurt(run_copy)
    image = next((toy_data / "chair").iterdir())
    for argv in (["predict", "--model", run_copy, image],
                 ["evaluate", "--model", run_copy, "--data", toy_data, "--no-figures", "--out", run_copy / "ev"]):
        status, out, err = _cli(argv, capsys)
        assert status == 2, (argv[0], err)
        assert words in one_line_error(err) and out == ""


# ---------------------------------------------------------------------------------------------
# 4. Same-length damage to a committed backup: one warning, a clean restart.
# ---------------------------------------------------------------------------------------------
def _float_junk(value: float):
    def hurt(path: Path) -> None:
        """Overwrite the bytes of every float array in an HDF5 file, in place, same length."""
        spans = []
        with h5py.File(path, "r") as f:
            f.visititems(lambda _, o: spans.append((o.id.get_offset(), o.dtype, o.size))
                         if isinstance(o, h5py.Dataset) and o.dtype.kind == "f" and o.size
                         and o.id.get_offset() is not None else None)
        assert spans, "no float data found"
        with open(path, "r+b") as f:
            for offset, dtype, size in spans:
                f.seek(offset)
                f.write(np.full(size, value, dtype).tobytes())
    return hurt


def _in_keras_zip(hurt):
    def apply(path: Path) -> None:
        import zipfile

        tmp = path.with_suffix(".d")
        with zipfile.ZipFile(path) as z:
            z.extractall(tmp)
            names = z.namelist()
        hurt(tmp / "model.weights.h5")
        with zipfile.ZipFile(path, "w") as z:
            for n in names:
                z.write(tmp / n, n)
        shutil.rmtree(tmp)
    return apply


def _backup_file(run: Path, prefix: str) -> Path:
    return next(p for p in (run / "backup").iterdir() if p.name.startswith(prefix))


def _unfingerprinted(run: Path) -> Path:
    """The backup as selib wrote it before fingerprints: no file list, no seal (trusted)."""
    path = run / "backup" / "state.json"
    state = json.loads(path.read_text())
    for key in ("files", "seal"):
        state.pop(key)                   # a KeyError: the backup was not fingerprinted to begin with
    path.write_text(json.dumps(state))
    return run


def _old(hurt):
    return lambda r: hurt(_unfingerprinted(r))


_CHANGED = r"changed after it was written \(CRC-32"
#: id: (crash point that leaves the backup, damage, why it is refused). The ``full`` cases take
#: the same branch as a default one (the same fingerprint check of the same file) and run in
#: ``make test-full``; every branch of the backup check is in the default suite.
BACKUP_DAMAGE = [
    pytest.param("committed", lambda r: _flip_middle(_backup_file(r, "epoch")), _CHANGED, id="weights bytes"),
    pytest.param("committed", lambda r: _float_junk(78401.0)(_backup_file(r, "epoch")), _CHANGED,
                 id="weights finite junk", marks=pytest.mark.full),
    pytest.param("committed", lambda r: _float_junk(np.nan)(_backup_file(r, "epoch")), _CHANGED,
                 id="weights NaN junk", marks=pytest.mark.full),
    # a backup from before the fingerprints is trusted, so what catches damage there is loading it
    pytest.param("committed", _old(lambda r: _float_junk(np.nan)(_backup_file(r, "epoch"))),
                 r"epoch\d+\.weights\.h5 holds values that are not finite", id="old backup, weights NaN junk"),
    pytest.param("committed", _old(lambda r: truncate_half(_backup_file(r, "epoch"))),
                 r"epoch\d+\.weights\.h5 will not load", id="old backup, truncated weights"),
    pytest.param("committed", lambda r: _flip_middle(_backup_file(r, "best-")), _CHANGED, id="best candidate bytes"),
    pytest.param("committed", lambda r: _change_digit(r / "backup" / "state.json"),
                 r"its state cannot be read \(its contents changed after it was written\)", id="state.json digit"),
    pytest.param("commit#2", lambda r: _flip_middle(r / "model.keras"), "model.keras " + _CHANGED,
                 id="published model.keras bytes"),
    pytest.param("commit#2", lambda r: _in_keras_zip(_float_junk(3.0))(r / "model.keras"), "model.keras " + _CHANGED,
                 id="published model.keras finite junk", marks=pytest.mark.full),
]


def _crashed_at(point: str, crash, out: Path, data: Path) -> Path:
    """``out`` as a training that crashed at ``point`` leaves it (crash injection disarmed again)."""
    crash(point)
    with pytest.raises(SimulatedCrash):
        _train(out, data)
    crash(None)
    return out


@pytest.mark.parametrize("point, hurt, why", BACKUP_DAMAGE)
def test_damaged_backup_warns_once_and_restarts_cleanly(point, hurt, why, crash, toy_data, tmp_path):
    out = _crashed_at(point, crash, tmp_path / "run", toy_data)
    hurt(out)
    with pytest.warns(RuntimeWarning, match=rf"the backup in .* is damaged: .*{why}.*; restarting this run from epoch 1") as w:
        _, trained = _train(out, toy_data)
    assert len([x for x in w if "is damaged" in str(x.message)]) == 1
    assert trained == list(range(CFG.optim.epochs))       # never a silent resume, never 'diverged'
    RunFolder(out).verify_finished()


def test_an_intact_backup_still_resumes(crash, toy_data, tmp_path):
    out = _crashed_at("commit#2", crash, tmp_path / "run", toy_data)
    _, trained = _train(out, toy_data)
    assert trained == [1]


# ---------------------------------------------------------------------------------------------
# 5. Runs recorded before the fingerprints: unverified, trusted.
# ---------------------------------------------------------------------------------------------
def _as_before_fingerprints(run: Path) -> None:
    m = json.loads((run / "manifest.json").read_text())
    for key in ("files", "seal"):
        m.pop(key, None)
    (run / "manifest.json").write_text(json.dumps(m, indent=2))


def test_a_run_recorded_before_fingerprints_still_loads(run_copy, toy_data, capsys):
    from selib.predictor import Predictor
    from selib.training.run_io import load_run

    _as_before_fingerprints(run_copy)
    load_run(run_copy)
    assert Predictor.load(run_copy).class_names == list(CLASSES)
    _, trained = _train(run_copy, toy_data)
    assert trained == []                              # still finished for the same config
    _reorder_classes(run_copy / "preprocessing.json")  # the manifest's class names still rule
    status, _, err = _cli(["predict", "--model", run_copy, next((toy_data / "chair").iterdir())], capsys)
    assert status == 2 and "disagrees with the run's manifest (class_names)" in one_line_error(err)


def test_a_backup_recorded_before_fingerprints_still_resumes(crash, toy_data, tmp_path):
    out = _unfingerprinted(_crashed_at("commit#2", crash, tmp_path / "run", toy_data))
    _, trained = _train(out, toy_data)
    assert trained == [1]


# ---------------------------------------------------------------------------------------------
# 6. The run folder is never part of its own data.
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("where", ["equal", "inside", "deeper"])
def test_out_inside_data_is_refused_up_front(where, toy_data, tmp_path, capsys):
    data = Path(shutil.copytree(toy_data, tmp_path / "data"))
    out = {"equal": data, "inside": data / "run", "deeper": data / "chair" / "runs" / "x"}[where]
    before = sorted(p.relative_to(data) for p in data.rglob("*"))
    status, _, err = _cli([*TRAIN, "--data", data, "--out", out], capsys)
    assert status == 2 and "lies inside --data" in one_line_error(err)
    with pytest.raises(RunFolderError, match="must not be part of its own data"):
        _train(out, data)
    assert sorted(p.relative_to(data) for p in data.rglob("*")) == before


# ---------------------------------------------------------------------------------------------
# 7. selib cache clear on a path that is no folder.
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("what", ["missing", "file"])
def test_cache_clear_of_no_folder_is_one_line(what, tmp_path, capsys):
    path = tmp_path / "nosuch"
    if what == "file":
        path.write_text("x")
    status, out, err = _cli(["cache", "clear", path], capsys)
    assert status == 2 and "is not a folder" in one_line_error(err) and out == ""


# ---------------------------------------------------------------------------------------------
# 8. A full disk: one line, status 2, the committed state intact.
# ---------------------------------------------------------------------------------------------
@pytest.fixture
def small_disk(tmp_path):
    """Mount a tmpfs of the asked size (KiB); skip where mounting is not allowed."""
    mounted = []

    def mount(kib: int) -> Path:
        where = tmp_path / f"disk{len(mounted)}"
        where.mkdir()
        res = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={kib}k", "tmpfs", str(where)],
                             capture_output=True, text=True)
        if res.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {res.stderr.strip() or res.returncode}")
        mounted.append(where)
        return where
    yield mount
    for where in mounted:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


FILL_THEN_TRAIN = r"""
import json, sys, keras
sys.path.insert(0, "tests")
from toyfolder import tiny_config
from selib.training.trainer import train
data, out, filler = sys.argv[1:4]

class FillDisk(keras.callbacks.Callback):
    # runs before the run recorder: the disk is full when epoch 2 is committed
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1:
            with open(filler, "wb") as f:
                try:
                    while True:
                        f.write(b"\0" * 4096); f.flush()
                except OSError:
                    pass

try:
    train(tiny_config(), data, out, verbose=0, evaluate_test=False, callbacks=[FillDisk()])
    print("no error")
except OSError as exc:
    print("OSError", exc.strerror)
"""


@pytest.mark.slow
def test_full_disk_is_one_line_and_leaves_the_committed_state(small_disk, toy_data):
    # a disk too small for the first backup: the HDF5 write itself hits the wall
    disk = small_disk(48)
    res = selib_cli(*TRAIN, "--data", toy_data, "--out", disk / "run")
    assert res.returncode == 2, (res.returncode, res.stderr[-1500:])
    assert "No space left on device" in one_line_error(res.stderr)
    assert not list(disk.rglob(".tmp-*"))
    # room for epoch 1, full at epoch 2: epoch 1 stays committed and the re-run resumes from it
    disk = small_disk(2048)
    out = disk / "run"
    res = subprocess.run([sys.executable, "-c", FILL_THEN_TRAIN, str(toy_data), str(out), str(disk / "filler")],
                         capture_output=True, text=True, env=ENV, cwd=REPO, timeout=300)
    assert res.returncode == 0 and res.stdout.strip() == "OSError No space left on device", res.stderr[-2000:]
    assert "Exception ignored" not in res.stderr
    state = json.loads((out / "backup" / "state.json").read_text())
    assert state["epoch"] == 1
    (disk / "filler").unlink()
    _, trained = _train(out, toy_data)
    assert trained == [1]
    RunFolder(out).verify_finished()


# ---------------------------------------------------------------------------------------------
# 9. Ctrl-C: status 130 and one line, from start-up on; never swallowed.
# ---------------------------------------------------------------------------------------------
def _sigint_default() -> None:
    """In the child: Ctrl-C as a terminal delivers it. A suite started in the background by a
    shell without job control inherits SIGINT ignored, and selib rightly keeps it ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _interrupt_after(argv: list, delay: float) -> subprocess.CompletedProcess:
    proc = subprocess.Popen([sys.executable, "-m", "selib", *map(str, argv)], env=ENV, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_sigint_default)
    time.sleep(delay)
    sent = proc.poll() is None
    if sent:
        os.kill(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode if sent else None, out, err)


@pytest.mark.slow
@pytest.mark.parametrize("draw", [0, pytest.param(1, marks=pytest.mark.full)])
def test_ctrl_c_at_random_moments_stops_with_130_and_one_line(draw, toy_data, tmp_path):
    """From just after start-up (imports included) to the end of training; each trial a
    fresh folder, then the same command finishes the run. Three moments per draw (a draw is a
    seed of the moments, ``SELIB_FAULT_SEED`` shifts them all); ``make test-full`` adds a second."""
    rng = random.Random(int(os.environ.get("SELIB_FAULT_SEED", "0")) + draw)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    python = time.perf_counter() - t0      # the interpreter's own start, before selib's first line
    t0 = time.perf_counter()
    full = selib_cli(*TRAIN, "--data", toy_data, "--out", tmp_path / "full")
    assert full.returncode == 0, full.stderr[-1500:]
    whole = time.perf_counter() - t0
    delays = sorted(rng.uniform(2 * python, 0.9 * whole) for _ in range(3))
    interrupted = 0
    for i, delay in enumerate(delays):
        out = tmp_path / f"run{i}"
        res = _interrupt_after([*TRAIN, "--data", toy_data, "--out", out], delay)
        if res.returncode is None:   # a busy machine timed the full run slower: it ended first
            continue
        interrupted += 1
        assert res.returncode == 130, (delay, res.returncode, res.stderr[-1500:])
        assert res.stderr.strip() == "selib: interrupted", (delay, res.stderr[-1500:])
        _, trained = _train(out, toy_data)          # whatever was committed is resumed
        assert trained[-1:] == [CFG.optim.epochs - 1] or trained == []
    assert interrupted >= 2, f"only {interrupted} of 3 trials ran long enough to be interrupted"


SWALLOWED = r"""
import gc, os, signal, sys, time
sys.orig_argv = [sys.executable, "-m", "selib"]
from selib._interrupt import install_for_command_line
install_for_command_line()
def collector(phase, info):          # like JAX's _xla_gc_callback: the interrupt lands in here
    if phase == "start":
        gc.callbacks.remove(collector)
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.2)
gc.callbacks.append(collector)
gc.collect()
time.sleep(2)
print("training ran on")
"""


def test_a_command_started_with_ctrl_c_ignored_keeps_it_ignored():
    """``nohup``-style and background starts ignore SIGINT on purpose; selib must not undo that."""
    code = ("import signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
            "sys.orig_argv = [sys.executable, '-m', 'selib']; "
            "from selib._interrupt import install_for_command_line; install_for_command_line(); "
            "print(signal.getsignal(signal.SIGINT) is signal.SIG_IGN)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV, cwd=REPO,
                         timeout=120, preexec_fn=_sigint_default)
    assert res.stdout.strip() == "True", res.stderr[-800:]


@pytest.mark.slow
def test_ctrl_c_inside_a_gc_callback_is_not_swallowed():
    res = subprocess.run([sys.executable, "-c", SWALLOWED], capture_output=True, text=True, env=ENV,
                         cwd=REPO, timeout=120, preexec_fn=_sigint_default)
    assert res.returncode == 130 and "training ran on" not in res.stdout, (res.stdout, res.stderr[-1500:])
    assert res.stderr.strip() == "selib: interrupted"


# ---------------------------------------------------------------------------------------------
# 10. kill -9 of selib synth: no worker outlives it.
# ---------------------------------------------------------------------------------------------
def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.mark.slow
def test_killed_synth_leaves_no_worker_alive(tmp_path):
    import psutil

    out = tmp_path / "synth"
    proc = subprocess.Popen([sys.executable, "-m", "selib", "synth", "--out", str(out), "--per-class", "300",
                             "--workers", "2", "--quiet"], env=ENV, cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 900
    while time.time() < deadline and not list(out.glob("*/*.jpg")):   # the workers are rendering
        assert proc.poll() is None, proc.stderr.read()[-1500:]
        time.sleep(0.2)
    children = psutil.Process(proc.pid).children(recursive=True)
    assert len(children) >= 2
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    deadline = time.time() + 30     # a worker still importing selib checks its parent once started
    while time.time() < deadline and any(_alive(c.pid) for c in children):
        time.sleep(0.2)
    assert not [c.pid for c in children if _alive(c.pid)], "workers outlived their parent"
