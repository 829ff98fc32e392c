"""Import TensorFlow without its start-up chatter.

TensorFlow 2.21 prints the oneDNN notice through absl *before* absl reads its log level, so
``TF_CPP_MIN_LOG_LEVEL`` cannot hide it; in a notebook it shows up as a red stderr box under the
first ``import selib``. We capture file descriptor 2 while TensorFlow loads and pass through
every line except those known notices, so real errors still reach the user.
"""
from __future__ import annotations

import os
import sys
import tempfile

_NOISE = ("oneDNN custom operations are on", "absl::InitializeLog()", "cuda_dnn.cc", "cuda_fft.cc",
          "cuda_blas.cc", "computation_placer.cc", "Unable to register cu", "TF-TRT Warning",
          "This TensorFlow binary is optimized", "rebuild TensorFlow with the appropriate compiler")


def import_tensorflow_quietly():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real fd 2 (some embedded interpreters)
        import tensorflow
        return tensorflow
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            import tensorflow
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            for line in tmp.read().decode("utf-8", "replace").splitlines():
                if line.strip() and not any(n in line for n in _NOISE):
                    print(line, file=sys.stderr)
    return tensorflow


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
