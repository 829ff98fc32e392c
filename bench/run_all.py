"""Run every benchmark at its default setting, print the tables, write bench/results/<name>.json.

    python bench/run_all.py                                  # all of them (time-to-accuracy ~10 min)
    python bench/run_all.py --skip time_to_accuracy          # the quick ones (~10 min on 2 cores)
    python bench/run_all.py --only bench_vs_keras bench_se_overhead
    python bench/run_all.py --data ../shared/realdata        # time-to-accuracy on these photos
    python bench/run_all.py --tiny --results /tmp/r          # every script on its smoke setting

Each benchmark runs in its own Python process (a fresh TensorFlow: thread pools, oneDNN and
memory start clean); ``--in-process`` imports and calls them in this one instead (what the smoke
test does, to pay for one TensorFlow start-up). ``time_to_accuracy`` needs a photo folder
(``--data``, default ``../shared/realdata`` when present) and is skipped without one;
``gpu_profiles`` skips itself without a GPU. At the end it prints which scripts ran, failed or
were skipped; ``python bench/report.py`` (``make report``) then turns the JSON files into
``docs/results.md`` and the README's results table.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

BENCH = Path(__file__).resolve().parent

# name -> (arguments at the default setting, arguments for --tiny)
BENCHMARKS: dict[str, tuple[list[str], list[str]]] = {
    "bench_vs_keras": ([], ["--tiny"]),
    "bench_se_overhead": ([], ["--tiny"]),
    "bench_machine_limit": ([], ["--tiny"]),
    # the loader benchmark has no --tiny: its own smoke-test setting
    "bench_loader": ([], ["--n", "6", "--min-px", "200", "--max-px", "320", "--sizes", "32",
                          "--no-realdata", "--sample", "3"]),
    "time_to_accuracy": ([], ["--tiny"]),
    # tiny: the gpu profile's code path, shrunk, on a CPU too
    "gpu_profiles": ([], ["--tiny", "--allow-cpu", "--profiles", "gpu"]),
    # SE vs no SE on photos (paired seeds): skips itself without ../shared/realdata or --data
    "se_on_real": ([], ["--tiny"]),
}


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_one(name: str, args: list[str], json_path: Path, in_process: bool) -> tuple[bool, float, str]:
    argv = [*args, "--json", str(json_path)]
    t0 = time.perf_counter()
    print(f"\n=== {name} {' '.join(args)}", flush=True)
    if in_process:
        try:
            _load(name).main(argv)
            ok, err = True, ""
        except SystemExit as e:          # argparse errors, explicit exits
            ok, err = e.code in (0, None), f"exit {e.code}"
        except Exception as e:  # noqa: BLE001 — report and carry on with the next benchmark
            import traceback

            traceback.print_exc()
            ok, err = False, f"{type(e).__name__}: {e}"
    else:
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3"),
               "PYTHONWARNINGS": os.environ.get("PYTHONWARNINGS", "ignore")}
        p = subprocess.run([sys.executable, str(BENCH / f"{name}.py"), *argv], env=env)
        ok, err = p.returncode == 0, "" if p.returncode == 0 else f"exit {p.returncode}"
    return ok, time.perf_counter() - t0, err


def outcome(ran: dict[str, tuple[bool, float, str]]) -> str:
    """One line per script: ok (with its time), skipped or FAILED (with why)."""
    lines = []
    for name, (ok, secs, err) in ran.items():
        state = err if err.startswith("skipped") else ("ok" if ok else f"FAILED: {err}")
        lines.append(f"{name:<22} {state}" + (f" ({secs:.0f} s)" if ok and not err else ""))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", nargs="+", choices=list(BENCHMARKS), help="run only these")
    ap.add_argument("--skip", nargs="+", choices=list(BENCHMARKS), default=[], help="leave these out")
    ap.add_argument("--tiny", action="store_true", help="every script on its seconds-long smoke setting")
    ap.add_argument("--results", type=Path, default=C.RESULTS, help="where the JSON files go")
    default_data = C.REPO.parent / "shared" / "realdata"
    ap.add_argument("--data", type=Path, default=default_data if default_data.is_dir() else None,
                    help="photo folder for time_to_accuracy (default ../shared/realdata if present)")
    ap.add_argument("--in-process", action="store_true", help="run them in this process (tests)")
    a = ap.parse_args(argv)
    names = [n for n in (a.only or BENCHMARKS) if n not in a.skip]
    a.results.mkdir(parents=True, exist_ok=True)
    ran: dict[str, tuple[bool, float, str]] = {}
    for name in names:
        default, tiny = BENCHMARKS[name]
        args = list(tiny if a.tiny else default)
        if name in ("time_to_accuracy", "se_on_real") and not a.tiny:
            if a.data is None:
                print(f"\n=== {name}: skipped (no --data folder)", flush=True)
                ran[name] = (True, 0.0, "skipped: no --data folder")
                continue
            args += ["--data", str(a.data)]
        ran[name] = run_one(name, args, a.results / f"{name}.json", a.in_process)
    print("\n=== outcome\n" + outcome(ran))
    if a.results.resolve() == C.RESULTS.resolve():
        print("next: `python bench/report.py` rewrites docs/results.md and the README table")
    return 0 if all(ok for ok, _, _ in ran.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
