"""The closed-form lower bounds on the hindsight-optimal TEL (docs/model.md §6), each with its proof.

Every function takes an :class:`~lpsched.instance.Instance` and returns an integer ``B`` such that
every feasible schedule has ``TEL >= B``. They need the instance and the run shape only (numpy, no
solver): the horizon rules (:mod:`.horizon`) are proved from them, and
:func:`lpsched.offline.bounds.report.lower_bounds` reports them with the LP bounds.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from ...instance import Instance
from .classes import run_shape

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


def _tokens_round_sum(P: int, M: int) -> int:
    """``Σ_{x=0}^{P-1} (⌊x/M⌋ + 1)``: the round-weighted sum of the first ``P`` token slots."""
    q, r = divmod(P, M)
    return M * q * (q + 1) // 2 + r * (q + 1)


def mean_busy_bound(instance: Instance) -> int:
    """The mean-busy-time bound: a fluid relaxation of memory that keeps each run's shape offset.

    Let ``m_i(τ)`` be job ``i``'s memory in round ``τ``, ``vol_i = Σ_τ m_i(τ)`` and its *mean busy
    round* ``B_i = Σ_τ τ·m_i(τ) / vol_i``. A run started at ``k_i`` has ``B_i = k_i + c_i`` with the
    constant ``c_i = Σ_{r=1..o_i} r·m_i(k_i + r) / vol_i`` (its memory shape does not depend on
    ``k_i``), so ``C_i = k_i + o_i = B_i + o_i − c_i`` and ``TEL = Σ_i B_i + Σ_i (o_i − c_i − a_i)``.

    Validity: any feasible schedule gives a solution of the relaxation "``m_i(τ) >= 0``,
    ``Σ_i m_i(τ) <= M`` for every round ``τ >= 1``, ``Σ_τ m_i(τ) = vol_i``", whose minimum of
    ``Σ_i B_i = Σ_i (1/vol_i)·Σ_τ τ·m_i(τ)`` is attained by filling rounds ``1, 2, …`` to ``M`` with
    the jobs in ascending volume (exchanging a unit of a larger-volume job in an earlier round with
    one of a smaller-volume job in a later round never increases the sum, since the weights
    ``1/vol_i`` are then in the opposite order to the rounds). Arrivals are ignored by the
    relaxation (which only weakens it), so the bound holds with arrivals. Computed in exact
    rational arithmetic and rounded up (TEL is an integer).
    """
    if instance.n == 0:
        return 0
    vol = job_volumes(instance)
    order = np.lexsort((np.arange(instance.n), vol))
    M = instance.M
    total = Fraction(0)
    P = 0
    for i in order:
        i = int(i)
        v = int(vol[i])
        s_round = _tokens_round_sum(P + v, M) - _tokens_round_sum(P, M)
        P += v
        o = int(instance.output[i])
        shape = run_shape(int(instance.prompt[i]), o)
        moment = int((np.arange(1, o + 1) * shape).sum())  # c_i · vol_i
        total += Fraction(s_round - moment, v) + o - int(instance.arrival[i])
    return int(-((-total.numerator) // total.denominator))


#: The closed-form bounds by the name :func:`~lpsched.offline.bounds.report.lower_bounds` reports.
CLOSED_FORM_BOUNDS = {"sum_output": sum_output_bound, "volume_rank": volume_rank_bound, "mean_busy": mean_busy_bound}
