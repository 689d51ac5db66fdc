"""A provably valid horizon for the time-indexed IP (docs/model.md §6).

Two rules, both proved in :func:`latest_completions`; the solver takes, per job, the smaller of
the two and the horizon ``T`` is their maximum. A heuristic's makespan is never used as a horizon.
"""

from __future__ import annotations

import numpy as np

from ...instance import Instance
from .closed_form import volume_rank_bound

__all__ = ["latest_completions", "horizon_rule_idle", "horizon_rule_incumbent", "earliest_shift"]


def earliest_shift(instance: Instance) -> tuple[Instance, int]:
    """The instance with time counted from its earliest arrival ``a0``, and ``a0``.

    Shifting every arrival and every start by the same ``a0`` maps schedules to schedules one to one
    (memory per round is the same, rounds renumbered), and leaves every latency ``C_i − a_i``, hence
    the TEL and every bound, unchanged. Models, horizons and per-round arrays of the solver are built
    on the shifted instance, so a late first arrival (``a0 = 10^9``) costs nothing; the solver adds
    ``a0`` back to the starts it returns. ``a0 = 0`` returns the instance itself.
    """
    a0 = int(instance.arrival.min()) if instance.n else 0
    if a0 == 0:
        return instance, 0
    return instance.replace(arrival=instance.arrival - a0), a0


def horizon_rule_idle(instance: Instance) -> int:
    """``max_j a_j + Σ_j o_j``: some optimal schedule completes every job by then.

    Validity: take an optimal schedule with the fewest empty rounds after ``A = max_j a_j``. If a
    round ``τ > A`` had no active job while some job starts at or after ``τ``, starting every such
    job one round earlier keeps every start ``>= A >= a_i``, shifts their memory one round left
    into rounds that held only the same jobs' memory or none, and lowers TEL: a contradiction. So
    after ``A`` every round up to the makespan is busy, and a busy round is a round of some job's
    run: at most ``Σ o_j`` of them.
    """
    if instance.n == 0:
        return 0
    return int(instance.arrival.max() + instance.output.sum())


def horizon_rule_incumbent(instance: Instance, ub: int) -> np.ndarray:
    """Per job ``C_i <= a_i + UB − LB(all jobs but i)``, for every schedule of TEL ``<= UB``.

    ``LB`` is :func:`~lpsched.offline.formulation.closed_form.volume_rank_bound` of the instance without ``i``.

    Validity: a schedule of all jobs restricted to the jobs other than ``i`` is feasible for that
    sub-instance (removing a job only lowers memory), so its latencies sum to at least
    ``LB(all but i)``; hence ``L_i = TEL − Σ_{j≠i} L_j <= UB − LB(all but i)``.

    Parameters
    ----------
    instance : Instance
    ub : int
        TEL of a feasible schedule (or any value ``>=`` the optimum).

    Returns
    -------
    numpy.ndarray
        Latest completion of each job.
    """
    n = instance.n
    out = np.empty(n, dtype=np.int64)
    # Jobs with equal (a, s, o) have equal sub-instances up to relabelling: compute once per key.
    cache: dict[tuple[int, int, int], int] = {}
    for i in range(n):
        key = (int(instance.arrival[i]), int(instance.prompt[i]), int(instance.output[i]))
        if key not in cache:
            rest = np.r_[0:i, i + 1 : n]
            cache[key] = volume_rank_bound(instance.subset(rest)) if n > 1 else 0
        out[i] = int(instance.arrival[i]) + ub - cache[key]
    return out


def latest_completions(instance: Instance, ub: int | None) -> np.ndarray:
    """Latest completion ``D_i`` of each job such that some optimal schedule has ``C_i <= D_i``.

    The minimum of :func:`horizon_rule_incumbent` (which holds for *every* schedule of TEL
    ``<= UB``, in particular every optimal one) and :func:`horizon_rule_idle` (which holds for
    *some* optimal schedule; that schedule is optimal, so it satisfies the first rule too).
    ``D_i >= a_i + o_i`` always (both rules allow at least the job's own earliest completion when
    ``ub`` is a feasible schedule's TEL).

    Parameters
    ----------
    instance : Instance
    ub : int or None
        TEL of a feasible schedule; ``None`` uses the idle rule alone.

    Returns
    -------
    numpy.ndarray
        ``D_i`` per job; the horizon is ``D.max()``.
    """
    idle = np.full(instance.n, horizon_rule_idle(instance), dtype=np.int64)
    if ub is None:
        return idle
    d = np.minimum(idle, horizon_rule_incumbent(instance, int(ub)))
    return np.maximum(d, instance.arrival + instance.output)
