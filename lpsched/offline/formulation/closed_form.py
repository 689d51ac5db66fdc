"""The closed-form lower bounds on the hindsight-optimal TEL (docs/model.md §6), each with its proof.

Every function takes an :class:`~lpsched.instance.Instance` and returns an integer ``B`` such that
every feasible schedule has ``TEL >= B``. They need the instance and the run shape only (numpy, no
solver): the horizon rules (:mod:`.horizon`) are proved from them, and
:func:`lpsched.offline.bounds.report.lower_bounds` reports them with the LP bounds.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from ...instance import Instance

__all__ = ["sum_output_bound", "volume_rank_bound", "mean_busy_bound", "job_volumes", "CLOSED_FORM_BOUNDS"]


def job_volumes(instance: Instance) -> np.ndarray:
    """Each job's volume ``s_i·o_i + o_i(o_i+1)/2``: the KV token-rounds of its (final) run."""
    s = instance.prompt
    o = instance.output
    return s * o + o * (o + 1) // 2


def sum_output_bound(instance: Instance) -> int:
    """``Σ o_i``.

    Validity: a job started at ``k_i >= a_i`` completes at ``k_i + o_i``, so its latency is at least
    ``o_i``; summing over jobs gives the bound. Holds with arrivals.
    """
    return int(instance.output.sum())


def volume_rank_bound(instance: Instance) -> int:
    """``Σ_j max(⌈V_j / M⌉, r_[j]) − Σ_i a_i`` (Kong et al.'s volume bound, combined per rank).

    ``V_j`` is the sum of the ``j`` smallest volumes and ``r_[j]`` the ``j``-th smallest release-plus-
    length ``a_i + o_i`` (``= o_[j]`` when all jobs arrive at 0, docs/model.md §6).

    Validity: sort any feasible schedule's completions ``C_(1) <= … <= C_(n)``. By time ``C_(j)``, ``j``
    jobs have completed; their final runs filled at least ``V_j`` token-rounds (they are ``j`` distinct
    jobs, so at least the ``j`` smallest volumes), all inside rounds ``1..C_(j)``, each holding at most
    ``M`` tokens, so ``C_(j) >= V_j / M`` and, being an integer, ``>= ⌈V_j / M⌉``. Those ``j`` jobs each
    complete no earlier than their own ``a_i + o_i``, so the latest of them, ``C_(j)``, is at least the
    ``j``-th smallest ``a_i + o_i``. ``TEL = Σ_j C_(j) − Σ_i a_i``.
    """
    if instance.n == 0:
        return 0
    V = np.cumsum(np.sort(job_volumes(instance)))
    by_volume = -(-V // instance.M)
    by_length = np.sort(instance.arrival + instance.output)
    return int(np.maximum(by_volume, by_length).sum() - instance.arrival.sum())


def _busy_parts(v: np.ndarray, s: np.ndarray, o: np.ndarray, M: int) -> tuple[int, np.ndarray, np.ndarray]:
    """``(Σ_i ⌊num_i / v_i⌋, num_i mod v_i, v_i)`` for ``num_i = Σ_{slots x of job i} (⌊x/M⌋ + 1) − moment_i``,
    the jobs filling token slots in the given order.

    In int64 arrays when every intermediate provably stays below 2^62 (checked in floating point
    with margin), else in Python integers; both give the same integers.
    """
    before = np.concatenate(([0], np.cumsum(v)[:-1]))  # token slots filled before each job (<= 2^60 by the limits)
    vmax, total, omax = float(v.max()), float(before[-1]) + float(v[-1]), float(o.max())
    small = (total / M + 2) * vmax < 2**60 and vmax * (vmax / M + 2) < 2**60 \
        and (float(s.max()) + omax) * (omax + 1) ** 2 < 2**60 and len(v) * (total / M + 2) < 2**60
    if not small:
        v, before, s, o = (x.astype(object) for x in (v, before, s, o))
    q0, r0 = before // M, before % M
    q, r = (r0 + v) // M, (r0 + v) % M
    # Σ_{x=P}^{P+v-1} (⌊x/M⌋ + 1) = v·(⌊P/M⌋ + 1) + Σ_{y=0}^{r0+v-1} ⌊y/M⌋ (the slots below r0 add 0)
    s_round = v * (q0 + 1) + M * q * (q - 1) // 2 + r * q
    num = s_round - (s * o * (o + 1) // 2 + o * (o + 1) * (2 * o + 1) // 6)  # minus the run's moment
    whole = num // v
    return int(whole.astype(object).sum()) if small else int(whole.sum()), num - whole * v, v


def mean_busy_bound(instance: Instance) -> int:
    """The mean-busy-time bound: a fluid relaxation of memory that keeps each run's shape offset.

    Let ``m_i(τ)`` be job ``i``'s memory in round ``τ``, ``vol_i = Σ_τ m_i(τ)`` and its *mean busy
    round* ``B_i = Σ_τ τ·m_i(τ) / vol_i``. A run started at ``k_i`` has ``B_i = k_i + c_i`` with the
    constant ``c_i = Σ_{r=1..o_i} r·m_i(k_i + r) / vol_i`` (its memory shape does not depend on
    ``k_i``), so ``C_i = k_i + o_i = B_i + o_i − c_i`` and ``TEL = Σ_i B_i + Σ_i (o_i − c_i − a_i)``.

    Validity: any feasible schedule gives a solution of the relaxation "``m_i(τ) >= 0``,
    ``Σ_i m_i(τ) <= M`` for every round ``τ >= a0 + 1``, ``Σ_τ m_i(τ) = vol_i``", where ``a0`` is the
    earliest arrival (no run holds memory before round ``a0 + 1``). Its minimum of
    ``Σ_i B_i = Σ_i (1/vol_i)·Σ_τ τ·m_i(τ)`` is attained by filling rounds ``a0 + 1, a0 + 2, …`` to
    ``M`` with the jobs in ascending volume (exchanging a unit of a larger-volume job in an earlier
    round with one of a smaller-volume job in a later round never increases the sum, since the
    weights ``1/vol_i`` are then in the opposite order to the rounds). The other arrivals are ignored
    by the relaxation (which only weakens it). Exact: integer parts in Python integers, the
    fractional parts summed in floating point only when the sum is provably away from an integer
    (else in exact rationals); rounded up (TEL is an integer).
    """
    if instance.n == 0:
        return 0
    M = instance.M
    vol = job_volumes(instance)
    order = np.lexsort((np.arange(instance.n), vol))
    whole, rest, v = _busy_parts(vol[order], instance.prompt[order], instance.output[order], M)
    a0 = int(instance.arrival.min())
    base = whole + int(instance.output.sum()) - int(instance.arrival.sum()) + instance.n * a0
    nonzero = rest != 0
    if not nonzero.any():
        return base
    frac = math.fsum((rest[nonzero].astype(np.float64) / v[nonzero].astype(np.float64)).tolist())
    # each term is within 2^-52 of its value, so the float sum is within n·2^-52 of the exact one
    if abs(frac - round(frac)) > 1e-6:
        return base + math.ceil(frac)
    exact = sum((Fraction(int(r), int(w)) for r, w in zip(rest[nonzero], v[nonzero], strict=True)), Fraction(0))
    return base + math.ceil(exact)


#: The closed-form bounds by the name :func:`~lpsched.offline.bounds.report.lower_bounds` reports.
CLOSED_FORM_BOUNDS = {"sum_output": sum_output_bound, "volume_rank": volume_rank_bound, "mean_busy": mean_busy_bound}
