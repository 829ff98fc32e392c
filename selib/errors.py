"""The mistakes a user can fix, as one family of exceptions.

The command line prints any :class:`SelibError` as one line, ``selib: error: <message>``, and
exits with status 2; everything else is a bug in selib and keeps its traceback (``--debug``
shows the traceback of a user error too). Library callers can catch :class:`SelibError` to
handle every user mistake at once, or the specific class. The specific classes also derive
from the built-in exception a caller would have caught before (``ValueError``,
``RuntimeError``), so existing ``except ValueError`` code keeps working.
"""
from __future__ import annotations

__all__ = [
    "SelibError", "ConfigError", "DataFolderError", "SplitError", "DecodeError",
    "ClassMismatchError", "ModelFileError", "RunFolderError", "RunLockedError",
    "TrainingDiverged",
]


class SelibError(Exception):
    """A mistake the user can fix; the message is one line that says what to do."""


class ConfigError(SelibError, ValueError):
    """A training setting with an unknown choice or a value out of range."""


class DataFolderError(SelibError, ValueError):
    """The data folder cannot be used at all (missing, or no class folders with images)."""


class SplitError(SelibError, ValueError):
    """The data cannot be split as asked: fewer than two classes, or a class too small."""


class DecodeError(SelibError, ValueError):
    """An image file could not be decoded; the message says why."""


class ClassMismatchError(SelibError, ValueError):
    """A model used on a folder whose class names differ from the ones it was trained on."""


class ModelFileError(SelibError, ValueError):
    """A model file or run folder that is missing, damaged or not a selib model."""


class RunFolderError(SelibError, RuntimeError):
    """A run folder that holds another run (other config or data) or damaged state."""


class RunLockedError(RunFolderError):
    """Another ``selib train`` holds the run folder's lock."""


class TrainingDiverged(SelibError, RuntimeError):
    """The loss or a validation metric became NaN/inf; only finite checkpoints are kept."""
