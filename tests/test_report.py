"""docs/results.md and the README's headline table are generated from bench/results/*.json.

The committed page and block must be exactly what ``bench/report.py`` writes from the committed
JSON: a number edited by hand, or a result file added or changed without ``make report``, fails
here. The other tests check that the generator really reads the JSON (a changed number changes
the page) and that every row carries its provenance.
"""
from __future__ import annotations

import copy
import importlib.util
import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _report():
    spec = importlib.util.spec_from_file_location("_bench_report", REPO / "bench" / "report.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module          # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


report = _report()


@pytest.fixture(scope="module")
def results():
    return report.load_results()


def test_results_page_is_current(results):
    assert (REPO / "docs" / "results.md").read_text() == report.render_page(results), \
        "docs/results.md differs from bench/results/*.json: run `make report`"


def test_readme_block_is_current(results):
    readme = (REPO / "README.md").read_text()
    assert readme == report.with_readme_block(readme, report.render_readme_block(results)), \
        "README.md's results block differs from bench/results/*.json: run `make report`"


def test_check_mode_agrees(capsys):
    assert report.main(["--check"]) == 0, capsys.readouterr().out


def test_every_result_file_has_a_section_and_every_row_its_provenance(results):
    page = report.render_page(results)
    summary = page.split("## Summary", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in summary.splitlines() if line.startswith("| [")]
    assert len(rows) >= len(results)
    for name, r in results.items():
        assert f"`{r.get('_file', f'bench/results/{name}.json')}`" in page
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split(" | ")]
        question, result, data, hardware, date, command = cells
        assert result not in ("", "–") and hardware and command.startswith("`")
        assert date[:4].isdigit(), row            # every row is dated
        assert "not recorded" not in command, row


def test_every_committed_result_has_a_renderer_that_reads_it(results):
    """A new result file, or one whose layout changed, needs its renderer in bench/report.py."""
    stale = {name: report.render(name, r)[1] for name, r in results.items()}
    stale = {n: d for n, d in stale.items() if d and (d[0] == report.NO_RENDERER or
                                                       d[0].startswith(report.STALE_RENDERER.split("{")[0]))}
    assert not stale, stale


def test_a_changed_number_changes_the_page_and_the_readme(results):
    """The generator reads the JSON: a different accuracy in the file is a different page."""
    changed = copy.deepcopy(results)
    changed["se_on_real"]["summary"]["paired_difference"]["ci95"] = [-0.5, 0.75]
    page, block = report.render_page(changed), report.render_readme_block(changed)
    assert page != report.render_page(results) and "−0.50 to +0.75" in page
    assert "−0.50 to +0.75" in block and "−0.50 to +0.75" not in report.render_readme_block(results)


def test_an_unknown_result_file_is_listed_with_its_provenance(tmp_path, results):
    new = {"machine": {"date": "2030-01-01 00:00 UTC", "cpu": "Some CPU", "usable_cpus": 4, "cpu_isa": ["avx2"]},
           "command": "python bench/new_thing.py --json bench/results/new_thing.json"}
    (tmp_path / "new_thing.json").write_text(json.dumps(new))
    page = report.render_page(report.load_results(tmp_path))
    assert "`bench/results/new_thing.json`" in page and "4-core Some CPU, flags: avx2" in page
    assert "2030-01-01 00:00 UTC" in page and "python bench/new_thing.py" in page
    assert report.NO_RENDERER in page
    # a known kind whose file lost a field is listed too, and says so
    broken = {"se_on_real": {"machine": new["machine"], "command": new["command"], "summary": {}}}
    assert "is not the one `bench/report.py` knows (KeyError" in report.render_page(broken)


def test_a_record_with_several_sessions_is_dated_by_its_latest():
    r = {"provenance": [{"date": "2026-01-01 10:00 UTC", "cpu": "A", "cpus": 2, "cpu_flags": ["avx2"]},
                        {"date": "2026-01-02 11:00 UTC", "cpu": "A", "cpus": 2, "cpu_flags": ["avx2"]}]}
    m = report._record_machine(r)
    assert m["date"] == "2026-01-02 11:00 UTC" and m["cpu_isa"] == ["avx2"]


def test_hardware_names_the_cpu_flags_or_the_gpu():
    assert report.hardware({"machine": {"cpu": "AMD EPYC", "usable_cpus": 2, "cpu_flags_bf16": ["avx512_bf16"]}}) \
        == "2-core AMD EPYC, flags: avx512_bf16"
    assert "no bfloat16" in report.hardware({"machine": {"cpu": "X", "cpu_flags_bf16": []}})
    assert report.hardware({"machine": {"gpus": ["NVIDIA H200"], "backend": "jax"}}) == "GPU: NVIDIA H200 (jax)"
    assert report.hardware({"machine": {"gpus": []}, "device": {"gpus": ["H100"], "backend": "jax"}}) == "GPU: H100 (jax)"


def test_readme_block_needs_its_markers():
    with pytest.raises(ValueError, match="results:start"):
        report.with_readme_block("# no markers here\n", "x")


def test_readme_and_design_pages_stay_a_guide_not_a_lab_notebook():
    """Dates, machine load and run history belong in the generated results page only."""
    import re

    readme = (REPO / "README.md").read_text()
    assert len(readme.splitlines()) <= 250
    pages = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    for page in pages:
        text = page.read_text()
        if page.name == "results.md":   # provenance (date, hardware, command) lives here, load does not
            assert not re.findall(r"load average|this machine|this session|today", text, re.I)
            continue
        found = re.findall(r"\b20\d\d-\d\d-\d\d\b|load average|this machine|this session|today", text, re.I)
        assert not found, (page.name, found)
