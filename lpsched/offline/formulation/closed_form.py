"""Certified lower bounds on the hindsight-optimal TEL (MODEL.md §6), each with its validity proof.

Every function takes an :class:`~lpsched.instance.Instance` and returns an integer ``B`` such that
every feasible schedule has ``TEL >= B``. :func:`lower_bounds` evaluates all of them and says which
is tightest.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from ..instance import Instance

__all__ = [
    "sum_output_bound",
    "volume_rank_bound",
    "mean_busy_bound",
    "lp_relaxation_bound",
    "chain_lp_bound",
    "job_volumes",
    "lower_bounds",
]


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
    from .classes import run_shape

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


def lp_relaxation_bound(instance: Instance, *, time_limit: float = 60.0, seed: int = 0,
                        horizon_factor: float | None = 1.25, max_nonzeros: int = 20_000_000) -> int | None:
    """The LP relaxation of the time-indexed IP (GLOP), rounded up; ``None`` if GLOP returns no
    duals in time or the LP would have more than ``max_nonzeros`` entries (compact form,
    :func:`~lpsched.offline.model.truncated_nonzeros`).

    The model is the aggregated one of :func:`lpsched.offline.model.build_model`, on the provably
    valid horizon of :func:`lpsched.offline.horizon.latest_completions` (computed from the TEL of a
    heuristic schedule, :func:`lpsched.offline.heuristics.best_schedule`), cut at
    ``horizon_factor`` × that schedule's makespan with late variables (``truncate``; ``None``: no
    cut). The cut keeps large instances tractable: at n = 1000 the valid horizon is ~25× the
    makespan. Large LPs are solved by column generation seeded with the heuristic schedule
    (:func:`lpsched.offline.lp.solve_lp`).

    Validity: some optimal schedule completes every job within the valid horizon, so it is a
    feasible integer point of the uncut model, of cost equal to its TEL; with the cut, it maps to a
    point of no higher cost (``build_model``'s ``truncate`` argument proves it). The value returned
    is the Lagrangian bound ``L`` of :mod:`lpsched.offline.lp` computed from GLOP's last duals,
    which bounds every point of the LP whatever the duals (so also when the column generation ran
    out of time); it is at most the LP optimum, hence at most the optimal TEL. It is rounded up
    after subtracting a relative tolerance of ``1e-6``, so floating point cannot push it above the
    true bound by more than that margin.
    """
    if instance.n == 0:
        return 0
    from .heuristics import best_schedule, tel_of
    from .lp import integer_bound, solve_lp
    from .model import build_model, truncated_nonzeros

    inc, _, _ = best_schedule(instance, seconds=0.0, seed=seed)
    cut = None if horizon_factor is None else int(horizon_factor * int((inc + instance.output).max()))
    if cut is not None and truncated_nonzeros(instance, cut) > max_nonzeros:
        return None
    model = build_model(instance, tel_of(instance, inc), truncate=cut)
    res = solve_lp(model, time_limit=time_limit, start_hint=inc)
    if not np.isfinite(res.bound):
        return None
    return integer_bound(res.bound)


def chain_lp_bound(instance: Instance, *, time_limit: float = 60.0, seed: int = 0) -> int | None:
    """The chain LP (:mod:`lpsched.offline.chain`): the LP relaxation plus the chain of the jobs
    that peak above ``M/2``, rounded up; ``None`` when no two jobs peak above ``M/2`` (it is then
    the LP relaxation) or GLOP returns no duals in time.

    Validity (proof in the module): on the uncut valid horizon (as :func:`lp_relaxation_bound`,
    without the cut) some optimal schedule is a point of the chain LP, and the value returned is the
    Lagrangian bound from GLOP's duals, which bounds every schedule whatever the duals; rounded as
    :func:`lpsched.offline.lp.integer_bound`. Much stronger than the LP where many jobs are long
    (the Jaillet regime); slower too (~30 s at n = 50 there).
    """
    from .chain import long_jobs, solve_chain_lp

    if int(long_jobs(instance).sum()) < 2:
        return None
    from .heuristics import best_schedule, tel_of
    from .lp import integer_bound
    from .model import build_model

    inc, _, _ = best_schedule(instance, seconds=0.0, seed=seed)
    res = solve_chain_lp(build_model(instance, tel_of(instance, inc)), time_limit=time_limit)
    return integer_bound(res.bound) if np.isfinite(res.bound) else None


def lower_bounds(instance: Instance, lp: bool = False, lp_time_limit: float = 60.0) -> dict[str, int | str]:
    """Every certified bound, with the name of the tightest under ``"best"``.

    Parameters
    ----------
    instance : Instance
    lp : bool
        Also solve the LP relaxation (:func:`lp_relaxation_bound`) and, when at least two jobs
        peak above ``M/2``, the chain LP (:func:`chain_lp_bound`); slower.
    lp_time_limit : float
        Seconds for GLOP.

    Returns
    -------
    dict
        Bound name -> value, plus ``best`` (name of the tightest) and ``best_value``.
    """
    values: dict[str, int] = {
        "sum_output": sum_output_bound(instance),
        "volume_rank": volume_rank_bound(instance),
        "mean_busy": mean_busy_bound(instance),
    }
    if lp:
        v = lp_relaxation_bound(instance, time_limit=lp_time_limit)
        if v is not None:
            values["lp_relaxation"] = v
        v = chain_lp_bound(instance, time_limit=lp_time_limit)
        if v is not None:
            values["chain_lp"] = v
    best = max(values, key=lambda k: values[k])
    return {**values, "best": best, "best_value": values[best]}
