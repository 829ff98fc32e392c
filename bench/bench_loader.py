"""Benchmark: selib's loader against the seed report's plain loop, on large JPEGs.

    python bench/bench_loader.py                      # ~1,000 JPEGs, 473 and 128 px, + real photos
    python bench/bench_loader.py --n 50 --json out.json
    python bench/bench_loader.py --work /tmp/bench    # keep the generated photos for the next run

It writes ~1,000 photo-like JPEGs, 1,500-4,200 px on the long side (like the seed's photos;
about 1 bit per pixel, what large web photos of furniture weigh), into a temporary folder (or
``--work``), then times, at each ``--sizes`` and in grayscale:

* the seed: single-threaded ``cv2.imread(path, IMREAD_GRAYSCALE)`` + ``cv2.resize`` per file,
  and the seed's whole preprocessing, which also decoded every photo once more just to find the
  min/max sizes (``img.shape``);
* selib cold: ``scan`` + ``load_images`` with an empty cache (decode and write the cache);
* selib cached: ``scan`` + ``load_images`` again (from its on-disk cache);
* the decode ceiling: nothing but the JPEG decodes selib itself does (the same libjpeg
  scale-down per file), on every core at once — no header read, resize, copy or cache. No
  loader on this machine can decode these files faster, so ``seed loop / ceiling`` is the
  largest cold speed-up any loader could reach here.

Every method sees a warm OS file cache (all files are read once before timing). Wall and CPU
seconds are both reported: on a shared machine wall time is noisy, CPU time is not. If
``../shared/realdata`` exists (or ``--realdata PATH``), it also scans and loads the real photos.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402  (puts the repository on sys.path; result files: atomic, relative paths)

from selib.data.decoding import _imread_flag  # noqa: E402  (the exact decode selib does)
from selib.data.headers import read_header  # noqa: E402
from selib.data.loading import load_images  # noqa: E402
from selib.data.scanning import scan  # noqa: E402

CLASSES = ("bench", "chair", "office_chair", "sofa")
ASPECTS = (4 / 3, 3 / 2, 1.0, 3 / 4, 2 / 3)


def _master(side: int, rng: np.random.Generator, texture: float = 8.0) -> np.ndarray:
    """A light "showroom" canvas with shaded furniture-like blobs, mid-scale texture and sensor noise."""
    s8 = max(side // 8, 8)
    canvas = np.linspace(235, 252, s8, dtype=np.float32)[:, None, None] * np.ones((1, s8, 3), np.float32)
    shade = np.linspace(0.7, 1.1, s8, dtype=np.float32)[None, :, None]
    for _ in range(18):
        colour = rng.uniform(20, 230, 3).astype(np.float32)
        cx, cy = (int(v) for v in rng.integers(0, s8, 2))
        ax, ay = (int(v) for v in rng.integers(max(s8 // 20, 1), max(s8 // 6, 2), 2))
        mask = np.zeros((s8, s8), np.uint8)
        if rng.random() < 0.5:
            cv2.ellipse(mask, (cx, cy), (ax, ay), float(rng.uniform(0, 180)), 0, 360, 255, -1)
        else:
            cv2.rectangle(mask, (cx, cy), (cx + 2 * ax, cy + ay), 255, -1)
        canvas = np.where(mask[..., None] > 0, colour * shade, canvas)
    img = cv2.resize(canvas, (side, side), interpolation=cv2.INTER_CUBIC)
    mid = rng.normal(0, texture, (max(side // 4, 2), max(side // 4, 2), 3)).astype(np.float32)
    img += cv2.resize(mid, (side, side), interpolation=cv2.INTER_LINEAR)
    fine = np.empty((side, side, 3), np.float32)
    cv2.randn(fine, 0, 2.0)
    img += fine
    return np.clip(img, 0, 255).astype(np.uint8)


def generate(folder: Path, n: int, min_px: int, max_px: int, seed: int = 0,
             workers: int | None = None) -> list[Path]:
    """Write ``n`` JPEGs as ``folder/<class>/<i>.jpg``; reuse them if the same set is there."""
    manifest = folder / "manifest.json"
    params = {"n": n, "min_px": min_px, "max_px": max_px, "seed": seed, "v": 1}
    paths = [folder / CLASSES[i % len(CLASSES)] / f"{i:05d}.jpg" for i in range(n)]
    if manifest.exists() and json.loads(manifest.read_text()) == params and all(p.exists() for p in paths):
        return paths
    shutil.rmtree(folder, ignore_errors=True)
    for c in CLASSES:
        (folder / c).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    masters = [_master(max_px, rng) for _ in range(min(4, n))]
    jobs = []
    for i, p in enumerate(paths):
        long = int(rng.integers(min_px, max_px + 1))
        aspect = ASPECTS[int(rng.integers(len(ASPECTS)))]
        w, h = (long, round(long / aspect)) if aspect >= 1 else (round(long * aspect), long)
        h, w = min(h, max_px), min(w, max_px)
        y, x = int(rng.integers(0, max_px - h + 1)), int(rng.integers(0, max_px - w + 1))
        jobs.append((p, masters[i % len(masters)], y, x, h, w))

    def write(job) -> None:
        p, m, y, x, h, w = job
        cv2.imwrite(str(p), m[y:y + h, x:x + w], [cv2.IMWRITE_JPEG_QUALITY, 90])

    with ThreadPoolExecutor(workers or os.cpu_count()) as pool:
        list(pool.map(write, jobs))
    manifest.write_text(json.dumps(params))
    return paths


def _load() -> float | None:
    """1-minute load average: above the CPU count, other work was competing for the cores."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


def _warm(paths) -> None:
    for p in paths:
        Path(p).read_bytes()


def _timed(fn):
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


def _best_cached(load, expected: np.ndarray, repeat: int = 3) -> tuple[float, float]:
    """Best (wall, CPU) seconds of a few cached loads; each result is checked, then dropped,
    so that no extra copies of the set crowd the memory the timing depends on."""
    best = (float("inf"), float("inf"))
    for _ in range(repeat):
        hot, wall, cpu = _timed(load)
        assert hot.from_cache and np.array_equal(hot.images, expected)
        del hot
        best = min(best, (wall, cpu))
    return best


def seed_loop(paths, size: int) -> np.ndarray:
    """The seed report's loading loop: one file at a time, full-size grayscale decode, resize."""
    images = []
    for p in paths:
        img = cv2.imread(str(p), cv2.IMREAD_GRAYSCALE)
        images.append(cv2.resize(img, (size, size)))
    return np.array(images)


def seed_size_pass(paths) -> tuple[int, int]:
    """The seed's min/max pass (done right here): it decoded every photo just to read img.shape."""
    shapes = [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE).shape for p in paths]
    return min(s[0] for s in shapes), max(s[0] for s in shapes)


def _selib(root: Path, size: int, cache: Path, workers):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (r, scan_s, _) = _timed(lambda: scan(root))
        li = load_images(r, size=size, color="grayscale", fit="squash", cache_dir=cache,
                         workers=workers, progress=False)
    return r, li, scan_s


def decode_ceiling(paths, size: int, workers) -> float:
    """Wall seconds to do only selib's JPEG decodes (same reduced scale), on all cores."""
    flags = [_imread_flag(read_header(p), (size, size), "grayscale", "squash") for p in paths]
    with ThreadPoolExecutor(workers or os.cpu_count()) as pool:
        t = time.perf_counter()
        n = sum(1 for img in pool.map(lambda a: cv2.imread(str(a[0]), a[1]), zip(paths, flags)) if img is not None)
        wall = time.perf_counter() - t
    assert n == len(paths)
    return wall


def _reference(paths, size: int) -> np.ndarray:
    """Full-size decode + INTER_AREA: the quality yardstick for the reduced decode."""
    return np.array([cv2.resize(cv2.imread(str(p), cv2.IMREAD_GRAYSCALE), (size, size),
                                interpolation=cv2.INTER_AREA) for p in paths])


def bench_size(root: Path, paths: list[Path], size: int, cache: Path, workers, sample: int,
               size_pass_s: float) -> dict:
    shutil.rmtree(cache, ignore_errors=True)
    seed_imgs, seed_w, seed_c = _timed(lambda: seed_loop(paths, size))
    (r, cold, scan_s), cold_w, cold_c = _timed(lambda: _selib(root, size, cache, workers))
    assert not cold.from_cache and len(cold) == len(paths), cold.report()
    hot_w, hot_c = _best_cached(lambda: _selib(root, size, cache, workers)[1], cold.images)
    ceiling_w = decode_ceiling(paths, size, workers)
    order = {str(p): i for i, p in enumerate(paths)}
    mine = cold.images[..., 0][np.argsort([order[p] for p in cold.paths])]
    pick = np.linspace(0, len(paths) - 1, min(sample, len(paths))).astype(int)
    ref = _reference([paths[i] for i in pick], size)
    return {
        "size": size, "n": len(paths),
        "seed_wall_s": seed_w, "seed_cpu_s": seed_c,
        "seed_with_size_pass_wall_s": seed_w + size_pass_s,
        "selib_cold_wall_s": cold_w, "selib_cold_cpu_s": cold_c, "selib_scan_s": scan_s,
        "selib_cached_wall_s": hot_w, "selib_cached_cpu_s": hot_c,
        "speedup_cold": seed_w / cold_w, "speedup_cold_cpu": seed_c / cold_c,
        "speedup_cold_vs_seed_pipeline": (seed_w + size_pass_s) / cold_w,
        "speedup_cached": seed_w / hot_w,
        "decode_ceiling_wall_s": ceiling_w, "speedup_ceiling": seed_w / ceiling_w,
        "selib_cold_share_of_ceiling": ceiling_w / cold_w,
        "mad_vs_full_decode_area": float(np.abs(mine[pick].astype(int) - ref).mean()),
        "mad_vs_seed_loop": float(np.abs(mine.astype(int) - seed_imgs).mean()),
        "cache_mb": sum(f.stat().st_size for f in cache.glob("*.np[yz]")) / 1e6,
    }


def bench_realdata(root: Path, sizes, cache: Path, workers) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r, scan_w, _ = _timed(lambda: scan(root))
    paths = list(r.ok["path"])
    _warm(paths)
    out = {"path": str(root), "seen": r.n_seen, "loadable": len(r.ok), "skipped": len(r.skipped),
           "classes": r.class_names, "scan_wall_s": scan_w, "sizes": []}
    for size in sizes:
        shutil.rmtree(cache, ignore_errors=True)
        seed_w = _timed(lambda: seed_loop(paths, size))[1]  # the arrays are dropped at once
        li, cold_w, _ = _timed(lambda: load_images(r, size=size, cache_dir=cache, workers=workers,
                                                   progress=False))
        hot_w, _ = _best_cached(lambda: load_images(r, size=size, cache_dir=cache,
                                                    workers=workers, progress=False), li.images)
        out["sizes"].append({"size": size, "loaded": len(li), "skipped": len(li.skipped),
                             "seed_wall_s": seed_w, "load_cold_wall_s": cold_w,
                             "load_cached_wall_s": hot_w, "speedup_cold": seed_w / cold_w,
                             "speedup_cached": seed_w / hot_w})
    return out


def _table(res: dict) -> str:
    g = res["images"]
    lines = [
        f"{g['n']} JPEGs, {g['min_side']}-{g['max_side']} px, mean {g['mean_mp']:.1f} MP, "
        f"{g['mean_bpp']:.2f} bits/pixel, {g['total_mb']:.0f} MB; {res['machine']['cpus']} CPUs, "
        f"{res['params']['workers'] or res['machine']['cpus']} workers; load average "
        f"{res['machine']['load_avg_at_start'] or 0:.1f} at start, "
        f"{res['machine'].get('load_avg_at_end') or 0:.1f} at end",
        f"{'size':>5} | {'seed loop':>10} | {'+size pass':>10} | {'selib cold':>10} | {'speed-up':>8} "
        f"| {'cpu':>5} | {'ceiling':>8} | {'max':>5} | {'selib cached':>12} | {'speed-up':>8} | {'MAD':>4}",
    ]
    for r in res["results"]:
        lines.append(
            f"{r['size']:>5} | {r['seed_wall_s']:>8.1f} s | {r['seed_with_size_pass_wall_s']:>8.1f} s "
            f"| {r['selib_cold_wall_s']:>8.1f} s | {r['speedup_cold']:>7.1f}x "
            f"| {r['speedup_cold_cpu']:>4.1f}x | {r['decode_ceiling_wall_s']:>6.1f} s "
            f"| {r['speedup_ceiling']:>4.1f}x | {r['selib_cached_wall_s']:>10.3f} s "
            f"| {r['speedup_cached']:>7.0f}x | {r['mad_vs_full_decode_area']:>4.2f}")
    lines.append("speed-up = seed loop wall time / selib wall time; cpu = the same in CPU seconds; "
                 "ceiling = selib's decodes alone on all cores, max = seed loop / ceiling (no loader "
                 "can beat it here); MAD = mean |selib - full decode + INTER_AREA| in gray levels")
    rd = res.get("realdata")
    if rd:
        lines.append(f"real photos {rd['path']}: {rd['seen']} seen = {rd['loadable']} loadable + "
                     f"{rd['skipped']} skipped, scan {rd['scan_wall_s']:.2f} s")
        for s in rd["sizes"]:
            lines.append(f"  {s['size']:>4} px: seed loop {s['seed_wall_s']:.1f} s, selib cold "
                         f"{s['load_cold_wall_s']:.1f} s ({s['speedup_cold']:.1f}x), cached "
                         f"{s['load_cached_wall_s']:.2f} s ({s['speedup_cached']:.0f}x)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1000, help="number of JPEGs to generate")
    ap.add_argument("--sizes", type=int, nargs="+", default=[473, 128])
    ap.add_argument("--min-px", type=int, default=1500, help="shortest long side")
    ap.add_argument("--max-px", type=int, default=4200, help="longest long side")
    ap.add_argument("--work", type=Path, help="keep the generated photos here (reused next time)")
    ap.add_argument("--realdata", type=Path, default=C.REPO.parent / "shared" / "realdata")
    ap.add_argument("--no-realdata", action="store_true")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--sample", type=int, default=100, help="images for the quality check")
    ap.add_argument("--json", type=Path, help="write the results here")
    args = ap.parse_args(argv)

    tmp = None if args.work else Path(tempfile.mkdtemp(prefix="selib-bench-"))
    work = args.work or tmp
    try:
        root = (work / "photos").absolute()
        t0 = time.perf_counter()
        paths = generate(root, args.n, args.min_px, args.max_px, workers=args.workers)
        gen_s = time.perf_counter() - t0
        _warm(paths)
        _, size_pass_s, _ = _timed(lambda: seed_size_pass(paths))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = scan(root).ok
        mp = t["width"] * t["height"] / 1e6
        res = {
            "machine": {"date": C.utc_now(), "cpus": os.cpu_count(), "python": platform.python_version(),
                        "opencv": cv2.__version__, "numpy": np.__version__,
                        "platform": platform.platform(), "load_avg_at_start": _load()},
            "params": {"n": args.n, "sizes": args.sizes, "min_px": args.min_px,
                       "max_px": args.max_px, "workers": args.workers},
            "images": {"n": len(paths), "generate_s": gen_s,
                       "min_side": int(t[["width", "height"]].min(axis=1).min()),
                       "max_side": int(t[["width", "height"]].max(axis=1).max()),
                       "mean_mp": float(mp.mean()), "total_mb": float(t["bytes"].sum() / 1e6),
                       "mean_bpp": float((t["bytes"] * 8 / (mp * 1e6)).mean()),
                       "seed_size_pass_wall_s": size_pass_s},
            "results": [bench_size(root, paths, s, work / "cache", args.workers, args.sample,
                                   size_pass_s) for s in args.sizes],
        }
        if not args.no_realdata and args.realdata and args.realdata.is_dir():
            res["realdata"] = bench_realdata(args.realdata, args.sizes, work / "cache-real",
                                             args.workers)
        res["machine"]["load_avg_at_end"] = _load()
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        elif args.work:
            shutil.rmtree(args.work / "cache", ignore_errors=True)
            shutil.rmtree(args.work / "cache-real", ignore_errors=True)
    print(_table(res))
    C.write_json(args.json, res)
    return res


if __name__ == "__main__":
    main()
