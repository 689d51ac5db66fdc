"""PuLP/CBC backend of the hindsight IP (the cross-check of CP-SAT).

PuLP is imported lazily, inside the solve, so that OR-Tools is always imported first. The model is
written the way PuLP's "migrate to v4" guide asks (variables made by the problem, ``COIN_CMD`` with
an explicit CBC program), so it raises no DeprecationWarning on PuLP 3.3; reading the result still
uses the 3.x status codes (``pulp<4`` in pyproject.toml).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from typing import Any

from ...errors import OptionError
from ..formulation.model import TimeIndexedModel
from .outcome import BackendOutcome, require_exact_model

__all__ = ["solve_cbc"]


def solve_cbc(
    model: TimeIndexedModel,
    *,
    time_limit: float,
    workers: int,
    seed: int,
    log: bool,
    hint: dict[int, int] | None = None,
    objective_lb: int | None = None,
    objective_ub: int | None = None,
    on_solution: Callable[[dict[int, int]], None] | None = None,
) -> BackendOutcome:
    """Solve ``model`` with CBC through PuLP (``pulp.COIN_CMD``).

    Parameters are those of :func:`~lpsched.offline.backends.cpsat.solve_cpsat`; ``seed`` is passed to CBC
    as ``randomSeed`` / ``randomCbcSeed`` and ``hint`` as a MIP start. ``on_solution`` is accepted
    for the common signature and never called (CBC runs as a separate program; its solution comes
    back at the end).

    Returns
    -------
    BackendOutcome
        ``bound`` is ``None`` unless CBC proved optimality (PuLP does not report CBC's best bound).
    """
    require_exact_model(model)
    import pulp  # lazy: optional heavy dependency (PuLP/CBC), loaded by the CBC backend only, after OR-Tools

    return _solve(pulp, model, time_limit, workers, seed, log, hint, objective_lb, objective_ub)


def _cbc_program(pulp: Any) -> str:
    """CBC on the PATH (``pip install pulp[cbc]`` puts one there), else the binary PuLP 3 bundles."""
    path = shutil.which("cbc") or getattr(getattr(pulp.apis, "coin_api", None), "pulp_cbc_path", None)
    if not path or not os.access(path, os.X_OK):
        raise OptionError("backend 'pulp' needs the CBC program: install it (pip install 'pulp[cbc]') "
                          "or use --backend cpsat")
    return str(path)


def _solve(pulp: Any, model: TimeIndexedModel, time_limit: float, workers: int, seed: int, log: bool,
           hint: dict[int, int] | None, objective_lb: int | None, objective_ub: int | None) -> BackendOutcome:
    prob = pulp.LpProblem("hindsight", pulp.LpMinimize)
    ub = model.var_ub
    new_var = getattr(prob, "add_variable", None) or pulp.LpVariable  # add_variable: PuLP >= 3.3.1
    y = [new_var(f"y{j}", lowBound=0, upBound=int(ub[j]), cat=pulp.LpInteger) for j in range(model.n_variables)]
    obj = pulp.LpAffineExpression([(y[j], int(model.var_cost[j])) for j in range(model.n_variables)])
    prob += obj
    for c in range(model.classes.n_classes):
        idx = model.class_vars(c)
        prob += pulp.LpAffineExpression([(y[j], 1) for j in idx]) == int(model.classes.count[c]), f"assign{c}"
    for r, (_, v, cf) in enumerate(model.rows):
        prob += pulp.LpAffineExpression([(y[j], int(x)) for j, x in zip(v, cf, strict=True)]) <= model.M, f"mem{r}"
    if objective_lb is not None:
        prob += obj >= int(objective_lb), "objlb"
    if objective_ub is not None:
        prob += obj <= int(objective_ub), "objub"
    warm = hint is not None
    if warm:
        for j in range(model.n_variables):
            y[j].setInitialValue(int(hint.get(j, 0)))
    solver = pulp.COIN_CMD(
        path=_cbc_program(pulp), timeLimit=float(time_limit), threads=int(workers), msg=bool(log), warmStart=warm,
        options=[f"randomSeed {int(seed) + 1}", f"randomCbcSeed {int(seed) + 1}"],
    )
    prob.solve(solver)
    status = pulp.LpStatus.get(prob.status, str(prob.status))
    sol_status = getattr(prob, "sol_status", None)
    has_solution = sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
    proven = prob.status == pulp.LpStatusOptimal and sol_status == pulp.LpSolutionOptimal
    values = None
    if has_solution:
        values = {}
        for j, var in enumerate(y):
            val = var.value()
            if val is not None and round(val) != 0:
                values[j] = round(val)
    bound = float(pulp.value(prob.objective)) if proven else None
    return BackendOutcome(
        proven_optimal=proven, infeasible=prob.status == pulp.LpStatusInfeasible,
        values=values, bound=bound, status=f"{status}/{sol_status}", info={},
    )
