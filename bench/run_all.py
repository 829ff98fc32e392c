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
``gpu_profiles`` skips itself without a GPU. At the end it prints a summary of the headline numbers
against the goals and writes it to ``<results>/summary.md`` (Markdown, ready for the README).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
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
    "bench_input_pipeline": ([], ["--tiny"]),
    # the loader benchmark has no --tiny: its own smoke-test setting
    "bench_loader": ([], ["--n", "6", "--min-px", "200", "--max-px", "320", "--sizes", "32",
                          "--no-realdata", "--sample", "3"]),
    "time_to_accuracy": ([], ["--tiny"]),
    # tiny: the gpu profile's code path, shrunk, on a CPU too
    "gpu_profiles": ([], ["--tiny", "--allow-cpu", "--parts", "profile"]),
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


# ---------------------------------------------------------------------------------------------
# Summary: one line per benchmark, from its JSON.
# ---------------------------------------------------------------------------------------------
def _met(goal: dict) -> str:
    on = f" ({goal['judged_on']} time)" if goal.get("judged_on") else ""
    return ("met" if goal["met"] else "**missed**") + on


def _x(v) -> str:
    return "–" if v is None else f"{v:.2f}x"


def _tta_headline(r: dict) -> tuple[str, str, str]:
    """Side by side: each arm's saved-model accuracy and time, and the first arm's goal ratios;
    a single run (no ``summary``): its thresholds."""
    if "summary" not in r:
        parts = [f"{k} %: {v['seconds']:.0f} s" if v else f"{k} %: not reached" for k, v in r["reached"].items()]
        return (f"{r['params']['profile']} profile: " + ", ".join(parts), "—", "—")
    parts = [f"{label} {100 * a['saved_model_accuracy']['mean']:.2f} % in {a['saved_model_seconds']['mean'] / 60:.1f} min "
             f"({len(a['seeds'])} seeds)" for label, a in r["summary"].items()]
    for label, q in list((r.get("ratios") or {}).items())[:1]:
        parts.append(f"{label}/baseline: saved model {_x(q['saved_model_97']['ratio_of_means'])}, "
                     f"first 95 % {_x(q['first_95']['ratio_of_means'])}")
    goal = r.get("goal")
    return ("; ".join(parts), "97 % ≤ 0.55x, 95 % ≤ 0.50x" if goal else "—", _met(goal) if goal else "—")


def _measured(r: dict) -> str:
    m = r.get("machine", {})
    load = m.get("load_avg_at_start")
    when = m["date"][:16] if m.get("date") else "date not recorded"
    return when + (f", load {load:.2f}" if load is not None else "")


def headline(name: str, r: dict) -> tuple[str, str, str]:
    """(result, goal, met) for the summary table."""
    if name == "bench_vs_keras":
        t, i = r["results"]["train"]["selib_over_keras"], r["results"]["inference"]["selib_over_keras"]
        return (f"selib/Keras images/s: training {t['wall']:.3f}x wall, {t['cpu']:.3f}x CPU time; "
                f"inference {i['wall']:.3f}x wall, {i['cpu']:.3f}x CPU time", "≥ 1.0x (training)",
                _met(r["goal"]))
    if name == "bench_se_overhead":
        parts = [f"{x['size']}²: train {x['train_ratios']['wall']:.3f}x wall / {x['train_ratios']['cpu']:.3f}x CPU, "
                 f"1-image {x['latency_ratios']['wall']:.3f}x / {x['latency_ratios']['cpu']:.3f}x"
                 for x in r["results"]]
        paper = r["paper"]      # bench_se_overhead's copy of selib.studies.paper's timings
        return (f"SE/no-SE ({r['params']['model']} network) " + "; ".join(parts)
                + f" (paper {paper['train_ms']['ratio']:.2f}x train, "
                f"{paper['cpu_inference_ms']['ratio']:.2f}x CPU inference)", "≤ 1.05x",
                _met({**r["goal"], "judged_on": "/".join(sorted({x["judged_on"] for x in r["results"]}))}))
    if name == "bench_machine_limit":
        parts = [f"{x['network']} {100 * x['fraction_wall']:.0f} % (wall) / {100 * x['fraction_cpu']:.0f} % (CPU)"
                 for x in r["training"]]
        return (f"training at " + ", ".join(parts) + f" of the {r['peak'].get('dtype', 'float32')} matmul peak "
                f"({r['peak']['peak_gflops']:.0f} GFLOP/s, {r['peak']['peak_gflops_per_cpu_second']:.0f} "
                f"GFLOP per CPU-second)", "≥ 75 %", _met(r["goal"]))
    if name == "bench_input_pipeline":
        parts = [f"{k} {v['ratios_to_tensors']['wall']:.3f}x wall / {v['ratios_to_tensors']['cpu']:.3f}x CPU"
                 for k, v in r["results"].items() if k != "tensors"]
        return ("steps/s vs pre-made tensors: " + ", ".join(parts), "selib ≥ 0.95x", _met(r["goal"]))
    if name == "bench_loader":
        parts = [f"{x['size']} px: cold {x['speedup_cold']:.1f}x, cached {x['speedup_cached']:.0f}x"
                 for x in r["results"]]
        return ("loader vs the seed's loop: " + "; ".join(parts), "—", "—")
    if name == "time_to_accuracy":
        return _tta_headline(r)
    if name == "se_on_real":
        if r.get("skipped"):
            return (f"skipped: {r['reason']}", "—", "—")
        s = r["summary"]
        lo, hi = s["paired_difference"]["ci95"]
        return (f"SE − no SE over {s['pairs']} paired seeds: {s['paired_difference']['mean']:+.2f} points "
                f"(95 % CI {lo:+.2f} to {hi:+.2f}); {s['verdict']}", "—", "—")
    if name == "gpu_profiles":
        if r.get("skipped"):
            return ("no GPU: skipped", "—", "—")
        parts = [f"{x['profile']}: {100 * (x['test_accuracy'] or 0):.1f} % in {x['train_call_seconds']:.0f} s "
                 f"({x['steady_train_images_per_s'] or 0:.0f} img/s)" for x in r["runs"]]
        return ("; ".join(parts), "—", "—")
    return ("", "—", "—")


def summary(results: Path, ran: dict[str, tuple[bool, float, str]], machine: dict | None) -> str:
    """The table; ``machine`` is where these rows ran now, None when they were only read back."""
    if machine is None:
        head = (f"Rebuilt on {C.utc_now()} from the JSON files in this folder (`run_all.py --summary-only`): "
                "each row was measured when and under the load its own row says, on the machine its JSON names.")
    else:
        load = machine.get("load_avg_at_start")
        busy = " (more than the CPU count: other jobs shared the cores)" if load and load > machine["usable_cpus"] else ""
        head = (f"Machine: {machine['usable_cpus']} CPUs ({machine['cpu']}), TensorFlow {machine['tensorflow']}, "
                f"Keras {machine['keras']}; {machine['date']}; load average {load} at start{busy}.")
    lines = [head, "",
             "| benchmark | result | goal | met | measured | time |", "|---|---|---|---|---|---:|"]
    for name, (ok, secs, err) in ran.items():
        path = results / f"{name}.json"
        if not ok:
            lines.append(f"| `{name}` | FAILED: {err} | | | | {secs:.0f} s |")
            continue
        if err.startswith("skipped"):
            lines.append(f"| `{name}` | {err} | | | | |")
            continue
        try:
            r = json.loads(path.read_text())
            (res, goal, met), when = headline(name, r), _measured(r)
        except (OSError, KeyError, ValueError, TypeError) as e:
            res, goal, met, when = f"(no summary: {type(e).__name__} {e})", "", "", ""
        lines.append(f"| `{name}` | {res} | {goal} | {met} | {when} | {'' if secs != secs else f'{secs:.0f} s'} |")
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
    ap.add_argument("--summary-only", action="store_true",
                    help="run nothing: rebuild summary.md from the JSON files already in --results")
    a = ap.parse_args(argv)
    names = [n for n in (a.only or BENCHMARKS) if n not in a.skip]
    a.results.mkdir(parents=True, exist_ok=True)
    machine = None if a.summary_only else C.machine_info()
    ran: dict[str, tuple[bool, float, str]] = {}
    if a.summary_only:   # nothing runs: the header says so, each row keeps its own date
        ran = {name: (True, float("nan"), "") for name in names if (a.results / f"{name}.json").exists()}
        names = []
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
    text = summary(a.results, ran, machine)
    print("\n=== summary\n" + text)
    C.write_text(a.results / "summary.md", text)
    return 0 if all(ok for ok, _, _ in ran.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
