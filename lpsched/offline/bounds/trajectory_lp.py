"""The memory-exact relaxation: Dantzig–Wolfe over memory trajectories, with the chain of the long
jobs, and its Lagrangian bound (docs/design/memory-trajectories.md).

**The master.** Columns are the memory trajectories of :mod:`.trajectory` (each with its start and
completion counts ``S_v``, ``E_v`` per start variable ``v`` of the model), weighted ``λ_P >= 0``
with ``Σ λ_P = 1``; beside them, the unit chain flow of the chain LP (:mod:`.chain`) through the
start variables of the long classes. Rows:

* assignment, per class: ``Σ_P λ_P·Σ_{v∈c} S_v(P) = n_c`` (dual ``μ_c``);
* matching, per start variable: ``Σ_P λ_P·(S_v(P) − E_v(P)) = 0`` (dual ``ν_v``): on average every
  run completes under its own start's tag;
* link, per long start variable: ``Σ_P λ_P·S_v(P) = flow through v`` (dual ``η_v``);
* the chain's own rows (flow conservation through a node, the two pools, one unit from the source);
* the model's core rows, if any: ``Σ_P λ_P·Σ_v coef_v·S_v(P) <= M`` (dual ``π_r``);
* convexity ``Σ_P λ_P = 1``.

A schedule ``y`` is the point ``λ = 1`` on its own trajectory (``S = E = y``) with the flow along
its chain (chain-lp.md), of cost its TEL, so the master is a relaxation. It is at least as strong
as the chain LP: averaging the trajectories' ``(N, Q)`` gives, with the matching rows, exactly the
compact memory rows of the LP for ``y = Σ λ S`` (docs/design/memory-trajectories.md).

**A bound from any duals.** Dualise the assignment, matching, link and core rows. For any
``(μ, ν, η, π)`` with ``π`` clipped to ``<= 0``, every schedule costs at least

    ``L = Σ_c n_c·μ_c + min_P [Σ_v r_v·S_v(P) + Σ_v ν_v·E_v(P)] + min_chain Σ_{v∈chain} η_v + M·Σ_r π_r``

with ``r_v = cost_v − μ_c − ν_v − η_v − Σ_r π_r·coef_{r,v}`` (``η_v = 0`` for short starts): write
the TEL of ``y`` as ``Σ n_c μ_c + Σ r_v y_v + Σ ν_v y_v + Σ_{long} η_v y_v + Σ_r π_r·row_r(y)``;
the schedule's trajectory costs at least the cheapest trajectory (the exact program of
:func:`~.trajectory.cheapest_trajectory`), its long jobs form a non-empty chain that costs at least
the cheapest one (:func:`~.chain.chain_dp`), and ``π_r·row_r(y) >= π_r·M``. Nothing here depends on
the duals being optimal, so the bound is certified at every iteration, and rounded as
:func:`~.lp.integer_bound`.

**Starting point.** From the chain LP's duals (:attr:`~.lp.LPResult.duals`: assignment ``μ``,
memory rows ``π_τ <= 0``, core rows), set ``ν_v = −Σ_{τ > k_v + o_v} π_τ·(s_v + τ − k_v)``,
``η_v = d'_v − μ_c`` for long ``v`` and ``μ_c = min_v d'_v`` for short classes (``d'`` the chain
LP's reduced costs). Then ``Σ r·S + Σ ν·E`` of any trajectory equals
``Σ S·(d' − μ − η) + Σ_τ π_τ·Q_τ >= M·Σ_τ π_τ``, so ``L`` at these duals is at least the chain LP's
bound: the column generation starts from it and can only raise it.

**Column generation.** The restricted master (GLOP) starts from the trajectory of a schedule and
the cheapest trajectory at the starting duals; each iteration prices at Wentges-smoothed duals
``α·centre + (1 − α)·master`` (the centre: the duals of the best ``L`` so far), adds the trajectory
when its reduced cost against the master's duals is negative, and otherwise prices at the
master's duals; none negative there means the master is solved (converged).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from ortools.linear_solver.python import model_builder_helper as mbh

from ..formulation.compact import compact_coefficients
from ..formulation.model import TimeIndexedModel
from .chain import ChainNodes, chain_dp, chain_nodes, long_classes
from .trajectory import Trajectory, TrajectorySpace, cheapest_trajectory, schedule_counts, trajectory_space

__all__ = ["TrajectoryLPResult", "MasterLayout", "master_layout", "lagrangian", "duals_from_chain",
           "solve_trajectory_lp"]


@dataclass(frozen=True)
class TrajectoryLPResult:
    """Outcome of :func:`solve_trajectory_lp`.

    Attributes
    ----------
    bound : float
        The best Lagrangian bound ``L`` (certified; ``-inf`` if none was computed).
    start_bound : float
        ``L`` at the starting duals (from the chain LP: at least its bound).
    master : float
        The last restricted master's value (an upper end of what the relaxation can give; NaN if
        none was solved).
    converged : bool
        No trajectory had a negative reduced cost against the master's duals.
    iterations, columns : int
        Pricing rounds and trajectories in the master.
    """

    bound: float
    start_bound: float
    master: float
    converged: bool
    iterations: int
    columns: int


@dataclass(frozen=True)
class MasterLayout:
    """Row blocks of the master (module text), as offsets into its dual vector."""

    nc: int
    nv: int
    nodes: ChainNodes
    core: list[tuple[int, np.ndarray, np.ndarray]]
    k1: int
    k2: int

    @property
    def nn(self) -> int:
        return int(self.nodes.var.size)

    @property
    def match(self) -> int:
        return self.nc

    @property
    def link(self) -> int:
        return self.nc + self.nv

    @property
    def conserve(self) -> int:
        return self.link + self.nn

    @property
    def pool1(self) -> int:
        return self.conserve + self.nn

    @property
    def pool2(self) -> int:
        return self.pool1 + self.k1

    @property
    def cores(self) -> int:
        return self.pool2 + self.k2

    @property
    def convexity(self) -> int:
        return self.cores + len(self.core)

    @property
    def rows(self) -> int:
        return self.convexity + 1


def master_layout(model: TimeIndexedModel) -> MasterLayout:
    """The :class:`MasterLayout` of ``model``."""
    nodes = chain_nodes(model, long_classes(model))
    k1 = int(max(nodes.completion.max(initial=0), nodes.start.max(initial=0))) + 1 if nodes.var.size else 0
    k2 = int(max(nodes.put2.max(initial=0), nodes.take2.max(initial=0))) + 1 if nodes.var.size else 0
    return MasterLayout(model.classes.n_classes, model.n_variables, nodes, list(model.core_rows), k1, k2)


def _event_costs(model: TimeIndexedModel, lay: MasterLayout, duals: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """``(r, e, core constant)``: start and completion costs of the pricing, and ``M·Σ π_r``."""
    mu = duals[:lay.nc]
    nu = duals[lay.match:lay.match + lay.nv]
    r = model.var_cost - mu[model.var_class] - nu
    r[lay.nodes.var] -= duals[lay.link:lay.link + lay.nn]
    const = 0.0
    for i, (_, v, cf) in enumerate(lay.core):
        pi = min(0.0, float(duals[lay.cores + i]))  # ``<=`` rows of a minimisation: clipped, still valid
        if pi < 0.0:
            np.add.at(r, v, -pi * cf)
            const += pi * float(model.M)
    return r, nu.copy(), const


def lagrangian(model: TimeIndexedModel, space: TrajectorySpace, lay: MasterLayout,
               duals: np.ndarray) -> tuple[float, Trajectory]:
    """``(L, the cheapest trajectory)`` of the module text for duals in the master's row order
    (any values; only the assignment, matching, link and core blocks are read)."""
    r, e, const = _event_costs(model, lay, duals)
    traj = cheapest_trajectory(space, r, e)
    chain = chain_dp(lay.nodes, duals[lay.link:lay.link + lay.nn])[0] if lay.nn else 0.0
    L = float(model.classes.count @ duals[:lay.nc]) + traj.value + chain + const
    return L, traj


def duals_from_chain(model: TimeIndexedModel, lay: MasterLayout, chain_duals: np.ndarray) -> np.ndarray:
    """The starting duals of the module text, in the master's row order, from the chain LP's
    ``[assignment rows, model.rows]`` duals (:attr:`~.lp.LPResult.duals`)."""
    cl, nc, T = model.classes, lay.nc, int(model.horizon)
    rows = model.rows
    pi = np.minimum(0.0, np.asarray(chain_duals[nc:nc + len(rows)], dtype=float))
    dprime = model.var_cost.astype(float)
    pi_tau = np.zeros(T + 2)
    for i, (tag, v, cf) in enumerate(rows):
        if pi[i] < 0.0:
            np.add.at(dprime, v, -pi[i] * cf)
            if tag > 0:
                pi_tau[tag] = pi[i]
    # ν_v = −Σ_{τ = k+o+1..T} π_τ·(s_v − k_v + τ), from suffix sums of π_τ and τ·π_τ
    suf0 = np.cumsum(pi_tau[::-1])[::-1]
    suf1 = np.cumsum((np.arange(T + 2) * pi_tau)[::-1])[::-1]
    k = model.var_start
    after = k + cl.output[model.var_class] + 1
    out = np.zeros(lay.rows)
    enter = compact_coefficients(cl)[0][model.var_class]  # s_c: the run holds s_c + τ − k in round τ
    out[lay.match:lay.match + lay.nv] = -((enter - k) * suf0[after] + suf1[after])
    long = long_classes(model)
    m = np.full(nc, np.inf)
    np.minimum.at(m, model.var_class, dprime)
    mu = np.where(long, chain_duals[:nc], m)
    out[:nc] = np.where(np.isfinite(mu), mu, 0.0)
    out[lay.link:lay.link + lay.nn] = dprime[lay.nodes.var] - mu[lay.nodes.cls]
    n_memory = len(model.memory_rows)  # model.rows: the memory rows, then the core rows
    out[lay.cores:lay.cores + len(lay.core)] = pi[n_memory:n_memory + len(lay.core)]
    return out


def _flow_block(lay: MasterLayout) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The master's chain columns (``a1, a2, b1, b2`` per node, then the pool levels), as COO
    ``(rows, columns, values)``; they come first in the master's columns."""
    nn, k1, k2, nd = lay.nn, lay.k1, lay.k2, lay.nodes
    if nn == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)
    ia1, ia2, ib1, ib2 = (q * nn + np.arange(nn) for q in range(4))
    iw1, iw2 = 4 * nn + np.arange(k1), 4 * nn + k1 + np.arange(k2)
    link, cons = lay.link + np.arange(nn), lay.conserve + np.arange(nn)
    r1, r2 = lay.pool1 + np.arange(k1), lay.pool2 + np.arange(k2)
    one = np.ones(nn)
    parts = [(link, ia1, -one), (link, ia2, -one),
             (cons, ia1, one), (cons, ia2, one), (cons, ib1, -one), (cons, ib2, -one),
             (r1, iw1, np.ones(k1)), (r1[1:], iw1[:-1], -np.ones(k1 - 1)),
             (r2, iw2, np.ones(k2)), (r2[1:], iw2[:-1], -np.ones(k2 - 1)),
             (r1[nd.completion], ib1, -one), (r1[nd.start], ia1, one),
             (r2[nd.put2], ib2, -one), (r2[nd.take2], ia2, one)]
    return (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]),
            np.concatenate([p[2] for p in parts]))


def _column(model: TimeIndexedModel, lay: MasterLayout, core: sp.csr_matrix, node_of: np.ndarray,
            S: np.ndarray, E: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """One trajectory as a master column: ``(rows, values, cost)``."""
    sv = np.flatnonzero(S)
    ev = np.flatnonzero(S - E)
    assign = np.bincount(model.var_class[sv], weights=S[sv], minlength=lay.nc)
    ac = np.flatnonzero(assign)
    on_node = sv[node_of[sv] >= 0]
    core_vals = core @ S if core.shape[0] else np.zeros(0)
    cc = np.flatnonzero(core_vals)
    rows = np.concatenate([ac, lay.match + ev, lay.link + node_of[on_node], lay.cores + cc, [lay.convexity]])
    vals = np.concatenate([assign[ac], (S - E)[ev], S[on_node], core_vals[cc], [1.0]]).astype(float)
    return rows.astype(np.int64), vals, float(model.var_cost[sv] @ S[sv])


def _boxed_rows(lay: MasterLayout) -> np.ndarray:
    """The master rows whose duals enter ``L``: assignment, matching, link and core rows."""
    return np.r_[np.arange(lay.link + lay.nn), lay.cores + np.arange(len(lay.core))]


def _solve_master(model: TimeIndexedModel, lay: MasterLayout, flow: tuple, columns: list[tuple],
                  centre: np.ndarray, box: float, seconds: float) -> tuple[float, np.ndarray] | None:
    """Solve the restricted master on ``columns`` (``(rows, values, cost)`` each), its duals boxed
    to ``centre ± box`` on the rows of :func:`_boxed_rows` (du Merle: a slack ``+s⁺ − s⁻`` per
    row at costs ``box ± centre``, so ``centre − box <= dual <= centre + box``): ``(value,
    duals)``, or ``None`` when GLOP does not end optimal in ``seconds``."""
    n_flow = 4 * lay.nn + lay.k1 + lay.k2
    fr, fc, fv = flow
    boxed = _boxed_rows(lay)
    nb, nl = boxed.size, len(columns)
    cr = [c[0] for c in columns]
    cc = [np.full(c[0].size, n_flow + j) for j, c in enumerate(columns)]
    slack_c = n_flow + nl + np.arange(2 * nb)
    A = sp.csr_matrix((np.concatenate([fv] + [c[1] for c in columns] + [np.ones(nb), -np.ones(nb)]),
                       (np.concatenate([fr, *cr, boxed, boxed]), np.concatenate([fc, *cc, slack_c]))),
                      shape=(lay.rows, n_flow + nl + 2 * nb))
    lo = np.zeros(A.shape[1])
    up = np.r_[np.ones(n_flow), np.full(nl + 2 * nb, np.inf)]
    obj = np.r_[np.zeros(n_flow), [c[2] for c in columns], box + centre[boxed], box - centre[boxed]]
    rlo = np.zeros(lay.rows)
    rlo[:lay.nc] = model.classes.count
    if lay.k1:
        rlo[lay.pool1] = 1.0  # the source: one unit in pool 1 before key 0
    rlo[lay.convexity] = 1.0
    rup = rlo.copy()
    rlo[lay.cores:lay.cores + len(lay.core)] = -np.inf
    rup[lay.cores:lay.cores + len(lay.core)] = float(model.M)
    builder = mbh.ModelBuilderHelper()
    builder.fill_model_from_sparse_data(lo, up, obj, rlo, rup, A)
    solver = mbh.ModelSolverHelper("glop")
    solver.set_time_limit_in_seconds(max(0.01, float(seconds)))
    solver.solve(builder)
    if solver.status() != mbh.SolveStatus.OPTIMAL:
        return None
    duals = np.asarray(solver.dual_values())
    return (float(solver.objective_value()), duals) if np.all(np.isfinite(duals)) else None


def solve_trajectory_lp(model: TimeIndexedModel, schedule: np.ndarray, *, chain_duals: np.ndarray | None = None,
                        time_limit: float = 30.0, box: float = 0.2,
                        target: float | None = None) -> TrajectoryLPResult:
    """The memory-exact relaxation of ``model`` by column generation (module text).

    Parameters
    ----------
    model : TimeIndexedModel
        Untruncated (every start completes within the horizon).
    schedule : int array
        Per job, the starts of a feasible schedule within the model: its trajectory makes the first
        restricted master feasible.
    chain_duals : float array, optional
        The chain LP's duals (:attr:`~.lp.LPResult.duals`) to start from; without them the start
        is all-zero duals (a bound far below the LP).
    time_limit : float
        Seconds for the whole loop (the bound is certified whenever it stops).
    box : float
        Half-width of the box around the centre that the master's duals are kept in.
    target : float, optional
        Stop once the bound reaches it (e.g. the incumbent's TEL minus one).
    """
    t_end = time.perf_counter() + time_limit
    space, lay = trajectory_space(model), master_layout(model)
    node_of = np.full(lay.nv, -1, dtype=np.int64)
    node_of[lay.nodes.var] = np.arange(lay.nn)
    core = _core_matrix(model, lay)
    centre = duals_from_chain(model, lay, chain_duals) if chain_duals is not None else np.zeros(lay.rows)
    start, traj = lagrangian(model, space, lay, centre)
    best, it, z, converged = start, 1, float("nan"), False
    y = schedule_counts(model, schedule)
    columns = [_column(model, lay, core, node_of, y, y), _column(model, lay, core, node_of, traj.starts, traj.ends)]
    flow = _flow_block(lay)
    while time.perf_counter() < t_end and (target is None or best < target):
        sol = _solve_master(model, lay, flow, columns, centre, box, t_end - time.perf_counter())
        if sol is None:
            break
        z, duals = sol
        eps = 1e-7 * max(1.0, abs(z))
        L, traj = lagrangian(model, space, lay, duals)
        it += 1
        if L > best + eps:
            best, centre = L, duals
        elif traj.value - duals[lay.convexity] >= -eps:
            if z - best <= eps:
                converged = True
                break
        columns.append(_column(model, lay, core, node_of, traj.starts, traj.ends))
    return TrajectoryLPResult(best, start, z, converged, it, len(columns))


def _core_matrix(model: TimeIndexedModel, lay: MasterLayout) -> sp.csr_matrix:
    """The core rows' coefficients as a matrix over the start variables."""
    if not lay.core:
        return sp.csr_matrix((0, lay.nv))
    r = np.concatenate([np.full(v.size, i) for i, (_, v, _) in enumerate(lay.core)])
    c = np.concatenate([v for _, v, _ in lay.core])
    d = np.concatenate([cf for _, _, cf in lay.core]).astype(float)
    return sp.csr_matrix((d, (r, c)), shape=(len(lay.core), lay.nv))
