"""CP-SAT backend of the hindsight IP (the default)."""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from ..formulation.compact import compact_coefficients
from ..formulation.model import TimeIndexedModel
from .outcome import BackendOutcome, StopSignal, require_exact_model

#: Improving solutions are passed to ``on_solution`` at most this often (seconds).
SOLUTION_REPORT_SECONDS = 1.0

__all__ = ["solve_cpsat", "run_cpsat", "quiet_native_stderr", "proven_bound"]


@contextlib.contextmanager
def quiet_native_stderr(enabled: bool = True) -> Iterator[None]:
    """Silence what native code writes to file descriptor 2 (CP-SAT prints internal LNS debug dumps
    such as "Infeasible LNS solution!" there, which are not errors of ours); Python's ``sys.stderr``
    is flushed first and restored after."""
    if not enabled:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def run_cpsat(model: cp_model.CpModel, *, time_limit: float, workers: int, seed: int, log: bool,
              stop: StopSignal | None = None, callback: cp_model.CpSolverSolutionCallback | None = None,
              **params: Any) -> tuple[cp_model.CpSolver, int]:
    """Solve a CP-SAT model with lpsched's standard parameters (extra ones by keyword).

    Without ``log``, CP-SAT's native diagnostics are silenced (:func:`quiet_native_stderr`); with it,
    the search log is shown. ``stop`` (optional) can end the search early from another thread;
    ``callback`` (optional) is CP-SAT's solution callback.
    """
    solver = cp_model.CpSolver()
    p = solver.parameters
    p.max_time_in_seconds = float(time_limit)
    p.num_workers = int(workers)
    p.random_seed = int(seed)
    p.log_search_progress = bool(log)
    for key, val in params.items():
        if isinstance(val, (list, tuple)):  # repeated fields (e.g. ``subsolvers``) are extended
            getattr(p, key).extend(val)
        else:
            setattr(p, key, val)
    if stop is not None:
        stop.on_stop(solver.stop_search)
        if stop.stopped:
            p.max_time_in_seconds = 0.0
    with quiet_native_stderr(not log):
        status = solver.solve(model, callback)
    return solver, status


class _Improving(cp_model.CpSolverSolutionCallback):
    """Passes the start-variable values of improving solutions to ``on_solution`` while CP-SAT runs,
    at most one every :data:`SOLUTION_REPORT_SECONDS` (reading every variable costs time in the
    search's thread); the final solution is returned by the solve as always."""

    def __init__(self, y: list[Any], on_solution: Callable[[dict[int, int]], None]) -> None:
        super().__init__()
        self.y, self.on_solution = y, on_solution
        self.best = math.inf
        self.last = -math.inf

    def on_solution_callback(self) -> None:
        obj = self.objective_value
        now = time.perf_counter()
        if obj >= self.best or now - self.last < SOLUTION_REPORT_SECONDS:
            return
        self.best, self.last = obj, now
        vals = [self.value(v) for v in self.y]
        self.on_solution({j: int(v) for j, v in enumerate(vals) if v})


def proven_bound(solver: cp_model.CpSolver, status: int) -> float | None:
    """CP-SAT's proven lower bound on the model's objective, or ``None``.

    Also without a solution (status UNKNOWN): every solution of the model (every schedule better
    than the incumbent, with the objective cut-off) costs at least that much, so
    ``min(incumbent, bound)`` bounds the optimum.
    """
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE, cp_model.UNKNOWN):
        return None
    b = float(solver.best_objective_bound)
    return b if math.isfinite(b) else None


def _add_compact_memory(m: cp_model.CpModel, model: TimeIndexedModel, y: list[Any]) -> None:
    """The memory constraints in the compact form of :mod:`~lpsched.offline.bounds.lp` (``N_τ``, ``Q_τ``)."""
    cl = model.classes
    T = int(model.horizon)
    enter_coef, leave_coef = compact_coefficients(cl)
    enter: list[list[tuple[int, int]]] = [[] for _ in range(T + 1)]
    leave: list[list[tuple[int, int]]] = [[] for _ in range(T + 2)]
    for j in range(model.n_variables):
        c, k = int(model.var_class[j]), int(model.var_start[j])
        enter[k + 1].append((j, int(enter_coef[c])))
        if k + int(cl.output[c]) + 1 <= T:
            leave[k + int(cl.output[c]) + 1].append((j, int(leave_coef[c])))
    n_tot = int(cl.count.sum())
    N_prev: Any = 0
    Q_prev: Any = 0
    for tau in range(1, T + 1):
        N = m.new_int_var(0, n_tot, "")
        Q = m.new_int_var(0, int(model.M), "")
        m.add(N == N_prev + sum(y[j] for j, _ in enter[tau]) - sum(y[j] for j, _ in leave[tau]))
        m.add(Q == Q_prev + N + sum(sp * y[j] for j, sp in enter[tau]) - sum(pk * y[j] for j, pk in leave[tau]))
        N_prev, Q_prev = N, Q


def _cp_model(model: TimeIndexedModel, memory: str, objective_lb: int | None, objective_ub: int | None,
              hint: dict[int, int] | None) -> tuple[cp_model.CpModel, list[Any]]:
    """The time-indexed model as a CP-SAT model: the start-count variables ``y``, one assignment row
    per class, the memory in the chosen form, the objective window and the hint."""
    m = cp_model.CpModel()
    ub = model.var_ub
    y = [m.new_bool_var(f"y{j}") if ub[j] == 1 else m.new_int_var(0, int(ub[j]), f"y{j}")
         for j in range(model.n_variables)]
    for c in range(model.classes.n_classes):
        idx = model.class_vars(c)
        m.add(sum(y[j] for j in idx) == int(model.classes.count[c]))
    if memory not in ("explicit", "compact", "both"):
        raise ValueError(f"unknown memory form '{memory}' (known: explicit, compact, both)")
    mem = memory
    for _, v, cf in (model.rows if mem in ("explicit", "both") else model.core_rows):
        m.add(cp_model.LinearExpr.weighted_sum([y[j] for j in v], [int(x) for x in cf]) <= model.M)
    if mem in ("compact", "both"):
        _add_compact_memory(m, model, y)
    obj = cp_model.LinearExpr.weighted_sum(y, [int(x) for x in model.var_cost])
    if objective_lb is not None:
        m.add(obj >= int(objective_lb))
    if objective_ub is not None:
        m.add(obj <= int(objective_ub))
    m.minimize(obj)
    if hint is not None:
        for j in range(model.n_variables):
            m.add_hint(y[j], int(hint.get(j, 0)))
    return m, y


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
    memory: str = "both",
    stop: StopSignal | None = None,
    on_solution: Callable[[dict[int, int]], None] | None = None,
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
    memory : str
        How the memory constraints are stated: ``explicit`` (one row per round), ``compact`` (the
        ``N``/``Q`` sequences of :mod:`~lpsched.offline.bounds.lp`, integer here), or ``both`` (default:
        the same constraints twice, which gave CP-SAT a better bound on the paper regime,
        docs/research/offline-log.md).
    stop : StopSignal, optional
        Ends the search early when signalled (the portfolio of
        :func:`~lpsched.offline.pipeline.solve_hindsight` stops CP-SAT once HiGHS has a proof).
    on_solution : callable, optional
        Called (from CP-SAT's thread) with ``{variable index: value}`` of improving solutions as
        they are found (:class:`_Improving`).

    Returns
    -------
    BackendOutcome
    """
    require_exact_model(model)
    m, y = _cp_model(model, memory, objective_lb, objective_ub, hint)
    solver, status = run_cpsat(m, time_limit=time_limit, workers=workers, seed=seed, log=log, stop=stop,
                               callback=None if on_solution is None else _Improving(y, on_solution),
                               **(params or {}))
    name = solver.status_name(status)
    values = None
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        vals = np.array([solver.value(v) for v in y], dtype=np.int64)
        values = {int(j): int(vals[j]) for j in np.flatnonzero(vals)}
    bound = proven_bound(solver, status)
    return BackendOutcome(
        proven_optimal=status == cp_model.OPTIMAL,
        infeasible=status == cp_model.INFEASIBLE,
        values=values, bound=bound, status=name,
        info={"wall_time": solver.wall_time, "branches": solver.num_branches,
              "conflicts": solver.num_conflicts},
    )
