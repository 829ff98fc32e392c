"""selib.hardware: CPU/GPU detection, precision and distribution on each backend.

Anything that configures devices runs in a fresh subprocess (TensorFlow and JAX fix their device
list at first use). Here and there selib/hardware.py is loaded by path, so the module is tested
alone, with nothing else from selib imported.
"""
from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import pytest

REPO = Path(__file__).resolve().parents[1]
HARDWARE = REPO / "selib" / "hardware.py"


def _load_hardware():
    """selib/hardware.py on its own: it imports nothing from selib, so neither do its tests."""
    spec = importlib.util.spec_from_file_location("selib_hardware_under_test", HARDWARE)
    module = sys.modules[spec.name] = importlib.util.module_from_spec(spec)  # for @dataclass
    spec.loader.exec_module(module)
    return module


hw = _load_hardware()
HAS_JAX = importlib.util.find_spec("jax") is not None
needs_jax = pytest.mark.skipif(not HAS_JAX, reason="jax is not installed")

PRELUDE = f"""
import importlib.util, json, sys
import numpy as np
import keras
_spec = importlib.util.spec_from_file_location("hardware", {str(HARDWARE)!r})
hw = sys.modules["hardware"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hw)
"""


def _env(backend: str, **extra: str) -> dict:
    return {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3", **extra}


def script(*parts: str) -> str:
    return "\n".join(textwrap.dedent(part) for part in parts)


def run_script(code: str, backend: str = "tensorflow", timeout: int = 120, **env: str) -> dict:
    """Run PRELUDE + code in a fresh interpreter; its last stdout line is JSON."""
    proc = subprocess.run([sys.executable, "-c", PRELUDE + code], cwd=REPO,
                          env=_env(backend, **env), capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --- CPU flags and precision -------------------------------------------------------------------

@pytest.mark.parametrize("flags, expected", [
    ({"fpu", "avx2", "avx512f", "avx512_bf16"}, True),   # Cooper Lake / Zen 4
    ({"avx2", "amx_tile", "amx_bf16"}, True),            # Sapphire Rapids AMX
    ({"AVX512_BF16"}, True),                             # case does not matter
    ({"fpu", "avx2", "avx512f", "avx512_vnni"}, False),  # AVX-512 without bf16
    ({"fp", "asimd", "sve", "bf16"}, True),              # Linux ARM (Graviton 3)
    ({"feat_bf16", "neon"}, True),                       # macOS Apple M2+
    ({"neon", "feat_fp16"}, False),                      # Apple M1
    (set(), False),
])
def test_cpu_has_bf16(flags, expected):
    assert hw.cpu_has_bf16(flags) is expected


class _FakeFile:
    def __init__(self, text: str):
        self.lines = text.splitlines(keepends=True)

    def __enter__(self):
        return iter(self.lines)

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize("cpuinfo, flag", [
    ("processor\t: 0\nflags\t\t: fpu avx2 AMX_BF16\n", "amx_bf16"),
    ("processor\t: 0\nFeatures\t: fp asimd bf16\nCPU part\t: 0xd40\n", "bf16"),
])
def test_cpu_flags_linux(monkeypatch, cpuinfo, flag):
    monkeypatch.setattr(hw.sys, "platform", "linux")
    monkeypatch.setattr(hw, "open", lambda *a, **k: _FakeFile(cpuinfo), raising=False)
    assert flag in hw.cpu_flags()
    assert hw.cpu_has_bf16()


def test_cpu_flags_macos(monkeypatch):
    out = "hw.optional.arm.FEAT_BF16: 1\nhw.optional.arm.FEAT_SME: 0\nhw.optional.neon: 1\nhw.ncpu: 8\n"
    monkeypatch.setattr(hw.sys, "platform", "darwin")
    monkeypatch.setattr(hw.subprocess, "run",
                        lambda *a, **k: subprocess.CompletedProcess(a, 0, stdout=out, stderr=""))
    assert hw.cpu_flags() == {"feat_bf16", "neon"}


def test_cpu_model_and_speed_flags_read_cpuinfo(monkeypatch):
    info = "processor\t: 0\nmodel name\t: Test CPU 9000\nflags\t\t: fpu sse4_2 avx2 fma lahf_lm avx\n"
    monkeypatch.setattr(hw.sys, "platform", "linux")
    monkeypatch.setattr(hw, "open", lambda *a, **k: _FakeFile(info), raising=False)
    assert hw.cpu_model() == "Test CPU 9000"
    assert hw.speed_flags() == ["avx", "avx2", "fma", "sse4_2"]     # sorted, the noise (fpu, lahf_lm) left out


def test_cpu_flags_real_machine_is_a_set():
    assert isinstance(hw.cpu_flags(), set)
    assert isinstance(hw.gpu_devices(), list)  # never raises on a CPU-only machine


@pytest.mark.parametrize("gpus, flags, expected", [
    (["/gpu:0"], set(), "mixed_float16"),
    (["/gpu:0"], {"amx_bf16"}, "mixed_float16"),
    ([], {"avx512_bf16"}, "mixed_bfloat16"),
    ([], {"bf16"}, "mixed_bfloat16"),
    ([], {"avx2"}, "float32"),
])
def test_choose_precision_auto(gpus, flags, expected):
    assert hw.choose_precision("auto", gpus=gpus, flags=flags) == expected


@pytest.mark.parametrize("setting", ["float32", "mixed_float16", "mixed_bfloat16"])
def test_choose_precision_forced(setting):
    assert hw.choose_precision(setting, gpus=["/gpu:0"], flags={"amx_bf16"}) == setting
    assert hw.choose_precision(setting, gpus=[], flags=set()) == setting


def test_choose_precision_bad_setting_lists_choices():
    with pytest.raises(ValueError) as err:
        hw.choose_precision("fp16")
    for choice in hw.PRECISIONS:
        assert choice in str(err.value)


def test_precision_policy_restores_after_error():
    before = keras.mixed_precision.global_policy().name
    with pytest.raises(RuntimeError):
        with hw.precision_policy("mixed_bfloat16"):
            assert keras.mixed_precision.global_policy().name == "mixed_bfloat16"
            assert keras.layers.Dense(2).dtype_policy.compute_dtype == "bfloat16"
            raise RuntimeError("boom")
    assert keras.mixed_precision.global_policy().name == before


def test_device_summary_is_json():
    summary = json.loads(json.dumps(hw.device_summary()))
    assert summary["backend"] == keras.backend.backend()
    assert summary["keras_version"] == keras.__version__
    assert summary["auto_precision"] in hw.PRECISIONS


# --- distribution ------------------------------------------------------------------------------

def _cluster(n: int) -> dict:
    return {"worker": [f"localhost:{2000 + i}" for i in range(n)]}


@pytest.mark.parametrize("config, expected", [
    (None, (1, True)),
    ({"cluster": _cluster(2), "task": {"type": "worker", "index": 0}}, (2, True)),
    ({"cluster": _cluster(2), "task": {"type": "worker", "index": 1}}, (2, False)),
    ({"cluster": {**_cluster(2), "chief": ["h:1"]}, "task": {"type": "chief", "index": 0}},
     (3, True)),
    ({"cluster": {**_cluster(2), "chief": ["h:1"]}, "task": {"type": "worker", "index": 0}},
     (3, False)),
    ({"cluster": {**_cluster(2), "evaluator": ["h:1"]}, "task": {"type": "evaluator"}},
     (2, False)),
])
def test_parse_tf_config(config, expected):
    assert hw.parse_tf_config(json.dumps(config) if config else None) == expected


def test_single_device_distribution(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    dist = hw.make_distribution(devices=[])
    assert (dist.kind, dist.replicas, dist.is_chief) == ("single", 1, True)
    with dist.scope():
        keras.layers.Dense(1).build((None, 2))


TINY_FIT = """
with dist.scope():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4, activation="relu"),
                              keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.1), "mse")
    before = model.get_weights()[0].copy()
    x = np.random.default_rng(0).random((16, 4), dtype="float32")
    hist = model.fit(x, x.sum(1, keepdims=True), batch_size=8, epochs=EPOCHS, verbose=0)
moved = float(np.abs(model.get_weights()[0] - before).max())
result = {"kind": dist.kind, "replicas": dist.replicas, "chief": dist.is_chief, "moved": moved,
          "loss": hist.history["loss"]}
"""


@pytest.mark.full   # notebook 04 trains selib under the same strategy (and test_backends does in make test-full)
def test_tensorflow_mirrored_on_two_logical_cpus():
    out = run_script(script("""
        devices = hw.logical_cpus(2)
        dist = hw.make_distribution(devices)
        EPOCHS = 1
    """, TINY_FIT, "print(json.dumps(result))"))
    assert (out["kind"], out["replicas"], out["chief"]) == ("mirrored", 2, True)
    assert out["moved"] > 0 and len(out["loss"]) == 1


@needs_jax
def test_jax_data_parallel_on_two_cpus():
    code = script("""
        devices = keras.distribution.list_devices("cpu")
        dist = hw.make_distribution(devices)
        EPOCHS = 1
    """, TINY_FIT, """
        result["outside"] = repr(keras.distribution.distribution())
        result["tf_imported"] = "tensorflow" in sys.modules
        result["summary"] = hw.device_summary()
        print(json.dumps(result))
    """)
    out = run_script(code, backend="jax", XLA_FLAGS="--xla_force_host_platform_device_count=2")
    assert (out["kind"], out["replicas"], out["chief"]) == ("data_parallel", 2, True)
    assert out["moved"] > 0 and len(out["loss"]) == 1
    assert out["outside"] == "None"  # scope() restored the previous (no) distribution
    assert not out["tf_imported"]
    assert out["summary"]["backend"] == "jax" and out["summary"]["gpus"] == []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


@pytest.mark.slow
@pytest.mark.full   # test_backends' two-worker `selib train` covers the same strategy end to end
def test_tensorflow_multi_worker_two_processes():
    code = PRELUDE + script("""
        dist = hw.make_distribution()
        EPOCHS = 2
    """, TINY_FIT, "print(json.dumps(result))")
    cluster = {"worker": [f"localhost:{_free_port()}", f"localhost:{_free_port()}"]}
    procs = [subprocess.Popen(
        [sys.executable, "-c", code], cwd=REPO, text=True, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, env=_env("tensorflow", TF_CONFIG=json.dumps(
            {"cluster": cluster, "task": {"type": "worker", "index": i}})))
        for i in range(2)]
    outs = []
    try:
        for proc in procs:
            stdout, stderr = proc.communicate(timeout=90)
            assert proc.returncode == 0, stderr[-4000:]
            outs.append(json.loads(stdout.strip().splitlines()[-1]))
    finally:
        for proc in procs:
            proc.kill()
    assert [o["kind"] for o in outs] == ["multi_worker"] * 2
    assert [o["replicas"] for o in outs] == [2, 2]
    assert [o["chief"] for o in outs] == [True, False]
    assert [len(o["loss"]) for o in outs] == [2, 2]
    assert outs[0]["loss"] == pytest.approx(outs[1]["loss"])  # gradients were all-reduced
