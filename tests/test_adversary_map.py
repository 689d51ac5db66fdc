"""The A_min map runner: rows appended, a rerun skips done cells, a run killed mid-line resumes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from lpsched.adversary.ratio_map import (
    READINGS,
    MapCell,
    append_row,
    load_rows,
    map_cells,
    reading_policy,
    run_map,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import amin_map

CELLS = map_cells(["default", "resume"], [1], [8], ["harmonic"], [6, 8], lower=2, prompt=2)


def test_cells_and_keys() -> None:
    assert len(CELLS) == 4 and len({c.key for c in CELLS}) == 4
    assert CELLS[0] == MapCell("default", 1.0, 8, "harmonic", 6, 0, 2, 2)
    with pytest.raises(ValueError, match="unknown reading"):
        map_cells(["nope"], [1], [8], ["harmonic"], [6])
    assert set(READINGS) >= {"default", "resume", "evict_fewest", "evict_last", "max_prev_g", "double"}
    # the other online policies run on the same cells, under their own names
    assert reading_policy("resume") == ("amin", {"semantics": "resume"})
    assert reading_policy("mcsf_lower") == ("mcsf", {"missing": "lower"}) and reading_policy("amax") == ("amax", {})
    with pytest.raises(ValueError, match="unknown reading"):
        reading_policy("nope")


def test_other_policies_on_a_cell(tmp_path: Path) -> None:
    cells = map_cells(["amax", "fcfs"], [2], [8], ["blockers"], [8], lower=2, prompt=2)
    rows = run_map(cells, tmp_path / "m.jsonl", budget=0.5)
    assert [r["policy"] for r in rows] == ["amax", "fcfs"] and all(r["status"] == "ok" for r in rows)
    assert rows[0]["options"] == {} and rows[0]["ratio_lower"] > 1


def test_run_resume_and_torn_line(tmp_path: Path) -> None:
    rows_path = tmp_path / "map.jsonl"
    first = run_map(CELLS[:2], rows_path, budget=0.5)
    assert [r["status"] for r in first] == ["ok", "ok"]
    assert all(r["ratio_lower"] <= r["ratio_upper"] for r in first)
    # a rerun with the same cells measures nothing
    assert run_map(CELLS[:2], rows_path, budget=0.5) == []
    # a kill while writing leaves a torn last line: it is skipped and the next row gets its own line
    with rows_path.open("a") as fh:
        fh.write('{"key": "default|c1|a1_8|harm')
    assert len(load_rows(rows_path)) == 2
    seen = []
    again = run_map(CELLS, rows_path, budget=0.5, progress=lambda i, t, c, r: seen.append((i, t, r is None)))
    assert [r["key"] for r in again] == [c.key for c in CELLS[2:]]
    assert seen[0] == (0, 2, True) and seen[-1] == (2, 2, False)
    rows = load_rows(rows_path)
    assert [r["key"] for r in rows] == [c.key for c in CELLS]
    for line in rows_path.read_text().splitlines()[:2] + rows_path.read_text().splitlines()[3:]:
        json.loads(line, parse_constant=lambda name: pytest.fail(f"non-strict JSON {name}"))


def test_timeout_is_recorded_and_retried(tmp_path: Path) -> None:
    rows_path = tmp_path / "map.jsonl"
    cell = CELLS[0]
    out = run_map([cell], rows_path, budget=0.5, hard_limit=0.0)
    assert out[0]["status"] == "timeout" and "ratio_lower" not in out[0]
    assert run_map([cell], rows_path, budget=0.5) == []  # a timeout counts as done by default
    redo = run_map([cell], rows_path, budget=0.5, retry=("timeout",))
    assert redo[0]["status"] == "ok"
    assert amin_map.summarise(load_rows(rows_path)).best[("default", 1.0, 8)]["key"] == cell.key


def test_append_row_is_strict(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        append_row(tmp_path / "x.jsonl", {"key": "k", "v": float("nan")})


def test_summary_best_growth_and_fit() -> None:
    rows = []
    for inv, base in ((8, 2.0), (64, 4.0), (512, 8.0), (4096, 16.0)):
        for n, f in ((16, 0.5), (64, 1.0)):
            rows.append({"key": f"default|{inv}|{n}", "status": "ok", "reading": "default", "c": 1.0,
                         "inv_alpha": inv, "n": n, "family": "harmonic", "ratio_lower": base * f,
                         "ratio_upper": base * f * 1.1, "kind": "lower bound"})
    s = amin_map.summarise(rows)
    assert s.best[("default", 1.0, 64)]["ratio_lower"] == 4.0
    assert s.growing_in_n(("default", 1.0, 64)) is True
    fit = s.fits[("default", 1.0)]
    assert fit is not None and fit.better() == "power" and fit.power_p == pytest.approx(1 / 3)
    md = amin_map.markdown_summary(rows)
    assert "| 1 | 4096 | 16.000" in md and "power" in md
    assert json.dumps(amin_map.summary_json(rows), allow_nan=False)
