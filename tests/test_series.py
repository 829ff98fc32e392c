"""The series runner behind `make run`: which notebooks, the kernel it starts, progress, results."""
from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

from selib import series


def _fake_project(root: Path, numbers=("01", "02", "05", "06")) -> Path:
    (root / "notebooks").mkdir(parents=True)
    for n in numbers:
        nbformat.write(nbformat.v4.new_notebook(), root / "notebooks" / f"{n}_x.ipynb")
    return root


def test_main_series_is_01_to_05_and_06_only_on_request(tmp_path):
    root = _fake_project(tmp_path, ("01", "02", "03", "04", "05", "06"))
    assert [p.name[:2] for p in series.notebooks(None, root)] == ["01", "02", "03", "04", "05"]
    assert [p.name[:2] for p in series.notebooks("6", root)] == ["06"]
    assert [p.name[:2] for p in series.notebooks("02,1", root)] == ["02", "01"]   # the order asked


def test_a_missing_notebook_is_named(tmp_path):
    root = _fake_project(tmp_path)
    with pytest.raises(FileNotFoundError, match="no notebook numbered 03"):
        series.notebooks("01,03", root)


def test_record_result_writes_only_for_the_runner(tmp_path, monkeypatch):
    monkeypatch.delenv(series.RESULTS_ENV, raising=False)
    assert series.record_result("85 %", notebook="04") == "85 %"
    assert not list(tmp_path.iterdir())
    monkeypatch.setenv(series.RESULTS_ENV, str(tmp_path / "r"))
    series.record_result("  97.1 % test accuracy \n", notebook="04")
    assert (tmp_path / "r" / "04.txt").read_text() == "97.1 % test accuracy\n"


def test_closing_table_names_each_notebook_and_its_key_result(tmp_path, capsys):
    results = tmp_path / "results"
    results.mkdir()
    (results / "01.txt").write_text("1,200 images loaded, 3 skipped\nmore detail")   # first line shown
    series._print_table([("01_data", 12.4), ("02_se", 3.0)], results, tmp_path / "out", tmp_path, 75)
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "series done in 1.2 min; executed notebooks and HTML in out/"
    assert lines[2].split() == ["01_data", "12", "1,200", "images", "loaded,", "3", "skipped"]
    assert lines[3].split()[:2] == ["02_se", "3"] and lines[3].endswith(series.NO_RESULT)


def test_kernel_socket_path_is_absolute():
    km = series._kernel_manager()
    if km.transport == "ipc":      # a relative path would be resolved in the notebook's folder
        assert Path(km.ip).is_absolute()


@pytest.mark.slow
def test_execute_runs_a_notebook_in_its_folder_with_progress_and_result(tmp_path, capfd):
    folder = tmp_path / "nbs"
    folder.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("## 1 · First section"),
                nbformat.v4.new_code_cell("import os, pathlib\nprint(pathlib.Path.cwd().name)"),
                nbformat.v4.new_code_cell("from selib.series import record_result\n"
                                          "record_result(f\"answer {6 * 7}\")"),
                nbformat.v4.new_code_cell("import sys\nprint('progress for the terminal', file=sys.__stderr__, flush=True)"),
                nbformat.v4.new_code_cell("print(os.getpid())")]
    path = folder / "07_fake.ipynb"
    nbformat.write(nb, path)
    out = series.execute(path, tmp_path / "out", {series.RESULTS_ENV: str(tmp_path / "res"),
                                                   "SELIB_NOTEBOOK": "07"}, timeout=120)
    done = nbformat.read(out, as_version=4)
    assert done.cells[1].outputs[0]["text"].strip() == "nbs"          # ran in the notebook's folder
    assert (tmp_path / "res" / "07.txt").read_text() == "answer 42\n"
    assert out.with_suffix(".html").read_text().count("answer 42") >= 1
    out_text, err_text = capfd.readouterr()
    assert "07 [1/1] 1 · First section" in out_text
    # the trainer's progress lines (sys.__stderr__) are for the terminal, never the notebook
    assert done.cells[3].outputs == [] and "progress for the terminal" in err_text
    # the kernel is shut down with its notebook, not left to outlive the series
    kernel = int(done.cells[4].outputs[0]["text"])
    with pytest.raises(ProcessLookupError):
        os.kill(kernel, 0)
