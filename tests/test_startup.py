"""Start-up: `import selib` and `selib --help/--version/settings` load neither TensorFlow nor
Keras, every public name still imports, and a saved model loads with plain Keras after
`import selib` (the layers register when Keras loads). Each check runs in a fresh interpreter."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "tensorflow",
       "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
HEAVY = ("tensorflow", "keras", "jax", "torch")


def _python(code: str, *args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-c", code, *args], cwd=REPO, env=ENV, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def _loaded_after(code: str) -> list[str]:
    """The heavy libraries in ``sys.modules`` after running ``code``."""
    out = _python(f"import sys\n{code}\nprint(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    return json.loads(out.stdout.strip().splitlines()[-1].replace("'", '"'))


def test_import_selib_loads_no_backend():
    assert _loaded_after("import selib") == []


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["settings"], ["train", "--help"],
                                  ["settings", "--profile", "cpu"]])
def test_help_version_and_settings_load_no_backend(argv):
    code = ("from selib.cli import main\n"
            f"try:\n    main({argv!r})\nexcept SystemExit as exc:\n    assert exc.code in (0, None)")
    assert _loaded_after(code) == []


def test_version_and_help_end_with_examples():
    from selib import __version__
    from selib.cli import build_parser

    out = subprocess.run([sys.executable, "-m", "selib", "--version"], cwd=REPO, env=ENV,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == f"selib {__version__}"
    text = build_parser().format_help()
    assert text.rstrip().splitlines()[-1].strip().startswith("selib ")
    assert "examples:" in text and "selib train --data" in text


def _actions(parser):
    import argparse

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from ((f"{name} {a}", h) for a, h in _actions(sub))
        elif not isinstance(action, argparse._HelpAction):
            yield "/".join(action.option_strings) or action.dest, action.help


def test_every_flag_has_help_text():
    from selib.cli import build_parser

    missing = [name for name, text in _actions(build_parser()) if not text]
    assert missing == []


@pytest.mark.slow   # a TensorFlow start-up in a fresh process
def test_every_public_name_imports():
    out = _python("import selib\n"
                  "missing = [n for n in selib.__all__ if getattr(selib, n, None) is None]\n"
                  "from selib import SqueezeExcite, report_model, seed_model, load_run\n"
                  "assert report_model is seed_model\n"
                  "print(missing)")
    assert out.stdout.strip().splitlines()[-1] == "[]"


# the README's promise: nothing but `import selib` before Keras' own loader
LOAD = """
import sys, json
import selib
import keras
model = keras.saving.load_model(sys.argv[1], safe_mode=True)
print(json.dumps([type(layer).__name__ for layer in model.layers]))
"""


@pytest.mark.slow   # a TensorFlow start-up in a fresh process
def test_plain_keras_loads_a_saved_model_after_import_selib(tmp_path):
    import keras

    import selib

    path = str(tmp_path / "se.keras")    # saved here; only the loading needs a fresh interpreter
    inp = keras.Input((8, 8, 4))
    keras.Model(inp, selib.SqueezeExcite(ratio=2, name="se")(inp)).save(path)
    out = _python(LOAD, path)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == ["InputLayer", "SqueezeExcite"]
    assert out.stderr.strip() == ""          # and quietly: no TensorFlow start-up notices
