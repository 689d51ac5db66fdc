"""The compact LP (``N``/``Q`` rows), its column generation, and the bound and reduced costs it
certifies from any duals."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from offline_brute import instance_opt
from offline_instances import random_instance, tiny_instance
from ortools.linear_solver import pywraplp

from lpsched.generate import paper
from lpsched.offline.bounds.lp import solve_lp
from lpsched.offline.formulation.model import build_model
from lpsched.offline.formulation.objective import tel_of
from lpsched.offline.schedules.heuristics import best_schedule


def _explicit_lp(model) -> float:
    """The LP with one explicit memory row per round (the textbook form), built here independently."""
    solver = pywraplp.Solver.CreateSolver("GLOP")
    y = [solver.NumVar(0.0, float(u), "") for u in model.var_ub]
    obj = solver.Objective()
    for c in range(model.classes.n_classes):
        ct = solver.Constraint(float(model.classes.count[c]), float(model.classes.count[c]))
        for j in np.flatnonzero(model.var_class == c):
            ct.SetCoefficient(y[j], 1.0)
        if model.late_cost is not None and model.late_cost[c] >= 0:
            late = solver.NumVar(0.0, float(model.classes.count[c]), "")
            ct.SetCoefficient(late, 1.0)
            obj.SetCoefficient(late, float(model.late_cost[c]))
    for j in range(model.n_variables):
        obj.SetCoefficient(y[j], float(model.var_cost[j]))
    # memory straight from docs/model.md §2: a start at k holds s + τ − k in rounds k < τ <= k + o
    rows: dict[int, object] = {}
    for j in range(model.n_variables):
        c, k = int(model.var_class[j]), int(model.var_start[j])
        s, o = int(model.classes.prompt[c]), int(model.classes.output[c])
        for tau in range(k + 1, k + o + 1):
            if tau not in rows:
                rows[tau] = solver.Constraint(-solver.infinity(), float(model.M))
            rows[tau].SetCoefficient(y[j], float(s + tau - k))
    obj.SetMinimization()
    assert solver.Solve() == pywraplp.Solver.OPTIMAL
    return obj.Value()


@pytest.mark.parametrize("seed", range(8))
def test_compact_lp_equals_the_explicit_lp(seed):
    rng = np.random.default_rng(900 + seed)
    inst = random_instance(rng, (3, 9), (8, 20), 4, 6 if seed % 2 else 1)
    for truncate in (None, int(inst.output.sum()) // 3):
        model = build_model(inst, None, truncate=truncate)
        lp = solve_lp(model, growth=0)  # the growth rows are valid inequalities the explicit LP lacks
        ref = _explicit_lp(model)
        assert lp.converged
        assert math.isclose(lp.objective, ref, rel_tol=1e-7, abs_tol=1e-6), (truncate, lp.objective, ref)
        assert lp.bound <= lp.objective + 1e-6 and lp.bound >= lp.objective - 1e-5 * max(1.0, lp.objective)


@pytest.mark.parametrize("hint", [True, False])
def test_column_generation_reaches_the_full_lp(hint):
    inst = paper(2, n=120, s=4, lower=8, alpha=0.25, concurrency=6)
    inc, _, _ = best_schedule(inst, seconds=0.0, seed=0)
    cut = int(1.25 * int((inc + inst.output).max()))
    model = build_model(inst, tel_of(inst, inc), truncate=cut)
    full = solve_lp(model, column_generation=False)
    cg = solve_lp(model, column_generation=True, start_hint=inc if hint else None)
    assert full.converged and cg.converged
    assert cg.rounds > 1 and cg.columns < model.n_variables  # columns were generated, not all of them
    assert math.isclose(cg.objective, full.objective, rel_tol=1e-7)
    assert cg.bound <= full.objective + 1e-6 and cg.bound >= full.objective - 1e-5 * full.objective
    # the LP solution uses only generated columns and meets the class counts
    for c in range(model.classes.n_classes):
        tot = cg.values[model.class_vars(c)].sum() + cg.late[c]
        assert math.isclose(tot, model.classes.count[c], abs_tol=1e-6)


@pytest.mark.parametrize("seed", range(10))
def test_bound_of_a_first_restricted_lp_is_valid(seed):
    """After one restricted LP (far from converged) the Lagrangian bound is still below the optimum."""
    inst = tiny_instance(500 + seed, n_max=5, arrivals=seed % 2 == 1)
    opt = instance_opt(inst)
    model = build_model(inst, None, aggregate_classes=False)
    first = solve_lp(model, column_generation=True, per_class=1, max_rounds=1)
    full = solve_lp(model, column_generation=False)
    assert np.isfinite(first.bound)
    assert first.bound <= full.objective + 1e-6 <= opt + 2e-6


def _all_schedules(inst):
    """Every feasible start vector of a tiny instance with its TEL (memory from docs/model.md §2)."""
    H = int(inst.arrival.max() + inst.output.sum())
    ranges = [range(int(a), H - int(o) + 1) for a, o in zip(inst.arrival, inst.output, strict=True)]
    for ks in itertools.product(*ranges):
        mem = [0] * (H + 2)
        ok = True
        for k, s, o in zip(ks, inst.prompt, inst.output, strict=True):
            for tau in range(k + 1, k + int(o) + 1):
                mem[tau] += int(s) + tau - k
                if mem[tau] > inst.M:
                    ok = False
        if ok:
            yield ks, sum(k + int(o) - int(a) for k, o, a in zip(ks, inst.output, inst.arrival, strict=True))


def best_tel_with(inst) -> dict[tuple[int, int], int]:
    """Per (job, start) used by some feasible schedule, the least TEL of such a schedule."""
    best_with: dict[tuple[int, int], int] = {}
    for ks, tel in _all_schedules(inst):
        for i, k in enumerate(ks):
            best_with[(i, k)] = min(best_with.get((i, k), tel), tel)
    return best_with


def assert_fixing_certified(model, res, best_with) -> None:
    """``bound + d_j`` is at most the TEL of every schedule that uses variable ``j`` (one-job classes)."""
    checked = 0
    for j in range(model.n_variables):
        c, k = int(model.var_class[j]), int(model.var_start[j])
        i = int(model.classes.members[c][0])
        if (i, k) in best_with:
            assert res.bound + res.reduced_costs[j] <= best_with[(i, k)] + 1e-6
            checked += 1
    assert checked > 0


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("rounds", [1, None])
def test_reduced_costs_certify_fixing(seed, rounds):
    """Every schedule that starts job i at k costs at least ``bound + d`` of the variable (i, k),
    for converged and for first-round duals (exhaustive over all schedules of 3-job instances)."""
    rng = np.random.default_rng(700 + seed)
    inst = random_instance(rng, (3, 4), (6, 10), 3, 3)
    model = build_model(inst, None, aggregate_classes=False)
    lp = solve_lp(model, column_generation=rounds is not None, per_class=2, max_rounds=rounds)
    best_with = best_tel_with(inst)
    assert best_with, "no feasible schedule enumerated"
    assert_fixing_certified(model, lp, best_with)


@pytest.mark.parametrize("seed", range(6))
def test_cpsat_memory_forms_agree_with_brute_force(seed):
    """CP-SAT on the explicit, compact and combined memory constraints: same optimum as the brute force."""
    from lpsched.offline.backends.cpsat import solve_cpsat

    inst = tiny_instance(600 + seed, n_max=5, arrivals=seed % 2 == 0)
    opt = instance_opt(inst)
    model = build_model(inst, None)
    for memory in ("explicit", "compact", "both"):
        out = solve_cpsat(model, time_limit=20, workers=1, seed=0, log=False, memory=memory)
        assert out.proven_optimal
        value = sum(int(model.var_cost[j]) * v for j, v in out.values.items())
        assert value == opt, (memory, value, opt)
    with pytest.raises(ValueError, match="memory form"):
        solve_cpsat(model, time_limit=1, workers=1, seed=0, log=False, memory="dense")


def test_bound_equals_the_lp_with_core_rows():
    """With core rows the certified bound uses their multipliers too: it matches the LP value."""
    from lpsched.generate import jaillet

    inst = jaillet(2, n=12)
    model = build_model(inst, None, core_rows=2)
    assert model.core_rows
    lp = solve_lp(model)
    plain = solve_lp(build_model(inst, None))
    assert lp.converged and lp.objective > plain.objective + 1.0  # the core rows bite on this instance
    assert math.isclose(lp.bound, lp.objective, rel_tol=1e-6)


def test_glop_is_retried_without_presolve_after_an_abnormal_end(monkeypatch) -> None:
    import lpsched.offline.bounds.lp as lp_mod

    inst = paper(1, n=12, s=4, lower=8, alpha=1 / 4, concurrency=4)
    inc, _, _ = best_schedule(inst, seconds=0.0)
    model = build_model(inst, tel_of(inst, inc))
    expected = lp_mod._glop(model, 10.0)
    assert expected is not None
    real = lp_mod.mbh.ModelSolverHelper
    seen: list[str] = []

    class FirstAbnormal:  # GLOP whose first solve ends ABNORMAL, as its presolve sometimes does
        def __init__(self, name):
            self._s, self._params = real(name), ""

        def set_solver_specific_parameters(self, params):
            self._params = params
            self._s.set_solver_specific_parameters(params)

        def solve(self, builder):
            seen.append(self._params)
            self._s.solve(builder)

        def status(self):
            return lp_mod.mbh.SolveStatus.ABNORMAL if len(seen) == 1 else self._s.status()

        def __getattr__(self, name):
            return getattr(self._s, name)

    monkeypatch.setattr(lp_mod.mbh, "ModelSolverHelper", FirstAbnormal)
    got = lp_mod._glop(model, 10.0)
    assert seen == ["", lp_mod.GLOP_RETRY_PARAMETERS]
    assert got is not None and math.isclose(got[2], expected[2], rel_tol=1e-9, abs_tol=1e-6)
    # a status other than ABNORMAL (here: the first solve ends INFEASIBLE) is not retried
    seen.clear()
    monkeypatch.setattr(FirstAbnormal, "status", lambda self: lp_mod.mbh.SolveStatus.INFEASIBLE)
    assert lp_mod._glop(model, 10.0) is None and seen == [""]


def test_column_generation_resumes_from_the_columns_of_an_earlier_call() -> None:
    inst = paper(0, n=40, s=4, lower=8, alpha=1 / 8, concurrency=10)
    inc, _, _ = best_schedule(inst, seconds=0.0)
    model = build_model(inst, tel_of(inst, inc))
    whole = solve_lp(model, time_limit=60, start_hint=inc, column_generation=True)
    assert whole.converged and whole.rounds >= 3 and whole.column_mask is not None
    cut = solve_lp(model, time_limit=60, start_hint=inc, column_generation=True, max_rounds=2)
    assert not cut.converged and cut.column_mask.sum() == cut.columns
    resumed = solve_lp(model, time_limit=60, start_hint=inc, column_generation=True, columns=cut.column_mask)
    assert resumed.converged and math.isclose(resumed.objective, whole.objective, rel_tol=1e-7, abs_tol=1e-6)
    assert resumed.rounds < whole.rounds  # it did not start over
    assert np.all(resumed.column_mask[cut.column_mask])  # the earlier columns are kept
    assert solve_lp(model, time_limit=60).column_mask is None  # no column generation: no mask


@pytest.mark.parametrize("seed", range(6))
def test_growth_rows_hold_in_every_schedule(seed):
    """Every row of :func:`growth_rows` (r = 1..4) holds at every feasible schedule of small
    instances (exhaustive; with and without arrivals, prompts of different sizes)."""
    from lpsched.offline.formulation.compact import growth_rows

    rng = np.random.default_rng(1300 + seed)
    inst = random_instance(rng, (3, 4), (6, 12), 4, 3 if seed % 2 else 1)
    model = build_model(inst, None, aggregate_classes=False)
    rows = growth_rows(model, 4)
    var_of = {(int(c), int(k)): j for j, (c, k) in enumerate(zip(model.var_class, model.var_start, strict=True))}
    job_class = {int(model.classes.members[c][0]): c for c in range(model.classes.n_classes)}
    T = int(model.horizon)
    checked = 0
    for ks, _ in _all_schedules(inst):
        y = np.zeros(model.n_variables)
        if any((job_class[i], k) not in var_of for i, k in enumerate(ks)):
            continue
        for i, k in enumerate(ks):
            y[var_of[(job_class[i], k)]] += 1
        N = np.zeros(T + 2)
        Q = np.zeros(T + 2)
        for k, s, o in zip(ks, inst.prompt, inst.output, strict=True):
            for tau in range(k + 1, k + int(o) + 1):
                N[tau] += 1
                Q[tau] += int(s) + tau - k
        for tau, r, v, g in rows:
            assert Q[tau] + r * N[tau] - float(g @ y[v]) <= inst.M + 1e-9, (ks, tau, r)
        checked += 1
    assert checked > 0


@pytest.mark.parametrize("seed", range(4))
def test_growth_rows_raise_the_lp_and_keep_it_a_bound(seed):
    inst = tiny_instance(1400 + seed, n_max=6, arrivals=seed % 2 == 1)
    opt = instance_opt(inst)
    model = build_model(inst, None)
    plain, grown = solve_lp(model, growth=0), solve_lp(model)
    assert plain.converged and grown.converged
    assert plain.objective - 1e-6 <= grown.objective and grown.bound <= opt + 1e-6


def test_growth_rows_on_the_paper_instance_with_the_known_optimum():
    """``s = 50, α = 1/8, C = 8``, n = 30, seed 4 (optimum 1,828, proven; docs/offline.md): the LP
    rises from 1,785.5 by about 8 (the saw-tooth of memory the fractional schedule does not have)."""
    inst = paper(4, n=30, s=50, lower=8, alpha=1 / 8, concurrency=8)
    inc, _, _ = best_schedule(inst, seconds=0.2)
    model = build_model(inst, tel_of(inst, inc))
    plain, grown = solve_lp(model, growth=0), solve_lp(model)
    assert grown.bound >= plain.bound + 5 and grown.bound <= 1828
