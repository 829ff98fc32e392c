"""Write ``docs/results.md`` and the README's headline table from the committed result JSON.

    python bench/report.py            # rewrite docs/results.md and the README block
    python bench/report.py --check    # change nothing; exit 1 if either is out of date
    make report                       # the same as the first line

Every published number comes from a file in ``bench/results/`` (or a study result the notebooks
write, see :data:`EXTRA_RESULTS`), so the pages cannot drift from their data: ``tests/test_report.py``
regenerates both in memory and fails when the committed text differs. Each result gets one
summary row (what it measured, its data, hardware, date and command) and a section with the
detail; a JSON file that no renderer knows yet still gets its provenance row, so nothing
committed goes unlisted.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
PAGE = REPO / "docs" / "results.md"
README = REPO / "README.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"

REAL = "3 real classes (chair, office_chair, sofa)"
SYNTH = "synthchairs (built in)"
GENERATED = "generated inputs (no data set needed)"


# ---------------------------------------------------------------------------------------------
# Small formatting helpers
# ---------------------------------------------------------------------------------------------
def pct(x: float | None, digits: int = 2) -> str:
    return "–" if x is None else f"{100 * x:.{digits}f} %"


def ratio(x: float | None, digits: int = 2) -> str:
    return "–" if x is None else f"{x:.{digits}f}×"


def minutes(s: float | None) -> str:
    return "–" if s is None else f"{s / 60:.1f} min"


def table(headers: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table (pipes in cells escaped)."""
    esc = lambda c: str(c).replace("|", "\\|")
    return (["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
            + ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows])


def signed(x: float) -> str:
    """+0.25 / −0.89: a typographic minus, as in the prose."""
    return f"{x:+.2f}".replace("-", "−")


def code(cmd: str) -> str:
    return f"`{cmd}`"


# ---------------------------------------------------------------------------------------------
# Provenance: command, hardware, date — read from the JSON only
# ---------------------------------------------------------------------------------------------
def machine(r: dict) -> dict:
    return r.get("machine") or {}


def hardware(r: dict) -> str:
    """CPU model, cores and instruction-set flags, or the GPU; what a reader needs to compare."""
    m = machine(r)
    gpus = m.get("gpus") or ([r["gpu"]] if r.get("gpu") else [])
    device = r.get("device") if isinstance(r.get("device"), dict) else {}
    gpus = gpus or [str(g) for g in device.get("gpus") or []]
    if gpus:
        backend = m.get("backend") or r.get("backend") or device.get("backend") or ""
        return f"GPU: {', '.join(map(str, gpus))}" + (f" ({backend})" if backend else "")
    cpu = m.get("cpu") or "CPU model not recorded"
    cores = m.get("usable_cpus") or m.get("cpus")
    text = f"{cores}-core {cpu}" if cores else cpu
    return f"{text}, {cpu_flags(m)}"


def cpu_flags(m: dict) -> str:
    if m.get("cpu_isa") is not None:
        return "flags: " + (", ".join(m["cpu_isa"]) or "none of AVX2/AVX-512/BF16")
    if "cpu_flags_bf16" not in m and "cpu_bf16" in m:
        return "bfloat16 in hardware" if m["cpu_bf16"] else "no bfloat16 (float32 only)"
    if "cpu_flags_bf16" in m:
        bf16 = m["cpu_flags_bf16"]
        return f"flags: {', '.join(bf16)}" if bf16 else "no bfloat16 flags (float32 only)"
    return "flags not recorded"


def software(r: dict) -> str:
    m = machine(r)
    parts = [f"{k} {m[k]}" for k in ("tensorflow", "keras", "python") if m.get(k)]
    if not parts and r.get("keras"):
        parts = [f"keras {r['keras']}", str(r.get("backend", ""))]
    return ", ".join(p for p in parts if p) or "not recorded"


def date(r: dict) -> str:
    return str(machine(r).get("date") or r.get("date") or "not recorded")


def command(r: dict) -> str:
    return str(r.get("command") or "not recorded")


# ---------------------------------------------------------------------------------------------
# One renderer per kind of result: (headline rows, detail lines)
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Headline:
    """One line of the summary table: what was asked, what came out, on which data."""

    question: str
    result: str
    data: str


Rendered = tuple[list[Headline], list[str]]


def vs_keras(r: dict) -> Rendered:
    res, chk = r["results"], r["check"]
    t, i = res["train"]["selib_over_keras"], res["inference"]["selib_over_keras"]
    p = r["params"]
    head = Headline("the original report's network in selib against plain Keras",
                    f"training speed {ratio(t['cpu'], 3)} (CPU time), identical outputs", GENERATED)
    detail = table(["measure", "selib", "plain Keras", "selib / Keras"], [
        ["parameters", f"{chk['parameters']['selib']:,}", f"{chk['parameters']['keras']:,}", "same"],
        ["largest output difference, same weights", f"{chk['max_abs_output_diff_same_weights']:g}", "", ""],
        ["training images/s (median)", f"{res['train']['selib']['images_per_s']['median']:.1f}",
         f"{res['train']['keras']['images_per_s']['median']:.1f}",
         f"{ratio(t['wall'], 3)} wall, {ratio(t['cpu'], 3)} CPU time"],
        ["inference", "", "", f"{ratio(i['wall'], 3)} wall, {ratio(i['cpu'], 3)} CPU time"],
    ])
    note = f"Input {p['size']}×{p['size']}×{p['channels']}, batch {p['batch']}, {p['repeats']} interleaved repeats."
    return [head], [note, "", *detail]


def se_overhead(r: dict) -> Rendered:
    rows, heads = [], []
    for x in r["results"]:
        tr, lat = x["train_ratios"], x["latency_ratios"]
        rows.append([f"{x['size']}²", f"{ratio(tr['wall'], 3)} / {ratio(tr['cpu'], 3)}",
                     f"{ratio(lat['wall'], 3)} / {ratio(lat['cpu'], 3)}",
                     f"+{100 * (x['macs_ratio'] - 1):.2f} %", f"+{100 * (x['params_ratio'] - 1):.2f} %"])
    paper = r["paper"]
    rows.append(["paper (ResNet-50, 224²)", f"{ratio(paper['train_ms']['ratio'])} (GPU)",
                 f"{ratio(paper['cpu_inference_ms']['ratio'])} (CPU)", "", ""])
    first = r["results"][0]
    heads.append(Headline("what SE costs (the original report's network, with and without SE)",
                          f"training step {ratio(first['train_ratios']['cpu'], 3)} at {first['size']}² "
                          f"(paper: {ratio(paper['train_ms']['ratio'])}); "
                          f"multiply-adds +{100 * (first['macs_ratio'] - 1):.1f} %", GENERATED))
    p = r["params"]
    detail = [f"Network `{p['model']}` (the original report's), batch {p['batch']}, {p['channels']} channel(s). Ratios are SE / no SE, "
              "wall time / CPU time, medians of paired repeats.", "",
              *table(["input", "training step", "1-image inference", "multiply-adds", "parameters"], rows)]
    return heads, detail


def machine_limit(r: dict) -> Rendered:
    pk = r["peak"]
    rows = [[x["network"], f"{x.get('precision', pk.get('precision', 'float32'))}",
             f"{x['achieved_gflops']['median']:.0f}", pct(x["fraction_wall"], 0), pct(x["fraction_cpu"], 0)]
            for x in r["training"]]
    detail = [f"Matmul peak ({pk.get('dtype', 'float32')}, `tf.matmul`): {pk['peak_gflops']:.0f} GFLOP/s. "
              "Training FLOPs = 3 × forward FLOPs (`selib.count_flops`).", "",
              *table(["network", "precision", "training GFLOP/s", "% of peak (wall)", "% of peak (CPU time)"], rows)]
    for op in r.get("op_profile") or []:
        shares = sorted(op["op_share"].items(), key=lambda kv: -kv[1])
        detail += ["", f"Where a `{op['network']}` training step goes (TensorFlow profiler): "
                   + ", ".join(f"{k} {pct(v, 0)}" for k, v in shares) + "."]
    best = max(r["training"], key=lambda x: x["fraction_wall"])
    head = Headline("how close training comes to the CPU's matmul peak",
                    f"{pct(best['fraction_wall'], 0)} of the {pk.get('dtype', 'float32')} peak "
                    f"({best['network']} network)", GENERATED)
    return [head], detail


def machine_limit_investigation(r: dict) -> Rendered:
    rows = [[x["variant"], pct(x["fraction_cpu"], 0)] for x in r["investigation"] if "fraction_cpu" in x]
    detail = [f"Network `{r['params']['investigate_network']}`; each setting in a fresh process; "
              "percent of the float32 matmul peak per CPU-second.", "",
              *table(["setting", "% of peak"], rows)]
    best = max(r["investigation"], key=lambda x: x.get("fraction_cpu", 0))
    return [Headline("which setting brings training closest to the peak",
                     f"{best['variant']}: {pct(best['fraction_cpu'], 0)}", GENERATED)], detail


def loader(r: dict) -> Rendered:
    rows = [[str(x["size"]), f"{x['seed_wall_s']:.1f} s", f"{x['selib_cold_wall_s']:.1f} s",
             f"{x['decode_ceiling_wall_s']:.1f} s", f"{x['selib_cached_wall_s']:.2f} s",
             ratio(x["speedup_cold"], 1), ratio(x["speedup_ceiling"], 1), ratio(x["speedup_cached"], 0)]
            for x in r["results"]]
    p = r["params"]
    detail = [f"{p['n']:,} generated photo-like JPEGs ({p['min_px']:,}–{p['max_px']:,} px) loaded in grayscale by "
              "selib and by the original report's loop (`cv2.imread` + `cv2.resize`, one thread). The decode "
              "ceiling is the JPEG decodes alone on every core: the fastest any cold loader can be.", "",
              *table(["size", "report's loop", "selib cold", "decode ceiling", "selib cached",
                      "cold speed-up", "ceiling speed-up", "cached speed-up"], rows)]
    real = r.get("realdata")
    if real:
        rrows = [[str(s["size"]), f"{s['seed_wall_s']:.2f} s", f"{s['load_cold_wall_s']:.2f} s",
                  f"{s['load_cached_wall_s']:.2f} s"] for s in real["sizes"]]
        detail += ["", f"On {real['seen']:,} photos of {REAL} (scan {real['scan_wall_s']:.1f} s):", "",
                   *table(["size", "report's loop", "selib cold", "selib cached"], rrows)]
    x = r["results"][0]
    return [Headline("loading photos against the original report's loop",
                     f"cached {ratio(x['speedup_cached'], 0)}, cold {ratio(x['speedup_cold'], 1)} "
                     f"(ceiling {ratio(x['speedup_ceiling'], 1)}) at {x['size']} px", GENERATED)], detail


def _ema(arm: dict) -> str:
    optim = (arm.get("config") or {}).get("optim") or {}
    if not optim:
        return "–"
    if not optim.get("use_ema"):
        return "none"
    mode = optim.get("ema_mode", "overwrite")   # recorded before ema_mode existed: Keras' own
    return {"evaluate": "warmed up, evaluation only", "overwrite": "Keras' own"}.get(mode, mode)


def _first(s: dict, k: str) -> str:
    f = (s.get("first_reached") or {}).get(k)
    if not f or f.get("mean_seconds") is None:
        return "not reached"
    return f"{minutes(f['mean_seconds'])} ({f['reached_in']} of {f['of']})"


def time_to_accuracy(r: dict) -> Rendered:
    arms = {a["label"]: a for a in r["params"].get("arms", [])}
    rows = []
    for label, s in r["summary"].items():
        acc = s["saved_model_accuracy"]
        seeds = ", ".join(map(str, s["seeds"]))
        spread = "" if acc.get("sd") is None else f" ± {100 * acc['sd']:.2f}"
        rows.append([label, ", ".join(s["precision"]), _ema(arms.get(label, {})), str(s["epochs"]),
                     f"{pct(acc['mean'])}{spread} (seeds {seeds})", minutes(s["saved_model_seconds"]["mean"]),
                     _first(s, "95"), _first(s, "97"), f"{s['mean_epoch_seconds']:.1f}",
                     f"{s.get('others_cores_mean', float('nan')):.2f}"])
    detail = ["Test accuracy of the saved (best-validation) model, and the training minutes to it and "
              "to the first epoch at or above 95 % and 97 %. `baseline` is the 0.1 `cpu` recipe, "
              "kept frozen in the script.", "",
              *table(["arm", "precision", "weight average", "epochs", "saved model", "time to it",
                      "first ≥ 95 %", "first ≥ 97 %", "s / epoch", "others' CPU use (cores)"], rows)]
    ratios = r.get("ratios") or {}
    if ratios:
        qrows = [[label, ratio(q["saved_model_97"]["ratio_of_means"]), ratio(q["first_95"]["ratio_of_means"]),
                  ratio(q["first_97"]["ratio_of_means"]), ratio(q.get("epoch_time_ratio"))]
                 for label, q in ratios.items()]
        detail += ["", "Against the baseline, same seeds, same process (ratio of mean times):", "",
                   *table(["arm", "time to saved model", "first ≥ 95 %", "first ≥ 97 %", "epoch"], qrows)]
    label = next((k for k in r["summary"] if k != "baseline"), next(iter(r["summary"])))
    s = r["summary"][label]
    cfg = arms.get(label, {}).get("config") or {}
    recipe = (f"`{cfg['name']}` recipe at {cfg['data']['image_size']}², {s['epochs']} epochs" if cfg
              else f"`{label}`")
    head = Headline(f"{recipe}, {', '.join(s['precision'])}: accuracy and training time",
                    f"saved model {pct(s['saved_model_accuracy']['mean'])} after "
                    f"{minutes(s['saved_model_seconds']['mean'])}; 95 % at {_first(s, '95').split(' (')[0]}",
                    REAL)
    return [head], detail


def se_on_real(r: dict) -> Rendered:
    if r.get("skipped"):
        return [], [f"Skipped: {r.get('reason')}"]
    s, p = r["summary"], r["params"]
    d = s["paired_difference"]
    lo, hi = d["ci95"]
    rows = [["parameters", f"{s['params']['no SE']:,}", f"{s['params']['SE']:,}"],
            [f"mean test accuracy over {s['pairs']} seeds", f"{s['mean_accuracy']['no SE']:.2f} %",
             f"{s['mean_accuracy']['SE']:.2f} %"],
            ["time per epoch (median paired ratio)", "1", ratio(s["epoch_time_ratio_se_over_plain"], 3)]]
    detail = [f"The `cpu` recipe at {p['image_size']}² for {p['epochs']} epochs, two arms that differ only in SE, "
              f"{s['pairs']} paired seeds (each seed gives both arms the same split, order and initial draws).", "",
              *table(["", "no SE", "SE"], rows), "",
              f"Paired difference SE − no SE: **{signed(d['mean'])} points, 95 % CI {signed(lo)} to {signed(hi)}**. "
              f"Verdict, read off the interval: {s['verdict']}."]
    head = Headline("does SE help? (paired seeds)",
                    f"SE − no SE {signed(d['mean'])} points, 95 % CI {signed(lo)} to {signed(hi)} "
                    f"({s['pairs']} paired seeds)", REAL)
    return [head], detail


def synth_transfer(r: dict) -> Rendered:
    """Trained on synthchairs only; tested on its own held-out fifth or on real photos."""
    real = r["mode"] == "synth-to-real"
    names, m = r["classes"], r["confusion"]
    chance = 1 / len(names)
    rows = [[f"**{t}**", *map(str, row)] for t, row in zip(names, m)]
    where = (f"{r['n_real']:,} real photos ({REAL})" if real else
             f"the held-out fifth of synthchairs ({r['n_test']} images, 4 classes)")
    detail = [f"A small SE-CNN, grayscale {r['size']}², {r['epochs']} epochs on synthchairs "
              f"({r['per_class']} images per class), tested on {where}"
              + ("; predictions restricted to the three real classes." if real else "."), "",
              f"Accuracy **{pct(r['accuracy'], 1)}** (chance {pct(chance, 0)}). Rows: true class; columns: predicted.",
              "", *table(["true \\ predicted", *names], rows)]
    head = Headline("trained on synthchairs only, tested on real photos" if real
                    else "how hard synthchairs is (a small SE-CNN on its held-out fifth)",
                    f"{pct(r['accuracy'], 1)} (chance {pct(chance, 0)})", REAL if real else SYNTH)
    return [head], detail


def gpu_seed(r: dict) -> Rendered:
    rows = [["epochs", str(r["epochs"])], ["training", f"{r['train_seconds']:.0f} s"],
            ["first epoch (XLA compilation)", f"{r['first_epoch_seconds']:.1f} s"],
            ["steady epoch", f"{r['steady_epoch_seconds']:.2f} s ({r['steady_train_images_per_s']:,.0f} images/s)"],
            ["test accuracy", f"{pct(r['test_accuracy'], 1)} ({r['n_test']} images)"],
            ["against the original report's 6 h", ratio(r["speedup_vs_seed_6h"], 0)]]
    detail = [f"The original report's recipe (the `report` profile: 473² grayscale, {r['params']:,} parameters) "
              f"on {r['n_train']} training images of synthchairs, Keras on JAX, `mixed_float16`, every step "
              "XLA-compiled.", "", *table(["measure", "value"], rows)]
    head = Headline("the original report's recipe on one GPU",
                    f"20 epochs at 473² in {r['train_seconds']:.0f} s "
                    f"({ratio(r['speedup_vs_seed_6h'], 0)} the report's 6 h); {pct(r['test_accuracy'], 1)} test",
                    SYNTH)
    return [head], detail


def gpu_profiles(r: dict) -> Rendered:
    """The prepared GPU run: the profile against its goal, notebook 04's lessons, SE at full size."""
    if r.get("skipped"):
        return [], ["Skipped: no GPU."]
    data = REAL if "realdata" in json.dumps(r.get("params", {})) else SYNTH
    rows = [[str(x.get("profile")), pct(x.get("test_accuracy"), 1), f"{x.get('train_seconds') or 0:.0f} s",
             f"{x.get('first_epoch_seconds') or 0:.1f} s", f"{x.get('steady_train_images_per_s') or 0:,.0f}",
             str(x.get("precision", "–"))]
            for x in r.get("runs", [])]
    heads = [Headline(f"`{x.get('profile')}` profile on one GPU",
                      f"{pct(x.get('test_accuracy'), 1)} in {x.get('train_seconds') or 0:.0f} s of training", data)
             for x in r.get("runs", [])]
    detail = table(["profile", "test accuracy", "training", "first epoch", "steady images/s", "precision"], rows)
    g = r.get("goal")
    if g:
        verdict = ("met" if g["met"] else
                   f"missed: {g['accuracy_short_by_points']:.2f} points short, {g['seconds_over']:.0f} s over")
        detail += ["", f"Goal: at least {pct(g['min_test_accuracy'], 0)} in at most {g['max_train_seconds']:.0f} s "
                       f"of training: **{verdict}**."]
    xla = r.get("xla") or {}
    cells = [*r.get("precision", []), *[xla[k] for k in ("on", "off") if k in xla], *r.get("batch", [])]
    measured = [c for c in cells if c.get("steady_train_images_per_s")]
    if measured:
        detail += ["", *table(["setting", "precision", "XLA", "batch", "compilation", "steady images/s"],
                              [[c["label"], c["precision"], "on" if c["xla"] else "off", str(c["batch_size"]),
                                f"{c['compile_seconds']:.1f} s", f"{c['steady_train_images_per_s']:,.0f}"]
                               for c in measured])]
    s = (r.get("se") or {}).get("summary")
    if s:
        d, se = s["paired_difference"], r["se"]
        lo, hi = d["ci95"]
        detail += ["", f"SE against no SE, the `{se['recipe']}` recipe at {se['image_size']}² for {se['epochs']} "
                       f"epochs, {s['pairs']} paired seeds: **{signed(d['mean'])} points, 95 % CI {signed(lo)} to "
                       f"{signed(hi)}** ({s['mean_accuracy']['no SE']:.2f} % without, {s['mean_accuracy']['SE']:.2f} % "
                       f"with). Verdict: {s['verdict']}."]
        heads.append(Headline("does SE help at full size? (paired seeds, one GPU)",
                              f"SE − no SE {signed(d['mean'])} points, 95 % CI {signed(lo)} to {signed(hi)} "
                              f"({s['pairs']} paired seeds)", data))
    return heads, detail


@dataclass(frozen=True)
class Kind:
    """How one result file is shown: its section title, the question it answers, its renderer."""

    title: str
    question: str
    render: Callable[[dict], Rendered]


def profile_epoch(r: dict) -> Rendered:
    rows = r["summary"]
    ok = {x["variant"]: x for x in rows if "error" not in x}
    shares = {k: 1 - ok[k]["cpu_ratio"] for k in ("no_bn", "no_ema", "no_augment", "no_se") if k in ok}
    parts = {"no_bn": "batch norm", "no_ema": "weight average", "no_augment": "augmentation", "no_se": "SE"}
    head = Headline("where a CPU spends a `cpu`-profile training step (float32)",
                    "each piece's share of the step's CPU time: " + ", ".join(
                        f"{parts[k]} {100 * v:.0f} %" for k, v in shares.items())
                    + (f"; input 112² {ratio(ok['size112']['cpu_ratio'])} of 144²'s" if "size112" in ok else ""),
                    GENERATED)
    body = [[x["variant"], x.get("what", x.get("error", "")), x.get("reference", ""), x.get("process", ""),
             f"{x['wall_ms_per_image']:.1f}" if "wall_ms_per_image" in x else "–",
             f"{x['cpu_ms_per_image']:.1f}" if "cpu_ms_per_image" in x else "–",
             ratio(x.get("wall_ratio")), ratio(x.get("cpu_ratio"))] for x in rows]
    isa = next((x.get("onednn_isa") for x in r["rows"] if x.get("onednn_isa")), None)
    note = (f"One change at a time to the `cpu` profile's step; the variants marked *shared* ran in one process "
            f"with their timed passes interleaved, so their ratios are side by side. oneDNN dispatched to "
            f"{isa or 'an ISA it did not report'}"
            + (f" (capped by ONEDNN_MAX_CPU_ISA={r['onednn_max_cpu_isa']})" if r.get("onednn_max_cpu_isa") else "")
            + ". The CPU-time column is the steadier one on a shared machine (the wall clock also counts "
              "time the process waited for a core).")
    return [head], [note, "", *table(["variant", "what changes", "against", "process", "wall ms/image",
                                      "CPU ms/image", "wall ×", "CPU ×"], body)]


def _step_ratios(r: dict, names: dict[str, str]) -> str:
    """``name ratio× (ratio× wall)`` for the named variants of a profile_epoch result."""
    ok = {x["variant"]: x for x in r["summary"] if "error" not in x}
    return "; ".join(f"{label} {ratio(ok[k]['cpu_ratio'])} ({ratio(ok[k]['wall_ratio'])} wall)"
                     for k, label in names.items() if k in ok)


def backends(r: dict) -> Rendered:
    """profile_epoch's backend variants: each backend's time per image against TensorFlow's."""
    _heads, detail = profile_epoch(r)
    head = Headline("which Keras backend trains the `cpu` profile fastest on a CPU (float32)",
                    "against TensorFlow's CPU time per image: " + _step_ratios(
                        r, {"jax": "JAX (both without the weight average)", "torch": "PyTorch"}), GENERATED)
    note = ("A backend is only worth choosing automatically if it is clearly faster. Each backend ran in "
            "a process of its own, and on a shared 2-core machine the wall clock of one variant moves "
            "by more than a tenth between runs (compare `full` here and in the table above), so only "
            "a large ratio would count. PyTorch ran from its CPU build (`pip install torch==2.13.0`), "
            "which selib does not install.")
    return [head], [note, "", *detail]


def step_depth(r: dict) -> Rendered:
    """profile_epoch's depth and input-size variants: what a cheaper network's step costs."""
    _heads, detail = profile_epoch(r)
    head = Headline("what a shallower network or a smaller input saves per `cpu`-profile step (float32)",
                    "CPU time per image against the profile's own step: " + _step_ratios(
                        r, {"depth1111": "one block per stage", "size128": "128² input"}), GENERATED)
    return [head], detail


def recipe_runs(r: dict) -> Rendered:
    if "recipes" not in r:
        return _recipe_rows_only(r)
    recs, n = r["recipes"], int(r["rows"][0]["n_test"])
    ref = recs[0]
    profile = r["rows"][0]["profile"]

    def mean_ci(x: dict) -> str:
        return (f"{x['mean_accuracy']:.2f} % (95 % CI {x['accuracy_lo']:.2f} to {x['accuracy_hi']:.2f})"
                if len(x["seeds"]) > 1 else f"{x['mean_accuracy']:.2f} % (one seed)")

    head = Headline(f"the `{profile}` profile on the built-in dataset, shorter recipes against its own "
                    f"({ref['recipe']}), paired by seed",
                    f"{ref['recipe']}: {mean_ci(ref)} over {len(ref['seeds'])} seeds; "
                    + "; ".join(f"{x['recipe']}: {mean_ci(x)}, {x['vs_reference']['verdict']}"
                                for x in recs[1:] if "vs_reference" in x), SYNTH)
    summary = [[x["recipe"], ", ".join(map(str, x["seeds"])), mean_ci(x),
                "reference" if x["reference"] else
                (f"{x['vs_reference']['mean']:+.2f} (95 % CI {x['vs_reference']['lo']:+.2f} to "
                 f"{x['vs_reference']['hi']:+.2f})" if "vs_reference" in x else "no shared seed"),
                ratio(x.get("images_share"))] for x in recs]
    runs = [[f"{x['image_size']}²", str(x["epochs"]), str(x["seed"]), pct(x["test_accuracy"]),
             minutes(x["train_seconds"]), code(x["command"])] for x in r["rows"]]
    note = (f"Test accuracy on the split's {n} test images (one image is {100 / n:.2f} points); the "
            "difference is paired by seed (the same split, and the same seed for the weights and the "
            "batch order). A recipe's cost is given as the images it trains on (epochs × training "
            "images) against the reference's, which is exact; what one step costs at another depth "
            "is measured in the step profile (`bench/profile_epoch.py`). The training times below ran one after another beside other "
            "work, some paused part-way, so they do not measure the recipes' cost.")
    return [head], [note, "", *table(["recipe", "seeds", "mean test accuracy", "difference to the reference, points",
                                      "images trained on"], summary), "",
                    *table(["input", "epochs", "seed", "test accuracy", "training time", "command"], runs)]


def _recipe_rows_only(r: dict) -> Rendered:
    """A record written before recipes were compared over seeds: one row per run."""
    rows = sorted(r["rows"], key=lambda x: (-x["image_size"], -x["epochs"]))
    ref = rows[0]
    head = Headline(f"the `{ref['profile']}` profile at smaller inputs, one seed (earlier rendering of the built-in set)",
                    f"{pct(ref['test_accuracy'])} test accuracy at {ref['image_size']}², {ref['epochs']} epochs; "
                    + "; ".join(f"{x['image_size']}², {x['epochs']} epochs: {pct(x['test_accuracy'])}" for x in rows[1:]),
                    SYNTH)
    body = [[f"{x['image_size']}²", str(x["epochs"]), str(x["seed"]), pct(x["test_accuracy"]),
             f"{x['n_test']}", minutes(x["train_seconds"]), code(x["command"])] for x in rows]
    n = int(rows[0]["n_test"])
    note = (f"One seed each, a {n}-image test split (one image is {100 / n:.2f} points): a difference of a "
            "few points between two rows is within what another seed could give. The trainings ran one "
            "after another, not interleaved, so their times compare only roughly.")
    return [head], [note, "", *table(["input", "epochs", "seed", "test accuracy", "test images",
                                       "training time", "command"], body)]


def _record_machine(r: dict) -> dict:
    """A study record's (or Fig. 6 record's) provenance, in the shape ``machine`` reads: the
    latest session that added to it, the date the record was completed."""
    prov = r.get("provenance")
    p = prov[-1] if isinstance(prov, list) and prov else prov if isinstance(prov, dict) else {}
    hw = p.get("hardware", p)
    return {"date": p.get("date"), "cpu": hw.get("cpu"), "cpus": hw.get("cpus") or hw.get("cpu_count"),
            "cpu_isa": hw.get("cpu_flags") if hw.get("cpu_flags") is not None else None,
            "keras": p.get("keras") or hw.get("keras"), "gpus": hw.get("gpus") or []}


def ablation(r: dict) -> Rendered:
    """Notebook 06's record (selib.studies.record): every study's paired differences."""
    from selib.analysis.stats import paired_difference

    heads, detail = [], []
    by_key = r["trainings"]
    for name, st in r["studies"].items():
        acc: dict[str, dict[int, float]] = {}
        for row in st["rows"]:
            t = by_key.get(row["training"], {})
            if t.get("accuracy") is not None:
                acc.setdefault(row["label"], {})[row["seed"]] = float(t["accuracy"])
        ref = st["reference"]
        rows = []
        for label, per_seed in acc.items():
            mean = sum(per_seed.values()) / len(per_seed)
            seeds = sorted(set(per_seed) & set(acc.get(ref, {})))
            if label == ref or len(seeds) < 2:
                rows.append([label, str(len(per_seed)), f"{mean:.2f} %", "reference" if label == ref else "–"])
                continue
            d = paired_difference([per_seed[k] for k in seeds], [acc[ref][k] for k in seeds])
            rows.append([label, str(len(per_seed)), f"{mean:.2f} %",
                         f"{signed(d.mean)} points, 95 % CI {signed(d.lo)} to {signed(d.hi)} (n = {d.n})"])
            if name == "se" and label == "SE":
                heads.append(Headline(
                    f"does SE help? notebook 06's study ({d.n} paired seeds)",
                    f"SE − no SE {signed(d.mean)} points, 95 % CI {signed(d.lo)} to {signed(d.hi)}; "
                    f"no SE {sum(acc[ref].values()) / len(acc[ref]):.1f} %, SE {mean:.1f} %", SYNTH))
        detail += [f"**{name}** (reference: {ref})", "", *table(["arm", "seeds", "mean test accuracy",
                                                                  f"paired difference to {ref}"], rows), ""]
    secs = [t["train_seconds"] for t in by_key.values() if t.get("train_seconds")]
    if secs:
        detail.append(f"{len(secs)} trainings, {sum(secs) / 60:.0f} min of training in all "
                      f"(median {sorted(secs)[len(secs) // 2]:.0f} s each).")
    return heads, detail


def fig6(r: dict) -> Rendered:
    """Notebook 05's Fig. 6 record over several trained models (selib.analysis.fig6)."""
    import pandas as pd

    from selib.analysis.fig6 import fig6_summary, fig6_verdict

    rows = [{"run": m["run"], "seed": m["seed"], **b} for m in r["models"] for b in m["blocks"]]
    t = pd.DataFrame(rows)
    summ = fig6_summary(t)
    body = [[x.se_block, str(x.models), f"{x.eta2_mean:.3f} ± {0 if x.eta2_sd != x.eta2_sd else x.eta2_sd:.3f}",
             f"{x.null_lo:.3f}–{x.null_hi:.3f}", f"{x.above_null}/{x.models}", f"{x.untrained_mean:.3f}"]
            for x in summ.itertuples()]
    verdict = fig6_verdict(t)
    head = Headline("the paper's Fig. 6: do later SE blocks become class-specific?",
                    f"pooled η² from {summ['eta2_mean'].iloc[0]:.2f} (first block) to "
                    f"{summ['eta2_mean'].iloc[-1]:.2f} (last), over {t['seed'].nunique()} trained models", SYNTH)
    return [head], [verdict, "", *table(["SE block", "models", "pooled η² (mean ± sd)", "null band",
                                         "above null", "untrained"], body)]


# name (file stem) -> kind; the page lists results in this order, then any file not named here
KINDS: dict[str, Kind] = {
    "time_to_accuracy_f32": Kind("The `cpu` profile against 0.1's, float32",
                                 "How fast does the `cpu` recipe reach its accuracy on a CPU without bfloat16?",
                                 time_to_accuracy),
    "time_to_accuracy": Kind("The `cpu` profile against 0.1's, bfloat16 and float32",
                             "The same comparison on a CPU with bfloat16, two seeds, with Keras' own "
                             "weight average of the time.", time_to_accuracy),
    "time_to_accuracy_ema": Kind("The weight average: evaluation only against Keras' own",
                                 "Does the warmed-up, evaluation-only average reach its accuracy sooner?",
                                 time_to_accuracy),
    "time_to_accuracy_quick": Kind("The `quick` profile", "A first result in minutes: how good is it?",
                                   time_to_accuracy),
    "se_on_real": Kind("Does SE help on real photos?",
                       "SE against no SE, paired seeds, on photos.", se_on_real),
    "gpu_profiles": Kind("Profiles on one GPU", "The `gpu` profile against its goal, precision, XLA and "
                         "batch size on its network, and SE against no SE at full size, through `selib.train`.",
                         gpu_profiles),
    "gpu_seed_jax": Kind("The original report's recipe on one GPU",
                         "How long do the report's 20 epochs at 473² take on a current GPU?", gpu_seed),
    "synth_only": Kind("How hard synthchairs is", "Trained and tested on synthchairs (80/20 per class).",
                       synth_transfer),
    "synth_to_real": Kind("From synthchairs to real photos",
                          "Trained on synthchairs only: how well does it recognise real photos?", synth_transfer),
    "bench_vs_keras": Kind("selib against plain Keras",
                           "Does selib's network train as fast as the same network in plain Keras?", vs_keras),
    "bench_se_overhead": Kind("What SE costs", "Time and size of the network with SE against without.",
                              se_overhead),
    "bench_loader": Kind("Loading photos", "selib's loader against the original report's loop, cold and cached.",
                         loader),
    "cpu_recipe_synthchairs": Kind("The `cpu` recipe at other lengths and depths",
                                   "What do fewer epochs or a shallower network cost on the built-in dataset, "
                                   "paired by seed?", recipe_runs),
    "cpu_recipe_sizes": Kind("The `cpu` recipe at smaller inputs (earlier rendering of the built-in set)",
                             "One seed each, on the built-in set as rendered before its renderer last "
                             "changed: the accuracies compare with each other, not with the section above.",
                             recipe_runs),
    "profile_epoch": Kind("Where a CPU spends a training step",
                          "The `cpu` profile's step in float32, one piece changed at a time.", profile_epoch),
    "profile_epoch_backends": Kind("Which Keras backend trains fastest on a CPU",
                                   "The `cpu` profile's step in float32 on TensorFlow, JAX and PyTorch.",
                                   backends),
    "profile_epoch_depth": Kind("What a shallower network saves per step",
                                "The `cpu` profile's step in float32 with one block per stage, or a 128² input.",
                                step_depth),
    "06_ablation": Kind("Notebook 06: SE and its ablations on synthchairs",
                        "Paired seeds, the study recipe of notebook 06, a separately rendered test set.", ablation),
    "fig6": Kind("Notebook 05: the paper's Fig. 6 over several models",
                 "Pooled η² of the SE gates per block, against a permutation null and an untrained network.", fig6),
    "bench_machine_limit": Kind("Training against the CPU's peak",
                                "What fraction of the matmul peak does training reach, and where does the rest go?",
                                machine_limit),
    "bench_machine_limit_investigate": Kind("Settings that move the fraction of peak",
                                            "Batch, threads, oneDNN, XLA and bfloat16, one at a time (float32 peak).",
                                            machine_limit_investigation),
}

# The README's headline table: these results' first headline row each, in this order (what the
# repository alone reproduces first, then the results on photos)
HEADLINE = ["cpu_recipe_synthchairs", "06_ablation", "fig6", "synth_only", "gpu_profiles", "gpu_seed_jax", "bench_vs_keras", "bench_se_overhead", "bench_loader",
            "time_to_accuracy_f32", "se_on_real", "synth_to_real"]

# Study results the notebooks write, shown here too
EXTRA_RESULTS: list[Path] = [REPO / "notebooks" / "results" / "06_ablation.json",
                             REPO / "notebooks" / "results" / "fig6.json"]


# ---------------------------------------------------------------------------------------------
# The page and the README block
# ---------------------------------------------------------------------------------------------
def load_results(folder: Path = RESULTS) -> dict[str, dict]:
    files = sorted(folder.glob("*.json")) + [p for p in EXTRA_RESULTS if p.exists()]
    out = {}
    for p in files:
        r = json.loads(p.read_text())
        if "machine" not in r and "provenance" in r:       # the notebooks' records carry their own
            r = {**r, "machine": _record_machine(r), "command": _record_command(r),
                 "_file": str(p.relative_to(REPO))}
        out[p.stem] = r
    return out


def _record_command(r: dict) -> str | None:
    prov = r.get("provenance")
    p = prov[-1] if isinstance(prov, list) and prov else prov if isinstance(prov, dict) else {}
    return p.get("command")


def ordered(results: dict[str, dict]) -> list[str]:
    return [n for n in KINDS if n in results] + sorted(n for n in results if n not in KINDS)


NO_RENDERER = "No renderer for this result yet: see the JSON file."
STALE_RENDERER = "This file's layout is not the one `bench/report.py` knows ({}): see the JSON file."


def render(name: str, r: dict) -> Rendered:
    """The result's headline rows and detail; a file its renderer cannot read is still listed
    (with its provenance), and ``tests/test_report.py`` names it so the renderer gets updated."""
    kind = KINDS.get(name)
    if kind is None:
        return [], [NO_RENDERER]
    try:
        return kind.render(r)
    except (KeyError, TypeError, ValueError, IndexError, StopIteration) as e:
        return [], [STALE_RENDERER.format(f"{type(e).__name__}: {e}")]


def anchor(title: str) -> str:
    keep = "".join(c for c in title.lower() if c.isalnum() or c in " -_")
    return keep.replace(" ", "-")


def render_page(results: dict[str, dict]) -> str:
    lines = ["# Measured results", "",
             "<!-- generated by `python bench/report.py` from bench/results/*.json: do not edit by hand -->", "",
             "Every number here is read from a committed JSON file in `bench/results/`; `make report` "
             "rewrites this page and the README's headline table, and `tests/test_report.py` fails when "
             "either disagrees with the files. Each row gives the command that produced it, the hardware "
             "and the date. Results on photos use a folder of "
             f"{REAL} that is not part of the repository; all others need only what the repository ships.", "",
             "## Summary", ""]
    rows, sections = [], []
    for name in ordered(results):
        r = results[name]
        title = KINDS[name].title if name in KINDS else f"`{name}.json`"
        heads, detail = render(name, r)
        for h in heads or [Headline("see the section", "–", "–")]:
            rows.append([f"[{h.question}](#{anchor(title)})", h.result, h.data, hardware(r), date(r), code(command(r))])
        sections += [f"## {title}", ""]
        if name in KINDS:
            sections += [KINDS[name].question, ""]
        sections += [f"- command: {code(command(r))}", f"- hardware: {hardware(r)}; software: {software(r)}",
                     f"- date: {date(r)}",
                     f"- data: {heads[0].data if heads else '–'}",
                     f"- file: `{r.get('_file', f'bench/results/{name}.json')}`", "", *detail, ""]
    lines += table(["question", "result", "data", "hardware", "date", "command"], rows)
    lines += ["", "How the benchmarks time things (interleaved repeats, paired ratios, CPU time on a "
              "shared machine) and what the investigations concluded: [performance](performance.md).", ""]
    return "\n".join(lines + sections).rstrip("\n") + "\n"


def render_readme_block(results: dict[str, dict]) -> str:
    rows = []
    for name in HEADLINE:
        if name not in results:
            continue
        heads, _ = render(name, results[name])
        if heads:
            h = heads[0]
            title = KINDS[name].title
            rows.append([h.question, h.result, h.data, short_hardware(results[name]),
                         f"[details](docs/results.md#{anchor(title)})"])
    body = table(["question", "result", "data", "hardware", ""], rows)
    return "\n".join([START, "<!-- generated by `python bench/report.py`: do not edit by hand -->", "",
                      *body, "", END])


def short_hardware(r: dict) -> str:
    m = machine(r)
    gpus = m.get("gpus") or ([r["gpu"]] if r.get("gpu") else [])
    if gpus:
        return f"1 GPU ({gpus[0].replace('NVIDIA ', '')})" if len(gpus) == 1 else f"{len(gpus)} GPUs"
    cores = m.get("usable_cpus") or m.get("cpus")
    text = f"{cores} CPU cores" if cores else "CPU"
    bf16 = m.get("cpu_bf16")
    if bf16 is None and m.get("cpu_isa") is not None:
        bf16 = bool({"avx512_bf16", "amx_bf16"} & set(m["cpu_isa"]))
    return text if bf16 is None else f"{text}, {'with' if bf16 else 'without'} bfloat16"


def with_readme_block(readme: str, block: str) -> str:
    """The README with its marked block replaced; an error if the markers are missing."""
    i, j = readme.find(START), readme.find(END)
    if i < 0 or j < i:
        raise ValueError(f"README.md has no {START} … {END} block")
    return readme[:i] + block + readme[j + len(END):]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="write nothing; exit 1 if a page is out of date")
    ap.add_argument("--results", type=Path, default=RESULTS, help="folder of result JSON files")
    a = ap.parse_args(argv)
    results = load_results(a.results)
    want = {PAGE: render_page(results),
            README: with_readme_block(README.read_text(), render_readme_block(results))}
    stale = [p for p, text in want.items() if not p.exists() or p.read_text() != text]
    if a.check:
        for p in stale:
            print(f"out of date: {p.relative_to(REPO)} (run `make report`)")
        return 1 if stale else 0
    for p in stale:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(want[p])
        print(f"wrote {p.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
