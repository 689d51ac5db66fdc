"""Memory trajectories: the pricing problem of the memory-exact relaxation (:mod:`.trajectory_lp`).

**What a trajectory is.** A schedule's memory evolves in two integers per round: ``N_τ``, the runs
active in round ``τ``, and ``Q_τ``, the tokens they hold (docs/model.md §2). At decision time ``t``
the runs completing at ``t`` leave (each takes its peak ``p_c = s_c + o_c`` and one run), the runs
starting at ``t`` enter (each adds its prompt ``s_c`` and one run), and in round ``t + 1`` every
active run holds one token more: ``Q_{t+1} = Q'_t + N_{t+1}``. A *trajectory* is a path of states
``(N, Q)`` over the decision times ``0..T`` of a model (:class:`~lpsched.offline.formulation.model.TimeIndexedModel`)
from ``(0, 0)`` back to ``(0, 0)``, whose every event is a start variable ``v = (c, k)`` of the
model: a *start* of ``v`` at ``k``, or a *completion* tagged ``v`` at ``k + o_c``; with, in every
round, ``Q_τ <= M`` and ``Q_τ >= N_τ·(s_min + 1)`` (every active run holds at least its prompt plus
one token), and after the completions at ``t``, ``Q'_t >= N'_t·(s_min + 1)`` (the runs left are in
their first round or later).

Every feasible schedule is a trajectory: its starts ``y`` are the start events, each run's
completion is the completion tagged with its own start (so the counts ``S = E = y``), and its
``(N_τ, Q_τ)`` are the true per-round counts, which meet every condition above (``Q_τ <= M`` is
feasibility). A trajectory need not be a schedule: it may complete a run under another start's tag,
start a class more often than it has jobs, or leave a job out. The master of :mod:`.trajectory_lp`
prices those liberties through the rows it dualises.

**The program.** For costs ``r_v`` per start event and ``e_v`` per completion event,
:func:`cheapest_trajectory` finds a trajectory of least ``Σ_v r_v·S_v + Σ_v e_v·E_v`` by a dynamic
program over the states ``(N, Q)``, ``0 <= N <= M // (s_min + 1)``, ``0 <= Q <= M``, time by time:
completions (an unbounded knapsack that lowers ``N`` by one per item), starts (one that raises it),
then the round's growth. Events at one time with the same memory effect are interchangeable (the
class aggregation of docs/design/class-aggregation.md, one level further): completions are grouped
by peak and starts by prompt, and only the cheapest of each group is an item. The program is
exact over the trajectories, so its value is the minimum; it returns a trajectory that attains it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..formulation.compact import compact_coefficients
from ..formulation.model import TimeIndexedModel

__all__ = ["TrajectorySpace", "Trajectory", "trajectory_space", "cheapest_trajectory", "schedule_counts"]


@dataclass(frozen=True)
class TrajectorySpace:
    """The events of a model, by time, and the state grid of the program.

    Attributes
    ----------
    M, horizon : int
        Capacity and the last round ``T``.
    n_max : int
        Most runs in one round: ``M // floor``.
    floor : int
        Fewest tokens an active run holds after its first round began: ``s_min + 1``.
    enter, leave : int arrays, per variable
        The prompt ``s_c`` a start adds and the peak ``p_c`` its completion removes.
    starts_at, ends_at : tuples of int arrays
        Per decision time ``t = 0..T``, the variables that start at ``t`` / complete at ``t``.
    """

    M: int
    horizon: int
    n_max: int
    floor: int
    enter: np.ndarray
    leave: np.ndarray
    starts_at: tuple[np.ndarray, ...]
    ends_at: tuple[np.ndarray, ...]


@dataclass(frozen=True)
class Trajectory:
    """A trajectory: its cost, and per variable its start and completion counts."""

    value: float
    starts: np.ndarray
    ends: np.ndarray


def _by_time(times: np.ndarray, T: int) -> tuple[np.ndarray, ...]:
    order = np.argsort(times, kind="stable")
    cuts = np.searchsorted(times[order], np.arange(T + 2))
    return tuple(order[cuts[t]:cuts[t + 1]] for t in range(T + 1))


def trajectory_space(model: TimeIndexedModel) -> TrajectorySpace:
    """The :class:`TrajectorySpace` of ``model`` (an untruncated model: every start completes by ``T``)."""
    if model.late_cost is not None:
        raise ValueError("trajectories need an untruncated model")
    cl = model.classes
    enter_c, leave_c = compact_coefficients(cl)  # s_c and p_c, from the run's shape (lpsched.memory)
    T = int(model.horizon)
    end = model.var_start + cl.output[model.var_class]
    if end.size and int(end.max()) > T:
        raise ValueError("a start variable completes after the model's horizon")
    floor = int(enter_c.min(initial=0)) + 1
    return TrajectorySpace(M=int(model.M), horizon=T, n_max=int(model.M) // floor, floor=floor,
                           enter=enter_c[model.var_class], leave=leave_c[model.var_class],
                           starts_at=_by_time(model.var_start, T), ends_at=_by_time(end, T))


def _items(vs: np.ndarray, weight: np.ndarray, cost: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The cheapest variable of ``vs`` per distinct ``weight``: ``(weights, costs, variables)``."""
    w = weight[vs]
    order = np.lexsort((cost[vs], w))
    first = np.r_[True, np.diff(w[order]) != 0]
    pick = vs[order][first]
    return weight[pick], cost[pick], pick


def _knapsack(V: np.ndarray, w: np.ndarray, c: np.ndarray, up: bool, floor: int) -> np.ndarray:
    """Apply any number of items ``(w_i, c_i)`` to the value grid ``V[N, Q]`` in place: an item moves
    ``(N, Q)`` to ``(N + 1, Q + w)`` (``up``, a start) or to ``(N − 1, Q − w)`` (a completion).
    Then every state with ``Q < N·floor`` is removed. Returns the choice grid: per state, the item
    that reached it (``-1``: none)."""
    n_rows, width = V.shape
    choice = np.full(V.shape, -1, dtype=np.int16)
    pad = np.full(width + int(w.max()) + 1, np.inf)
    q = np.arange(width)
    rows = range(n_rows - 1) if up else range(n_rows - 1, 0, -1)
    for n in rows:
        src = V[n]
        if not np.isfinite(src).any():
            continue
        dst = n + 1 if up else n - 1
        if up:  # (n, Q − w) -> (n + 1, Q)
            idx = q[None, :] - w[:, None]
            cand = np.where(idx >= 0, src[np.maximum(idx, 0)], np.inf) + c[:, None]
        else:   # (n, Q + w) -> (n − 1, Q)
            pad[:width] = src
            cand = pad[q[None, :] + w[:, None]] + c[:, None]
        best = cand.argmin(axis=0)
        val = cand[best, q]
        better = val < V[dst]
        if better.any():
            V[dst, better] = val[better]
            choice[dst, better] = best[better]
    V[np.arange(n_rows)[:, None] * floor > q[None, :]] = np.inf
    return choice


def cheapest_trajectory(space: TrajectorySpace, start_cost: np.ndarray, end_cost: np.ndarray) -> Trajectory:
    """The trajectory of least ``Σ start_cost·S + Σ end_cost·E`` over ``space`` (module text)."""
    T, M, floor = space.horizon, space.M, space.floor
    V = np.full((space.n_max + 1, M + 1), np.inf)
    V[0, 0] = 0.0
    trail: list[tuple] = []
    grow = np.arange(space.n_max + 1)
    for t in range(T + 1):
        ends = starts = None
        if space.ends_at[t].size:
            w, c, var = _items(space.ends_at[t], space.leave, end_cost)
            ends = (_knapsack(V, w, c, False, floor), w, var)
        if t < T and space.starts_at[t].size:
            w, c, var = _items(space.starts_at[t], space.enter, start_cost)
            starts = (_knapsack(V, w, c, True, 0), w, var)  # new runs hold only s: no floor
        trail.append((ends, starts))
        if t < T:  # round t + 1: every active run grows by one token
            G = np.full_like(V, np.inf)
            for n in grow:
                G[n, n:] = V[n, :M + 1 - n] if n <= M else np.inf
            G[grow[:, None] * floor > np.arange(M + 1)[None, :]] = np.inf
            V = G
    return _backtrack(space, trail, float(V[0, 0]), start_cost.size)


def _backtrack(space: TrajectorySpace, trail: list[tuple], value: float, nv: int) -> Trajectory:
    """Follow the choice grids of :func:`cheapest_trajectory` back from ``(0, 0)`` at ``T``."""
    S = np.zeros(nv, dtype=np.int64)
    E = np.zeros(nv, dtype=np.int64)
    if not np.isfinite(value):
        raise ValueError("no trajectory: the model has no feasible empty path (empty horizon?)")
    n = q = 0
    for t in range(space.horizon, -1, -1):
        ends, starts = trail[t]
        if starts is not None:
            choice, w, var = starts
            while choice[n, q] >= 0:
                i = int(choice[n, q])
                S[var[i]] += 1
                n, q = n - 1, q - int(w[i])
        if ends is not None:
            choice, w, var = ends
            while choice[n, q] >= 0:
                i = int(choice[n, q])
                E[var[i]] += 1
                n, q = n + 1, q + int(w[i])
        if t > 0:
            q -= n  # undo the growth of round t
    if n != 0 or q != 0:
        raise AssertionError("trajectory backtrack did not return to the empty state")
    return Trajectory(value, S, E)


def schedule_counts(model: TimeIndexedModel, starts: np.ndarray) -> np.ndarray:
    """Per variable of ``model``, how many jobs of a schedule (``starts`` per job, instance order)
    start there: the ``S = E`` of the schedule's trajectory. Raises if a start has no variable."""
    index = {(int(c), int(k)): v for v, (c, k) in enumerate(zip(model.var_class, model.var_start, strict=True))}
    y = np.zeros(model.n_variables, dtype=np.int64)
    for j, k in enumerate(np.asarray(starts)):
        y[index[(int(model.classes.class_of[j]), int(k))]] += 1
    return y
