"""The compact rows of the time-indexed model as sparse data: what the LP (GLOP), the HiGHS model,
the CP-SAT compact memory and the MPS export are built from.

A run's memory grows by exactly one token per round, so the memory of round ``τ`` is carried by two
auxiliary sequences, ``N_τ`` (runs active) and ``Q_τ`` (memory), with about five entries per start
variable instead of one per round of its run; the proof that this is the same model is in
:mod:`lpsched.offline.bounds.lp` (module text, "Compact memory rows"), and that of the growth rows
there too ("Growth rows").
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .classes import JobClasses, run_shape
from .model import TimeIndexedModel

__all__ = ["compact_coefficients", "compact_matrix", "growth_rows"]


def growth_rows(model: TimeIndexedModel, rounds: int) -> list[tuple[int, int, np.ndarray, np.ndarray]]:
    """The growth rows ``Q_τ + r·N_τ − Σ g_j·y_j <= M`` as ``(τ, r, start variables, g)``, for
    ``r = 1..rounds`` and every round ``τ`` (the sum is over the starts that complete in rounds
    ``τ .. τ + r − 1``).

    Valid for every schedule (module text): with no completion in rounds ``τ .. τ + r − 1``, every
    run active in ``τ`` is still active in ``τ + r`` and ``r`` tokens larger, so
    ``Q_τ + r·N_τ <= Q_{τ+r} <= M``; with one, ``N_τ`` is at most ``N̄`` (``⌊M / (s_min + 1)⌋``
    runs fit in any round, and never more than the jobs), so ``r·N_τ <= r·N̄ <= Σ g_j·y_j`` with
    ``g_j = r·N̄`` — and for ``r = 1`` the completing run itself holds its peak ``p_c`` in round
    ``τ``, so at most ``1 + ⌊(M − p_c) / (s_min + 1)⌋`` runs are active: ``g_j`` is that (at most
    ``N̄``). Late variables (truncated models) are runs the relaxation does not hold in memory, so
    they take no part.
    """
    cl = model.classes
    T = int(model.horizon)
    if rounds <= 0 or T == 0 or model.n_variables == 0:
        return []
    M = int(model.M)
    smin = int(cl.prompt.min())
    nbar = min(int(cl.count.sum()), M // (smin + 1))
    peak = (cl.prompt + cl.output)[model.var_class]
    g1 = np.minimum(nbar, 1 + (M - peak) // (smin + 1)).astype(np.int64)
    done = model.var_start + cl.output[model.var_class]  # completion round of each start
    order = np.argsort(done, kind="stable")
    done_sorted = done[order]
    out: list[tuple[int, int, np.ndarray, np.ndarray]] = []
    for r in range(1, rounds + 1):
        lo = np.searchsorted(done_sorted, np.arange(1, T + 1), side="left")
        hi = np.searchsorted(done_sorted, np.arange(1, T + 1) + r - 1, side="right")
        for tau in range(1, T + 1):
            v = order[lo[tau - 1]:hi[tau - 1]]
            g = g1[v] if r == 1 else np.full(v.size, r * nbar, dtype=np.int64)
            out.append((tau, r, v, g))
    return out


def compact_coefficients(classes: JobClasses) -> tuple[np.ndarray, np.ndarray]:
    """Per class, the coefficient of a start in the ``Q`` row of the round it enters
    (``shape[0] − 1``) and of the round after its last (``shape[o − 1]``), from
    :func:`~lpsched.offline.formulation.classes.run_shape`; raises if a run's memory does not grow by exactly one
    token per round (the compact form would then be wrong)."""
    nc = classes.n_classes
    enter = np.zeros(nc, dtype=np.int64)
    leave = np.zeros(nc, dtype=np.int64)
    for c in range(nc):
        sh = run_shape(int(classes.prompt[c]), int(classes.output[c]))
        if sh.size > 1 and not np.all(np.diff(sh) == 1):
            raise ValueError("compact LP: a run's memory must grow by one token per round")
        enter[c], leave[c] = int(sh[0]) - 1, int(sh[-1])
    return enter, leave


def compact_matrix(model: TimeIndexedModel, growth: int = 0) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray, np.ndarray,
                                                                       np.ndarray]:
    """The compact LP as sparse data: matrix, variable bounds, objective, row right-hand sides
    (rows: one assignment row per class, the ``N`` and ``Q`` rows of every round, the core rows,
    and with ``growth > 0`` the growth rows of :func:`growth_rows` for ``r = 1..growth``; columns:
    start variables, late variables, ``N_τ``, ``Q_τ``). The LP here (with growth rows) and the
    integer model of :mod:`~lpsched.offline.backends.highs` (without) are both built from it."""
    cl = model.classes
    nc, nx, T = cl.n_classes, model.n_variables, int(model.horizon)
    vc, k = model.var_class, model.var_start
    enter_coef, leave_coef = compact_coefficients(cl)
    late_cls = (np.flatnonzero(model.late_cost >= 0) if model.late_cost is not None
                else np.zeros(0, dtype=np.int64))
    nl = late_cls.size
    iN = nx + nl
    iQ = iN + T
    nv = iQ + T
    lo = np.zeros(nv)
    up = np.empty(nv)
    up[:nx] = model.var_ub
    up[nx:iN] = cl.count[late_cls]
    up[iN:iQ] = float(cl.count.sum())
    up[iQ:] = float(model.M)
    obj = np.zeros(nv)
    obj[:nx] = model.var_cost
    if nl:
        obj[nx:iN] = model.late_cost[late_cls]
    rN, rQ = nc, nc + T
    core = model.core_rows
    grow = growth_rows(model, growth)
    nr = nc + 2 * T + len(core) + len(grow)
    xs = np.arange(nx)
    taus = np.arange(T)  # round τ = taus + 1; its rows are rN + taus, rQ + taus
    enter = k  # row offset of round k + 1
    ex = k + cl.output[vc]  # row offset of round k + o + 1
    inside = ex < T
    parts = [
        (vc, xs, np.ones(nx)),  # assignment
        (late_cls, np.arange(nx, iN), np.ones(nl)),
        (rN + taus, iN + taus, np.ones(T)),  # N_τ
        (rN + taus[1:], iN + taus[:-1], -np.ones(T - 1)),  # − N_{τ−1}
        (rN + enter, xs, -np.ones(nx)),
        (rN + ex[inside], xs[inside], np.ones(int(inside.sum()))),
        (rQ + taus, iQ + taus, np.ones(T)),  # Q_τ
        (rQ + taus[1:], iQ + taus[:-1], -np.ones(T - 1)),  # − Q_{τ−1}
        (rQ + taus, iN + taus, -np.ones(T)),  # − N_τ
        (rQ + enter, xs, -enter_coef[vc].astype(float)),
        (rQ + ex[inside], xs[inside], leave_coef[vc][inside].astype(float)),
    ]
    for r, (_, v, cf) in enumerate(core):
        parts.append((np.full(v.size, nc + 2 * T + r), v, cf.astype(float)))
    g0 = nc + 2 * T + len(core)
    for i, (tau, r, v, g) in enumerate(grow):
        parts.append((np.full(v.size + 2, g0 + i), np.r_[v, iN + tau - 1, iQ + tau - 1],
                      np.r_[-g.astype(float), float(r), 1.0]))
    rows = np.concatenate([p[0] for p in parts])
    cols = np.concatenate([p[1] for p in parts])
    vals = np.concatenate([p[2] for p in parts])
    A = sp.csr_matrix((vals, (rows, cols)), shape=(nr, nv))
    rlo = np.zeros(nr)
    rup = np.zeros(nr)
    rlo[:nc] = rup[:nc] = cl.count
    rlo[nc + 2 * T:] = -np.inf
    rup[nc + 2 * T:] = float(model.M)
    return A, lo, up, obj, np.stack([rlo, rup])
