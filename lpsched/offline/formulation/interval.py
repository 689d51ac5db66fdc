"""An exact CP-SAT scheduling model of the hindsight problem: interval variables and cumulatives.

Built here; solved by :mod:`lpsched.offline.backends.interval`.

One integer start ``k_i`` per job (``a_i <= k_i <= D_i − o_i``, ``D_i`` the valid latest completion
of :func:`~lpsched.offline.formulation.horizon.latest_completions`). Time *slot* ``t`` is round ``t + 1``.

**Exact memory (staircase decomposition).** A job started at ``k`` holds ``s + r`` tokens in round
``k + r`` (``r = 1..o``). Write ``s + r = s + Σ_{j=1..r} 1``: a *block* of height ``s`` over slots
``[k, k + o)`` plus ``o`` unit *layers*, layer ``j`` over slots ``[k + j − 1, k + o)`` (rounds
``k + j .. k + o``). In round ``k + r`` exactly the layers ``j <= r`` are active, so block and layers
sum to ``s + r``: a cumulative of capacity ``M`` over these fixed-offset intervals (all tied to the
single variable ``k``) is *exactly* the memory constraint of docs/model.md §2. The block and layer 1
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

from ...instance import Instance
from .cores import core_lengths, core_levels, dff_levels

__all__ = ["CumulativeModel", "build_cumulative", "canonical_starts"]


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
        ``C_i <= D_i``, docs/model.md §6).
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
    a, o = instance.arrival, instance.output
    starts = _start_vars(m, instance, latest, domains)
    layer = _Layers(m, starts, o)
    n_intervals = _add_exact_cumulative(m, instance, layer)
    n_red = sum(_add_rounded_cumulative(m, instance, layer, q) for q in dff if 2 <= q <= M)
    for P in core_levels(instance, cores):
        c = core_lengths(instance, P)
        sel = [i for i in range(n) if c[i] >= 1]
        if len(sel) >= 2:
            m.add_no_overlap([layer(i, int(o[i]) - int(c[i]) + 1) for i in sel])
            n_red += 1
    if symmetry:
        _add_symmetry(m, instance, starts)
    obj = sum(starts) + int((o - a).sum())
    if objective_lb is not None:
        m.add(obj >= int(objective_lb))
    if objective_ub is not None:
        m.add(obj <= int(objective_ub))
    m.minimize(obj)
    return CumulativeModel(model=m, starts=starts, objective=obj, n_intervals=n_intervals, n_redundant=n_red)


class _Layers:
    """``layer(i, j)``: the interval of job ``i``'s layer ``j`` (rounds ``k+j..k+o``, slots
    ``[k+j−1, k+o)``, ``1 <= j <= o``), built on first use and shared between the exact and the
    redundant cumulatives."""

    def __init__(self, m: cp_model.CpModel, starts: list[Any], output: np.ndarray) -> None:
        self.m, self.starts, self.output = m, starts, output
        self.built: list[dict[int, Any]] = [{} for _ in starts]

    def __call__(self, i: int, j: int) -> Any:
        if j not in self.built[i]:
            size = int(self.output[i]) - j + 1
            self.built[i][j] = self.m.new_fixed_size_interval_var(self.starts[i] + (j - 1), size, f"L{i}_{j}")
        return self.built[i][j]


def _start_vars(m: cp_model.CpModel, instance: Instance, latest: np.ndarray,
                domains: list[np.ndarray] | None) -> list[Any]:
    """One start variable per job, within ``[a_i, D_i − o_i]`` (and ``domains`` when given)."""
    starts = []
    for i in range(instance.n):
        lo, hi = int(instance.arrival[i]), int(latest[i]) - int(instance.output[i])
        if hi < lo:
            raise ValueError(f"job {i}: latest completion {latest[i]} below a + o")
        if domains is None:
            starts.append(m.new_int_var(lo, hi, f"k{i}"))
        else:
            vals = [int(v) for v in domains[i] if lo <= int(v) <= hi]
            if not vals:
                raise ValueError(f"job {i}: empty start domain")
            starts.append(m.new_int_var_from_domain(cp_model.Domain.from_values(vals), f"k{i}"))
    return starts


def _add_exact_cumulative(m: cp_model.CpModel, instance: Instance, layer: _Layers) -> int:
    """The exact memory: block and layers of every job in one cumulative of capacity ``M`` (module
    text); returns the number of intervals."""
    s, o = instance.prompt, instance.output
    ivs: list[Any] = []
    dem: list[int] = []
    for i in range(instance.n):
        ivs.append(layer(i, 1))
        dem.append(int(s[i]) + 1)  # block (height s) merged with layer 1 (same interval)
        for j in range(2, int(o[i]) + 1):
            ivs.append(layer(i, j))
            dem.append(1)
    # Only rounds where the total could exceed M matter; CP-SAT handles that itself.
    if sum(int(s[i]) + int(o[i]) for i in range(instance.n)) > instance.M:
        m.add_cumulative(ivs, dem, instance.M)
    return len(ivs)


def _add_rounded_cumulative(m: cp_model.CpModel, instance: Instance, layer: _Layers, q: int) -> bool:
    """The redundant rounded cumulative of order ``q`` (a no-overlap for ``q = 2``); ``False`` when
    too few intervals make it trivial."""
    s, o = instance.prompt, instance.output
    r_iv, r_dem = [], []
    for i in range(instance.n):
        for lev in dff_levels(instance.M, q):
            j = max(1, lev - int(s[i]))  # holds >= lev tokens from its j-th round on
            if j <= int(o[i]):
                r_iv.append(layer(i, j))
                r_dem.append(1)
    if len(r_iv) <= q - 1:
        return False
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
    return True


def _add_symmetry(m: cp_model.CpModel, instance: Instance, starts: list[Any]) -> None:
    """Non-decreasing starts within each class of interchangeable jobs (equal ``a, s, o``)."""
    groups: dict[tuple[int, int, int], list[int]] = {}
    for i in range(instance.n):
        groups.setdefault((int(instance.arrival[i]), int(instance.prompt[i]), int(instance.output[i])), []).append(i)
    for mem in groups.values():
        for x, y in pairwise(mem):
            m.add(starts[x] <= starts[y])
