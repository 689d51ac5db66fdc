"""The LP relaxation of the time-indexed model (GLOP via OR-Tools), with reduced costs.

Used for a certified lower bound (:func:`lpsched.offline.bounds.lp_relaxation_bound`) and for
reduced-cost fixing: with LP value ``z`` and reduced cost ``d_j >= 0`` of a variable at its lower
bound 0, every integer solution with ``y_j >= 1`` costs at least ``z + d_j`` (LP duality), so when
``z + d_j > UB − 1`` the variable can be fixed to 0 without losing any schedule better than the
incumbent of value ``UB``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from ortools.linear_solver import pywraplp

from .model import TimeIndexedModel

__all__ = ["LPResult", "solve_lp"]


@dataclass(frozen=True)
class LPResult:
    """Outcome of the LP relaxation.

    Attributes
    ----------
    optimal : bool
        GLOP reported an optimal LP solution (only then are ``value`` and ``reduced_costs`` used).
    value : float
        LP optimum.
    reduced_costs : numpy.ndarray
        Reduced cost of each variable.
    values : numpy.ndarray
        LP solution.
    late : numpy.ndarray
        Per class, the value of its late variable (truncated models; zeros otherwise).
    """

    optimal: bool
    value: float
    reduced_costs: np.ndarray
    values: np.ndarray
    late: np.ndarray


def solve_lp(model: TimeIndexedModel, time_limit: float = 30.0) -> LPResult:
    """Solve the LP relaxation of ``model`` with GLOP.

    Parameters
    ----------
    model : TimeIndexedModel
    time_limit : float
        Seconds.

    Returns
    -------
    LPResult
    """
    solver = pywraplp.Solver.CreateSolver("GLOP")
    solver.SetTimeLimit(int(1000 * time_limit))
    y = [solver.NumVar(0.0, float(u), "") for u in model.var_ub]
    obj = solver.Objective()
    nc = model.classes.n_classes
    late: list[Any] = [None] * nc
    for c in range(nc):
        ct = solver.Constraint(float(model.classes.count[c]), float(model.classes.count[c]))
        for j in model.class_vars(c):
            ct.SetCoefficient(y[j], 1.0)
        if model.late_cost is not None and model.late_cost[c] >= 0:
            late[c] = solver.NumVar(0.0, float(model.classes.count[c]), "")
            ct.SetCoefficient(late[c], 1.0)
            obj.SetCoefficient(late[c], float(model.late_cost[c]))
    for _, v, cf in model.rows:
        ct = solver.Constraint(-solver.infinity(), float(model.M))
        for j, x in zip(v, cf, strict=True):
            ct.SetCoefficient(y[j], float(x))
    for j, c in enumerate(model.var_cost):
        obj.SetCoefficient(y[j], float(c))
    obj.SetMinimization()
    status = solver.Solve()
    if status != pywraplp.Solver.OPTIMAL:
        z = np.zeros(model.n_variables)
        return LPResult(False, float("nan"), z, z, np.zeros(nc))
    rc = np.array([v.reduced_cost() for v in y])
    vals = np.array([v.solution_value() for v in y])
    late_vals = np.array([0.0 if v is None else v.solution_value() for v in late])
    return LPResult(True, float(obj.Value()), rc, vals, late_vals)
