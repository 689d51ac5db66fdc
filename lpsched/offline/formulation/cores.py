"""Core no-overlaps and dual-feasible levels: the structure of jobs that peak high in memory.

:func:`core_lengths` gives, for a peak threshold ``P``, the part of each run (its *core*) that no
other run of peak ``>= P`` can overlap in any feasible schedule; the time-indexed model adds them as
rows (:mod:`.model`, ``core_rows``) and the interval model as no-overlaps (:mod:`.interval`).
:func:`dff_levels` gives the memory levels of the rounded (dual-feasible) cumulatives.
"""

from __future__ import annotations

import numpy as np

from ...instance import Instance

__all__ = ["core_lengths", "core_levels", "best_core_levels", "dff_levels"]


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
