"""Import TensorFlow and Keras without their start-up chatter, and only when something needs them.

TensorFlow 2.21 prints the oneDNN notice through absl *before* absl reads its log level, so
``TF_CPP_MIN_LOG_LEVEL`` cannot hide it; in a notebook it shows up as a red stderr box under the
first import. We capture file descriptor 2 while TensorFlow loads and pass through every line
except those known notices, so real errors still reach the user.

``import selib`` itself loads neither library (``selib --help`` would otherwise wait seconds for
them). :func:`install_import_hook` puts a finder on ``sys.meta_path`` that acts on the first
import of ``keras`` or ``tensorflow``, whoever makes it (selib's own modules or the user's code):
on the TensorFlow backend the import runs quietly, and once Keras is loaded selib's layers are
registered, so ``keras.saving.load_model(path, safe_mode=True)`` after ``import selib`` rebuilds
a saved selib model without any further import.
"""
from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import os
import sys
import tempfile
from typing import Iterator

_NOISE = ("oneDNN custom operations are on", "absl::InitializeLog()", "cuda_dnn.cc", "cuda_fft.cc",
          "cuda_blas.cc", "computation_placer.cc", "Unable to register cu", "TF-TRT Warning",
          "This TensorFlow binary is optimized", "rebuild TensorFlow with the appropriate compiler")
_HOOKED = ("keras", "tensorflow")


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Capture file descriptor 2 for the block; afterwards print every line but the known notices."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real fd 2 (some embedded interpreters)
        yield
        return
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            for line in tmp.read().decode("utf-8", "replace").splitlines():
                if line.strip() and not any(n in line for n in _NOISE):
                    print(line, file=sys.stderr)


def import_tensorflow_quietly():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    with quiet_stderr():
        import tensorflow
    return tensorflow


def _on_tensorflow_backend() -> bool:
    return os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow"


def register_layers() -> None:
    """Import :mod:`selib.layers` (which registers selib's Keras layers) unless it is loaded or
    loading: a module half-way through its own import finishes the registration itself."""
    if "selib.layers" not in sys.modules:
        importlib.import_module("selib.layers")


class _Loader(importlib.abc.Loader):
    """The real loader of ``keras`` or ``tensorflow``, run quietly, then selib's layers registered."""

    def __init__(self, loader, hook: "_BackendHook") -> None:
        self._loader, self._hook = loader, hook

    def __getattr__(self, name: str):   # resource readers, is_package, ... of the real loader
        return getattr(self._loader, name)

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module) -> None:
        with self._hook.loading():
            self._loader.exec_module(module)


class _BackendHook(importlib.abc.MetaPathFinder):
    """Finds ``keras`` and ``tensorflow`` through the other finders and wraps their loaders."""

    def __init__(self) -> None:
        self._depth = 0          # TensorFlow imports Keras inside its own import: act once, outside

    def find_spec(self, fullname, path, target=None):
        if fullname not in _HOOKED or self._depth:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = _Loader(spec.loader, self)
                return spec
        return None

    @contextlib.contextmanager
    def loading(self) -> Iterator[None]:
        outermost = self._depth == 0
        self._depth += 1
        try:
            if outermost and _on_tensorflow_backend():
                os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
                with quiet_stderr():
                    yield
            else:
                yield
        finally:
            self._depth -= 1
        if outermost and "keras" in sys.modules:
            register_layers()


def install_import_hook() -> None:
    """Quiet TensorFlow and register selib's layers whenever Keras is first imported (once)."""
    if "keras" in sys.modules:      # already paid for: register now
        register_layers()
        return
    if not any(isinstance(f, _BackendHook) for f in sys.meta_path):
        sys.meta_path.insert(0, _BackendHook())


class _NoRetracingNotice:
    """Drops TensorFlow's "N out of the last M calls ... triggered tf.function retracing" notice:
    studies and notebooks build a fresh model for every run, so each retraces once, by design."""

    def filter(self, record) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


def quiet_retracing() -> None:
    import logging

    logger = logging.getLogger("tensorflow")
    if not any(isinstance(f, _NoRetracingNotice) for f in logger.filters):
        logger.addFilter(_NoRetracingNotice())
