"""The main job: execute the notebook series in order and report where the results are.

Each notebook reads its parameters (profile, data folder, run folder) from environment
variables in its first cell, so the same notebooks run in CI (``SELIB_PROFILE=ci``), on a
laptop (``cpu``) and on a GPU, on the built-in dataset or on a user's own photos.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from selib.paths import project_root

MAIN_SERIES = ("01", "02", "03", "04", "05")


def notebooks(only: str | None = None, root: Path | None = None) -> list[Path]:
    """The numbered notebooks to run: 01–05 by default (06, the ablation study, on request)."""
    folder = (root or project_root()) / "notebooks"
    wanted = [s.strip().zfill(2) for s in only.split(",")] if only else list(MAIN_SERIES)
    found = {p.name[:2]: p for p in sorted(folder.glob("[0-9][0-9]_*.ipynb"))}
    missing = [n for n in wanted if n not in found]
    if missing:
        raise FileNotFoundError(f"no notebook numbered {', '.join(missing)} in {folder}")
    return [found[n] for n in wanted]


def execute(nb_path: Path, out_dir: Path, env: dict[str, str], timeout: int = 3600) -> Path:
    """Run one notebook with nbclient (in its own folder, as JupyterLab would) and write the
    executed copy plus an HTML export to ``out_dir``."""
    import nbformat
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter

    nb = nbformat.read(nb_path, as_version=4)
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(nb_path.parent)}}).execute()
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / nb_path.name
    nbformat.write(nb, out)
    html, _ = HTMLExporter().from_notebook_node(nb)
    out.with_suffix(".html").write_text(html, encoding="utf-8")
    return out


def run_series(only: str | None = None, profile: str | None = None, data_dir: str | None = None,
               out: str | os.PathLike = "runs/series", keep_outputs: bool = False) -> int:
    """Render the built-in dataset if needed, execute the notebooks, print where they are and
    the final test accuracy. ``keep_outputs`` copies the executed notebooks back into
    ``notebooks/`` (how the committed outputs are made)."""
    from selib.training.profiles import resolve_profile

    root = project_root()
    config = resolve_profile(profile)
    env = {"SELIB_PROFILE": config.name, "SELIB_ROOT": str(root)}
    if data_dir:
        env["SELIB_DATA_DIR"] = str(Path(data_dir).resolve())
    else:
        from selib.synth import ensure_builtin

        t = time.perf_counter()
        path = ensure_builtin(root / "data")
        print(f"built-in dataset: {path} ({time.perf_counter() - t:.0f} s)", flush=True)
    out_dir = (root / out) if not Path(out).is_absolute() else Path(out)
    t0 = time.perf_counter()
    for nb in notebooks(only, root):
        t = time.perf_counter()
        print(f"running {nb.name} (profile {config.name}) ...", flush=True)
        done = execute(nb, out_dir, env)
        print(f"  -> {done} and .html ({time.perf_counter() - t:.0f} s)", flush=True)
        if keep_outputs:
            shutil.copyfile(done, nb)
    print(f"series done in {(time.perf_counter() - t0) / 60:.1f} min; executed notebooks in {out_dir}/")
    metrics = root / "runs" / config.name / "metrics.json"
    if metrics.exists():
        m = json.loads(metrics.read_text())
        if "test_accuracy" in m:
            print(f"final test accuracy ({config.name} profile, run {metrics.parent}): "
                  f"{100 * m['test_accuracy']:.2f} %")
    return 0
