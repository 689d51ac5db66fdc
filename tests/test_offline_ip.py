"""The hindsight IP: backends agree, brute force matches, horizon validity, verified schedules."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lpsched.generate import jaillet, paper
from lpsched.instance import Instance
from lpsched.offline import SolveResult, lower_bounds, solve_hindsight
from lpsched.offline.formulation.horizon import latest_completions
from lpsched.offline.formulation.objective import tel_of
from lpsched.offline.schedules.heuristics import best_schedule
from lpsched.offline.schedules.placement import list_schedule
from lpsched.verify import verify_schedule

sys.path.insert(0, str(Path(__file__).parent))
from offline_brute import brute_force_opt
from offline_instances import tiny_instance

_tiny = tiny_instance


def _brute(inst: Instance, cap: int | None = None) -> int | None:
    return brute_force_opt(inst.M, [int(x) for x in inst.arrival], [int(x) for x in inst.prompt],
                           [int(x) for x in inst.output], max_makespan=cap)


@pytest.mark.parametrize("seed", range(12))
def test_cpsat_matches_brute_force(seed: int) -> None:
    inst = _tiny(seed, n_max=6 if seed % 3 == 0 else 5, arrivals=seed % 2 == 1)
    res = solve_hindsight(inst, time_limit=10, heuristic_seconds=0.05)
    assert res.status == "OPTIMAL"
    assert res.objective == _brute(inst)
    assert verify_schedule(inst, res.starts).feasible


@pytest.mark.parametrize("seed", range(6))
def test_plain_formulation_matches_brute_force(seed: int) -> None:
    inst = _tiny(100 + seed, n_max=4, arrivals=seed % 2 == 0)
    res = solve_hindsight(inst, time_limit=10, formulation="plain")
    assert res.status == "OPTIMAL" and res.objective == _brute(inst)


@pytest.mark.parametrize("seed", range(6))
def test_backends_agree(seed: int) -> None:
    inst = _tiny(200 + seed, n_max=5, arrivals=seed % 2 == 0) if seed < 4 else paper(seed, n=8, concurrency=3)
    a = solve_hindsight(inst, backend="cpsat", time_limit=20, heuristic_seconds=0.05)
    b = solve_hindsight(inst, backend="pulp", time_limit=20, heuristic_seconds=0.05)
    c = solve_hindsight(inst, backend="pulp", time_limit=20, formulation="plain")
    assert a.status == b.status == c.status == "OPTIMAL"
    assert a.objective == b.objective == c.objective


# M = 7; SPT earliest-fit finishes by round 12, but every optimal schedule ends later.
HORIZON_CASE = {"M": 7, "prompt": [2, 0, 0, 2], "output": [4, 4, 4, 5]}


def test_heuristic_makespan_horizon_cuts_off_the_optimum() -> None:
    inst = Instance.from_arrays(**HORIZON_CASE)
    heur = list_schedule(inst, np.argsort(inst.output, kind="stable"))
    makespan = int((heur + inst.output).max())
    opt = _brute(inst)
    assert _brute(inst, cap=makespan) > opt  # the naive horizon loses the optimum
    res = solve_hindsight(inst, time_limit=10, heuristic_seconds=0.05)
    assert res.status == "OPTIMAL" and res.objective == opt == 30
    assert verify_schedule(inst, res.starts).makespan > makespan
    # and the valid horizon keeps it
    assert latest_completions(inst, tel_of(inst, heur)).max() >= verify_schedule(inst, res.starts).makespan


@pytest.mark.parametrize("seed", range(6))
def test_enlarging_the_horizon_never_improves(seed: int) -> None:
    inst = _tiny(300 + seed, n_max=5, arrivals=seed % 2 == 0)
    res = solve_hindsight(inst, time_limit=10, heuristic_seconds=0.05)
    big = _brute(inst, cap=int(inst.arrival.max() + 2 * inst.output.sum() + 5))
    assert res.objective == big


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000))
def test_bound_le_opt_le_heuristic(seed: int) -> None:
    inst = _tiny(seed, n_max=5, arrivals=seed % 2 == 0)
    res = solve_hindsight(inst, time_limit=10, heuristic_seconds=0.02)
    lb = lower_bounds(inst, lp=True)
    heur, _, _ = best_schedule(inst, seconds=0.0)
    assert res.status == "OPTIMAL"
    for k, v in lb.values.items():
        assert v <= res.objective, k
    assert res.objective <= tel_of(inst, heur)


@pytest.mark.parametrize("seed", range(3))
def test_bounds_and_online_heuristics_on_generated(seed: int) -> None:
    inst = jaillet(seed, n=12) if seed != 1 else jaillet(seed, arrivals="poisson", rounds=8)
    res = solve_hindsight(inst, time_limit=3, heuristic_seconds=0.2)
    assert res.bound <= res.objective
    assert res.status in ("OPTIMAL", "FEASIBLE")
    assert verify_schedule(inst, res.starts).tel == res.objective
    try:
        from lpsched.online import simulate
    except ImportError:
        return
    for pol in ("hsf", "svf"):
        assert res.objective <= simulate(inst, pol).tel
        assert lower_bounds(inst).bound <= res.objective


def test_result_object_and_status_proof() -> None:
    inst = paper(1, n=10, concurrency=4)
    res = solve_hindsight(inst, time_limit=10, heuristic_seconds=0.1)
    assert isinstance(res, SolveResult)
    d = res.to_dict()
    for key in ("status", "objective", "bound", "gap", "starts", "seconds", "backend"):
        assert key in d
    assert set(d["starts"]) == set(inst.ids)
    if res.status == "OPTIMAL":
        assert res.bound == res.objective and res.gap == 0
    else:
        assert res.bound < res.objective


def test_short_time_limit_reports_gap_not_optimal() -> None:
    inst = jaillet(5)
    res = solve_hindsight(inst, time_limit=1.0, heuristic_seconds=0.1, lp_fixing=False)
    assert verify_schedule(inst, res.starts).feasible
    if res.status != "OPTIMAL":
        assert res.gap > 0


def test_hint_is_used_and_bad_options_raise() -> None:
    from lpsched.errors import OptionError

    inst = Instance.from_arrays(**HORIZON_CASE)
    res = solve_hindsight(inst, time_limit=5, hint={"0": 0, "1": 4, "2": 8, "3": 12})
    assert res.objective == 30
    with pytest.raises(OptionError):
        solve_hindsight(inst, backend="gurobi")
    with pytest.raises(OptionError):
        solve_hindsight(inst, time_limit=0)
