"""The HiGHS backend (OR-Tools' bundled MIP through MathOpt) and the CP-SAT + HiGHS portfolio."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from lpsched.generate import paper
from lpsched.instance import Instance
from lpsched.offline import solve_hindsight
from lpsched.offline.backend import StopSignal
from lpsched.offline.classes import disaggregate
from lpsched.offline.cpsat import solve_cpsat
from lpsched.offline.heuristics import best_schedule, tel_of
from lpsched.offline.highs import solve_highs
from lpsched.offline.model import TimeIndexedModel, build_model
from lpsched.verify import verify_schedule

sys.path.insert(0, str(Path(__file__).parent))
from offline_brute import brute_force_opt
from offline_instances import tiny_instance


def _brute(inst: Instance) -> int:
    return brute_force_opt(inst.M, [int(x) for x in inst.arrival], [int(x) for x in inst.prompt],
                           [int(x) for x in inst.output])


def _schedule(model: TimeIndexedModel, values: dict[int, int], n: int) -> np.ndarray:
    cnt = {(int(model.var_class[j]), int(model.var_start[j])): v for j, v in values.items()}
    return disaggregate(model.classes, cnt, n)


@pytest.mark.parametrize("seed", range(10))
def test_highs_on_the_model_matches_brute_force(seed: int) -> None:
    inst = tiny_instance(500 + seed, n_max=6 if seed % 2 else 5, arrivals=seed % 3 == 1)
    opt = _brute(inst)
    # no incumbent horizon and no cut-off: the model holds every schedule of the valid horizon
    model = build_model(inst, None, use_incumbent_horizon=False, core_rows=seed % 2)
    out = solve_highs(model, time_limit=30, workers=1, seed=0, log=False)
    assert out.proven_optimal and not out.infeasible
    ks = _schedule(model, out.values, inst.n)
    rep = verify_schedule(inst, ks)
    assert rep.feasible and rep.tel == opt
    assert out.bound is not None and np.ceil(out.bound - 1e-6) == opt
    # asking for a schedule better than the optimum: with the objective as a row the model is
    # infeasible; without it (the default) HiGHS proves a value above the cut-off; either proves
    # that nothing better than the optimum exists, which is how the pipeline reads it
    cut = solve_highs(model, time_limit=30, workers=1, seed=0, log=False, objective_ub=opt - 1,
                      objective_rows=True)
    assert cut.infeasible and cut.values is None and not cut.proven_optimal
    free = solve_highs(model, time_limit=30, workers=1, seed=0, log=False, objective_ub=opt - 1)
    assert free.proven_optimal and not free.infeasible
    assert verify_schedule(inst, _schedule(model, free.values, inst.n)).tel == opt > opt - 1


@pytest.mark.parametrize("seed", range(4))
def test_highs_backend_agrees_with_cpsat_and_cbc(seed: int) -> None:
    inst = paper(seed, n=8, concurrency=3) if seed % 2 == 0 else tiny_instance(600 + seed, n_max=6, arrivals=True)
    a = solve_hindsight(inst, backend="cpsat", time_limit=20, heuristic_seconds=0.05)
    b = solve_hindsight(inst, backend="highs", time_limit=20, heuristic_seconds=0.05)
    c = solve_hindsight(inst, backend="pulp", time_limit=20, heuristic_seconds=0.05)
    assert a.status == b.status == c.status == "OPTIMAL"
    assert a.objective == b.objective == c.objective
    assert verify_schedule(inst, b.starts).tel == b.objective


def _reaches_the_solver(seeds: range) -> list[Instance]:
    """Paper instances (not tight) where the heuristics and certified bounds leave a gap."""
    from lpsched.offline.bounds import lower_bounds

    out = []
    for seed in seeds:
        inst = paper(seed, n=6, concurrency=2.5)
        inc, _, _ = best_schedule(inst, seconds=0.05)
        if lower_bounds(inst)["best_value"] < tel_of(inst, inc):
            out.append(inst)
    return out


def test_portfolio_runs_both_solvers_and_matches_brute_force() -> None:
    insts = _reaches_the_solver(range(40))[:4]
    assert len(insts) >= 2
    for inst in insts:
        res = solve_hindsight(inst, time_limit=20, heuristic_seconds=0.05, lp_fixing=False)
        assert res.info["backend_ran"] == "cpsat+highs"
        assert set(res.info["solver"]) >= {"cpsat", "highs", "proved_by"}
        assert res.status == "OPTIMAL" and res.objective == _brute(inst)
        assert verify_schedule(inst, res.starts).tel == res.objective
        one = solve_hindsight(inst, time_limit=20, heuristic_seconds=0.05, lp_fixing=False, workers=1)
        assert one.info["backend_ran"] == "cpsat" and one.objective == res.objective


def _hard_model() -> tuple[TimeIndexedModel, int]:
    inst = paper(3, n=60, s=4)
    inc, _, _ = best_schedule(inst, seconds=0.2)
    return build_model(inst, tel_of(inst, inc)), tel_of(inst, inc)


@pytest.mark.parametrize("which", ["highs", "cpsat"])
def test_stop_signal_interrupts_a_running_solver(which: str) -> None:
    model, ub = _hard_model()
    solve = solve_highs if which == "highs" else solve_cpsat
    stop = StopSignal()
    timer = threading.Timer(1.0, stop.stop)
    t0 = time.perf_counter()
    timer.start()
    out = solve(model, time_limit=120, workers=1, seed=0, log=False, objective_ub=ub - 1, stop=stop)
    waited = time.perf_counter() - t0
    timer.cancel()
    assert stop.stopped
    assert waited < 60, f"{which} ran {waited:.1f} s after being stopped at 1 s"
    assert not out.proven_optimal


def test_stop_signal_set_before_the_solve_returns_at_once() -> None:
    model, ub = _hard_model()
    stop = StopSignal()
    stop.stop()
    for solve in (solve_highs, solve_cpsat):
        t0 = time.perf_counter()
        solve(model, time_limit=120, workers=1, seed=0, log=False, objective_ub=ub - 1, stop=stop)
        assert time.perf_counter() - t0 < 60


def test_stop_signal_calls_late_registrations_and_repeats() -> None:
    calls: list[str] = []
    s = StopSignal()
    s.on_stop(lambda: calls.append("a"))
    assert calls == [] and not s.stopped
    s.stop()
    s.on_stop(lambda: calls.append("b"))
    assert calls == ["a", "b"]
    s.stop()
    assert calls == ["a", "b", "a", "b"]


def test_highs_past_its_limit_is_killed_without_a_result(monkeypatch: pytest.MonkeyPatch) -> None:
    """A child still running ``KILL_AFTER`` seconds after the caller's limit is killed: no
    solution, no bound, no exception, and the call returns at once (here ``KILL_AFTER`` is
    negative so the kill comes before HiGHS can answer)."""
    import lpsched.offline.highs as highs_mod

    model, ub = _hard_model()
    monkeypatch.setattr(highs_mod, "KILL_AFTER", -119.0)
    t0 = time.perf_counter()
    out = solve_highs(model, time_limit=120, workers=1, seed=0, log=False, objective_ub=ub - 1)
    assert time.perf_counter() - t0 < 30
    assert out.status_text == "TIME_LIMIT_KILLED"
    assert out.values is None and out.bound is None
    assert not out.proven_optimal and not out.infeasible
