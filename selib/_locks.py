"""Advisory locks on a file: one process at a time in a folder, whatever else runs.

A run folder takes one without waiting (a second trainer is refused in one line); the built-in
dataset's renderer waits for one (a second notebook started on a fresh machine waits, then finds
the set rendered, instead of deleting the files the first one is writing). POSIX ``flock``;
``msvcrt.locking`` on Windows. The lock dies with its process, even after ``kill -9``.
"""
from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import Iterator

__all__ = ["try_lock", "unlock", "holder", "held"]


def try_lock(fd: int) -> bool:
    try:
        import fcntl

        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False


def unlock(fd: int) -> None:
    try:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_UN)
    except ImportError:
        import msvcrt

        with contextlib.suppress(OSError):
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)


def holder(fd: int) -> str:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        return os.read(fd, 32).decode().strip() or "unknown"
    except OSError:
        return "unknown"


@contextlib.contextmanager
def held(path: str | os.PathLike, poll: float = 0.2) -> Iterator[None]:
    """Hold the lock file ``path`` for the block, waiting for another holder to let go."""
    fd = os.open(Path(path), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        while not try_lock(fd):
            time.sleep(poll)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        unlock(fd)
        os.close(fd)
