"""The LP bounds of an instance: the LP relaxation and the chain LP of the time-indexed model.

Both build the model on the valid horizon of a heuristic schedule
(:func:`~lpsched.offline.schedules.heuristics.best_schedule` without search) and return the
Lagrangian bound of GLOP's last duals, rounded up (:func:`~.lp.integer_bound`): certified whatever
the duals. :func:`~.report.lower_bounds` reports them next to the closed-form bounds.
"""

from __future__ import annotations

import numpy as np

from ...instance import Instance
from ..formulation.model import build_model, truncated_nonzeros
from ..formulation.objective import tel_of
from ..schedules.heuristics import best_schedule
from .chain import long_jobs, solve_chain_lp
from .lp import integer_bound, solve_lp

__all__ = ["lp_relaxation_bound", "chain_lp_bound"]


def lp_relaxation_bound(instance: Instance, *, time_limit: float = 60.0, seed: int = 0,
                        horizon_factor: float | None = 1.25, max_nonzeros: int = 20_000_000) -> int | None:
    """The LP relaxation of the time-indexed IP (GLOP), rounded up; ``None`` if GLOP returns no
    duals in time or the LP would have more than ``max_nonzeros`` entries (compact form,
    :func:`~lpsched.offline.formulation.model.truncated_nonzeros`).

    The model is the aggregated one of :func:`lpsched.offline.formulation.model.build_model`, on the provably
    valid horizon of :func:`lpsched.offline.formulation.horizon.latest_completions` (computed from the TEL of a
    heuristic schedule, :func:`lpsched.offline.schedules.heuristics.best_schedule`), cut at
    ``horizon_factor`` × that schedule's makespan with late variables (``truncate``; ``None``: no
    cut). The cut keeps large instances tractable: at n = 1000 the valid horizon is ~25× the
    makespan. Large LPs are solved by column generation seeded with the heuristic schedule
    (:func:`lpsched.offline.bounds.lp.solve_lp`).

    Validity: some optimal schedule completes every job within the valid horizon, so it is a
    feasible integer point of the uncut model, of cost equal to its TEL; with the cut, it maps to a
    point of no higher cost (``build_model``'s ``truncate`` argument proves it). The value returned
    is the Lagrangian bound ``L`` of :mod:`lpsched.offline.bounds.lp` computed from GLOP's last duals,
    which bounds every point of the LP whatever the duals (so also when the column generation ran
    out of time); it is at most the LP optimum, hence at most the optimal TEL. It is rounded up
    after subtracting a relative tolerance of ``1e-6``, so floating point cannot push it above the
    true bound by more than that margin.
    """
    if instance.n == 0:
        return 0
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
    """The chain LP (:mod:`lpsched.offline.bounds.chain`): the LP relaxation plus the chain of the jobs
    that peak above ``M/2``, rounded up; ``None`` when no two jobs peak above ``M/2`` (it is then
    the LP relaxation) or GLOP returns no duals in time.

    Validity (proof in the module): on the uncut valid horizon (as :func:`lp_relaxation_bound`,
    without the cut) some optimal schedule is a point of the chain LP, and the value returned is the
    Lagrangian bound from GLOP's duals, which bounds every schedule whatever the duals; rounded as
    :func:`lpsched.offline.bounds.lp.integer_bound`. Much stronger than the LP where many jobs are long
    (the Jaillet regime); slower too (~30 s at n = 50 there).
    """
    if int(long_jobs(instance).sum()) < 2:
        return None
    inc, _, _ = best_schedule(instance, seconds=0.0, seed=seed)
    res = solve_chain_lp(build_model(instance, tel_of(instance, inc)), time_limit=time_limit)
    return integer_bound(res.bound) if np.isfinite(res.bound) else None
