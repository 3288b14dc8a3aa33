"""`make bench` (bench/suite.py) runs, and rewrites only its own section of BENCHMARKS.md.

The quick suite runs for real at one small scale (seed, one dirty day, each layer a
`dagster asset materialize` process, the plain-DuckDB floor, cleaning against naive pandas);
the incremental day is left out to keep the test under 90 s on two shared cores.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.dagster_dev import stop

sys.path.insert(0, str(REPO / "bench"))
from report import BEGIN, END  # bench/report.py

HAND_WRITTEN_HEAD = "# Benchmarks\n\nA hand-written paragraph that must survive.\n\n"
HAND_WRITTEN_TAIL = "\n## A later hand-written section\n\nIt stays too.\n"
NUMBER_X = re.compile(r"^\**\d+(\.\d+)?×")


def _tables(section: str) -> list[list[list[str]]]:
    """Every Markdown table of ``section`` as rows of cells."""
    tables, current = [], []
    for line in [*section.splitlines(), ""]:
        if line.startswith("|"):
            current.append([c.strip() for c in line.strip().strip("|").split("|")])
        elif current:
            tables.append(current)
            current = []
    return tables


@pytest.mark.slow
def test_quick_bench_rewrites_its_section_with_numbers(tmp_path: Path) -> None:
    out = tmp_path / "BENCHMARKS.md"
    out.write_text(f"{HAND_WRITTEN_HEAD}{BEGIN}\nstale figures\n{END}\n{HAND_WRITTEN_TAIL}")
    raw = tmp_path / "results.json"
    proc = subprocess.Popen(
        [sys.executable, "bench/suite.py", "--quick", "--scales", "0.005", "--no-incremental",
         "--output", str(out), "--json", str(raw), "--workdir", str(tmp_path)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)  # its own process group: stop() ends every child too
    try:
        log, _ = proc.communicate(timeout=150)
    finally:
        stop(proc)
    assert proc.returncode == 0, log[-3000:]

    text = out.read_text()
    assert text.startswith(HAND_WRITTEN_HEAD) and text.endswith(HAND_WRITTEN_TAIL)
    assert text.count(BEGIN) == 1 and text.count(END) == 1
    section = text.split(BEGIN)[1].split(END)[0]
    assert "stale figures" not in section
    assert "mode **quick**" in section
    for heading in ("### End to end at scale 0.005", "### One more 1% day", "### Scaling",
                    "### Bronze cleaning"):
        assert heading in section

    tables = _tables(section)
    assert len(tables) == 3  # end to end, scaling, cleaning (no incremental day here)
    for table in tables:
        width = len(table[0])
        assert all(len(row) == width for row in table), table
        assert set(table[1][0]) <= {"-"}  # the header's separator line
    end_to_end, scaling, _ = tables
    assert [row[0] for row in end_to_end[2:]] == ["bronze", "silver + gold", "**total**",
                                                  "peak RSS"]
    ratios = [row[-1] for row in end_to_end[2:]] + [scaling[2][5]]
    assert all(NUMBER_X.match(r) for r in ratios), ratios
    assert re.search(r"Naive pandas takes \*\*\d+\.\d\d×\*\* the agent's time", section)

    results = json.loads(raw.read_text())
    (scale,) = results["scales"]
    # As the sensor and automation run it: bronze, then silver and gold in one run.
    assert [run["layers"] for run in scale["runs"]] == [["bronze"], ["silver", "gold"]]
    for run in scale["runs"]:
        assert run["status"] == "SUCCESS"
        # Steps run inside the process, so they take less than its wall time; each layer of
        # the run had steps.
        assert 0 < run["steps_s"] < run["wall_s"]
        assert set(run["steps_by_layer"]) == set(run["layers"])
        assert all(v > 0 for v in run["steps_by_layer"].values())
        assert run["peak_rss_mb"] > 50
    floor = scale["floor"]
    assert set(floor["seconds"]) == {"bronze", "silver", "gold"}
    # The floor built every layer: each silver table is its bronze table, deduplicated.
    for table in ("orders", "order_items", "events", "users", "products"):
        assert 0 < floor["rows"][f"silver_{table}"] <= floor["rows"][f"bronze_{table}"]
    assert floor["rows"]["gold_daily_sales"] > 0
    # ... and its marts hold the project's rows and revenue: the baseline does the same work.
    assert floor["marts_agree"]
    assert "floor's three marts **agree**" in section
    # Both cleaners did the same work on the same file.
    project, naive = results["cleaning"]["project"], results["cleaning"]["naive"]
    assert project["rows_read"] == naive["rows_read"] > 1000
    assert project["rows_loaded"] == naive["rows_loaded"]
    assert project["rows_set_aside"] == naive["rows_set_aside"] > 0
    assert project["checksums"] == naive["checksums"]  # the same values, column by column
    assert project["checksums"]["sale_price"] > 0
