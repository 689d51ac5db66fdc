"""The interval/cumulative model (:mod:`~lpsched.offline.formulation.interval`) on CP-SAT, alone
(:func:`solve_cumulative`) or channelled to the time-indexed model (:func:`solve_hybrid`)."""

from __future__ import annotations

from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from ...instance import Instance
from ..formulation.interval import CumulativeModel, build_cumulative, canonical_starts
from .cpsat import proven_bound, run_cpsat
from .outcome import BackendOutcome

__all__ = ["solve_cumulative", "solve_hybrid"]


def _outcome(solver: cp_model.CpSolver, status: int, cm: CumulativeModel) -> BackendOutcome:
    """The interval model's outcome: status, proven bound, statistics, and the per-job starts."""
    ks = None
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        ks = np.array([solver.value(v) for v in cm.starts], dtype=np.int64)
    return BackendOutcome(
        proven_optimal=status == cp_model.OPTIMAL, infeasible=status == cp_model.INFEASIBLE,
        values=None, bound=proven_bound(solver, status), status=solver.status_name(status),
        info={"wall_time": solver.wall_time, "branches": solver.num_branches,
              "conflicts": solver.num_conflicts, "intervals": cm.n_intervals,
              "redundant": cm.n_redundant},
        starts=ks,
    )


def solve_cumulative(
    instance: Instance,
    latest: np.ndarray,
    *,
    time_limit: float,
    workers: int,
    seed: int,
    log: bool,
    hint: np.ndarray | None = None,
    objective_lb: int | None = None,
    objective_ub: int | None = None,
    dff: tuple[int, ...] = (2, 3, 4),
    symmetry: bool = True,
    cores: int = 6,
    linearization: int = 2,
    domains: list[np.ndarray] | None = None,
) -> BackendOutcome:
    """Solve the interval/cumulative model with CP-SAT.

    Parameters are those of :func:`build_cumulative` plus the CP-SAT settings (``time_limit``
    seconds, ``workers``, ``seed``, ``log``, ``linearization`` level) and ``hint`` (per-job starts;
    relabelled within classes by :func:`canonical_starts` when symmetry breaking is on).

    Returns
    -------
    BackendOutcome
        With the per-job starts of the best solution (``starts``, instance order); ``values`` is
        ``None``.
    """
    cm = build_cumulative(instance, latest, dff=dff, symmetry=symmetry, cores=cores, objective_lb=objective_lb,
                          objective_ub=objective_ub, domains=domains)
    if hint is not None:
        hint = canonical_starts(instance, hint) if symmetry else np.asarray(hint, dtype=np.int64)
        for v, k in zip(cm.starts, hint, strict=True):
            cm.model.add_hint(v, int(k))
    solver, status = run_cpsat(cm.model, time_limit=time_limit, workers=workers, seed=seed, log=log,
                               linearization_level=int(linearization))
    return _outcome(solver, status, cm)


def solve_hybrid(
    instance: Instance,
    model: Any,
    *,
    time_limit: float,
    workers: int,
    seed: int,
    log: bool,
    hint: np.ndarray | None = None,
    objective_lb: int | None = None,
    objective_ub: int | None = None,
    dff: tuple[int, ...] = (2, 3, 4),
    cores: int = 6,
    symmetry: bool = True,
    linearization: int = 1,
) -> BackendOutcome:
    """The time-indexed model (one class per job) channelled to the interval model.

    ``model`` is a :class:`~lpsched.offline.formulation.model.TimeIndexedModel` built *without* class
    aggregation (possibly restricted by reduced-cost fixing): 0/1 ``x_{i,k}``, ``Σ_k x_{i,k} = 1``, the
    memory rows; plus ``k_i = Σ_k k·x_{i,k}`` and the exact cumulative / redundant constraints of
    :func:`build_cumulative` on ``k_i``. CP-SAT then has the LP relaxation of the time-indexed model
    and the scheduling propagators at once. Every schedule of the time-indexed model is a schedule
    of the interval model and conversely (both are exact), so nothing is cut off.

    Returns
    -------
    BackendOutcome
        As :func:`solve_cumulative`'s.
    """
    if model.classes.n_classes != instance.n or int(model.classes.count.max(initial=1)) != 1:
        raise ValueError("solve_hybrid needs a model without class aggregation")
    job_of_class = np.array([int(mem[0]) for mem in model.classes.members], dtype=np.int64)
    latest = np.empty(instance.n, dtype=np.int64)
    lo = np.full(instance.n, np.iinfo(np.int64).max, dtype=np.int64)
    hi = np.full(instance.n, -1, dtype=np.int64)
    for j in range(model.n_variables):
        i = int(job_of_class[int(model.var_class[j])])
        k = int(model.var_start[j])
        lo[i] = min(lo[i], k)
        hi[i] = max(hi[i], k)
    latest[:] = hi + instance.output
    cm = build_cumulative(instance, latest, dff=dff, symmetry=symmetry, cores=cores,
                          objective_lb=objective_lb, objective_ub=objective_ub)
    m = cm.model
    x = [m.new_bool_var(f"x{j}") for j in range(model.n_variables)]
    per_job: list[list[int]] = [[] for _ in range(instance.n)]
    for j in range(model.n_variables):
        per_job[int(job_of_class[int(model.var_class[j])])].append(j)
    for i in range(instance.n):
        m.add_exactly_one(x[j] for j in per_job[i])
        m.add(cm.starts[i] == sum(int(model.var_start[j]) * x[j] for j in per_job[i]))
        # the start domain is exactly the surviving starts
        m.add_linear_expression_in_domain(
            cm.starts[i], cp_model.Domain.from_values([int(model.var_start[j]) for j in per_job[i]]))
    for _, v, cf in model.rows:
        m.add(cp_model.LinearExpr.weighted_sum([x[j] for j in v], [int(c) for c in cf]) <= model.M)
    if hint is not None:
        hk = canonical_starts(instance, hint) if symmetry else np.asarray(hint, dtype=np.int64)
        for i in range(instance.n):
            m.add_hint(cm.starts[i], int(hk[i]))
            for j in per_job[i]:
                m.add_hint(x[j], int(model.var_start[j]) == int(hk[i]))
    solver, status = run_cpsat(m, time_limit=time_limit, workers=workers, seed=seed, log=log,
                               linearization_level=int(linearization))
    return _outcome(solver, status, cm)
