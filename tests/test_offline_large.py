"""The large-instance path (:mod:`lpsched.offline.primal.large`) and ``solve_hindsight``'s switch to it."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from lpsched.baseline import serial_schedule
from lpsched.generate import paper
from lpsched.offline import SolverParams, solve_hindsight
from lpsched.offline.bounds.report import lower_bounds
from lpsched.offline.formulation.objective import tel_of
from lpsched.offline.primal.large import LargeBudget, large_search
from lpsched.verify import verify_schedule

sys.path.insert(0, str(Path(__file__).parent))
from offline_brute import instance_opt
from offline_instances import tiny_instance

SMALL = LargeBudget(lp=2.0, guided=3.0, tune=1.0, local_search=0.5, window=2.0)


@pytest.mark.parametrize("seed", range(6))
def test_large_search_brackets_the_brute_force_optimum(seed: int) -> None:
    inst = tiny_instance(900 + seed, n_max=6, arrivals=seed % 2 == 1)
    opt = instance_opt(inst)
    res = large_search(inst, SMALL, workers=1, seed=seed)
    rep = verify_schedule(inst, res.starts)
    assert rep.feasible and rep.tel == res.objective
    assert res.bound <= opt <= res.objective
    assert res.bound >= int(lower_bounds(inst).bound) or res.bound == res.objective


def test_large_search_never_worse_than_its_start_and_reports_its_parts() -> None:
    inst = paper(3, n=120, s=4, lower=8, alpha=1 / 8, concurrency=10)
    start = serial_schedule(inst)
    res = large_search(inst, SMALL, workers=1, first=start, first_name="serial")
    assert verify_schedule(inst, res.starts).feasible
    assert res.objective <= tel_of(inst, start)
    assert res.objective < tel_of(inst, start)  # the serial schedule is far from good
    lb = lower_bounds(inst)
    assert lb.bound <= res.bound <= res.objective
    if res.lp_bound is not None:
        assert res.lp_bound <= res.objective + 1e-6
    assert res.info["lp_model_variables"] > 0 and set(res.info["seconds"]) >= {"lp", "window"}


def test_budget_split_leaves_the_rest_to_the_window_search() -> None:
    b = LargeBudget.split(100.0)
    assert b.total == 100.0
    assert b.lp + b.guided + b.tune + b.local_search + b.window <= 100.0 - 4.9
    # without a converged LP its time, the guided share and the extra tuning still leave a fifth
    assert b.lp + b.guided + b.tune + b.tune_without_lp + b.local_search <= 80.0
    assert b.tune_without_lp > 0 and LargeBudget(lp=1, guided=1, tune=1, local_search=1, window=1).tune_without_lp == 0


def test_solve_hindsight_switches_to_the_large_path(monkeypatch) -> None:
    params = SolverParams(large_model_variables=0)
    large = 0
    for seed in range(8):
        inst = tiny_instance(950 + seed, n_max=6)
        opt = instance_opt(inst)
        res = solve_hindsight(inst, time_limit=4, workers=1, params=params)
        starts = np.array([res.starts[j] for j in inst.ids])
        assert verify_schedule(inst, starts).tel == res.objective
        assert res.bound <= opt <= res.objective
        if res.status == "OPTIMAL":
            assert res.objective == opt
        if res.info.get("path") == "large":  # else the certified bounds closed it before the model
            large += 1
            assert res.info["solver_status"].startswith("not run")
    assert large >= 1


def _large_path(inst, params: SolverParams):
    """The large path of one pass, entered directly on the cheap heuristics' schedule."""
    import lpsched.offline.pipeline as pipeline
    from lpsched.offline.formulation.model import model_size
    from lpsched.offline.progress import Reporter
    from lpsched.offline.schedules.heuristics import best_schedule
    from lpsched.offline.state import Budget, SolveState

    budget = Budget(10.0)
    opts = pipeline.SolveOptions("cpsat", 1, 0, False, None, True, None, params)
    run = pipeline.Run(inst, opts, "strong", budget, Reporter(None, budget.t0))
    inc, name, _ = best_schedule(inst, seconds=0.0)
    state = SolveState.start(inst, run.rep, inc, name, run.info)
    return pipeline._phase_large(run, state, model_size(inst, tel_of(inst, inc)))


def test_the_large_path_hands_what_is_left_to_the_integer_path() -> None:
    params = SolverParams(handoff_min_seconds=1.0)
    handed = kept = 0
    for seed in range(10):
        inst = tiny_instance(970 + seed, n_max=6, arrivals=seed % 2 == 1)
        opt = instance_opt(inst)
        res = _large_path(inst, params)
        starts = np.array([res.starts[j] for j in inst.ids])
        assert verify_schedule(inst, starts).tel == res.objective
        assert res.bound <= opt <= res.objective
        if res.info["path"] == "large+integer":
            handed += 1
            assert res.status == "OPTIMAL" and res.objective == opt  # the integer path proves tiny ones
            assert res.info["handoff"]["rebuilt_variables"] <= params.large_model_variables
            assert res.info["handoff"]["seconds_left"] >= 1.0
        else:  # handed nothing: the large search closed the gap itself
            kept += 1
            assert res.info["path"] == "large" and res.status == "OPTIMAL"
    assert handed >= 1
    # no time left for it: the large path's own result
    res = _large_path(tiny_instance(970, n_max=6), SolverParams(handoff_min_seconds=1e9))
    assert res.info["path"] == "large"


def test_solve_hindsight_large_path_on_a_paper_instance(monkeypatch) -> None:
    import lpsched.offline.pipeline as solve_mod

    inst = paper(0, n=150, s=4, lower=8, alpha=1 / 4, concurrency=10)
    params = SolverParams(large_model_variables=100)
    budgets: list[float] = []
    real = solve_mod.best_schedule

    def recording(*args, **kw):
        budgets.append(kw["seconds"])
        return real(*args, **kw)

    monkeypatch.setattr(solve_mod, "best_schedule", recording)
    res = solve_hindsight(inst, time_limit=12, workers=1, params=params)
    assert res.info["path"] == "large"
    assert res.status in ("FEASIBLE", "OPTIMAL") and res.bound <= res.objective
    assert res.bound >= int(lower_bounds(inst).bound)
    assert res.objective <= min(res.info["heuristics"].values())
    assert res.to_dict()["objective"] == res.objective
    # n >= LARGE_PROBE_JOBS: the size was probed on the cheap heuristics, and the budget of step 1's
    # local search was not spent before the large path (which searches on its own)
    assert params.large_probe_jobs <= inst.n
    assert budgets == [0.0]


def test_probe_keeps_mid_size_instances_on_the_integer_path() -> None:
    inst = paper(2, n=110, s=4, lower=8, alpha=1 / 4, concurrency=10)
    res = solve_hindsight(inst, time_limit=8, workers=2)
    assert "path" not in res.info and res.info["backend_ran"] == "cpsat+highs"
    assert res.bound <= res.objective


def test_integer_path_window_step_keeps_the_optimum(monkeypatch) -> None:
    """The window step of the integer path (thresholds lowered to take it on tiny instances):
    the incumbent it improves re-runs the reduced-cost fixing, which must stay valid, so the
    result still brackets (and when proven, equals) the brute-force optimum."""
    import lpsched.offline.pipeline as solve_mod

    params = SolverParams(window_min_variables=-1, window_min_gap=-1.0)
    took = 0
    seed = 0
    while took < 4 and seed < 200:
        inst = tiny_instance(1200 + seed, n_max=6)
        seed += 1
        if solve_mod.is_tight(inst):
            continue
        opt = instance_opt(inst)
        res = solve_hindsight(inst, time_limit=4, workers=1, heuristic_seconds=0, params=params)
        starts = np.array([res.starts[j] for j in inst.ids])
        assert verify_schedule(inst, starts).tel == res.objective
        assert res.bound <= opt <= res.objective
        if res.status == "OPTIMAL":
            assert res.objective == opt
        if "window_search" in res.info:
            took += 1
            assert res.info["window_search"]["after"] <= res.info["window_search"]["before"]
    assert took == 4


def test_integer_path_window_step_on_a_paper_instance(monkeypatch) -> None:
    """On a mid-size paper instance without local search the window step improves the incumbent,
    and the solver then starts from the improved one."""
    import lpsched.offline.pipeline as solve_mod

    inst = paper(1, n=80, s=4, lower=8, alpha=1 / 4, concurrency=10)
    res = solve_hindsight(inst, time_limit=20, workers=2, heuristic_seconds=0,
                          params=SolverParams(window_min_variables=0))
    ws = res.info["window_search"]
    assert ws["after"] < ws["before"]
    assert res.objective <= ws["after"]
    assert "+window" in res.incumbent or res.incumbent == "solver"
    assert solve_mod.is_tight(paper(1, n=80, s=4, M=40))  # the window step never runs on a tight one


def test_integer_path_keeps_the_bound_of_an_unconverged_lp(monkeypatch) -> None:
    """An LP stopped after one restricted LP (column generation around the incumbent, no
    pricing round) still gives a certified bound: the integer path uses it, and the result must
    still bracket the brute-force optimum."""
    import lpsched.offline.pipeline as solve_mod

    real = solve_mod.solve_lp

    def one_round(model, time_limit=30.0, **kw):
        return real(model, time_limit, start_hint=kw.get("start_hint"), column_generation=True, width=0,
                    per_class=1, max_rounds=1)

    monkeypatch.setattr(solve_mod, "solve_lp", one_round)
    unconverged = 0
    for seed in range(30):
        inst = tiny_instance(1500 + seed, n_max=6, arrivals=seed % 2 == 1)
        opt = instance_opt(inst)
        res = solve_hindsight(inst, time_limit=4, workers=1, formulation="strong", heuristic_seconds=0)
        assert res.bound <= opt <= res.objective
        if res.status == "OPTIMAL":
            assert res.objective == opt
        if res.info.get("lp_converged") is False:
            unconverged += 1
            assert res.info["lp_bound"] <= opt  # kept, and certified
    assert unconverged >= 3


def test_an_lp_out_of_time_is_resumed_at_the_end(monkeypatch) -> None:
    import lpsched.offline.primal.large as large_mod

    real, calls = large_mod.solve_lp, []

    def first_runs_out(*args, **kw):  # the first LP stops after one restricted LP, as if out of time
        calls.append(kw.get("columns"))
        return real(*args, **kw, **({"max_rounds": 1} if len(calls) == 1 else {}))

    monkeypatch.setattr(large_mod, "solve_lp", first_runs_out)
    inst = paper(0, n=30, s=4, lower=8, alpha=1 / 4, concurrency=10)
    budget = LargeBudget(lp=5.0, guided=0.5, tune=0.5, local_search=0.5, window=1.0, total=8.0,
                         window_jobs=10, window_seconds=0.5)
    cg = {"colgen_min_variables": 0}  # column generation on this small model
    res = large_search(inst, budget, workers=1, seed=0, **cg)
    resumed = res.info["lp_resumed"]
    assert len(calls) == 2 and calls[0] is None and calls[1] is not None and calls[1].any()
    assert resumed is not None and resumed["rounds"] >= 1 and resumed["converged"] and res.lp_converged
    assert res.lp_bound is not None and res.lp_bound >= resumed["bound_before"]
    assert res.info["seconds"]["lp_resume"] <= 0.06 * 8.0 + 0.5
    full = solve_hindsight(inst, time_limit=30, workers=2)
    assert full.status == "OPTIMAL" and res.bound <= full.objective <= res.objective
    # a converged LP is not resumed
    calls.append(None)  # from now on every LP runs to the end
    ok = large_search(inst, budget, workers=1, seed=0, **cg)
    assert ok.lp_converged and ok.info["lp_resumed"] is None and calls[3:] == [None]  # one LP, no resume
