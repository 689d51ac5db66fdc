"""The chain LP: the LP relaxation strengthened by the chain that the long jobs form.

**Why.** On instances where many jobs peak above ``M/2`` (the Jaillet regime) the time-indexed LP
is 20–30 % below the best schedules: it runs two long jobs side by side at weight 1/2 each, whose
half-profiles fit, while two whole ones cannot overlap except for a few rounds. Core rows (per-slot
cliques) recover a part of it; what they miss is that the long jobs form a *sequence*.

**The chain.** Call a class *long* when its peak ``p = s + o`` exceeds ``M/2``. Two long jobs never
complete in the same round (both would be at their peak), so in any schedule the long jobs are
totally ordered by completion. For two of them with ``C_i < C_j`` where ``j`` starts before ``C_i``
(``k_j < C_i``), round ``C_i`` holds ``p_i + s_j + (C_i − k_j) <= M`` (``i`` at its peak, ``j`` in
its ``(C_i − k_j)``-th round), so

    ``k_j >= C_i``  or  ``C_i + p_i <= k_j + M − s_j``.                                    (1)

A *chain* is a sequence of (long class, start) nodes in which every consecutive pair satisfies (1);
the long jobs of every schedule, in completion order, are a chain. The chain LP adds to the compact
LP of :mod:`~lpsched.offline.bounds.lp` a unit flow through the start variables of the long classes: the
flow through a node equals its start variable, and it travels from node to node through two *pools*
(one keyed by ``C_i`` and taken at ``k_j``, one keyed by ``C_i + p_i`` and taken at
``k_j + M − s_j``), which is exactly (1) with four flow variables per node instead of one arc per
pair. The source is one unit in the first pool at key 0. The flow decomposes into chains of strictly
increasing completion (every arc moves forward: ``k_j >= C_i`` or ``C_j >= C_i + p_i + p_j − M > C_i``),
so the LP is a relaxation: every schedule is a point of it. Chains need not be elementary (a class
may appear more often than it has jobs; the assignment rows hold only on average).

Measured on Jaillet instances (docs/research/offline-log.md): at n = 10–12 the LP
with core rows is 82–91 % of the proven optimum, the chain LP at n = 8–12 93–99 %; at n = 50 (all
at 0, seed 1) the bound rises from 6,538 (LP, 4 core levels) to 7,415.

**A bound from any duals.** As in :mod:`~lpsched.offline.bounds.lp`, the bound is the Lagrangian of the
duals GLOP returns, so it is certified even when GLOP stops early: with ``d'`` the reduced costs
against the ``N``/``Q`` (and core) rows, ``m_c`` the smallest ``d'`` of a short class, ``μ_c`` the
dual of a long class's assignment row and ``w_v = d'_v − μ_c`` per long start,

    ``L = Σ_{short c} n_c·m_c + Σ_{long c} n_c·μ_c + min_chain Σ_{v∈chain} w_v + (N, Q and core terms)``

(every point of the LP costs at least ``L``: the short classes as in ``lp.py``; the long classes'
``Σ d'·y = Σ (d' − μ)·y + Σ μ_c·n_c``, and ``Σ w·y`` over the unit flow is a convex combination of
chains, each costing at least the cheapest chain, found by a dynamic program over completions).
A schedule that uses a long start ``v`` has a chain through ``v``, so it costs at least
``L + (through_v − min_chain)`` with ``through_v`` the cheapest chain through ``v`` (forward and
backward programs): the reduced costs used for fixing, as for the short starts (``d'_v − m_c``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import scipy.sparse as sp
from ortools.linear_solver.python import model_builder_helper as mbh

from ...instance import Instance
from ..formulation.compact import compact_coefficients
from ..formulation.model import TimeIndexedModel, restrict
from ..params import SolverParams
from .lp import LPResult, cheapest_per_class, hint_window, lp_status

__all__ = ["is_long", "long_jobs", "long_classes", "ChainNodes", "chain_nodes", "chain_matrix", "chain_dp",
           "solve_chain_lp"]


def is_long(peak: np.ndarray, M: int) -> np.ndarray:
    """The rule of the chain: a peak above ``M/2`` (two such jobs can never both be at their peak)."""
    return 2 * np.asarray(peak) > M


def long_jobs(instance: Instance) -> np.ndarray:
    """Boolean per job of ``instance``: its peak ``s + o`` is above ``M/2`` (:func:`is_long`)."""
    return is_long(instance.prompt + instance.output, instance.M)


def long_classes(model: TimeIndexedModel) -> np.ndarray:
    """Boolean per class of ``model``: its peak is above ``M/2`` (:func:`is_long`)."""
    _, peak = compact_coefficients(model.classes)
    return is_long(peak, model.M)


@dataclass(frozen=True)
class ChainNodes:
    """The start variables of the long classes, as chain nodes.

    Attributes
    ----------
    var : int array
        Variable index (into the model) of each node, sorted by completion.
    cls, start, completion : int arrays
        Class, start ``k`` and completion ``C = k + o`` of each node.
    put2, take2 : int arrays
        Keys of the second pool: where a node puts (``C + p``) and takes (``k + M − s``) its flow.
    """

    var: np.ndarray
    cls: np.ndarray
    start: np.ndarray
    completion: np.ndarray
    put2: np.ndarray
    take2: np.ndarray


def chain_nodes(model: TimeIndexedModel, long: np.ndarray | None = None) -> ChainNodes:
    """The chain nodes of ``model`` (see :class:`ChainNodes`)."""
    cl = model.classes
    long = long_classes(model) if long is None else long
    var = np.flatnonzero(long[model.var_class])
    c = model.var_class[var]
    k = model.var_start[var]
    s, p = compact_coefficients(cl)  # prompt ('s tokens − 1) and peak of each class
    C = k + cl.output[c]
    order = np.lexsort((c, C))
    var, c, k, C = var[order], c[order], k[order], C[order]
    return ChainNodes(var, c, k, C, C + p[c], k + model.M - s[c])


def _row_matrix(model: TimeIndexedModel) -> sp.csr_matrix:
    """The memory and core rows of ``model`` (:attr:`~lpsched.offline.formulation.model.TimeIndexedModel.rows`,
    each ``<= M``) as a sparse matrix over the start variables."""
    rows = model.rows
    if not rows:
        return sp.csr_matrix((0, model.n_variables))
    r = np.concatenate([np.full(v.size, i) for i, (_, v, _) in enumerate(rows)])
    c = np.concatenate([v for _, v, _ in rows])
    d = np.concatenate([cf for _, _, cf in rows]).astype(float)
    return sp.csr_matrix((d, (r, c)), shape=(len(rows), model.n_variables))


def chain_matrix(model: TimeIndexedModel, nodes: ChainNodes) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray,
                                                                      np.ndarray, np.ndarray]:
    """The chain LP as sparse data. Rows: one assignment row per class, the explicit memory and core
    rows (``<= M``; GLOP solves this LP far faster with them than with the compact ``N``/``Q`` rows
    of :mod:`~lpsched.offline.bounds.lp`, measured), then per node ``y − a1 − a2 = 0`` and
    ``y − b1 − b2 = 0`` and one balance row per pool key (``w_t − w_{t−1} − puts_t + takes_t = 0``;
    one unit in pool 1 before key 0). Columns: start variables, per node the flow variables
    ``a1, a2`` (taken from pool 1 at ``k`` / pool 2 at ``k + M − s``) and ``b1, b2`` (put into
    pool 1 at ``C`` / pool 2 at ``C + p``), the pool levels ``w1_t``, ``w2_u``."""
    cl = model.classes
    nc, nx = cl.n_classes, model.n_variables
    R = _row_matrix(model)
    nm = R.shape[0]
    nr0 = nc + nm
    nn = nodes.var.size
    K1 = int(max(nodes.completion.max(initial=0), nodes.start.max(initial=0))) + 1
    K2 = int(max(nodes.put2.max(initial=0), nodes.take2.max(initial=0))) + 1
    ia1, ia2, ib1, ib2 = (nx + q * nn + np.arange(nn) for q in range(4))
    iw1 = nx + 4 * nn + np.arange(K1)
    iw2 = nx + 4 * nn + K1 + np.arange(K2)
    nv = nx + 4 * nn + K1 + K2
    r_in = nr0 + np.arange(nn)
    r_out = nr0 + nn + np.arange(nn)
    r1 = nr0 + 2 * nn + np.arange(K1)
    r2 = nr0 + 2 * nn + K1 + np.arange(K2)
    nr = nr0 + 2 * nn + K1 + K2
    one = np.ones(nn)
    Rc = R.tocoo()
    parts = [
        (model.var_class, np.arange(nx), np.ones(nx)),
        (nc + Rc.row, Rc.col, Rc.data),
        (r_in, nodes.var, one), (r_in, ia1, -one), (r_in, ia2, -one),
        (r_out, nodes.var, one), (r_out, ib1, -one), (r_out, ib2, -one),
        (r1, iw1, np.ones(K1)), (r1[1:], iw1[:-1], -np.ones(K1 - 1)),
        (r2, iw2, np.ones(K2)), (r2[1:], iw2[:-1], -np.ones(K2 - 1)),
        (r1[nodes.completion], ib1, -one), (r1[nodes.start], ia1, one),
        (r2[nodes.put2], ib2, -one), (r2[nodes.take2], ia2, one),
    ]
    rows = np.concatenate([p[0] for p in parts])
    cols = np.concatenate([p[1] for p in parts])
    vals = np.concatenate([p[2] for p in parts])
    A = sp.csr_matrix((vals, (rows, cols)), shape=(nr, nv))
    lo = np.zeros(nv)
    up = np.r_[model.var_ub.astype(float), np.ones(nv - nx)]
    obj = np.r_[model.var_cost.astype(float), np.zeros(nv - nx)]
    rlo = np.zeros(nr)
    rup = np.zeros(nr)
    rlo[:nc] = rup[:nc] = cl.count
    rlo[nc:nr0] = -np.inf
    rup[nc:nr0] = float(model.M)
    if K1:
        rlo[r1[0]] = rup[r1[0]] = 1.0  # the source: one unit in pool 1 before key 0
    return A, lo, up, obj, np.stack([rlo, rup])


def chain_dp(nodes: ChainNodes, w: np.ndarray) -> tuple[float, np.ndarray]:
    """Cheapest chain (non-empty) for node weights ``w``, and per node the cheapest chain through it.

    Forward: ``f_v = w_v + min(0, min{f_u : C_u <= k_v}, min{f_u : C_u + p_u <= k_v + M − s_v})``;
    backward symmetrically; ``through_v = f_v + g_v − w_v``. Nodes are processed by completion;
    every predecessor completes strictly earlier (module text), so each query only reads final
    entries of the running prefix (suffix) minima.
    """
    nn = nodes.var.size
    if nn == 0:
        return 0.0, np.zeros(0)
    C, k, put2, take2 = nodes.completion, nodes.start, nodes.put2, nodes.take2
    K1 = int(max(C.max(), k.max())) + 2
    K2 = int(max(put2.max(), take2.max())) + 2
    groups = np.r_[0, np.flatnonzero(np.diff(C)) + 1, nn]
    inf = np.inf
    # forward
    f = np.empty(nn)
    best1 = np.full(K1, inf)  # best f among nodes completing at key t
    best2 = np.full(K2, inf)  # best f among nodes with C + p = key u
    pre1 = np.full(K1, inf)   # prefix minima, valid up to done1 / done2
    pre2 = np.full(K2, inf)
    done1 = done2 = -1
    for g0, g1 in pairwise(groups):
        c_now = int(C[g0])
        q1, q2 = k[g0:g1], take2[g0:g1]
        lim1 = c_now - 1
        lim2 = int(q2.max())
        if lim1 > done1:
            run = np.minimum.accumulate(np.r_[pre1[done1] if done1 >= 0 else inf, best1[done1 + 1:lim1 + 1]])
            pre1[done1 + 1:lim1 + 1] = run[1:]
            done1 = lim1
        if lim2 > done2:
            run = np.minimum.accumulate(np.r_[pre2[done2] if done2 >= 0 else inf, best2[done2 + 1:lim2 + 1]])
            pre2[done2 + 1:lim2 + 1] = run[1:]
            done2 = lim2
        prev = np.minimum(pre1[q1], pre2[np.maximum(q2, 0)])
        prev = np.where(q2 >= 0, prev, pre1[q1])
        fv = w[g0:g1] + np.minimum(0.0, prev)
        f[g0:g1] = fv
        best1[c_now] = min(best1[c_now], float(fv.min()))
        np.minimum.at(best2, put2[g0:g1], fv)
    # backward: successors of v complete strictly later
    g = np.empty(nn)
    bk1 = np.full(K1, inf)   # best g among nodes starting at key t
    bk2 = np.full(K2, inf)   # best g among nodes with k + M − s = key u
    suf1 = np.full(K1 + 1, inf)
    suf2 = np.full(K2 + 1, inf)
    low1, low2 = K1, K2  # suffix minima valid from these indices up
    for g0, g1 in zip(groups[-2::-1], groups[:0:-1], strict=True):
        c_now = int(C[g0])
        lo1 = c_now
        lo2 = int(put2[g0:g1].min())
        if lo1 < low1:
            seg = np.minimum.accumulate(np.r_[suf1[low1], bk1[lo1:low1][::-1]])[1:][::-1]
            suf1[lo1:low1] = seg
            low1 = lo1
        if lo2 < low2:
            seg = np.minimum.accumulate(np.r_[suf2[low2], bk2[lo2:low2][::-1]])[1:][::-1]
            suf2[lo2:low2] = seg
            low2 = lo2
        nxt = np.minimum(suf1[c_now], suf2[np.minimum(put2[g0:g1], K2)])
        gv = w[g0:g1] + np.minimum(0.0, nxt)
        g[g0:g1] = gv
        np.minimum.at(bk1, k[g0:g1], gv)
        np.minimum.at(bk2, np.maximum(take2[g0:g1], 0), gv)
    through = f + g - w
    return float(f.min()), through


def _bound_and_costs(model: TimeIndexedModel, nodes: ChainNodes, long: np.ndarray, duals: np.ndarray,
                     R: sp.csr_matrix | None = None) -> tuple[float, np.ndarray, float, np.ndarray, np.ndarray]:
    """``(L, reduced costs, cheapest chain, cheapest chain through each node, d')`` of the module
    text for duals ``[assignment rows, model.rows]`` (any values: the ``<= M`` rows' are clipped to
    0); ``R`` is :func:`_row_matrix` of ``model`` if the caller has it."""
    cl = model.classes
    nc = cl.n_classes
    R = _row_matrix(model) if R is None else R
    pi = np.minimum(0.0, duals[nc:nc + R.shape[0]])  # ``<=`` rows of a minimisation: clipped, still valid
    dprime = model.var_cost - R.T @ pi
    m = np.full(nc, np.inf)
    np.minimum.at(m, model.var_class, dprime)
    if not np.all(np.isfinite(m[~long])):
        return float("-inf"), np.zeros(model.n_variables), 0.0, np.zeros(nodes.var.size), dprime
    mu = duals[:nc]
    w = dprime[nodes.var] - mu[nodes.cls]
    best, through = chain_dp(nodes, w)
    L = float((cl.count * np.where(long, mu, m)).sum() + best + float(model.M) * pi.sum())
    rc = np.maximum(0.0, dprime - m[model.var_class])
    rc[nodes.var] = np.maximum(0.0, through - best)
    return L, rc, best, through, dprime


def _glop_chain(model: TimeIndexedModel, nodes: ChainNodes, seconds: float) -> tuple[bool, np.ndarray | None,
                                                                                       np.ndarray, float]:
    """Solve the chain LP of ``model``: (optimal, duals or None, start-variable values, value)."""
    A, lo, up, obj, rhs = chain_matrix(model, nodes)
    builder = mbh.ModelBuilderHelper()
    builder.fill_model_from_sparse_data(lo, up, obj, rhs[0], rhs[1], A)
    solver = mbh.ModelSolverHelper("glop")
    solver.set_time_limit_in_seconds(max(0.01, float(seconds)))
    solver.set_solver_specific_parameters("use_preprocessing: false")  # 31 s instead of 47 s at n = 50
    solver.solve(builder)
    nx = model.n_variables
    try:
        duals = np.asarray(solver.dual_values())
    except Exception:  # no duals at all (e.g. stopped before the first basis)
        duals = None
    if duals is not None and (duals.size != A.shape[0] or not np.all(np.isfinite(duals))):
        duals = None
    optimal = solver.status() == mbh.SolveStatus.OPTIMAL
    values = np.asarray(solver.variable_values())[:nx] if optimal else np.zeros(nx)
    return optimal, duals, values, float(solver.objective_value()) if optimal else float("nan")


def solve_chain_lp(model: TimeIndexedModel, time_limit: float = 30.0, *, start_hint: np.ndarray | None = None,
                   column_generation: bool | None = None, width: int = 3, per_class: int = 30,
                   colgen_min_variables: int = SolverParams.chain_colgen_min_variables) -> LPResult:
    """Solve the chain LP of ``model`` with GLOP and certify its bound (module text).

    Returns an :class:`~lpsched.offline.bounds.lp.LPResult` like :func:`~lpsched.offline.bounds.lp.solve_lp`:
    ``bound`` certified from the duals GLOP returns (``-inf`` if none), ``reduced_costs`` for fixing.
    Not for truncated models (``late_cost`` set): the chain needs every start.

    With ``start_hint`` (per job, the starts of a schedule) and more than
    ``colgen_min_variables`` start variables (or ``column_generation=True``), the LP is
    solved on the starts within ``width`` rounds of the hint, and starts are added while some
    have a negative reduced cost: short starts by ``d' − μ_c``, long ones when the cheapest chain
    through them (on the full model, with the restricted LP's duals) is cheaper than the restricted
    LP's cheapest chain; ``per_class`` per class and round. The bound is computed on the full model
    after every round, so it is certified whenever the loop stops.
    """
    if model.late_cost is not None:
        raise ValueError("the chain LP needs an untruncated model")
    t_end = time.perf_counter() + time_limit
    nx, nc = model.n_variables, model.classes.n_classes
    long = long_classes(model)
    nodes = chain_nodes(model, long)
    use_cg = (nx > colgen_min_variables) if column_generation is None else column_generation
    use_cg = use_cg and start_hint is not None
    z_nan = np.zeros(nx)
    if not use_cg:
        optimal, duals, values, z = _glop_chain(model, nodes, t_end - time.perf_counter())
        if duals is None:
            return LPResult(lp_status(False), float("nan"), z_nan, z_nan, np.zeros(nc), float("-inf"), nx, 1)
        L, rc, _, _, _ = _bound_and_costs(model, nodes, long, duals)
        return LPResult(lp_status(optimal), z if optimal else float("nan"), rc, values, np.zeros(nc), L, nx, 1)
    keep = hint_window(model, start_hint, width)
    tags = {int(t): r for r, (t, _, _) in enumerate(model.rows)}
    R = _row_matrix(model)
    bound, rounds, rc, values, z, done = float("-inf"), 0, z_nan, z_nan, float("nan"), False
    while time.perf_counter() < t_end:
        sub, old = restrict(model, keep)
        sub_nodes = chain_nodes(sub, long)  # restrict keeps the classes
        optimal, duals, vals_sub, z_sub = _glop_chain(sub, sub_nodes, t_end - time.perf_counter())
        rounds += 1
        if duals is None:
            break
        full = np.zeros(nc + len(model.rows))
        full[:nc] = duals[:nc]
        for r, (t, _, _) in enumerate(sub.rows):
            if int(t) in tags:
                full[nc + tags[int(t)]] = duals[nc + r]
        L, rc_now, _, through, dprime = _bound_and_costs(model, nodes, long, full, R)
        if L > bound:  # the reduced costs go with the bound of the same duals
            bound, rc = L, rc_now
        if not optimal:
            break
        values = np.zeros(nx)
        values[old] = vals_sub
        z = z_sub
        best_sub = _bound_and_costs(sub, sub_nodes, long, duals)[2]
        score = dprime - full[:nc][model.var_class]  # short starts: reduced cost in the LP
        score[nodes.var] = through - best_sub       # long starts: a cheaper chain through them
        eps = 1e-7 * max(1.0, abs(z_sub))
        neg = (~keep) & (score < -eps)
        if not neg.any():
            done = True
            break
        keep[cheapest_per_class(neg, score, model.var_class, per_class)] = True
    return LPResult(lp_status(done), z if done else float("nan"), rc, values, np.zeros(nc), bound, int(keep.sum()),
                    rounds)
