"""The LP relaxation of the time-indexed model (GLOP via OR-Tools), with reduced costs.

Used for a certified lower bound (:func:`lpsched.offline.bounds.relaxation.lp_relaxation_bound`) and for
reduced-cost fixing: with LP value ``z`` and reduced cost ``d_j >= 0`` of a variable at its lower
bound 0, every integer solution with ``y_j >= 1`` costs at least ``z + d_j`` (LP duality), so when
``z + d_j > UB − 1`` the variable can be fixed to 0 without losing any schedule better than the
incumbent of value ``UB``.

**Compact memory rows.** The explicit memory row of round ``τ`` has one entry per start variable
and round of its run (``Σ_c o_c`` per start: ~10^8 entries at n = 1000, α = 1/32). Since a run's
memory grows by exactly one token per round (:func:`~lpsched.offline.formulation.classes.run_shape`, checked
here), the LP uses two auxiliary sequences instead, ``N_τ`` (runs active in round ``τ``) and
``Q_τ`` (memory in round ``τ``), ``N_0 = Q_0 = 0``:

* ``N_τ = N_{τ−1} + Σ y_{c,τ−1} − Σ y_{c,τ−1−o_c}`` (a start at ``k`` is active in rounds
  ``k+1..k+o_c``);
* ``Q_τ = Q_{τ−1} + N_τ + Σ (shape_c[0] − 1)·y_{c,τ−1} − Σ shape_c[o_c−1]·y_{c,τ−1−o_c}``;
* ``0 <= Q_τ <= M``.

By induction on ``τ`` the equalities give ``Q_τ = Σ shape_c[τ − k − 1]·y_{c,k}`` over the runs
active in ``τ`` (each active run adds one token per round through ``N_τ``, enters with
``shape_c[0]`` and leaves with its last value), so for every ``y`` there is exactly one ``(N, Q)``
and the LP is the same LP as with explicit rows, with about five entries per start variable. The
core rows (:attr:`~lpsched.offline.formulation.model.TimeIndexedModel.core_rows`) are added as they are.

**Growth rows** (:func:`growth_rows`, ``solve_lp(growth_rounds=3)``). A
run's memory grows by one token per round until it completes, so if no run completes in rounds
``τ .. τ + r − 1``, every run active in ``τ`` is active in ``τ + r`` with ``r`` more tokens:
``Q_τ + r·N_τ <= Q_{τ+r} <= M``. With ``D`` the starts completing in that window,
``Q_τ + r·N_τ <= M + Σ g_j·y_j`` holds in every schedule (``g_j`` bounds ``r·N_τ`` when run ``j``
completes in the window; proof in :func:`growth_rows`). The LP's fractional schedule completes a
fraction of a run in every round and keeps memory flat at ``M``; an integer schedule completes
runs in few rounds and its memory saw-tooths (each start takes ``s + 1`` tokens at once). The
rows cut off part of that (a few units of the LP bound on the paper and Jaillet regimes,
docs/research/offline-log.md, "growth rows"). They enter the bound and the reduced costs below
like the core rows (multipliers clipped to ``<= 0``, right-hand side ``M``). The integer model of
:mod:`~lpsched.offline.backends.highs` does not get them (HiGHS' proofs were no faster with them),
nor does an LP solved by column generation (at n = 1000 GLOP no longer converged with them).

**Column generation and a bound from any duals.** For a start variable the compact LP has five
entries, so its reduced cost against duals ``(μ, π)`` of the assignment and ``N``/``Q`` rows takes
O(1) to compute. Large models (more than ``colgen_min_variables`` start variables, no core rows)
are solved on a subset of the starts (around a hint schedule), adding the most negative reduced
costs of every class until none is left. Whatever the duals, with ``d'_j = cost_j − Σ_{N,Q rows}
π·A_j`` and ``m_c = min(late_c, min_{j∈c} d'_j)`` every point of the full LP costs at least

    ``L(π) = Σ_c n_c·m_c + Σ_{N,Q} min(0, d)·upper + M·Σ_{core rows} π_r``

(the ``N``/``Q`` rows have right-hand side 0, so ``cost = Σ d'·y + Σ d·(N, Q) + Σ π_r·(core row
r)``; each class's ``n_c`` units cost at least ``m_c`` each, ``N``, ``Q`` lie in their boxes, and a
core row is at most ``M`` while its multiplier is clipped to ``π_r <= 0``; ``d'`` includes the core
rows' terms). ``L`` is reported as
:attr:`LPResult.bound`, and a point with ``y_j >= 1`` costs at least ``L + (d'_j − m_c)`` (one unit of
class ``c`` at ``d'_j`` instead of ``m_c``): the reduced costs used for fixing. Both are certified
for whatever duals GLOP returns, also before the column generation has converged; at convergence
``L`` equals the LP optimum.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

import numpy as np
from ortools.linear_solver.python import model_builder_helper as mbh

from ..formulation.compact import compact_coefficients, compact_matrix, growth_rows
from ..formulation.model import TimeIndexedModel, restrict
from ..params import SolverParams

__all__ = ["LPResult", "lp_status", "solve_lp", "integer_bound", "hint_window", "cheapest_per_class"]


@dataclass(frozen=True)
class LPResult:
    """Outcome of the LP relaxation.

    Attributes
    ----------
    status : str
        ``OPTIMAL``: solved to optimality (GLOP's status on the final restricted LP, and no column
        left with a negative reduced cost); ``NOT_CONVERGED`` otherwise (time or rounds ran out, or
        GLOP returned no solution). :attr:`converged` says the same as a bool.
    objective : float
        LP optimum (NaN when not converged).
    reduced_costs : numpy.ndarray
        Per variable, ``d_j >= 0`` such that every point with ``y_j >= 1`` costs at least
        ``bound + d_j`` (see the module text).
    values : numpy.ndarray
        LP solution (zeros for the columns never generated).
    late : numpy.ndarray
        Per class, the value of its late variable (truncated models; zeros otherwise).
    bound : float
        Certified lower bound on the LP optimum from the last duals (``-inf`` if none); equal to
        ``objective`` up to GLOP's tolerances when converged.
    columns, rounds : int
        Start variables in the last restricted LP, and LPs solved.
    column_mask : numpy.ndarray or None
        Boolean per variable: the columns of the last restricted LP (column generation only); a
        later call can resume from them (``solve_lp(columns=...)``).
    """

    status: str
    objective: float
    reduced_costs: np.ndarray
    values: np.ndarray
    late: np.ndarray
    bound: float = float("-inf")
    columns: int = 0
    rounds: int = 0
    column_mask: np.ndarray | None = None

    @property
    def converged(self) -> bool:
        """``status == "OPTIMAL"``."""
        return self.status == "OPTIMAL"


def lp_status(converged: bool) -> str:
    """The :attr:`LPResult.status` of an LP that did or did not converge."""
    return "OPTIMAL" if converged else "NOT_CONVERGED"


def _glop(model: TimeIndexedModel, time_limit: float,
          growth: int = SolverParams.growth_rounds) -> tuple[np.ndarray, np.ndarray, float] | None:
    """Solve the compact LP of ``model``: (primal values, duals, objective), or ``None``.

    GLOP's presolve sometimes ends a restricted LP of column generation ``ABNORMAL`` (a numerical
    failure, seen on paper-regime models with α = 1/32); the LP is then solved once
    more without presolve (:data:`GLOP_RETRY_PARAMETERS`), which solved every such case measured.
    """
    t_end = time.perf_counter() + max(0.01, float(time_limit))
    A, lo, up, obj, rhs = compact_matrix(model, growth)
    builder = mbh.ModelBuilderHelper()
    builder.fill_model_from_sparse_data(lo, up, obj, rhs[0], rhs[1], A)
    for params in ("", GLOP_RETRY_PARAMETERS):
        left = t_end - time.perf_counter()
        if left <= 0:
            return None
        solver = mbh.ModelSolverHelper("glop")
        solver.set_time_limit_in_seconds(left)
        if params:
            solver.set_solver_specific_parameters(params)
        solver.solve(builder)
        if solver.status() == mbh.SolveStatus.OPTIMAL:
            return (np.asarray(solver.variable_values()), np.asarray(solver.dual_values()),
                    float(solver.objective_value()))
        if solver.status() != mbh.SolveStatus.ABNORMAL:
            return None
    return None


#: GLOP parameters of the second attempt after an ``ABNORMAL`` end (:func:`_glop`).
GLOP_RETRY_PARAMETERS = "use_preprocessing: false"


def _pricing(model: TimeIndexedModel, duals: np.ndarray,
             growth: int = SolverParams.growth_rounds) -> tuple[float, np.ndarray, np.ndarray]:
    """``(L, d', m)`` of the module text for duals of a restricted model of ``model`` (same rows)."""
    cl = model.classes
    nc, T = cl.n_classes, int(model.horizon)
    pN, pQ = duals[nc:nc + T], duals[nc + T:nc + 2 * T]
    vc, k = model.var_class, model.var_start
    ex = k + cl.output[vc]
    inside = ex < T
    exi = np.minimum(ex, T - 1)
    enter_coef, leave_coef = compact_coefficients(cl)
    col_dot = (-pN[k] + np.where(inside, pN[exi], 0.0)
               - enter_coef[vc] * pQ[k] + np.where(inside, leave_coef[vc] * pQ[exi], 0.0))
    core_term = 0.0
    if model.core_rows:
        # core rows Σ M·y <= M: multipliers must be <= 0 in a minimisation (clipped, so still valid)
        pc = np.minimum(0.0, duals[nc + 2 * T:nc + 2 * T + len(model.core_rows)])
        for r, (_, v, cf) in enumerate(model.core_rows):
            if pc[r] < 0.0:
                np.add.at(col_dot, v, pc[r] * cf)
        core_term = float(pc.sum()) * float(model.M)
    # growth rows Q_τ + r·N_τ − Σ g·y <= M: multipliers clipped to <= 0 as well
    grow = growth_rows(model, growth)
    g0 = nc + 2 * T + len(model.core_rows)
    pg = np.minimum(0.0, duals[g0:g0 + len(grow)]) if grow else np.zeros(0)
    gN = np.zeros(T)
    gQ = np.zeros(T)
    for i, (tau, r, v, g) in enumerate(grow):
        if pg[i] < 0.0:
            np.add.at(col_dot, v, -pg[i] * g)
            gN[tau - 1] += r * pg[i]
            gQ[tau - 1] += pg[i]
            core_term += float(model.M) * pg[i]
    dprime = model.var_cost - col_dot
    m = np.full(nc, np.inf)
    np.minimum.at(m, vc, dprime)
    if model.late_cost is not None:
        m = np.minimum(m, np.where(model.late_cost >= 0, model.late_cost, np.inf))
    # N_τ: objective 0, entries +1 (own row), −1 (row τ+1), −1 (Q row τ); Q_τ: +1 own, −1 next
    dN = -(pN - np.r_[pN[1:], 0.0] - pQ) - gN
    dQ = -(pQ - np.r_[pQ[1:], 0.0]) - gQ
    aux = (np.minimum(0.0, dN) * float(cl.count.sum())).sum() + (np.minimum(0.0, dQ) * float(model.M)).sum()
    L = float((cl.count * m).sum() + aux + core_term) if np.all(np.isfinite(m)) else float("-inf")
    return L, dprime, m


def hint_window(model: TimeIndexedModel, start_hint: np.ndarray, width: int) -> np.ndarray:
    """Boolean per variable: a start within ``width`` rounds of some member's start in
    ``start_hint`` (per job, instance order): the first restricted LP of a column generation."""
    keep = np.zeros(model.n_variables, dtype=bool)
    for c in range(model.classes.n_classes):
        idx = model.class_vars(c)
        ks = model.var_start[idx]
        for j in model.classes.members[c]:
            keep[idx[np.abs(ks - int(start_hint[j])) <= width]] = True
    return keep


def cheapest_per_class(mask: np.ndarray, score: np.ndarray, var_class: np.ndarray, per_class: int) -> np.ndarray:
    """Indices of the ``per_class`` lowest-``score`` variables of each class among those where
    ``mask`` holds: the columns a column-generation round adds (here and in ``chain.py``)."""
    cand = np.flatnonzero(mask)
    cand = cand[np.lexsort((score[cand], var_class[cand]))]
    cls = var_class[cand]
    first = np.r_[0, np.flatnonzero(np.diff(cls)) + 1]
    rank = np.arange(cand.size) - np.repeat(first, np.diff(np.r_[first, cand.size]))
    return cand[rank < per_class]


def integer_bound(bound: float) -> int:
    """A certified LP bound (``LPResult.bound``, finite) as a bound on the integer TEL: rounded up
    after subtracting a relative tolerance of ``1e-6``, so GLOP's floating point cannot push it
    above the true bound by more than that margin."""
    return math.ceil(bound - 1e-6 * max(1.0, abs(bound)))


def solve_lp(
    model: TimeIndexedModel,
    time_limit: float = 30.0,
    *,
    start_hint: np.ndarray | None = None,
    column_generation: bool | None = None,
    width: int = 3,
    per_class: int = 30,
    max_rounds: int | None = None,
    columns: np.ndarray | None = None,
    growth: int | None = None,
    colgen_min_variables: int = SolverParams.lp_colgen_min_variables, growth_rounds: int = SolverParams.growth_rounds,
) -> LPResult:
    """Solve the LP relaxation of ``model`` with GLOP (compact memory rows, see the module text).

    Parameters
    ----------
    model : TimeIndexedModel
    time_limit : float
        Seconds, for all restricted LPs together.
    start_hint : int array, optional
        Per job (instance order), a start of some schedule: the first restricted LP of the column
        generation holds the starts within ``width`` rounds of it (without: the ``per_class``
        earliest starts of each class).
    column_generation : bool, optional
        Force (``True``) or forbid (``False``) column generation; by default it is used when the
        model has more than ``colgen_min_variables`` start variables (``SolverParams``' field
        ``lp_colgen_min_variables``). Never with core rows.
    width, per_class : int
        Initial window around the hint; columns added per class and round.
    max_rounds : int, optional
        Stop after this many restricted LPs (``bound`` is still certified; converged only if no
        column was left to add).
    columns : bool array, optional
        Columns to start the column generation from, added to the hint's window: the
        ``column_mask`` of an earlier call on the same model that ran out of time, so that this
        call resumes it instead of starting over.
    growth : int, optional
        Add the growth rows of :func:`growth_rows` for ``r = 1..growth`` (0: the plain LP, equal to
        the LP with explicit memory rows). Default: ``growth_rounds`` (``SolverParams``' field) when
        the LP is solved whole, 0 under column generation (at n = 1000 GLOP did not converge in
        120 s with them, 10.4 s without; module text).

    Returns an :class:`LPResult`.
    """
    t_end = time.perf_counter() + time_limit
    cl = model.classes
    nc, nx = cl.n_classes, model.n_variables
    use_cg = (nx > colgen_min_variables) if column_generation is None else column_generation
    use_cg = use_cg and not model.core_len
    keep = _first_columns(model, use_cg, start_hint, width, per_class, columns)
    if growth is None:
        growth = 0 if use_cg else growth_rounds
    z_nan = np.zeros(nx)
    real_late, art_cost = _late_costs(model)
    bound, rounds = float("-inf"), 0
    while True:
        if use_cg:
            sub, old = restrict(model, keep)
            sub = replace(sub, late_cost=art_cost)
        else:
            sub, old = model, np.arange(nx)
        sol = _glop(sub, t_end - time.perf_counter(), growth)
        rounds += 1
        if sol is None:
            return LPResult(lp_status(False), float("nan"), z_nan, z_nan, np.zeros(nc), bound, int(keep.sum()), rounds,
                            keep.copy() if use_cg else None)
        vals_sub, duals, z = sol
        L, dprime, m = _pricing(model, duals, growth)
        bound = max(bound, L)
        rc_full = dprime - duals[:nc][model.var_class]
        neg = (~keep) & (rc_full < -1e-7 * max(1.0, abs(z)))
        if not neg.any() or time.perf_counter() >= t_end or (max_rounds is not None and rounds >= max_rounds):
            break
        keep[cheapest_per_class(neg, rc_full, model.var_class, per_class)] = True
    values, late, artificial = _full_solution(model, sub, old, vals_sub, real_late)
    optimal = not neg.any() and artificial <= 1e-6
    rc = np.maximum(0.0, dprime - m[model.var_class])
    return LPResult(lp_status(optimal), z if optimal else float("nan"), rc, values, late, bound, int(keep.sum()),
                    rounds, keep.copy() if use_cg else None)


def _late_costs(model: TimeIndexedModel) -> tuple[np.ndarray, np.ndarray]:
    """Per class, the model's late cost (``-1``: no late variable) and the late cost of the restricted
    LPs: they get an artificial late column (no memory, large cost) in every class without a late
    variable, so that they are always feasible; the pricing and the bound use the real model."""
    nc = model.classes.n_classes
    real_late = model.late_cost if model.late_cost is not None else np.full(nc, -1, dtype=np.int64)
    return real_late, np.where(real_late >= 0, real_late, 10 * (int(model.var_cost.max(initial=0)) + 1))


def _full_solution(model: TimeIndexedModel, sub: TimeIndexedModel, old: np.ndarray, vals_sub: np.ndarray,
                   real_late: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """The last restricted LP's solution on the full model: start values (0 for columns never
    generated), late values (0 for the artificial ones), and the total on the artificial columns."""
    values = np.zeros(model.n_variables)
    values[old] = vals_sub[:old.size]
    late = np.zeros(model.classes.n_classes)
    sub_late = np.flatnonzero(sub.late_cost >= 0) if sub.late_cost is not None else np.zeros(0, dtype=np.int64)
    late[sub_late] = vals_sub[old.size:old.size + sub_late.size]
    artificial = float(late[real_late < 0].sum())
    late[real_late < 0] = 0.0
    return values, late, artificial


def _first_columns(model: TimeIndexedModel, use_cg: bool, start_hint: np.ndarray | None, width: int, per_class: int,
                   columns: np.ndarray | None) -> np.ndarray:
    """The columns of the first restricted LP of :func:`solve_lp`: all without column generation;
    with it, the window of ``width`` rounds around ``start_hint`` (else the ``per_class`` earliest
    starts of each class), plus ``columns``."""
    if not use_cg:
        return np.ones(model.n_variables, dtype=bool)
    if start_hint is not None:
        keep = hint_window(model, start_hint, width)
    else:
        keep = np.zeros(model.n_variables, dtype=bool)
        for c in range(model.classes.n_classes):
            keep[model.class_vars(c)[:per_class]] = True
    if columns is not None:
        keep |= np.asarray(columns, dtype=bool)
    return keep
