"""The best clairvoyant schedule of an instance (:func:`best_schedule`): incumbents and warm starts
for the hindsight IP.

These know the true lengths and place whole runs in time; they are offline tools, not online
policies (the online policies, H-SF and SVF among them, live in :mod:`lpsched.online`). The
candidates: the serial schedule, H-SF / SVF (:func:`online_schedules`), list schedules
(:mod:`.placement`), fluid-paced and tuned schedules (:mod:`.fluid`), the pilot method
(:mod:`.order_search`) and the caller's; the best two are improved by the local search
(:mod:`.local_search`) and the order search, and the result is verified.
"""

from __future__ import annotations

import time

import numpy as np

from ...baseline import serial_schedule
from ...instance import Instance
from ...online import simulate
from ...verify import require_feasible, verify_schedule
from ..formulation.objective import tel_of
from ..params import SolverParams
from .fluid import fluid_grid, tuned_fluid_schedule
from .local_search import improve
from .order_search import order_search, pilot_schedule
from .placement import list_schedule, priority_orders

__all__ = ["online_schedules", "best_schedule"]


def online_schedules(instance: Instance) -> dict[str, np.ndarray]:
    """H-SF and SVF schedules from :mod:`lpsched.online`.

    A policy that fails is left out; each returned schedule is verified before use.
    """
    out: dict[str, np.ndarray] = {}
    for name in ("hsf", "svf"):
        try:
            res = simulate(instance, name)
            k = np.array([int(res.starts[jid]) for jid in instance.ids], dtype=np.int64)
        except Exception:  # a policy that fails on this instance is left out, quietly
            continue
        if verify_schedule(instance, k).feasible:
            out[name] = k
    return out


def _candidates(instance: Instance, seconds: float, extra: dict[str, np.ndarray] | None,
                tune_seconds: float, pilot_max_jobs: int, pilot_share: float) -> dict[str, np.ndarray]:
    """The candidate schedules of :func:`best_schedule` by name: serial, H-SF / SVF, the list
    schedules, the fluid grid, the tuned pace (``tune_seconds``) and the pilot (up to
    ``pilot_max_jobs`` jobs, ``pilot_share`` of ``seconds``), and the feasible ones of ``extra``."""
    cands: dict[str, np.ndarray] = {"serial": serial_schedule(instance)}
    cands.update(online_schedules(instance))
    for name, order in priority_orders(instance).items():
        cands[f"list_{name}"] = list_schedule(instance, order)
    fluid = fluid_grid(instance)
    cands.update({f"fluid_{th:g}_{off:g}": k for (th, off), k in fluid.items()})
    if tune_seconds > 0 and instance.n > 1:
        th, b = min(fluid, key=lambda key: tel_of(instance, fluid[key]))
        cands["fluid_tuned"], _ = tuned_fluid_schedule(instance, theta=th, beta=b, seconds=tune_seconds)
    if seconds > 0 and 2 < instance.n <= pilot_max_jobs:
        cands["pilot"] = pilot_schedule(instance, seconds=pilot_share * seconds)
    for name, k in (extra or {}).items():
        k = np.asarray(k, dtype=np.int64)
        if k.shape == (instance.n,) and verify_schedule(instance, k).feasible:
            cands[name] = k
    return cands


def best_schedule(
    instance: Instance,
    *,
    seconds: float = 1.0,
    seed: int = 0,
    extra: dict[str, np.ndarray] | None = None,
    tune_seconds: float | None = None,
    orders: bool | None = None,
    tune_min_jobs: int = SolverParams.tune_min_jobs,
    order_search_max_jobs: int = SolverParams.order_search_max_jobs,
    pilot_max_jobs: int = SolverParams.pilot_max_jobs,
    pilot_share: float = SolverParams.pilot_share,
) -> tuple[np.ndarray, str, dict[str, int]]:
    """The best schedule of every heuristic here, improved by :func:`improve` and :func:`order_search`.

    Parameters
    ----------
    instance : Instance
    seconds : float
        Total budget: the pace tuning and the local search share what building the candidate
        schedules leaves of it.
    seed : int
    extra : dict name -> starts, optional
        Further candidate schedules (e.g. a user's hint); infeasible ones are ignored.
    tune_seconds : float, optional
        Cap of :func:`tuned_fluid_schedule`, started from the best fixed pace; 0 skips it. By
        default ``seconds / 2`` from ``tune_min_jobs`` jobs on, 0 below (measured with a 4 s
        budget: on paper-regime and Jaillet instances with n <= 100 the time is better spent on
        local search; at n = 1000, α = 1/32 the tuned pace is 5.7 % better than any fixed one). The
        local search gets what is left of ``seconds``: :func:`improve` from the two best starting
        points, and with ``orders``, half of it to :func:`order_search` from the best schedule so
        far.
    orders : bool, optional
        Spend half of the search on :func:`order_search`; by default up to
        ``order_search_max_jobs`` jobs. (:func:`~lpsched.offline.pipeline.solve_hindsight` turns
        it off and runs the order search only when the LP shows a proof out of reach: its time is
        the solver's otherwise.)
    tune_min_jobs, order_search_max_jobs, pilot_max_jobs, pilot_share
        The thresholds of the pace tuning, the order search and the pilot method (the fields of
        :class:`~lpsched.offline.params.SolverParams` of the same names, and their defaults).

    Returns
    -------
    (starts, name, tels)
        The best starts, the name of the heuristic it came from (``+ls`` when :func:`improve`
        improved it, ``+orders`` when :func:`order_search` did) and the TEL of every candidate.

    Raises
    ------
    ScheduleVerificationError
        If the chosen schedule fails verification (a bug).
    """
    t0 = time.perf_counter()
    if tune_seconds is None:
        tune_seconds = seconds / 2 if instance.n >= tune_min_jobs else 0.0
    cands = _candidates(instance, seconds, extra, tune_seconds, pilot_max_jobs, pilot_share)
    tels = {name: tel_of(instance, k) for name, k in cands.items()}
    ranked = sorted(tels, key=lambda nm: tels[nm])
    best_name = ranked[0]
    best = cands[best_name]
    ls = max(0.0, seconds - (time.perf_counter() - t0)) if seconds > 0 else 0.0
    orders = ls > 0 and (instance.n <= order_search_max_jobs if orders is None else orders)
    # the pilot's list order is a poor start for the time-window moves of improve (measured on
    # Jaillet et al.'s instances): it competes as it is
    for j, name in enumerate([nm for nm in ranked if nm != "pilot"][:2]):
        k = improve(instance, cands[name], seconds=ls / (4 if orders else 2), seed=seed + j)
        if tel_of(instance, k) < tel_of(instance, best):
            best, best_name = k, f"{name}+ls"
    if orders:
        k = order_search(instance, best, seconds=max(0.0, seconds - (time.perf_counter() - t0)), seed=seed)
        if tel_of(instance, k) < tel_of(instance, best):
            best, best_name = k, f"{best_name}+orders"
    require_feasible(verify_schedule(instance, best), "offline heuristic")
    return best, best_name, tels
