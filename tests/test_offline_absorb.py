"""The one merge of what a phase finds into a solve's state (SolveState.absorb, solver_findings):
the objective never rises, the bound never falls, every schedule is verified, and a solver's proof
counts whatever the other solvers of a portfolio did (the HiGHS pair's race)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from offline_brute import instance_opt
from offline_instances import tiny_instance

from lpsched.errors import ScheduleError
from lpsched.offline.backends.outcome import BackendOutcome
from lpsched.offline.backends.portfolio import run_portfolio
from lpsched.offline.formulation.classes import class_counts
from lpsched.offline.formulation.model import build_model
from lpsched.offline.formulation.objective import tel_of
from lpsched.offline.progress import ProgressEvent, Reporter
from lpsched.offline.schedules.heuristics import best_schedule
from lpsched.offline.schedules.placement import list_schedule
from lpsched.offline.state import Budget, Finding, SolveState, solver_findings


def _instance_with_an_optimal_incumbent():
    """A tiny instance whose cheap heuristic schedule is optimal but not proved by the closed-form
    bounds: the situation of the race (the incumbent cut-off leaves no schedule)."""
    for seed in range(200):
        inst = tiny_instance(3000 + seed, n_max=5)
        inc, _, _ = best_schedule(inst, seconds=0.0)
        if tel_of(inst, inc) == instance_opt(inst):
            return inst, inc
    raise AssertionError("no such instance among 200")


def _values(model, inst, starts) -> dict[int, int]:
    var_of = {(int(c), int(k)): j for j, (c, k) in enumerate(zip(model.var_class, model.var_start, strict=True))}
    return {var_of[key]: m for key, m in class_counts(model.classes, starts).items()}


@pytest.mark.parametrize("other", ["STOPPED", "STOPPED with a schedule", "TIME_LIMIT_KILLED", "FEASIBLE"])
def test_a_proof_in_the_pair_is_kept_whatever_the_other_member_did(other: str) -> None:
    """One member proves the model (every schedule better than the incumbent) infeasible, the other
    is stopped (with or without the schedule it had), killed, or ends with a schedule that is not
    better; in both orders the state ends OPTIMAL with bound == objective."""
    inst, inc = _instance_with_an_optimal_incumbent()
    ub = tel_of(inst, inc)
    model = build_model(inst, ub)
    proof = BackendOutcome(False, True, None, None, "INFEASIBLE")
    worse = list_schedule(inst, np.arange(inst.n)[::-1])  # a schedule the stopped member may hold
    values = _values(model, inst, inc if tel_of(inst, worse) < ub else worse) if "schedule" in other or (
        other == "FEASIBLE") else None
    rest = BackendOutcome(False, False, values, float(ub - 3) if other == "FEASIBLE" else None, other.split()[0])
    for first, second in itertools.permutations([("highs_cutoff", proof), ("highs_cutoff_2", rest)]):
        events: list[ProgressEvent] = []
        rep = Reporter(events.append, ids=inst.ids)
        state = SolveState.start(inst, rep, inc, "heuristic", {})
        state.absorb(Finding("bounds", bound=ub - 5))
        state.absorb_solvers(solver_findings(inst, dict([first, second]), model=model, cutoff=ub - 1))
        res = state.result(Budget(1.0).elapsed(), backend="cpsat")
        assert res.status == "OPTIMAL" and res.bound == res.objective == ub
        assert "warning" not in res.info


def test_without_a_cutoff_an_infeasible_model_proves_nothing() -> None:
    inst, inc = _instance_with_an_optimal_incumbent()
    ub = tel_of(inst, inc)
    state = SolveState.start(inst, Reporter(None), inc, "heuristic", {})
    state.absorb(Finding("bounds", bound=ub - 5))
    state.absorb_solvers(solver_findings(inst, {"cpsat": BackendOutcome(False, True, None, None, "INFEASIBLE")},
                                         cutoff=None))
    assert state.bound == ub - 5 and "warning" in state.info
    assert state.result(0.0, backend="cpsat").status == "FEASIBLE"


def test_absorb_keeps_the_objective_non_increasing_and_the_bound_non_decreasing() -> None:
    inst, inc = _instance_with_an_optimal_incumbent()
    ub = tel_of(inst, inc)
    events: list[ProgressEvent] = []
    state = SolveState.start(inst, Reporter(events.append, ids=inst.ids), inc, "heuristic", {})
    worse = list_schedule(inst, np.arange(inst.n)[::-1])
    assert not state.absorb(Finding("search", starts=worse, source="worse", bound=ub - 2))
    assert state.objective == ub and state.source == "heuristic" and state.bound == ub - 2
    assert not state.absorb(Finding("search", starts=inc.copy(), source="tie"))  # ties only with wins_ties
    assert state.absorb(Finding("solver", starts=inc.copy(), source="solver", bound=ub - 4, wins_ties=True))
    assert state.source == "solver" and state.bound == ub - 2
    bad = np.zeros(inst.n, dtype=np.int64) - 1  # starts before arrival: not a schedule
    with pytest.raises(ScheduleError):
        state.absorb(Finding("search", starts=bad, source="bad"))
    objs = [e.objective for e in events]
    bounds = [e.bound for e in events if e.bound is not None]
    assert objs == sorted(objs, reverse=True) and bounds == sorted(bounds)


def test_a_proof_contradicted_by_a_verified_schedule_is_not_a_proof() -> None:
    """One solver claims no schedule better than the incumbent exists, the other returns one: the
    verified schedule wins, the claim raises no bound (a warning says so), and the result is not
    called optimal on the strength of it."""
    for seed in range(200):
        inst = tiny_instance(3300 + seed, n_max=5)
        worse = list_schedule(inst, np.arange(inst.n)[::-1])
        better, _, _ = best_schedule(inst, seconds=0.0)
        if tel_of(inst, better) < tel_of(inst, worse):
            break
    ub = tel_of(inst, worse)
    model = build_model(inst, ub)
    wrong = BackendOutcome(False, True, None, None, "INFEASIBLE")
    found = BackendOutcome(False, False, _values(model, inst, better), None, "FEASIBLE")
    for pair in itertools.permutations([("a", wrong), ("b", found)]):
        state = SolveState.start(inst, Reporter(None), worse, "worse", {})
        state.absorb_solvers(solver_findings(inst, dict(pair), model=model, cutoff=ub - 1))
        assert state.objective == tel_of(inst, better) and state.bound == 0
        assert "bound ignored" in state.info["warning"]


def test_a_proof_is_kept_when_the_other_member_fails() -> None:
    """Through the portfolio: one member proves (infeasible under the cut-off), the other raises;
    in both orders the failed member is left out and the state ends OPTIMAL with bound == objective."""
    inst, inc = _instance_with_an_optimal_incumbent()
    ub = tel_of(inst, inc)
    model = build_model(inst, ub)

    def proves(**_: object) -> BackendOutcome:
        return BackendOutcome(False, True, None, None, "INFEASIBLE")

    def fails(**_: object) -> BackendOutcome:
        raise RuntimeError("HiGHS child process failed")

    for first, second in ((proves, fails), (fails, proves)):
        members = {"highs_cutoff": first, "highs_cutoff_2": second}
        outs, errors = run_portfolio(members, time_limit=1)
        assert len(outs) == 1 and len(errors) == 1
        state = SolveState.start(inst, Reporter(None), inc, "heuristic", {})
        state.absorb_solvers(solver_findings(inst, outs, model=model, cutoff=ub - 1))
        res = state.result(0.0, backend="cpsat")
        assert res.status == "OPTIMAL" and res.bound == res.objective == ub
