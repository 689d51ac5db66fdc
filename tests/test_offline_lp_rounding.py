"""The truncated LP relaxation (late variables), its bound, and the LP-guided schedules."""

from __future__ import annotations

import math

import pytest
from offline_brute import instance_opt
from offline_instances import tiny_instance

from lpsched.generate import paper
from lpsched.offline.backends.cpsat import solve_cpsat
from lpsched.offline.bounds.lp import solve_lp
from lpsched.offline.bounds.relaxation import lp_relaxation_bound
from lpsched.offline.formulation.model import build_model, truncated_nonzeros
from lpsched.offline.formulation.objective import tel_of
from lpsched.offline.primal.lp_rounding import lp_guided_schedules, lp_targets, schedule_from_lp
from lpsched.verify import verify_schedule


def _opt(inst):
    return instance_opt(inst)


@pytest.mark.parametrize("seed", range(12))
def test_truncated_lp_never_exceeds_the_optimum(seed):
    """For every cut, even one below the jobs' own completions, the LP with late variables stays a
    lower bound (checked against the brute force, with and without arrivals)."""
    inst = tiny_instance(300 + seed, n_max=5, arrivals=seed % 2 == 1)
    opt = _opt(inst)
    full = solve_lp(build_model(inst, None))
    assert full.converged and full.objective <= opt + 1e-6
    for cut in (1, 3, 6, int(inst.output.sum()) // 2, int(inst.output.sum()) + 5):
        model = build_model(inst, None, truncate=cut)
        lp = solve_lp(model)
        assert lp.converged
        assert lp.objective <= opt + 1e-6, (cut, lp.objective, opt)
        # a cut beyond the valid horizon changes nothing
        if cut >= int(inst.arrival.max() + inst.output.sum()):
            assert model.late_cost is not None and (model.late_cost < 0).all()
            assert math.isclose(lp.objective, full.objective, abs_tol=1e-6)


def test_cut_below_every_completion_puts_all_jobs_late():
    inst = tiny_instance(7, n_max=5)
    model = build_model(inst, None, truncate=0)  # latest completion = a + o for every class
    lp = solve_lp(model)
    # every class keeps exactly its earliest start; cost = a + o − a = o for on-time, o + 1 for late
    assert lp.objective >= inst.output.sum() - 1e-6
    assert lp.late is not None and lp.late.shape == (model.classes.n_classes,)


def test_integer_backends_refuse_a_truncated_model():
    inst = tiny_instance(3)
    with pytest.raises(ValueError, match="truncated"):
        solve_cpsat(build_model(inst, None, truncate=4), time_limit=1, workers=1, seed=0, log=False)


def test_lp_bound_guard_and_validity():
    inst = tiny_instance(11)
    assert lp_relaxation_bound(inst, max_nonzeros=0) is None
    b = lp_relaxation_bound(inst)
    assert b is not None and b <= _opt(inst)
    m = build_model(inst, None, truncate=10)
    assert truncated_nonzeros(inst, 10) >= 5 * (m.n_variables + m.horizon)  # the compact LP's entries


def test_integral_lp_rounds_to_its_own_value():
    """Paper regime n = 30, s = 4, seed 0: the LP is integral (720, the proven optimum); rounding it
    reproduces a schedule of exactly that TEL."""
    inst = paper(0, n=30, s=4, lower=8, alpha=0.25, concurrency=10)
    model = build_model(inst, None, truncate=200)
    lp = solve_lp(model)
    assert lp.converged and math.isclose(lp.objective, 720, abs_tol=1e-6)
    k = schedule_from_lp(inst, model, lp)
    assert verify_schedule(inst, k).feasible
    assert tel_of(inst, k) == 720
    tgt = lp_targets(model, lp)
    assert (tgt >= inst.arrival).all()


def test_lp_guided_schedules_are_feasible_and_named():
    inst = paper(2, n=60, s=4, lower=8, alpha=0.25, concurrency=6)
    out = lp_guided_schedules(inst, horizon=400, fractions=(0.97, 0.94, 0.5), time_limit=30)
    # M = 216, largest peak 36: 0.5·M = 108 still holds every job
    assert set(out) == {"lp_0.97", "lp_0.94", "lp_0.5"}
    lp_full = solve_lp(build_model(inst, None, truncate=400)).objective
    for k in out.values():
        assert verify_schedule(inst, k).feasible
        assert tel_of(inst, k) >= lp_full - 1e-6
    # a capacity below the largest peak is skipped, and a huge model is refused outright
    assert lp_guided_schedules(inst, horizon=400, fractions=(0.1,), time_limit=5) == {}
    assert lp_guided_schedules(inst, horizon=400, time_limit=5, max_nonzeros=10) == {}
