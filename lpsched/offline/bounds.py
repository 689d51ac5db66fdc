"""Certified lower bounds on the hindsight-optimal TEL (MODEL.md §6), each with its validity proof.

Every function takes an :class:`~lpsched.instance.Instance` and returns an integer ``B`` such that
every feasible schedule has ``TEL >= B``. :func:`lower_bounds` evaluates all of them and says which
is tightest.
"""

from __future__ import annotations

import numpy as np

from ..instance import Instance

__all__ = ["sum_output_bound", "volume_rank_bound", "job_volumes", "lower_bounds"]


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
    length ``a_i + o_i`` (``= o_[j]`` when all jobs arrive at 0, MODEL.md §6).

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


def lower_bounds(instance: Instance) -> dict[str, int | str]:
    """Every cheap certified bound, with the name of the tightest under ``"best"``."""
    values: dict[str, int] = {
        "sum_output": sum_output_bound(instance),
        "volume_rank": volume_rank_bound(instance),
    }
    best = max(values, key=lambda k: values[k])
    return {**values, "best": best, "best_value": values[best]}
