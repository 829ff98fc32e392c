"""Worker processes that never outlive the process that started them.

A ``kill -9`` gives the parent no chance to stop its pool: without help the workers are
re-parented and go on (rendering, writing files) for as long as their queue lasts.
:func:`worker_pool` starts a spawn-context process pool whose workers watch their parent and
ignore Ctrl-C, which the parent alone answers (see :mod:`selib._interrupt`).
"""
from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Callable, Iterator

__all__ = ["worker_pool", "die_with", "interrupts_held"]


def worker_pool(workers: int, initializer: Callable[[], None] | None = None) -> ProcessPoolExecutor:
    """A spawn-context pool whose workers die with this process. Submit work inside
    :func:`interrupts_held` (the workers start on the first submissions)."""
    return ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"), initializer=_start_worker,
                               initargs=(os.getpid(), initializer))


def _start_worker(parent: int, initializer: Callable[[], None] | None) -> None:
    die_with(parent)
    if initializer is not None:
        initializer()


def die_with(parent: int) -> None:
    """End this process when ``parent`` ends, however it ends (``kill -9`` included).

    Linux kills it at once (``PR_SET_PDEATHSIG``); elsewhere a thread checks every second
    whether it was re-parented. A parent that died while this process was still starting is
    seen by the same check, before any work."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C is the parent's to answer
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)   # 1 = PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="selib-parent-watch").start()


@contextlib.contextmanager
def interrupts_held() -> Iterator[None]:
    """Hold SIGINT back while worker processes start: they inherit the blocked signal (a
    terminal's Ctrl-C reaches the whole process group), and a Ctrl-C that came meanwhile
    reaches this process as soon as they have started."""
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
