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
from lpsched.offline import SolverParams, solve_hindsight
from lpsched.offline.backends.cpsat import solve_cpsat
from lpsched.offline.backends.highs import solve_highs
from lpsched.offline.backends.outcome import StopSignal
from lpsched.offline.formulation.model import TimeIndexedModel, build_model, starts_of_values
from lpsched.offline.formulation.objective import tel_of
from lpsched.offline.schedules.heuristics import best_schedule
from lpsched.verify import verify_schedule

sys.path.insert(0, str(Path(__file__).parent))
from offline_brute import instance_opt
from offline_instances import tiny_instance


def _brute(inst: Instance) -> int:
    return instance_opt(inst)


def _schedule(model: TimeIndexedModel, values: dict[int, int], n: int) -> np.ndarray:
    starts = starts_of_values(model, values)
    assert starts.size == n
    return starts


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
    # infeasible; as HiGHS' cut-off (the default) it is infeasible too, unless presolve alone
    # solves the model (then HiGHS returns the optimum, whose bound is capped at the cut-off + 1);
    # with neither, HiGHS proves a value above the cut-off. Each proves that nothing better than
    # the optimum exists, which is how the pipeline reads it
    cut = solve_highs(model, time_limit=30, workers=1, seed=0, log=False, objective_ub=opt - 1,
                      objective_window="rows")
    assert cut.infeasible and cut.values is None and not cut.proven_optimal
    pruned = solve_highs(model, time_limit=30, workers=1, seed=0, log=False, objective_ub=opt - 1)
    if pruned.infeasible:
        assert pruned.values is None and pruned.bound is None and not pruned.proven_optimal
    else:
        assert pruned.proven_optimal and pruned.bound is not None and pruned.bound <= opt
        assert verify_schedule(inst, _schedule(model, pruned.values, inst.n)).tel == opt
    free = solve_highs(model, time_limit=30, workers=1, seed=0, log=False, objective_ub=opt - 1,
                       objective_window="none")
    assert free.proven_optimal and not free.infeasible
    assert verify_schedule(inst, _schedule(model, free.values, inst.n)).tel == opt > opt - 1
    # a cut-off at the optimum keeps it: proven, with the bound at the optimum
    at = solve_highs(model, time_limit=30, workers=1, seed=0, log=False, objective_ub=opt)
    assert at.proven_optimal and verify_schedule(inst, _schedule(model, at.values, inst.n)).tel == opt
    assert at.bound is not None and np.ceil(at.bound - 1e-6) == opt


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
    from lpsched.offline.bounds.report import lower_bounds

    out = []
    for seed in seeds:
        inst = paper(seed, n=6, concurrency=2.5)
        inc, _, _ = best_schedule(inst, seconds=0.05)
        if lower_bounds(inst).bound < tel_of(inst, inc):
            out.append(inst)
    return out


def test_portfolio_runs_both_solvers_and_matches_brute_force(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small models (up to HIGHS_PAIR_MAX_VARIABLES) run two HiGHS searches with the cut-off
    (seeds ``seed`` and ``seed + 1``), and CP-SAT too from three workers on; larger ones CP-SAT next
    to HiGHS without it. Each proves the optimum."""
    insts = _reaches_the_solver(range(40))[:4]
    assert len(insts) >= 2
    kw = dict(time_limit=20, heuristic_seconds=0.05, lp_fixing=False)
    for i, inst in enumerate(insts):
        opt = _brute(inst)
        res = solve_hindsight(inst, **kw)
        assert res.info["backend_ran"] == "highs_cutoff+highs_cutoff_2"
        assert set(res.info["solver"]) >= {"highs_cutoff", "highs_cutoff_2", "proved_by"}
        assert res.status == "OPTIMAL" and res.objective == opt
        assert verify_schedule(inst, res.starts).tel == res.objective
        one = solve_hindsight(inst, workers=1, **kw)
        assert one.info["backend_ran"] == "cpsat" and one.objective == opt
        if i == 0:
            three = solve_hindsight(inst, workers=3, **kw)
            assert three.info["backend_ran"] == "cpsat+highs_cutoff+highs_cutoff_2"
            assert three.status == "OPTIMAL" and three.objective == opt
    for inst in insts[:2]:
        res = solve_hindsight(inst, **kw, params=SolverParams(highs_pair_max_variables=0))
        assert res.info["backend_ran"] == "cpsat+highs"
        assert set(res.info["solver"]) >= {"cpsat", "highs", "proved_by"}
        assert res.status == "OPTIMAL" and res.objective == _brute(inst)


def _hard_model() -> tuple[TimeIndexedModel, int]:
    inst = _hard_instance()
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
    import lpsched.offline.backends.highs as highs_mod

    model, ub = _hard_model()
    monkeypatch.setattr(highs_mod, "KILL_AFTER", -119.0)
    t0 = time.perf_counter()
    out = solve_highs(model, time_limit=120, workers=1, seed=0, log=False, objective_ub=ub - 1)
    assert time.perf_counter() - t0 < 30
    assert out.status == "TIME_LIMIT_KILLED"
    assert out.bound is None and not out.proven_optimal and not out.infeasible
    if out.values is not None:  # a solution HiGHS had written before the kill is kept (and is one)
        assert verify_schedule(_hard_instance(), starts_of_values(model, out.values)).feasible


def _hard_instance() -> Instance:
    return paper(3, n=60, s=4)  # the instance of _hard_model




def test_improving_file_reads_blocks_as_they_grow(tmp_path) -> None:
    from lpsched.offline.backends.highs import _ImprovingFile

    with _ImprovingFile(n_cols=4, nx=3) as f:
        path = Path(f.path)
        assert f.poll() is None  # empty file
        path.write_text("Objective 17\n# Columns 4\n 1\n 0\n")  # half a block
        assert f.poll() is None
        with path.open("a") as out:
            out.write(" 2\n 5\nObjective 12\n# Col")  # first block complete, the second begun
        assert f.poll() == (17.0, {0: 1, 2: 2})  # only start variables (first nx columns), non-zero
        with path.open("a") as out:
            out.write("umns 4\n 0\n 0.9999999\n 3\n 1\n")
        assert f.poll() == (12.0, {1: 1, 2: 3})
        with path.open("a") as out:
            out.write("garbage\nObjective 9\n# Columns 4\n 0.5\n 0\n 3\n 1\n")  # not integral: skipped
        assert f.poll() == (12.0, {1: 1, 2: 3})
    assert not path.exists()


def test_highs_reports_improving_solutions_and_a_stopped_child_keeps_its_last() -> None:
    """``on_solution`` sees HiGHS' improving solutions while it runs (each one a feasible schedule,
    each cheaper than the one before); stopped from outside, the call returns the last one."""
    from lpsched.generate import jaillet

    inst = jaillet(1, n=8)  # HiGHS without a cut-off finds 316, 315, 297, … from about 4 s on
    inc, _, _ = best_schedule(inst, seconds=0.2)
    model = build_model(inst, tel_of(inst, inc))
    seen: list[dict[int, int]] = []
    stop = StopSignal()

    def on_solution(values: dict[int, int]) -> None:
        seen.append(values)
        if len(seen) == 2:
            stop.stop()

    timer = threading.Timer(30.0, stop.stop)
    timer.start()
    out = solve_highs(model, time_limit=60, workers=1, seed=0, log=False, objective_window="none",
                      on_solution=on_solution, stop=stop)
    timer.cancel()
    assert seen, "no improving solution reported in 30 s"
    costs = [sum(int(model.var_cost[j]) * v for j, v in s.items()) for s in seen]
    assert costs == sorted(costs, reverse=True) and len(set(costs)) == len(costs)
    for values in seen:
        assert verify_schedule(inst, starts_of_values(model, values)).tel == sum(
            int(model.var_cost[j]) * v for j, v in values.items())
    if out.status == "STOPPED":
        assert out.values is not None and out.info["recovered_solution"]
        assert sum(int(model.var_cost[j]) * v for j, v in out.values.items()) <= costs[-1]


def test_portfolio_keeps_each_member_and_survives_a_failing_one() -> None:
    """Each member's outcome comes back on its own; a member that raises is left out with its error
    in ``info``; if every member raises, the error reaches the caller."""
    from lpsched.offline.backends.outcome import BackendOutcome
    from lpsched.offline.backends.portfolio import portfolio_info, portfolio_status, run_portfolio

    cheap = BackendOutcome(False, False, {0: 1}, 3.0, "FEASIBLE", info={"m": "a"})
    dear = BackendOutcome(False, False, {1: 2}, 5.0, "FEASIBLE", info={"m": "b"})

    def boom(**_: object) -> BackendOutcome:
        raise RuntimeError("solver crashed")

    outs, errors = run_portfolio({"cpsat": lambda **_: cheap, "highs": lambda **_: dear, "highs_cutoff": boom},
                                 time_limit=1, workers=1, seed=0, log=False)
    assert outs == {"cpsat": cheap, "highs": dear} and list(errors) == ["highs_cutoff"]
    info = portfolio_info(outs, errors)
    assert info["proved_by"] is None and "solver crashed" in info["highs_cutoff_error"]
    assert info["cpsat"] == {"m": "a"} and portfolio_status(outs) == "cpsat FEASIBLE, highs FEASIBLE"
    proof = BackendOutcome(False, True, None, None, "INFEASIBLE")
    outs, errors = run_portfolio({"cpsat": lambda **_: cheap, "highs": lambda **_: proof}, time_limit=1)
    assert portfolio_info(outs, errors)["proved_by"] == "highs"
    assert portfolio_status({"cpsat": cheap}) == "FEASIBLE" and portfolio_info({"cpsat": cheap}, {}) == {"m": "a"}
    with pytest.raises(RuntimeError, match="solver crashed"):
        run_portfolio({"highs": boom}, time_limit=1)


def test_unknown_objective_window_is_a_clear_error() -> None:
    from lpsched.errors import OptionError

    model = build_model(paper(0, n=4, s=4), None, use_incumbent_horizon=False)
    with pytest.raises(OptionError, match="objective_window"):
        solve_highs(model, time_limit=5, workers=1, seed=0, log=False, objective_window="row")


def test_the_pair_runs_two_cutoff_searches_with_consecutive_seeds(monkeypatch: pytest.MonkeyPatch) -> None:
    """On small models the two HiGHS members both use the incumbent cut-off, with HiGHS seeds
    ``seed`` and ``seed + 1`` (fifteenth round), and the result is still the brute-force optimum."""
    import lpsched.offline.backends.portfolio as portfolio_mod

    real = portfolio_mod.solve_highs
    calls: list[tuple[str, int]] = []

    def recording(model, **kw):  # type: ignore[no-untyped-def]
        calls.append((kw["objective_window"], kw["seed"]))
        return real(model, **kw)

    monkeypatch.setattr(portfolio_mod, "solve_highs", recording)
    inst = _reaches_the_solver(range(40))[0]
    res = solve_hindsight(inst, time_limit=20, heuristic_seconds=0.05, lp_fixing=False, seed=5)
    assert sorted(calls) == [("cutoff", 5), ("cutoff", 6)]
    assert res.status == "OPTIMAL" and res.objective == _brute(inst)


def test_cpsat_reports_improving_solutions_while_it_runs() -> None:
    from lpsched.generate import jaillet

    inst = jaillet(1, n=8)
    model = build_model(inst, None)  # the idle-rule horizon: a long way from the optimum at first
    seen: list[dict[int, int]] = []
    out = solve_cpsat(model, time_limit=4, workers=1, seed=0, log=False, on_solution=seen.append)
    assert seen, "CP-SAT reported no solution"
    costs = [sum(int(model.var_cost[j]) * v for j, v in s.items()) for s in seen]
    assert costs == sorted(costs, reverse=True) and len(set(costs)) == len(costs)
    for values, cost in zip(seen, costs, strict=True):
        assert verify_schedule(inst, starts_of_values(model, values)).tel == cost
    final = sum(int(model.var_cost[j]) * v for j, v in out.values.items())
    assert final <= costs[-1]
