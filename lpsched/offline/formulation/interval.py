"""An exact CP-SAT scheduling model of the hindsight problem: interval variables and cumulatives.

One integer start ``k_i`` per job (``a_i <= k_i <= D_i − o_i``, ``D_i`` the valid latest completion
of :func:`~lpsched.offline.horizon.latest_completions`). Time *slot* ``t`` is round ``t + 1``.

**Exact memory (staircase decomposition).** A job started at ``k`` holds ``s + r`` tokens in round
``k + r`` (``r = 1..o``). Write ``s + r = s + Σ_{j=1..r} 1``: a *block* of height ``s`` over slots
``[k, k + o)`` plus ``o`` unit *layers*, layer ``j`` over slots ``[k + j − 1, k + o)`` (rounds
``k + j .. k + o``). In round ``k + r`` exactly the layers ``j <= r`` are active, so block and layers
sum to ``s + r``: a cumulative of capacity ``M`` over these fixed-offset intervals (all tied to the
single variable ``k``) is *exactly* the memory constraint of MODEL.md §2. The block and layer 1
share their interval and are merged (height ``s + 1``).

**Redundant rounded cumulatives (dual-feasible functions).** For an integer ``q >= 2`` and any round,
``Σ_i m_i <= M`` implies ``Σ_i ⌊q·m_i/(M+1)⌋ <= ⌊q·M/(M+1)⌋ = q − 1`` (floors are subadditive). A job's
rounded demand ``⌊q·m/(M+1)⌋`` is again a staircase, one unit per level ``ℓ_t = ⌈t(M+1)/q⌉``
(``t = 1..q−1``), whose interval is the job's layer of level ``ℓ_t`` (the rounds where it holds at
least ``ℓ_t`` tokens). ``q = 2`` is a no-overlap of the parts of runs above ``M/2`` (jobs whose peaks
both exceed half the memory can never overlap there); ``q = 3, 4`` are cumulatives of capacity 2 and 3.
They cut off no schedule (each is implied by the exact cumulative) but give CP-SAT's disjunctive and
cumulative propagators and LP cuts (e.g. completion-time cuts) the structure that the volume / LP
bounds miss: on the Jaillet regime most pairs of long jobs cannot overlap at all.

**Symmetry.** Interchangeable jobs (equal ``a, s, o``) get non-decreasing starts in instance order:
any schedule can be relabelled within a class to satisfy it without changing memory or TEL.

Objective ``Σ_i (k_i + o_i − a_i)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from ..instance import Instance
from .backend import BackendOutcome
from .cpsat import proven_bound, run_cpsat

__all__ = ["CumulativeModel", "build_cumulative", "solve_cumulative", "dff_levels", "canonical_starts",
           "core_lengths", "core_levels", "best_core_levels", "solve_hybrid"]


def canonical_starts(instance: Instance, starts: np.ndarray) -> np.ndarray:
    """Relabel a schedule within each class of interchangeable jobs so starts are non-decreasing
    in instance order (same memory profile, same TEL): the form the symmetry breaking keeps."""
    out = np.asarray(starts, dtype=np.int64).copy()
    groups: dict[tuple[int, int, int], list[int]] = {}
    for i in range(instance.n):
        key = (int(instance.arrival[i]), int(instance.prompt[i]), int(instance.output[i]))
        groups.setdefault(key, []).append(i)
    for mem in groups.values():
        if len(mem) > 1:
            out[mem] = np.sort(out[mem])
    return out


def core_lengths(instance: Instance, P: int) -> np.ndarray:
    """Core length ``c_j`` of every job for the peak threshold ``P`` (0 for jobs with ``s_j + o_j < P``).

    ``c_j = o_j − max(0, M − P − s_j)`` (clipped to ``[0, o_j]``) for jobs of peak ``p_j = s_j + o_j >= P``.

    Claim: the cores ``[C_j − c_j, C_j)`` of the jobs with peak ``>= P`` are pairwise disjoint in every
    feasible schedule. Proof: take two such jobs with ``C_i <= C_j`` and let ``L = C_i − k_j`` be the
    number of rounds both run (``L <= 0``: disjoint runs, so ``C_j − C_i >= o_j >= c_j``). If ``L >= 1``,
    round ``C_i`` is in both runs and holds at least ``p_i + (s_j + L)`` tokens (``i`` at its peak, ``j``
    in its ``L``-th round), so ``L <= M − p_i − s_j <= M − P − s_j`` and
    ``C_j − C_i = o_j − L >= o_j − max(0, M − P − s_j) = c_j``. Either way ``C_j − c_j >= C_i``: the
    cores do not overlap (for ``C_i = C_j`` this forces ``c_j <= 0``, and symmetrically ``c_i <= 0``).
    Arrivals play no part, so the claim holds with arrivals.
    """
    s, o = instance.prompt, instance.output
    c = o - np.maximum(0, instance.M - P - s)
    c = np.clip(c, 0, o)
    return np.where(s + o >= P, c, 0).astype(np.int64)


def core_levels(instance: Instance, count: int) -> list[int]:
    """Up to ``count`` peak thresholds ``P`` for :func:`core_lengths`, spread over the useful range.

    Only thresholds where at least two jobs have a core matter; ``P`` is taken among the jobs' peaks
    (a threshold between two peaks is dominated by the next peak up: same jobs, longer cores).
    """
    if count <= 0 or instance.n < 2:
        return []
    peaks = np.unique(instance.prompt + instance.output)
    useful = [int(P) for P in peaks if int((core_lengths(instance, int(P)) >= 1).sum()) >= 2]
    if len(useful) <= count:
        return useful
    idx = np.unique(np.round(np.linspace(0, len(useful) - 1, count)).astype(int))
    return [useful[i] for i in idx]


def best_core_levels(instance: Instance, count: int) -> list[int]:
    """The ``count`` peak thresholds with the largest total core length ``Σ_j c_j`` (a proxy for how
    much a core no-overlap constrains), among those where at least two jobs have a core."""
    if count <= 0 or instance.n < 2:
        return []
    cand = []
    for P in np.unique(instance.prompt + instance.output):
        c = core_lengths(instance, int(P))
        if int((c >= 1).sum()) >= 2:
            cand.append((int(c.sum()), int(P)))
    cand.sort(reverse=True)
    return sorted(P for _, P in cand[:count])


def dff_levels(M: int, q: int) -> list[int]:
    """Memory levels ``ℓ_t = ⌈t(M+1)/q⌉`` (``t = 1..q−1``) of the rounded cumulative of order ``q``.

    A job holding ``m`` tokens counts ``#{t : ℓ_t <= m} = ⌊q·m/(M+1)⌋`` units; capacity ``q − 1``.
    """
    return [-(-t * (M + 1) // q) for t in range(1, q)]


@dataclass
class CumulativeModel:
    """The assembled CP-SAT model and its variables.

    Attributes
    ----------
    model : cp_model.CpModel
    starts : list of IntVar, one per job (instance order)
    objective : LinearExpr
    n_intervals : int
        Interval variables in the exact cumulative.
    n_redundant : int
        Redundant (rounded) cumulative / no-overlap constraints added.
    """

    model: cp_model.CpModel
    starts: list[Any]
    objective: Any
    n_intervals: int
    n_redundant: int
    info: dict[str, Any] = field(default_factory=dict)


def build_cumulative(
    instance: Instance,
    latest: np.ndarray,
    *,
    dff: tuple[int, ...] = (2, 3, 4),
    symmetry: bool = True,
    cores: int = 6,
    objective_lb: int | None = None,
    objective_ub: int | None = None,
    domains: list[np.ndarray] | None = None,
) -> CumulativeModel:
    """Build the exact interval/cumulative model.

    Parameters
    ----------
    instance : Instance
    latest : int array
        Latest completion ``D_i`` per job (must be provably valid: some optimal schedule has
        ``C_i <= D_i``, MODEL.md §6).
    dff : tuple of int
        Orders ``q`` of the redundant rounded cumulatives (``2`` = no-overlap above ``M/2``).
    symmetry : bool
        Order the starts of interchangeable jobs.
    objective_lb, objective_ub : int, optional
        Certified lower bound / cut-off added as linear constraints on the objective.
    domains : list of int arrays, optional
        Allowed starts per job (e.g. after reduced-cost fixing), within ``[a_i, D_i − o_i]``; every
        array must be non-empty.

    Returns
    -------
    CumulativeModel
    """
    m = cp_model.CpModel()
    n, M = instance.n, instance.M
    a, s, o = instance.arrival, instance.prompt, instance.output
    starts = []
    # layer[i][lev] = interval of job i over the rounds where it holds >= lev tokens (lev > s_i),
    # built lazily and shared between the exact and the redundant cumulatives.
    layers: list[dict[int, Any]] = [{} for _ in range(n)]
    ivs: list[Any] = []
    dem: list[int] = []

    def layer(i: int, j: int) -> Any:
        """Interval of job i's layer j (rounds k+j..k+o, slots [k+j-1, k+o)), 1 <= j <= o."""
        if j not in layers[i]:
            size = int(o[i]) - j + 1
            layers[i][j] = m.new_fixed_size_interval_var(starts[i] + (j - 1), size, f"L{i}_{j}")
        return layers[i][j]

    for i in range(n):
        lo, hi = int(a[i]), int(latest[i]) - int(o[i])
        if hi < lo:
            raise ValueError(f"job {i}: latest completion {latest[i]} below a + o")
        if domains is None:
            starts.append(m.new_int_var(lo, hi, f"k{i}"))
        else:
            vals = [int(v) for v in domains[i] if lo <= int(v) <= hi]
            if not vals:
                raise ValueError(f"job {i}: empty start domain")
            starts.append(m.new_int_var_from_domain(cp_model.Domain.from_values(vals), f"k{i}"))
    for i in range(n):
        si, oi = int(s[i]), int(o[i])
        ivs.append(layer(i, 1))
        dem.append(si + 1)  # block (height s) merged with layer 1 (same interval)
        for j in range(2, oi + 1):
            ivs.append(layer(i, j))
            dem.append(1)
    # Only rounds where the total could exceed M matter; CP-SAT handles that itself.
    if sum(int(s[i]) + int(o[i]) for i in range(n)) > M:
        m.add_cumulative(ivs, dem, M)
    n_red = 0
    for q in dff:
        if q < 2 or q > M:
            continue
        levels = dff_levels(M, q)
        r_iv, r_dem = [], []
        for i in range(n):
            si, oi = int(s[i]), int(o[i])
            for lev in levels:
                j = max(1, lev - si)  # holds >= lev tokens from its j-th round on
                if j <= oi:
                    r_iv.append(layer(i, j))
                    r_dem.append(1)
        if len(r_iv) <= q - 1:
            continue
        # Merge equal intervals (same job, same layer) into one demand.
        merged: dict[int, int] = {}
        by_id: dict[int, Any] = {}
        for iv, d in zip(r_iv, r_dem, strict=True):
            merged[id(iv)] = merged.get(id(iv), 0) + d
            by_id[id(iv)] = iv
        if q == 2 and all(d == 1 for d in merged.values()):
            m.add_no_overlap([by_id[k] for k in merged])
        else:
            m.add_cumulative([by_id[k] for k in merged], [merged[k] for k in merged], q - 1)
        n_red += 1
    for P in core_levels(instance, cores):
        c = core_lengths(instance, P)
        sel = [i for i in range(n) if c[i] >= 1]
        if len(sel) >= 2:
            m.add_no_overlap([layer(i, int(o[i]) - int(c[i]) + 1) for i in sel])
            n_red += 1
    if symmetry:
        groups: dict[tuple[int, int, int], list[int]] = {}
        for i in range(n):
            groups.setdefault((int(a[i]), int(s[i]), int(o[i])), []).append(i)
        for mem in groups.values():
            for x, y in pairwise(mem):
                m.add(starts[x] <= starts[y])
    obj = sum(starts) + int((o - a).sum())
    if objective_lb is not None:
        m.add(obj >= int(objective_lb))
    if objective_ub is not None:
        m.add(obj <= int(objective_ub))
    m.minimize(obj)
    return CumulativeModel(model=m, starts=starts, objective=obj, n_intervals=len(ivs), n_redundant=n_red)


def _outcome(solver: cp_model.CpSolver, status: int, cm: CumulativeModel) -> tuple[BackendOutcome, np.ndarray | None]:
    """The interval model's outcome: status, proven bound, statistics, and the per-job starts."""
    ks = None
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        ks = np.array([solver.value(v) for v in cm.starts], dtype=np.int64)
    out = BackendOutcome(
        proven_optimal=status == cp_model.OPTIMAL, infeasible=status == cp_model.INFEASIBLE,
        values=None, bound=proven_bound(solver, status), status_text=solver.status_name(status),
        info={"wall_time": solver.wall_time, "branches": solver.num_branches,
              "conflicts": solver.num_conflicts, "intervals": cm.n_intervals,
              "redundant": cm.n_redundant},
    )
    return out, ks


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
) -> tuple[BackendOutcome, np.ndarray | None, CumulativeModel]:
    """Solve the interval/cumulative model with CP-SAT.

    Parameters are those of :func:`build_cumulative` plus the CP-SAT settings (``time_limit``
    seconds, ``workers``, ``seed``, ``log``, ``linearization`` level) and ``hint`` (per-job starts;
    relabelled within classes by :func:`canonical_starts` when symmetry breaking is on).

    Returns
    -------
    (BackendOutcome, starts or None, CumulativeModel)
        ``BackendOutcome.values`` is left ``None``; the per-job starts of the best solution are
        returned separately (instance order).
    """
    cm = build_cumulative(instance, latest, dff=dff, symmetry=symmetry, cores=cores, objective_lb=objective_lb,
                          objective_ub=objective_ub, domains=domains)
    if hint is not None:
        hint = canonical_starts(instance, hint) if symmetry else np.asarray(hint, dtype=np.int64)
        for v, k in zip(cm.starts, hint, strict=True):
            cm.model.add_hint(v, int(k))
    solver, status = run_cpsat(cm.model, time_limit=time_limit, workers=workers, seed=seed, log=log,
                               linearization_level=int(linearization))
    out, ks = _outcome(solver, status, cm)
    return out, ks, cm


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
) -> tuple[BackendOutcome, np.ndarray | None]:
    """The time-indexed model (one class per job) channelled to the interval model.

    ``model`` is a :class:`~lpsched.offline.model.TimeIndexedModel` built *without* class
    aggregation (possibly restricted by reduced-cost fixing): 0/1 ``x_{i,k}``, ``Σ_k x_{i,k} = 1``, the
    memory rows; plus ``k_i = Σ_k k·x_{i,k}`` and the exact cumulative / redundant constraints of
    :func:`build_cumulative` on ``k_i``. CP-SAT then has the LP relaxation of the time-indexed model
    and the scheduling propagators at once. Every schedule of the time-indexed model is a schedule
    of the interval model and conversely (both are exact), so nothing is cut off.

    Returns
    -------
    (BackendOutcome, starts or None)
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
