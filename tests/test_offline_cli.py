"""CLI: ``lpsched solve`` and ``lpsched bounds``."""

from __future__ import annotations

import json

from click.testing import CliRunner

from lpsched.cli import cli, main
from lpsched.generate import paper
from lpsched.instance import save_instance
from lpsched.verify import load_schedule, verify_schedule


def _run(args):
    import pytest

    with pytest.raises(SystemExit) as exc:
        main(args)
    return exc.value.code


def test_solve_json_and_schedule(tmp_path, capsys) -> None:
    inst = paper(3, n=8, concurrency=3)
    f = tmp_path / "i.json"
    save_instance(inst, f)
    out = tmp_path / "s.json"
    code = _run(["solve", str(f), "--time-limit", "10", "--json", "-o", str(out)])
    assert code == 0
    d = json.loads(capsys.readouterr().out)
    for key in ("status", "objective", "bound", "gap", "starts", "seconds", "backend"):
        assert key in d
    assert d["status"] == "OPTIMAL" and d["backend"] == "cpsat"
    assert verify_schedule(inst, load_schedule(out)).tel == d["objective"]
    code = _run(["solve", str(f), "--backend", "pulp", "--time-limit", "10", "--json"])
    assert code == 0 and json.loads(capsys.readouterr().out)["objective"] == d["objective"]


def test_solve_text_never_says_optimal_without_proof(tmp_path) -> None:
    from lpsched.generate import jaillet

    f = tmp_path / "j.json"
    save_instance(jaillet(7), f)
    r = CliRunner().invoke(cli, ["solve", str(f), "--time-limit", "1"])
    assert r.exit_code == 0
    if "OPTIMAL" not in r.output:
        assert "optimal" not in r.output.lower()


def test_bounds_json(tmp_path, capsys) -> None:
    f = tmp_path / "i.json"
    save_instance(paper(0, n=12), f)
    assert _run(["bounds", str(f), "--lp", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert {"sum_output", "volume_rank", "mean_busy", "lp_relaxation", "best", "best_value"} <= set(d)
    assert d["best_value"] == d[d["best"]]


def test_bad_input_exit_2(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert _run(["solve", str(bad)]) == 2
    assert _run(["bounds", str(tmp_path / "missing.json")]) == 2
    f = tmp_path / "i.json"
    save_instance(paper(0, n=4), f)
    assert _run(["solve", str(f), "--time-limit", "0"]) == 2
    assert _run(["solve", str(f), "--backend", "gurobi"]) == 2
    err = capsys.readouterr().err
    assert err.count("lpsched: error:") == 4


def test_solve_text_on_the_large_path(tmp_path, monkeypatch) -> None:
    import functools

    import lpsched.offline.pipeline as solve_mod
    from lpsched.offline import SolverParams

    # the command line takes the default parameters: make them send this instance down the large path
    monkeypatch.setattr(solve_mod, "SolverParams", functools.partial(SolverParams, large_model_variables=100))
    inst = paper(1, n=60, s=4, lower=8, alpha=1 / 4, concurrency=10)
    f = tmp_path / "p.json"
    save_instance(inst, f)
    out = tmp_path / "s.json"
    r = CliRunner().invoke(cli, ["solve", str(f), "--time-limit", "6", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "large-instance path" in r.output and "bound from" in r.output
    tel = int(next(line.split()[1] for line in r.output.splitlines() if line.startswith("TEL")))
    assert verify_schedule(inst, load_schedule(out)).tel == tel


def test_solve_text_names_the_hand_off_to_the_integer_path() -> None:
    from lpsched.cli.offline import _solve_text

    d = {"status": "FEASIBLE", "objective": 5744, "bound": 5704, "gap": 40 / 5744, "seconds": 60.1,
         "backend": "cpsat", "n_variables": 4772, "n_constraints": 900, "horizon": 700, "incumbent": "solver",
         "info": {"path": "large+integer", "backend_ran": "cpsat+highs"}}
    text = _solve_text(d)
    assert "large-instance path, then the IP on the model rebuilt at its schedule" in text
    assert "4772 variables" in text and "gap      0.70%" in text
    d["info"]["path"] = "large"
    assert "no IP solved" in _solve_text(d)


def _paper_s50_a8_c8_seed4(tmp_path):
    """The instance of the stored proven optimum (``benchmarks/results/opt_paper-s50-a8-c8_seed4_n30.json``)."""
    inst = paper(4, n=30, s=50, lower=8, alpha=1 / 8, concurrency=8)
    f = tmp_path / "p.json"
    save_instance(inst, f)
    return inst, f


def test_solve_hint_starts_from_a_stored_schedule(tmp_path, capsys) -> None:
    from pathlib import Path

    stored = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "opt_paper-s50-a8-c8_seed4_n30.json"
    inst, f = _paper_s50_a8_c8_seed4(tmp_path)
    # the heuristics and 3 s of search stop above the optimum (best known before the proof: 1,830);
    # the hint is the proven optimum 1,828, so the result is 1,828 and comes from the hint
    assert _run(["solve", str(f), "--time-limit", "3", "--workers", "1", "--json", "--hint", str(stored)]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["objective"] == 1828 == verify_schedule(inst, d["starts"]).tel
    assert d["incumbent"] == "hint" and d["bound"] <= 1828


def test_solve_hint_errors_name_the_problem(tmp_path, capsys) -> None:
    inst, f = _paper_s50_a8_c8_seed4(tmp_path)
    all_at_zero = tmp_path / "zero.json"
    all_at_zero.write_text(json.dumps({"starts": {j: 0 for j in inst.ids}}))
    stranger = tmp_path / "stranger.json"
    stranger.write_text(json.dumps({"starts": {**{j: 0 for j in inst.ids}, "ghost": 3}}))
    short = tmp_path / "short.json"
    short.write_text(json.dumps({"starts": {j: 0 for j in inst.ids[1:]}}))
    for hint in (all_at_zero, stranger, short, tmp_path / "missing.json"):
        assert _run(["solve", str(f), "--time-limit", "1", "--hint", str(hint)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 4 and all(line.startswith("lpsched: error:") for line in err)
    assert "--hint" in err[0] and "infeasible" in err[0] and "round 1 uses" in err[0]
    assert "'ghost'" in err[1]
    assert f"'{inst.ids[0]}' has no start" in err[2]
    assert "missing.json" in err[3]


def test_solve_output_is_a_checkpoint_a_killed_run_resumes_from(tmp_path) -> None:
    """``-o`` holds a verified schedule while the solve runs; after ``kill -9`` it is a valid
    ``--hint`` for the next run, which starts from it (or from something better)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from lpsched.generate import jaillet

    inst = jaillet(1)  # tight, n = 50: the chain LP keeps the solve busy well after the first schedule
    f = tmp_path / "j.json"
    save_instance(inst, f)
    out = tmp_path / "ckpt" / "best.json"  # the directory is created
    proc = subprocess.Popen([sys.executable, "-m", "lpsched", "solve", str(f), "--time-limit", "120",
                             "--workers", "1", "--no-progress", "-o", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not out.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        assert out.exists(), "no checkpoint written"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL  # it was still running: the file is a checkpoint
    d = json.loads(out.read_text())
    assert d["in_progress"] is True and d["status"] == "FEASIBLE"
    assert verify_schedule(inst, d["starts"]).tel == d["objective"]
    assert d["bound"] is None or d["bound"] <= d["objective"]
    assert not list(out.parent.glob(".*.tmp"))  # no half-written file left next to it
    r = CliRunner().invoke(cli, ["solve", str(f), "--time-limit", "4", "--workers", "1", "--json",
                                 "--hint", str(out), "-o", str(out)])
    assert r.exit_code == 0, r.output
    res = json.loads(r.output)
    assert res["objective"] <= d["objective"]
    final = json.loads(out.read_text())
    assert "in_progress" not in final and final["objective"] == res["objective"]
    assert verify_schedule(inst, final["starts"]).tel == res["objective"]
