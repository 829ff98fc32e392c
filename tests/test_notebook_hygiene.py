"""The committed notebooks as a reader gets them: no machine paths in their outputs, and each ends
with a summary, exercises and a link that leads on through the series (issue 11's hygiene list).

nbval checks that the cells run; these check what is committed, without running anything."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
#: absolute paths of a machine (home, temp, this project's checkout, an installed package)
MACHINE_PATH = re.compile(r"(/home/|/tmp/|/work/|/Users/|[A-Z]:\\\\|site-packages)")


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text())["cells"]


def _output_text(output: dict) -> str:
    text = output.get("text", "")
    data = output.get("data", {})
    parts = [text, data.get("text/plain", ""), data.get("text/html", ""), output.get("evalue", "")]
    return "".join("".join(p) if isinstance(p, list) else p for p in parts)


def test_the_series_is_six_notebooks():
    assert [p.name[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04", "05", "06"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_outputs_hold_no_machine_paths(path):
    hits = [(i, m.group(0)) for i, cell in enumerate(_cells(path)) for out in cell.get("outputs", [])
            for m in [MACHINE_PATH.search(_output_text(out))] if m]
    assert not hits, f"{path.name}: machine paths in the outputs of cells {hits}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_ends_with_summary_exercises_and_a_link_on(path):
    markdown = "\n".join("".join(c["source"]) for c in _cells(path) if c["cell_type"] == "markdown")
    starts = [m.start() for m in re.finditer(r"^## Summary", markdown, re.M)]
    assert starts, f"{path.name} has no summary"
    ending = markdown[starts[-1]:]
    headings = re.findall(r"^## (.+)", ending, re.M)[1:]
    assert headings and all(re.match(r"(Exercises|Try this)", h) for h in headings), \
        f"{path.name}: after the summary come {headings}, not only exercises"
    links = re.findall(r"\]\((\d\d_[^)]+\.ipynb)\)", ending)
    index = NOTEBOOKS.index(path)
    neighbour = NOTEBOOKS[index + 1] if index + 1 < len(NOTEBOOKS) else NOTEBOOKS[index - 1]
    assert neighbour.name in links, f"{path.name} does not end with a link to {neighbour.name}: {links}"


def test_make_test_keeps_a_notebooks_cells_on_one_worker():
    """nbval runs a notebook's cells in one kernel, in order: spread over xdist workers by the
    default `--dist load`, a later cell could run where the earlier ones never did."""
    makefile = (Path(__file__).resolve().parents[1] / "Makefile").read_text()
    recipes = re.findall(r"^test(?:-full)?:.*\n\t(.*)$", makefile, flags=re.M)
    assert len(recipes) == 2 and all("--nbval-lax notebooks" in r for r in recipes)
    for recipe in recipes:
        assert " -n " not in recipe or re.search(r"--dist[ =]load(scope|file)\b", recipe), recipe
