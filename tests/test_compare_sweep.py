"""Sweeps: rows and ratios, resume after kill -9, Dask equals single-process, reports and plots."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from lpsched import OptionError
from lpsched.compare import expand_cells, run_sweep, spec_from_dict
from lpsched.compare.cell import OPT_LABEL, make_instance
from lpsched.compare.plots import (
    figure_memory_stacked,
    figure_ratio_distributions,
    figure_ratio_vs_alpha,
    plot_database,
)
from lpsched.compare.report import markdown_report, summarise
from lpsched.compare.store import open_store, read_cells, read_results
from lpsched.compare.theory import Counterexample
from lpsched.online import simulate

REPO = Path(__file__).resolve().parents[1]

SMALL = {
    "name": "small",
    "seeds": 2,
    "policies": ["hsf", "amin", "amax"],
    "optimum": {"method": "ip", "time_limit": 10.0, "workers": 1},
    "instances": [{"generator": "paper", "n": 6, "s": 2, "lower": 3, "concurrency": 3, "alpha": [1.0, 0.5, 0.25]}],
    "variants": [{"policy": "amin", "label": "amin-fewest", "options": {"eviction": "fewest"}}],
}

VOLATILE = {"id", "seconds", "finished_at", "opt_seconds"}


def stable(rows: list[dict]) -> list[dict]:
    return sorted(
        ({k: v for k, v in r.items() if k not in VOLATILE} for r in rows),
        key=lambda r: (r["cell_key"], r.get("label", "")),
    )


def test_spec_validation_names_the_key() -> None:
    with pytest.raises(OptionError, match="unknown key 'sedes'"):
        spec_from_dict({**SMALL, "sedes": 3})
    with pytest.raises(OptionError, match="unknown policy 'amid'"):
        spec_from_dict({**SMALL, "policies": ["amid"]})
    with pytest.raises(OptionError, match="method must be ip, bounds or none"):
        spec_from_dict({**SMALL, "optimum": {"method": "gurobi"}})
    with pytest.raises(OptionError, match=r"\[\[instances\]\]"):
        spec_from_dict({k: v for k, v in SMALL.items() if k != "instances"})
    bad_variant = [{"policy": "amin", "label": "x", "options": {"eviction": "random"}}]
    with pytest.raises(OptionError, match=r"variants\[0\] \('x'\): .*eviction"):
        spec_from_dict({**SMALL, "variants": bad_variant})
    with pytest.raises(OptionError, match="generator"):
        spec_from_dict({**SMALL, "instances": [{"generator": "nope"}]})


def test_cells_grid_and_stable_keys() -> None:
    spec = spec_from_dict(SMALL)
    cells = expand_cells(spec)
    assert len(cells) == 3 * 2
    assert len({c.key for c in cells}) == 6
    assert [c.key for c in cells] == [c.key for c in expand_cells(spec_from_dict(SMALL))]
    assert [r.label for r in cells[0].runs] == ["hsf", "amin", "amax", "amin-fewest"]


def test_sweep_rows_ratios_and_traceability(tmp_path) -> None:
    db = tmp_path / "s.db"
    summary = run_sweep(spec_from_dict(SMALL), db, workers=0, progress=False)
    assert summary.ran == 6 and summary.errors == 0
    con = open_store(db)
    rows = read_results(con)
    cells = read_cells(con)
    assert len(cells) == 6 and all(c["status"] == "ok" for c in cells)
    assert len(rows) == 6 * 5  # 4 policy labels + the optimum's row per instance
    for c in cells:
        assert c["opt_status"] == "OPTIMAL" and c["lb_best"] <= c["opt_value"] <= c["hsf_tel"]
    for r in rows:
        assert r["ratio_opt"] is not None and r["ratio_opt"] >= 1 - 1e-9, r
        assert r["ratio_lb"] >= r["ratio_opt"] - 1e-9
        if r["label"] == "hsf":
            assert r["ratio_hsf"] == 1.0
        if r["label"] == OPT_LABEL:
            assert r["ratio_opt"] == 1.0
    # every row re-derives: regenerate the instance, re-run the policy, same TEL
    by_key = {c.key: c for c in expand_cells(spec_from_dict(SMALL))}
    for r in rows:
        if r["label"] == OPT_LABEL:
            continue
        inst = make_instance(by_key[r["cell_key"]])
        assert inst.content_hash() == r["instance_hash"]
        assert simulate(inst, r["policy"], **json.loads(r["options"])).tel == r["tel"]
    # the report's worst entries point at rows holding exactly that value
    for s in summarise(rows, "ratio_opt"):
        row = next(x for x in rows if x["id"] == s.worst_row)
        assert row["ratio_opt"] == pytest.approx(s.worst) and row["label"] == s.label
    text = markdown_report(db)
    assert "## TEL / proven optimum" in text and "\n| 0.25 | " in text
    for s in summarise(rows, "ratio_opt"):
        assert f" {s.worst_row} |" in text
    assert "A_min: growth of the worst ratio" in text
    # the verdict names its scope, and points to a certified counterexample for the sweep's c
    scope = "on this sweep's instances (family paper, n = 6, c = M/(s+u) = 3, A_min reading default)"
    assert f"**Verdict:** {scope}: " in text
    asked = []

    def lookup(c: float) -> Counterexample:
        asked.append(c)
        return Counterexample("instances/adversarial/amin-a1_4096-c3-epochs.json", 1 / 4096, 256, c, 99.0, "default")

    pointed = markdown_report(db, counterexample_for=lookup)
    assert asked == [3.0]
    assert "certified counterexample to this fit at c = 3 (instances/adversarial/amin-a1_4096-c3-epochs.json" in pointed
    assert "consistent with" not in pointed.split("**Verdict:**")[1]
    # re-running skips everything
    again = run_sweep(spec_from_dict(SMALL), db, workers=0, progress=False)
    assert again.ran == 0 and again.skipped == 6
    assert stable(read_results(open_store(db))) == stable(rows)


def test_failed_cell_is_recorded_and_retried(tmp_path) -> None:
    trace = tmp_path / "t.csv"  # the spec is valid; the file it names has a malformed row
    trace.write_text("num_prefill_tokens,num_decode_tokens\n3,4\n5,x\n")
    block = {"generator": "trace", "path": str(trace), "fmt": "lengths", "n": 2, "M": 64}
    spec = spec_from_dict({**SMALL, "instances": [block], "seeds": 1})
    db = tmp_path / "f.db"
    summary = run_sweep(spec, db, workers=0, progress=False)
    assert summary.errors == 1 and "t.csv:3: malformed row" in summary.error_messages[0]
    cells = read_cells(open_store(db))
    assert cells[0]["status"] == "error"
    assert run_sweep(spec, db, workers=0, progress=False).ran == 0
    assert run_sweep(spec, db, workers=0, progress=False, retry_errors=True).ran == 1


def test_resume_after_kill_9_loses_nothing(tmp_path) -> None:
    spec = {**SMALL, "optimum": {"method": "bounds"}, "seeds": 4}
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(spec))
    db = tmp_path / "k.db"
    script = textwrap.dedent(f"""
        import json, time
        from lpsched.compare import run_sweep, spec_from_dict
        from lpsched.compare.cell import run_cell
        def slow(cell):
            time.sleep(0.4)
            return run_cell(cell)
        spec = spec_from_dict(json.load(open({str(spec_file)!r})))
        run_sweep(spec, {str(db)!r}, workers=0, progress=False, cell_fn=slow)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=REPO)
    try:
        deadline = time.time() + 60
        n_done = 0
        while time.time() < deadline:
            if db.exists():
                try:
                    with sqlite3.connect(db) as con:
                        n_done = con.execute("SELECT COUNT(*) FROM cells").fetchone()[0]
                except sqlite3.OperationalError:
                    n_done = 0
                if n_done >= 3:
                    break
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert 3 <= n_done < 12, n_done
    con = open_store(db)
    survived = read_results(con)
    assert {r["cell_key"] for r in survived} == {c["cell_key"] for c in read_cells(con)}  # whole cells only
    resumed = run_sweep(spec_from_dict(spec), db, workers=0, progress=False)
    assert resumed.skipped >= 3 and resumed.skipped + resumed.ran == 12
    fresh = tmp_path / "fresh.db"
    run_sweep(spec_from_dict(spec), fresh, workers=0, progress=False)
    assert stable(read_results(open_store(db))) == stable(read_results(open_store(fresh)))


def test_dask_local_cluster_equals_single_process(tmp_path) -> None:
    pytest.importorskip("distributed")
    spec = spec_from_dict({**SMALL, "seeds": 1})
    single = tmp_path / "single.db"
    dask_db = tmp_path / "dask.db"
    run_sweep(spec, single, workers=0, progress=False)
    summary = run_sweep(spec, dask_db, workers=2, dask="local", progress=False)
    assert summary.ran == 3 and summary.errors == 0
    assert stable(read_results(open_store(single))) == stable(read_results(open_store(dask_db)))
    assert stable(read_cells(open_store(single))) == stable(read_cells(open_store(dask_db)))


def test_plots_exist_and_are_labelled(tmp_path) -> None:
    db = tmp_path / "p.db"
    run_sweep(spec_from_dict({**SMALL, "seeds": 1}), db, workers=0, progress=False)
    rows = read_results(open_store(db))
    fig = figure_ratio_vs_alpha(rows)
    ax = fig.axes[0]
    assert ax.get_xlabel().startswith("α") and ax.get_ylabel() == "TEL / OPT" and ax.get_xscale() == "log"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("A_max upper bound" in t for t in legend) and any("amin (worst)" in t for t in legend)
    fig = figure_ratio_distributions(rows, "ratio_hsf")
    assert fig.axes[0].get_ylabel() == "TEL / TEL(H-SF)"
    paths = plot_database(db, tmp_path / "plots")
    names = {p.name for p in paths}
    assert {"ratio_vs_alpha.png", "ratio_distributions.png", "memory_per_round.png"} <= names
    for p in paths:
        assert p.stat().st_size > 5000 and p.read_bytes()[:4] == b"\x89PNG"
    inst = make_instance(expand_cells(spec_from_dict({**SMALL, "seeds": 1}))[0])
    fig = figure_memory_stacked(inst, {"serial": [(i, 10 * i, 0, int(inst.output[i])) for i in range(inst.n)]})
    assert fig.axes[0].get_ylabel() == "KV tokens"


def test_cli_sweep_and_report(tmp_path) -> None:
    spec = tmp_path / "tiny.toml"
    spec.write_text(
        textwrap.dedent("""
        name = "tiny"
        seeds = 1
        policies = ["hsf", "amin"]
        [optimum]
        method = "bounds"
        [[instances]]
        generator = "paper"
        n = 5
        alpha = [1.0, 0.5, 0.25]
    """)
    )
    proc = subprocess.run(
        [sys.executable, "-m", "lpsched", "sweep", str(spec), "--workers", "0", "--json"],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr
    d = json.loads(proc.stdout)
    assert d["ran"] == 3 and d["errors"] == 0 and "TEL / best certified lower bound" in d["report"]
    proc = subprocess.run(
        [sys.executable, "-m", "lpsched", "report", str(tmp_path / "tiny.db"), "--plots", str(tmp_path / "pl")],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert proc.returncode == 0 and "ratio_vs_alpha.png" in proc.stdout
    proc = subprocess.run(
        [sys.executable, "-m", "lpsched", "report", str(tmp_path / "none.db")], capture_output=True, text=True, cwd=REPO
    )
    assert proc.returncode == 2 and "no such results database" in proc.stderr


def test_cli_reproduce_runs_the_spec_and_prints_the_table(tmp_path) -> None:
    (tmp_path / "jaillet_table.toml").write_text(textwrap.dedent("""
        name = "jaillet-table"
        seeds = 2
        policies = ["mcsf"]
        [optimum]
        method = "ip"
        time_limit = 1.0
        [[instances]]
        generator = "jaillet"
        arrivals = ["zero", "poisson"]
        n = 8
        rounds = 6
    """))
    proc = subprocess.run([sys.executable, "-m", "lpsched", "reproduce", "jaillet", "--experiments", str(tmp_path),
                           "--workers", "0", "--no-progress"], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    assert "4 instances (0 already in" in proc.stdout
    assert "| zero | 2 |" in proc.stdout and "| poisson | 2 |" in proc.stdout
    assert "1.005 / 1.074" in proc.stdout  # the published figures printed beside ours
