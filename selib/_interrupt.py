"""Ctrl-C on the command line: stop at once, with one line and status 130, whatever is running.

Python turns SIGINT into a ``KeyboardInterrupt`` raised wherever the interpreter happens to be.
From an import that prints a long traceback; from a garbage-collector callback (JAX registers
one) or a ``__del__`` Python prints "Exception ignored" and *carries on*, so a run could train
to its end after the user asked it to stop. The ``selib`` command therefore answers SIGINT
itself, from the first line of ``selib/__init__.py`` on: it writes ``selib: interrupted`` and
leaves with status 130 at once. That is safe because everything selib writes is a transaction
that survives ``kill -9`` (see :mod:`selib.training.run_folder`): the next run resumes from the
last committed epoch. Worker processes die with their parent (:mod:`selib.synth.dataset`).

Only the command is changed: ``import selib`` from a notebook or a script keeps Python's own
``KeyboardInterrupt``.
"""
from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

__all__ = ["install_for_command_line", "is_command_line", "EXIT_INTERRUPTED"]

EXIT_INTERRUPTED = 130
_LINE = b"selib: interrupted\n"
_stderr_fd = 2     # a copy of the terminal's stderr: TensorFlow's import captures fd 2 for a while


def is_command_line() -> bool:
    """Whether this process is the ``selib`` command (``python -m selib`` or the console script)."""
    argv = list(getattr(sys, "orig_argv", []))
    if "-m" in argv:
        return argv[argv.index("-m") + 1:argv.index("-m") + 2] == ["selib"]
    return bool(sys.argv) and Path(sys.argv[0]).name == "selib"


def _stop(signum=None, frame=None) -> None:
    try:
        sys.stdout.flush()       # what was already printed still arrives
    except Exception:  # noqa: BLE001 - a write the signal interrupted: nothing more to save
        pass
    os.write(_stderr_fd, _LINE)
    os._exit(EXIT_INTERRUPTED)


def install_for_command_line() -> None:
    """Answer SIGINT with :func:`_stop` when this process is the ``selib`` command."""
    global _stderr_fd
    if is_command_line() and signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        try:
            _stderr_fd = os.dup(2)
        except OSError:
            pass
        signal.signal(signal.SIGINT, _stop)
