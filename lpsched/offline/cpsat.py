"""CP-SAT backend of the hindsight IP (the default)."""

from __future__ import annotations

from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from .backend import BackendOutcome
from .model import TimeIndexedModel

__all__ = ["solve_cpsat"]


def solve_cpsat(
    model: TimeIndexedModel,
    *,
    time_limit: float,
    workers: int,
    seed: int,
    log: bool,
    hint: dict[int, int] | None = None,
    objective_lb: int | None = None,
    objective_ub: int | None = None,
    params: dict[str, Any] | None = None,
) -> BackendOutcome:
    """Solve ``model`` with CP-SAT.

    Parameters
    ----------
    model : TimeIndexedModel
    time_limit : float
        Seconds.
    workers : int
        CP-SAT search workers.
    seed : int
        CP-SAT random seed.
    log : bool
        Print CP-SAT's search log.
    hint : dict var index -> value, optional
        A full solution used as a hint (the variables it omits are hinted 0).
    objective_lb : int, optional
        A certified lower bound added as ``objective >= objective_lb`` (valid: no schedule is below).
    objective_ub : int, optional
        Added as ``objective <= objective_ub`` (keeps every schedule at least as good as the hint).
    params : dict, optional
        Further CP-SAT parameters (name -> value), e.g. ``{"linearization_level": 2}``.

    Returns
    -------
    BackendOutcome
    """
    m = cp_model.CpModel()
    ub = model.var_ub
    y = [m.new_bool_var(f"y{j}") if ub[j] == 1 else m.new_int_var(0, int(ub[j]), f"y{j}")
         for j in range(model.n_variables)]
    for c in range(model.classes.n_classes):
        idx = model.class_vars(c)
        m.add(sum(y[j] for j in idx) == int(model.classes.count[c]))
    for _, v, cf in model.rows:
        m.add(cp_model.LinearExpr.weighted_sum([y[j] for j in v], [int(x) for x in cf]) <= model.M)
    obj = cp_model.LinearExpr.weighted_sum(y, [int(x) for x in model.var_cost])
    if objective_lb is not None:
        m.add(obj >= int(objective_lb))
    if objective_ub is not None:
        m.add(obj <= int(objective_ub))
    m.minimize(obj)
    if hint is not None:
        for j in range(model.n_variables):
            m.add_hint(y[j], int(hint.get(j, 0)))
    solver = cp_model.CpSolver()
    p = solver.parameters
    p.max_time_in_seconds = float(time_limit)
    p.num_workers = int(workers)
    p.random_seed = int(seed)
    p.log_search_progress = bool(log)
    for key, val in (params or {}).items():
        setattr(p, key, val)
    status = solver.solve(m)
    name = solver.status_name(status)
    values = None
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        vals = np.array([solver.value(v) for v in y], dtype=np.int64)
        values = {int(j): int(vals[j]) for j in np.flatnonzero(vals)}
    bound = float(solver.best_objective_bound) if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) else None
    return BackendOutcome(
        proven_optimal=status == cp_model.OPTIMAL,
        infeasible=status == cp_model.INFEASIBLE,
        values=values, bound=bound, status_text=name,
        info={"wall_time": solver.wall_time, "branches": solver.num_branches,
              "conflicts": solver.num_conflicts},
    )
