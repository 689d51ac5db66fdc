"""The proof benchmark's row log: rows are appended as measured, a second run resumes from them,
a line cut short by a crash is skipped, and the plot is drawn from stored rows."""

from __future__ import annotations

import dataclasses
import importlib
import json
import sys
from pathlib import Path

import pytest

from lpsched.generate import paper
from lpsched.offline import SolverParams

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture()
def bench_ip(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    return importlib.import_module("bench_ip")


def _as_json(params: SolverParams) -> dict:
    """``params`` as a row stores it (tuples become lists)."""
    return json.loads(json.dumps(dataclasses.asdict(params)))


def _main(bench_ip, monkeypatch, *argv: str) -> None:
    monkeypatch.setattr(sys, "argv", ["bench_ip.py", *argv])
    bench_ip.main()


def test_rows_are_appended_and_a_second_run_solves_nothing(bench_ip, monkeypatch, tmp_path, capsys):
    rows_file = tmp_path / "rows.jsonl"
    calls = []
    real = bench_ip.solve_hindsight

    def counting(*a, **kw):
        calls.append(1)
        return real(*a, **kw)

    monkeypatch.setattr(bench_ip, "solve_hindsight", counting)
    args = ("--time-limit", "5", "--families", "paper-s4", "--n", "6", "--paper-count", "2", "--no-plain",
            "--rows", str(rows_file))
    _main(bench_ip, monkeypatch, *args)
    first = capsys.readouterr().out
    assert len(calls) == 2
    solved = [line for line in first.splitlines() if line.startswith("#   paper-s4|6|")]
    assert len(solved) == 2 and all(" / " in line and "gap" in line for line in solved)  # one line per solve
    stored = [json.loads(line) for line in rows_file.read_text().splitlines()]
    assert [r["seed"] for r in stored] == [0, 1]
    assert all(r["params"] == _as_json(SolverParams()) for r in stored)  # the parameters each row ran with
    assert all(r["key"] == bench_ip.row_key("paper-s4", 6, r["seed"], "auto", 5.0, 2) for r in stored)
    _main(bench_ip, monkeypatch, *args)
    second = capsys.readouterr().out
    assert len(calls) == 2  # nothing solved again
    assert second.count("# resumed") == 2 and "#   paper-s4" not in second
    summary = [line for line in first.splitlines() if line.startswith("==")]
    assert summary and summary == [line for line in second.splitlines() if line.startswith("==")]
    # another time limit is another measurement: solved again
    _main(bench_ip, monkeypatch, *args[:1], "4", *args[2:])
    assert len(calls) == 4


def test_load_rows_skips_a_cut_last_line_and_names_a_bad_one(bench_ip, tmp_path):
    good = json.dumps({"key": "k", "family": "paper-s4", "n": 6, "status": "OPTIMAL", "gap": 0.0})
    f = tmp_path / "rows.jsonl"
    f.write_text(good + "\n" + '{"key": "k2", "fam')
    assert [r["key"] for r in bench_ip.load_rows([f])] == ["k"]
    f.write_text('{"key": "k2", "fam\n' + good + "\n")
    with pytest.raises(ValueError, match="line 1"):
        bench_ip.load_rows([f])
    lst = tmp_path / "rows.json"
    lst.write_text(json.dumps([json.loads(good)]))
    assert bench_ip.load_rows([lst])[0]["status"] == "OPTIMAL"


def test_plot_only_draws_stored_rows(bench_ip, monkeypatch, tmp_path, capsys):
    rows = [{"family": "paper-s4", "n": n, "seed": s, "formulation": "auto",
             "status": "OPTIMAL" if s < k else "FEASIBLE", "gap": 0.0 if s < k else 0.01}
            for n, k in ((40, 5), (50, 3)) for s in range(5)]
    src = tmp_path / "r.json"
    src.write_text(json.dumps(rows))
    png = tmp_path / "p.png"
    _main(bench_ip, monkeypatch, "--plot-only", "--plot", str(png), "--plot-from", str(src))
    assert png.stat().st_size > 10_000 and png.read_bytes()[:4] == b"\x89PNG"
    assert "10 rows" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        _main(bench_ip, monkeypatch, "--plot-only", "--plot", str(png), "--plot-from", str(tmp_path / "missing.json"))


def test_a_corrupt_rows_file_is_one_clear_error(bench_ip, monkeypatch, tmp_path, capsys):
    bad = tmp_path / "rows.jsonl"
    bad.write_text('{"key": "k", "fam\n{"key": "k2"}\n')
    with pytest.raises(SystemExit) as e:
        _main(bench_ip, monkeypatch, "--families", "paper-s4", "--n", "6", "--rows", str(bad))
    assert e.value.code == 2
    assert "line 1 is not JSON" in capsys.readouterr().err


def test_paper_settings_are_spelt_in_the_family_name(bench_ip):
    inst = bench_ip.family("paper-s50-a32-c20")(3, 7)
    # alpha = 1/32: u = 256; concurrency 20: M = 20 * (50 + 256)
    assert (inst.n, inst.M) == (7, 20 * (50 + 256))
    assert set(inst.prompt.tolist()) == {50}
    assert inst.output.min() >= 8 and inst.output.max() <= 256
    same = bench_ip.family("paper-s4-a4-c10")(3, 9)
    assert same.output.tolist() == bench_ip.FAMILIES["paper-s4"](3, 9).output.tolist()
    assert same.M == 360


def test_an_unknown_family_is_one_argparse_error(bench_ip, monkeypatch, capsys):
    with pytest.raises(SystemExit) as e:
        _main(bench_ip, monkeypatch, "--families", "paper-s4,paper-x9", "--n", "6")
    assert e.value.code == 2
    assert "unknown family 'paper-x9'" in capsys.readouterr().err


def test_a_sweep_cut_short_is_drawn_hollow_and_many_settings_get_a_figure_legend(bench_ip):
    rows = []
    for d in range(11):  # eleven settings: more than the ten default colours
        fam = f"paper-s4-a{d + 2}-c8"
        rows += [{"family": fam, "n": 30, "seed": k, "status": "OPTIMAL", "gap": 0.0} for k in range(5)]
        rows.append({"family": fam, "n": 45, "seed": 0, "status": "FEASIBLE", "gap": 0.01})
    fig = bench_ip.figure_proofs(rows)
    ax_p = fig.axes[0]
    hollow = [ln for ln in ax_p.get_lines() if ln.get_markerfacecolor() == "white"]
    assert len(hollow) == 11 and all(list(ln.get_xdata()) == [45] for ln in hollow)
    colours = {ln.get_color() for ln in ax_p.get_lines() if ln.get_label().startswith("paper")}
    assert len(colours) == 11
    assert fig.legends and ax_p.get_legend() is None


def test_the_sized_jaillet_family_takes_n_and_its_seed_count(bench_ip, monkeypatch, tmp_path, capsys):
    # the Jaillet draw with n jobs at time 0: M is drawn first, so it is the same seed's M
    small, full = bench_ip.family("jaillet-zero-n")(2, 5), bench_ip.family("jaillet-zero")(2, 0)
    assert small.n == 5 and small.M == full.M and not small.arrival.any()
    assert bench_ip.sized("jaillet-zero-n") and bench_ip.sized("paper-s4") and not bench_ip.sized("jaillet-zero")
    rows_file = tmp_path / "rows.jsonl"
    _main(bench_ip, monkeypatch, "--time-limit", "10", "--families", "jaillet-zero-n", "--n", "4,5",
          "--count", "2", "--no-plain", "--rows", str(rows_file))
    out = capsys.readouterr().out
    stored = [json.loads(line) for line in rows_file.read_text().splitlines()]
    assert [(r["n"], r["seed"]) for r in stored] == [(4, 0), (4, 1), (5, 0), (5, 1)]
    assert all(r["key"] == bench_ip.row_key("jaillet-zero-n", r["n"], r["seed"], "auto", 10.0, 2) for r in stored)
    assert "== jaillet-zero-n n=4" in out and "== jaillet-zero-n n=5" in out


def test_a_bad_job_count_is_one_argparse_error(bench_ip, monkeypatch, capsys):
    for bad in ("0", "8,x"):
        with pytest.raises(SystemExit) as e:
            _main(bench_ip, monkeypatch, "--families", "jaillet-zero-n", "--n", bad)
        assert e.value.code == 2
        assert "--n takes comma-separated job counts" in capsys.readouterr().err


def test_large_rows_record_the_params_they_ran_with(bench_ip, monkeypatch, tmp_path):
    """``bench_large_gap.large_gap_row`` (the ``--large`` rows of bench_ip) records its budget and
    its parameters, and runs with them: an LP rate of 0 variables per second skips the LP bound."""
    import bench_large_gap

    inst = paper(0, n=20, s=4, lower=8, alpha=1 / 4, concurrency=10)
    kw = dict(lp_time=2.0, fractions=(0.95,), ls_time=0.2, window_time=0.0, tune_time=0.2, log=False)
    row = bench_large_gap.large_gap_row(inst, **kw)
    assert json.loads(json.dumps(row))["params"] == _as_json(SolverParams())
    assert row["budget"]["lp"] == 2.0 and row["lp_bound"] is not None
    no_lp = dataclasses.replace(SolverParams(), large_lp_variables_per_second=0)
    row = bench_large_gap.large_gap_row(inst, **kw, params=no_lp)
    assert row["params"]["large_lp_variables_per_second"] == 0 and row["lp_bound"] is None
    assert row["budget"]["lp_variables_per_second"] == 0

    seen: list[dict] = []

    def spy(inst, **kw):
        seen.append(kw)
        return {"params": dataclasses.asdict(kw["params"])}

    monkeypatch.setattr(bench_ip, "large_gap_row", spy)
    rows_file = tmp_path / "rows.jsonl"
    _main(bench_ip, monkeypatch, "--time-limit", "5", "--families", "paper-s4", "--n", "4", "--paper-count", "1",
          "--no-plain", "--large", "--rows", str(rows_file))
    assert len(seen) == 4 and all(k["params"] == SolverParams() for k in seen)
    assert all(k["fractions"] == SolverParams().lp_guided_fractions for k in seen)
    stored = [json.loads(line) for line in rows_file.read_text().splitlines()]
    assert [r["family"] for r in stored].count("paper-large") == 4
    assert all(r["params"] == _as_json(SolverParams()) for r in stored)
