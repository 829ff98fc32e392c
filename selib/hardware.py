"""Devices, precision and distribution: what depends on the Keras backend when training.

The rest of selib is written against ``keras`` only; the few training things Keras 3 does not
abstract (listing GPUs, multi-device training) live here, each with one branch per backend
(Grad-CAM's gradient, the other such thing, is in :mod:`selib.analysis.gradcam`). Backend
libraries are imported lazily inside functions, so ``import selib.hardware`` under
``KERAS_BACKEND=jax`` never loads TensorFlow.

Support: TensorFlow (single, MirroredStrategy, MultiWorkerMirroredStrategy), JAX (single,
``keras.distribution.DataParallel``; multi-process once ``keras.distribution.initialize()`` has
been called, untested here), PyTorch (single device only).
"""
from __future__ import annotations

import contextlib
import json
import os
import platform
import subprocess
import sys
from dataclasses import dataclass
from typing import Any, Iterator

import keras

PRECISIONS = ("auto", "float32", "mixed_float16", "mixed_bfloat16")
_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16", "bf16", "feat_bf16"})


def backend_name() -> str:
    """The active Keras backend ("tensorflow", "jax", "torch", "numpy")."""
    return keras.backend.backend()


def gpu_devices() -> list[str]:
    """GPUs the active backend can use, as device strings ``make_distribution`` accepts.

    TensorFlow: "/gpu:N" (from physical devices, so TF's runtime is not initialised);
    JAX: "gpu:N"; torch: "cuda:N". Empty, never an error, on a CPU-only machine.
    """
    name = backend_name()
    try:
        if name == "tensorflow":
            import tensorflow as tf
            return [f"/gpu:{i}" for i, _ in enumerate(tf.config.list_physical_devices("GPU"))]
        if name == "jax":
            import jax
            gpus = [d for d in jax.devices() if d.platform in ("gpu", "cuda", "rocm")]
            return [f"gpu:{i}" for i, _ in enumerate(gpus)]
        if name == "torch":
            import torch
            return [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    except (RuntimeError, ImportError):  # no GPU runtime at all
        pass
    return []


def cpu_flags() -> set[str]:
    """Lower-cased CPU feature flags, so bf16 support is read from the CPU, not guessed.

    Linux: ``flags`` (x86) or ``Features`` (ARM) line of /proc/cpuinfo. macOS: ``sysctl -a``
    keys ``hw.optional.[arm.]<feature>`` set to 1, last dotted part kept. Elsewhere: empty.
    """
    if sys.platform.startswith("linux"):
        try:
            with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
                for line in f:
                    key, _, value = line.partition(":")
                    if key.strip().lower() in ("flags", "features"):
                        return set(value.lower().split())
        except OSError:
            pass
        return set()
    if sys.platform == "darwin":
        try:
            out = subprocess.run(["sysctl", "-a"], capture_output=True, text=True, timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            return set()
        return {k.strip().rsplit(".", 1)[-1].lower() for k, _, v in
                (line.partition(":") for line in out.splitlines())
                if k.startswith("hw.optional.") and v.strip() == "1"}
    return set()


#: the CPU features that decide how fast training runs, recorded with every result (the rest of
#: /proc/cpuinfo's list is noise)
SPEED_FLAGS = ("avx", "avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "amx_bf16", "amx_tile",
               "sse4_2", "neon", "asimd", "bf16", "sve")


def cpu_model() -> str:
    """The CPU's model name (Linux: /proc/cpuinfo), else what :mod:`platform` knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def speed_flags() -> list[str]:
    """The :data:`SPEED_FLAGS` this CPU has, sorted: what a timing needs next to it."""
    flags = cpu_flags()
    return sorted(f for f in SPEED_FLAGS if f in flags)


def cpu_has_bf16(flags: set[str] | None = None) -> bool:
    """True when the CPU computes bfloat16 in hardware (AVX512_BF16 / AMX_BF16 / ARM BF16).

    Without it, mixed_bfloat16 on CPU is emulated and slower than float32.
    """
    return bool(_BF16_FLAGS & {f.lower() for f in (cpu_flags() if flags is None else flags)})


def choose_precision(setting: str = "auto", *, gpus: list[str] | None = None,
                     flags: set[str] | None = None) -> str:
    """Resolve a precision setting to a Keras dtype policy name.

    "auto": mixed_float16 on a GPU (tensor cores), mixed_bfloat16 on a CPU with hardware bf16,
    float32 otherwise. Any explicit policy is returned unchanged, so users can force it.
    """
    if setting not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}; got {setting!r}")
    if setting != "auto":
        return setting
    if gpu_devices() if gpus is None else gpus:
        return "mixed_float16"
    return "mixed_bfloat16" if cpu_has_bf16(flags) else "float32"


@contextlib.contextmanager
def precision_policy(policy: str) -> Iterator[str]:
    """Set Keras' global dtype policy for a block, restoring the previous one even on error.

    The policy is read when layers are created, so build the model inside the block.
    """
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(policy)
    try:
        yield policy
    finally:
        keras.mixed_precision.set_global_policy(previous)


def parse_tf_config(text: str | None) -> tuple[int, bool]:
    """(number of workers incl. chief, is this task the chief) from a TF_CONFIG JSON string.

    The chief is task type "chief", or worker 0 when the cluster has no chief; it alone
    should write checkpoints and metrics. No TF_CONFIG means one worker, which is chief.
    """
    if not text:
        return 1, True
    config = json.loads(text)
    cluster, task = config.get("cluster", {}), config.get("task", {})
    workers = len(cluster.get("chief", [])) + len(cluster.get("worker", []))
    kind, index = task.get("type", "worker"), int(task.get("index", 0))
    is_chief = kind == "chief" or (kind == "worker" and index == 0 and not cluster.get("chief"))
    return max(workers, 1), is_chief


@dataclass
class Distribution:
    """How to spread training over devices; build, compile *and fit* the model in ``scope()``.

    ``strategy`` is the backend object (a ``tf.distribute.Strategy`` or a
    ``keras.distribution.Distribution``) or None for a single device. The global batch is
    split over ``replicas``: keep it divisible by ``replicas``. JAX DataParallel raises on any
    batch that does not split evenly (a short last batch too: drop the remainder); TF
    MirroredStrategy raises when the first batch does not.
    """
    kind: str  # "single" | "mirrored" | "multi_worker" | "data_parallel"
    replicas: int = 1
    is_chief: bool = True
    strategy: Any = None

    def scope(self) -> contextlib.AbstractContextManager:
        """Context in which variables are created on (and data split across) the devices."""
        return self.strategy.scope() if self.strategy is not None else contextlib.nullcontext()


def make_distribution(devices: list[str] | None = None) -> Distribution:
    """Pick the distribution for the active backend (see module docstring for support).

    TensorFlow: TF_CONFIG set -> MultiWorkerMirroredStrategy (create it first thing in the
    program, before any other TF op); 2+ ``devices`` or 2+ GPUs -> MirroredStrategy; else
    the default strategy. JAX: 2+ devices (given, or GPUs) -> DataParallel, which is made
    current only inside ``scope()``. For multi-host JAX, call ``keras.distribution.initialize()``
    (wraps ``jax.distributed.initialize``) in every process first; DataParallel then spans all
    processes' devices and the chief is process 0. torch: always single device.
    """
    name = backend_name()
    if name == "tensorflow":
        return _tf_distribution(devices)
    if name == "jax":
        import jax
        devices = devices if devices is not None else gpu_devices()
        chief = jax.process_index() == 0
        if len(devices) >= 2 or jax.process_count() > 1:
            dist = keras.distribution.DataParallel(devices=devices or None)
            kind = "multi_worker" if jax.process_count() > 1 else "data_parallel"
            return Distribution(kind, int(dist.num_model_replicas), chief, dist)
        return Distribution("single", 1, chief)
    return Distribution("single")


def _tf_distribution(devices: list[str] | None) -> Distribution:
    import tensorflow as tf
    if os.environ.get("TF_CONFIG"):
        _, chief = parse_tf_config(os.environ["TF_CONFIG"])
        strategy = _fix_multi_worker_reduce(tf.distribute.MultiWorkerMirroredStrategy())
        return Distribution("multi_worker", strategy.num_replicas_in_sync, chief, strategy)
    if devices is not None and len(devices) >= 2:
        strategy = tf.distribute.MirroredStrategy(devices)
    elif devices is None and len(gpu_devices()) >= 2:
        strategy = tf.distribute.MirroredStrategy()
    else:
        return Distribution("single", 1, True, tf.distribute.get_strategy())
    return Distribution("mirrored", strategy.num_replicas_in_sync, True, strategy)


def _fix_multi_worker_reduce(strategy: Any) -> Any:
    """Let Keras 3 ``fit`` run under MultiWorkerMirroredStrategy (keras-team/keras#20585).

    Keras 3.15 calls ``strategy.reduce`` on a whole (x, y) batch structure and with
    ``axis=0`` on scalar losses; MWMS accepts neither (single-host MirroredStrategy does).
    This instance-level wrapper reduces leaf by leaf and drops the axis for scalars.
    """
    import tensorflow as tf
    reduce = strategy.reduce

    def leaf(op: Any, value: Any, axis: int | None) -> Any:
        local = strategy.experimental_local_results(value)
        if axis is not None and all(t.shape.rank == 0 for t in local):
            axis = None
        dtype = local[0].dtype if local else None
        if dtype is not None and dtype not in _COLLECTIVE_DTYPES:
            # the collective ops take float/int32/int64 only, and Keras reduces a first batch of
            # selib's uint8 images only to read its shape and dtype (``_symbolic_build``): one
            # replica's tensor has both
            return local[0]
        return reduce(op, value, axis)

    _COLLECTIVE_DTYPES = (tf.bfloat16, tf.float16, tf.float32, tf.float64, tf.int32, tf.int64)

    strategy.reduce = lambda op, value, axis=None: tf.nest.map_structure(
        lambda v: leaf(op, v, axis), value)
    return strategy


def logical_cpus(n: int) -> list[str]:
    """Split the CPU into ``n`` logical devices, to test multi-device code without GPUs.

    Must run before the backend initialises its devices (TensorFlow: before any op or device
    listing; JAX: before the first ``jax.devices()``), else RuntimeError. Returns device strings
    for ``make_distribution``.
    """
    name = backend_name()
    if name == "tensorflow":
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(n)])
        return [f"/cpu:{i}" for i in range(n)]
    if name == "jax":  # XLA reads the flag when jax first initialises its backends
        flag = f"--xla_force_host_platform_device_count={n}"
        os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {flag}".strip()
        import jax
        if len(jax.devices("cpu")) < n:
            raise RuntimeError("JAX devices were initialised before logical_cpus() was called")
        return [f"cpu:{i}" for i in range(n)]
    raise RuntimeError(f"logical_cpus is not supported on backend {name!r}")


def device_summary() -> dict:
    """JSON-serialisable description of where a run happened, for metrics.json."""
    name, gpus = backend_name(), gpu_devices()
    version = getattr(sys.modules.get(name), "__version__", None)  # loaded by keras itself
    return {"backend": name, "keras_version": keras.__version__, "backend_version": version,
            "gpus": gpus, "cpu_count": os.cpu_count(), "cpu_bf16": cpu_has_bf16(),
            "machine": platform.machine(), "auto_precision": choose_precision("auto", gpus=gpus)}
