"""The main job: execute the notebook series in order, say what is happening, end with a table.

Each notebook reads its parameters (profile, data folder) from environment variables in its
first cell, so the same notebooks run in CI (``SELIB_PROFILE=ci``), on a laptop (``cpu``) and
on a GPU, on the built-in dataset or on a user's own photos.

While it runs, the terminal shows one line per section of a notebook (its Markdown headings)
and, while a notebook trains, one line per epoch with the time left (the trainer writes them to
the kernel's stderr when ``SELIB_PROGRESS=stderr``). Each notebook records its key result with
:func:`record_result`; the run ends with a table of notebook, seconds and key result.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

from selib.paths import project_root

MAIN_SERIES = ("01", "02", "03", "04", "05")
RESULTS_ENV = "SELIB_RESULTS_DIR"
NO_RESULT = "(no key result recorded)"


def notebooks(only: str | None = None, root: Path | None = None) -> list[Path]:
    """The numbered notebooks to run: 01–05 by default (06, the ablation study, on request)."""
    folder = (root or project_root()) / "notebooks"
    wanted = [s.strip().zfill(2) for s in only.split(",")] if only else list(MAIN_SERIES)
    found = {p.name[:2]: p for p in sorted(folder.glob("[0-9][0-9]_*.ipynb"))}
    missing = [n for n in wanted if n not in found]
    if missing:
        raise FileNotFoundError(f"no notebook numbered {', '.join(missing)} in {folder}")
    return [found[n] for n in wanted]


def record_result(text: str, notebook: str | None = None) -> str:
    """A notebook's key result, for the table at the end of ``make run`` (and returned, so a
    cell can print it). Written only when the series runner asked for it."""
    folder = os.environ.get(RESULTS_ENV)
    if folder:
        name = notebook or os.environ.get("SELIB_NOTEBOOK", "notebook")
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / f"{name}.txt").write_text(text.strip() + "\n")
    return text


def _heading(cell) -> str | None:
    if cell.get("cell_type") != "markdown":
        return None
    for line in cell.get("source", "").splitlines():
        if line.startswith("## "):
            return line[3:].strip()
    return None


def _progress_hooks(nb, name: str):
    """nbclient hooks printing one line per section heading of the notebook."""
    headings = {i: h for i, c in enumerate(nb.cells) if (h := _heading(c))}
    n_sections = max(1, len(headings))
    done = {"k": 0}

    def on_cell_start(cell, cell_index, **_):
        # the heading is a Markdown cell; announce it when the first cell after it starts
        prev = [h for i, h in headings.items() if i < cell_index]
        if len(prev) > done["k"]:
            done["k"] = len(prev)
            print(f"  {name} [{done['k']}/{n_sections}] {prev[-1]}", flush=True)

    return on_cell_start


def _kernel_manager():
    """A kernel over IPC where the OS has it: no "kernel over TCP without encryption" warning.

    The IPC socket path must be absolute: the kernel runs in the notebook's folder, and a
    relative path (jupyter_client's default) would name another socket there, so the kernel
    would never answer.
    """
    import tempfile

    from jupyter_client import KernelManager

    if os.name != "posix":
        return KernelManager(kernel_name="python3", transport="tcp")
    km = KernelManager(kernel_name="python3", transport="ipc")
    km.ip = os.path.join(tempfile.mkdtemp(prefix="selib-kernel-"), "kernel")
    return km


def _remove_socket_folder(km) -> None:
    """The private folder of an IPC kernel's sockets (TCP kernels have none)."""
    if km.transport == "ipc":
        shutil.rmtree(Path(km.ip).parent, ignore_errors=True)


def execute(nb_path: Path, out_dir: Path, env: dict[str, str], timeout: int = 3600) -> Path:
    """Run one notebook with nbclient (in its own folder, as JupyterLab would) and write the
    executed copy plus an HTML export to ``out_dir``."""
    import nbformat
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter

    nb = nbformat.read(nb_path, as_version=4)
    km = _kernel_manager()
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        # the kernel's own stderr (progress lines written to sys.__stderr__) goes to this
        # terminal, not into the notebook: ipykernel would otherwise forward it as cell output
        client = NotebookClient(nb, timeout=timeout, km=km,
                                extra_arguments=["--IPKernelApp.capture_fd_output=False"],
                                resources={"metadata": {"path": str(nb_path.parent)}})
        client.on_cell_start = _progress_hooks(nb, nb_path.stem[:2])
        # nbclient leaves a kernel it did not create running; shut it down here, or every
        # notebook's kernel outlives the series and says "Parent appears to have exited" at its end
        client.execute(cleanup_kc=True)
    finally:
        _remove_socket_folder(km)
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
    """Render the built-in dataset if needed, execute the notebooks, print what happens and a
    table of the results. ``keep_outputs`` copies the executed notebooks back into
    ``notebooks/`` (how the committed outputs are made)."""
    from selib.training.profiles import profile_name

    root = project_root()
    name = profile_name(profile)
    out_dir = (root / out) if not Path(out).is_absolute() else Path(out)
    results = out_dir / "results"
    shutil.rmtree(results, ignore_errors=True)
    env = {"SELIB_PROFILE": name, "SELIB_ROOT": str(root), "SELIB_PROGRESS": "stderr",
           RESULTS_ENV: str(results), "PYTHONWARNINGS": "ignore::DeprecationWarning"}
    if data_dir:
        env["SELIB_DATA_DIR"] = str(Path(data_dir).resolve())
    else:
        from selib.synth import ensure_builtin

        t = time.perf_counter()
        path = ensure_builtin(root / "data", profile=name)
        print(f"built-in dataset: {path.relative_to(root)} ({time.perf_counter() - t:.0f} s)", flush=True)
    rows, t0 = [], time.perf_counter()
    for nb in notebooks(only, root):
        t = time.perf_counter()
        print(f"running {nb.name} (profile {name}) ...", flush=True)
        done = execute(nb, out_dir, {**env, "SELIB_NOTEBOOK": nb.stem[:2]})
        rows.append((nb.stem, time.perf_counter() - t))
        if keep_outputs:
            shutil.copyfile(done, nb)
    _print_table(rows, results, out_dir, root, time.perf_counter() - t0)
    return 0


def _print_table(rows, results: Path, out_dir: Path, root: Path, total: float) -> None:
    def rel(p: Path) -> str:
        try:
            return str(p.relative_to(root))
        except ValueError:
            return str(p)

    width = max(len(r[0]) for r in rows) if rows else 10
    print(f"\nseries done in {total / 60:.1f} min; executed notebooks and HTML in {rel(out_dir)}/")
    print(f"{'notebook':<{width}}  {'seconds':>7}  key result")
    for stem, secs in rows:
        path = results / f"{stem[:2]}.txt"
        key = path.read_text().strip().splitlines()[0] if path.exists() else NO_RESULT
        print(f"{stem:<{width}}  {secs:7.0f}  {key}")
    sys.stdout.flush()
