"""Shared helpers for the benchmarks: quiet TensorFlow, interleaved timing, tables, JSON.

Every benchmark compares things *within one run* and interleaves them (A, B, A, B, …) so that a
colleague's job starting half-way slows both sides alike; it reports medians over repeats and
the median of the per-repeat ratios (paired), which are far steadier than absolute times on a
shared machine. The load average at start and end says how contended the run was.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def tf_quiet():
    """``import selib`` first: it imports TensorFlow without the oneDNN/CUDA start-up notices."""
    import warnings

    import selib  # noqa: F401
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")   # e.g. retracing notes when several models are timed
    warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
    return tf


def load_avg() -> float | None:
    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None


def cpu_model() -> str:
    from selib.hardware import cpu_model as model   # lazily: it imports Keras, after the backend is set

    return model()


ISA_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")


def cpu_isa() -> list[str]:
    """The CPU's vector and bfloat16 instruction sets, which decide what a CPU result can be
    compared with: float32 on AVX2 and bfloat16 on AVX512_BF16/AMX differ a lot."""
    from selib.hardware import cpu_flags   # lazily: it imports Keras, after the backend is set

    have = cpu_flags()
    return [f for f in ISA_FLAGS if f in have]


def utc_now() -> str:
    """The date every result records, in one format."""
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def machine_info() -> dict:
    """What ran the benchmark: cores, CPU, library versions, threads, GPUs, load.

    TensorFlow is imported only when it is the Keras backend: a GPU machine may run Keras on
    JAX with no TensorFlow installed (``bench/gpu_profiles.py``)."""
    import keras
    import numpy as np

    from selib import hardware

    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    info = {
        "date": utc_now(),
        "cpus": os.cpu_count(), "usable_cpus": usable, "cpu": cpu_model(), "cpu_isa": cpu_isa(),
        "platform": platform.platform(), "python": platform.python_version(),
        "backend": hardware.backend_name(), "tensorflow": None, "keras": keras.__version__,
        "numpy": np.__version__, "gpus": hardware.gpu_devices(),
        "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default (on)"),
        "load_avg_at_start": load_avg(),
    }
    if info["backend"] == "tensorflow":
        tf = tf_quiet()
        info.update(tensorflow=tf.__version__, gpus=[g.name for g in tf.config.list_physical_devices("GPU")],
                    tf_intra_op_threads=tf.config.threading.get_intra_op_parallelism_threads(),
                    tf_inter_op_threads=tf.config.threading.get_inter_op_parallelism_threads())
    else:
        info[info["backend"]] = getattr(sys.modules.get(info["backend"]), "__version__", None)
    return info


# ---------------------------------------------------------------------------------------------
# Contention: how much CPU did *other* processes use while we measured?
# ---------------------------------------------------------------------------------------------
QUIET_BELOW_CORES = 0.25   # others using less than a quarter of a core: wall times are trusted


def _busy_seconds() -> float | None:
    """Seconds of busy CPU time on the whole machine since boot (/proc/stat, steal included)."""
    try:
        v = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return None
    user, nice, system, idle, iowait, irq, softirq, steal = v
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


class Contention:
    """``with Contention() as c: ...`` then ``c.result``: the cores other processes kept busy
    during the block (machine busy time minus this process's CPU time, per wall second).

    On a quiet machine it is ~0 and wall-clock ratios are the measurement. When others use a
    sizeable share of the cores, a step's wall time mostly measures *their* load, and the
    ratio of CPU time per step (work done by our threads) is the steadier comparison."""

    def __enter__(self):
        self.b0, self.c0, self.w0 = _busy_seconds(), time.process_time(), time.perf_counter()
        self.result: dict = {}
        return self

    def __exit__(self, *exc):
        wall = time.perf_counter() - self.w0
        ours = time.process_time() - self.c0
        b1 = _busy_seconds()
        others = None if b1 is None or self.b0 is None else max(0.0, (b1 - self.b0) - ours) / wall
        self.result = {"wall_s": wall, "our_cpu_s": ours, "our_cores": ours / wall,
                       "others_cores": others, "load_avg": load_avg(),
                       "quiet": others is None or others < QUIET_BELOW_CORES}
        return False


def ratios(a: dict[str, list[float]], b: dict[str, list[float]]) -> dict:
    """a/b time ratios from two ``interleaved`` entries: paired wall median, best wall, CPU time."""
    return {"wall": paired_ratio(a["wall"], b["wall"]), "wall_best": min(a["wall"]) / min(b["wall"]),
            "cpu": paired_ratio(a["cpu"], b["cpu"])}


def verdict_metric(contention: dict) -> str:
    """Which ratio decides a goal: wall time on a quiet machine, CPU time on a contended one."""
    return "wall" if contention.get("quiet") else "cpu"


def contention_note(contention: dict) -> str:
    o = contention.get("others_cores")
    if o is None:
        return "contention unknown (no /proc/stat): goals judged on wall time"
    how = ("quiet machine: goals judged on wall time" if contention["quiet"] else
           "contended machine: goals judged on CPU time per step (wall time mostly measures the others)")
    return f"other processes kept {o:.2f} of {os.cpu_count()} cores busy during the timing; {how}"


def median(xs: Sequence[float]) -> float:
    return float(statistics.median(xs))


def stats(xs: Sequence[float]) -> dict:
    xs = [float(x) for x in xs]
    return {"median": median(xs), "min": min(xs), "max": max(xs), "n": len(xs), "all": xs}


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, process CPU seconds) of one call."""
    w, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w, time.process_time() - c


def interleaved(fns: dict[str, Callable[[], object]], repeats: int, warmup: int = 1
                ) -> dict[str, dict[str, list[float]]]:
    """Time each function ``repeats`` times, alternating between them (the order rotates every
    repeat so none always runs first). Returns ``{name: {"wall": [...], "cpu": [...]}}``."""
    names = list(fns)
    for _ in range(warmup):
        for n in names:
            fns[n]()
    out = {n: {"wall": [], "cpu": []} for n in names}
    for r in range(repeats):
        k = r % len(names)
        for n in names[k:] + names[:k]:
            w, c = timed(fns[n])
            out[n]["wall"].append(w)
            out[n]["cpu"].append(c)
    return out


def paired_ratio(a: Sequence[float], b: Sequence[float]) -> float:
    """Median over repeats of a[i] / b[i] (both measured back to back in repeat i)."""
    return median([x / y for x, y in zip(a, b)])


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain monospace table, right-aligned numbers."""
    cells = [[str(h) for h in headers]] + [[_fmt(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    line = lambda r: " | ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths)))
    return "\n".join([line(cells[0]), "-+-".join("-" * w for w in widths)] + [line(r) for r in cells[1:]])


def _fmt(c) -> str:
    if isinstance(c, float):
        if c != c:
            return "-"
        return f"{c:.3g}" if abs(c) < 100 else f"{c:,.0f}"
    return "-" if c is None else str(c)


def write_json(path: str | os.PathLike | None, res: dict) -> None:
    """A result as JSON, through :func:`write_text` (atomic, no machine paths)."""
    write_text(path, json.dumps(res, indent=2, default=_jsonable))


def write_text(path: str | os.PathLike | None, text: str) -> None:
    """Write a result file atomically (``<path>.tmp`` then rename), so a killed run never leaves
    half a file, with this machine's paths made relative (:func:`portable`); no path, no file."""
    if not path:
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(portable(text).rstrip("\n") + "\n")
    tmp.replace(path)


def portable(text: str) -> str:
    """Rewrite this machine's absolute paths relative to the repository root.

    Results are committed and read on other machines: ``/home/me/selib/runs`` means nothing
    there, ``runs`` and ``../shared/realdata`` do (and the README promises no machine paths)."""
    for root, rel in ((REPO, ""), (REPO.parent, "../")):
        text = text.replace(str(root) + "/", rel)
    return text


def _jsonable(o):
    try:
        import numpy as np

        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, np.ndarray):
            return o.tolist()
    except ImportError:
        pass
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def add_common_args(ap, repeats: int) -> None:
    ap.add_argument("--json", type=Path, help="write the results here")
    ap.add_argument("--repeats", type=int, default=repeats, help="interleaved timing repeats (median)")
    ap.add_argument("--tiny", action="store_true", help="seconds-long smoke setting (tests)")
