"""Photos in: scan a folder, decode and cache the images, split them, feed batches.

The modules, in the order data flows through them: :mod:`~selib.data.scanning` (what is in
the folder), :mod:`~selib.data.headers` (one file's header, shared by scan and decoder),
:mod:`~selib.data.decoding` (one file to pixels), :mod:`~selib.data.image_cache` (the
self-checking on-disk cache), :mod:`~selib.data.loading` (a whole folder to one array),
:mod:`~selib.data.splits` (train/validation/test) and :mod:`~selib.data.feeding` (batches).
"""
from __future__ import annotations

from selib.data.decoding import decode_image
from selib.data.image_cache import clear_cache
from selib.data.loading import LoadedImages, load_images
from selib.data.scanning import COLUMNS, DataFolderWarning, ScanResult, Summary, scan, summarize
from selib.data.splits import Split, one_hot, split, to_float
from selib.errors import DataFolderError, DecodeError, SplitError

__all__ = ["COLUMNS", "DataFolderError", "DataFolderWarning", "DecodeError", "LoadedImages",
           "ScanResult", "Split", "SplitError", "Summary", "clear_cache", "decode_image",
           "load_images", "one_hot", "scan", "split", "summarize", "to_float"]
