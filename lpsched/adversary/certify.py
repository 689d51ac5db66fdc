"""Measuring a policy's ratio ``TEL(policy) / OPT`` on one instance, with the direction of every bound.

Two quantities bracket the true ratio ``ρ = TEL / OPT``:

* ``ratio_at_least = TEL / UB`` where ``UB`` is the TEL of a *verified feasible schedule*. Since
  ``OPT <= UB``, ``ρ >= TEL / UB``: this is the **conservative** number for a "worst case found"
  claim (it never overstates how bad the policy is);
* ``ratio_at_most = TEL / LB`` where ``LB`` is a *certified lower bound* on ``OPT`` (MODEL.md §6).
  Since ``OPT >= LB``, ``ρ <= TEL / LB``: an **upper bound** on the true ratio, useful to say how
  much is left, never to claim a bad case.

When the two meet (``UB == LB``, by the solver's proof or because a bound is attained) the ratio is
exact and ``ratio`` is set. :func:`quick_ratio` is the cheap, deterministic proxy the search
maximises (``UB`` from the clairvoyant heuristics, no solver); :func:`certify` runs the hindsight IP
(:func:`lpsched.offline.solve_hindsight`) and returns a :class:`RatioCertificate`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..instance import Instance
from ..offline import lower_bounds, solve_hindsight
from ..offline.formulation.objective import tel_of
from ..offline.schedules.heuristics import best_schedule
from ..online import SimResult, simulate

__all__ = ["RatioCertificate", "QuickRatio", "quick_ratio", "certify"]


@dataclass(frozen=True)
class QuickRatio:
    """The search's proxy: the policy's TEL and the best heuristic schedule's TEL (no solver).

    ``value = tel / ub`` is a certified *lower* bound on the true ratio (``ub`` is verified).
    """

    tel: int
    ub: int
    value: float
    sim: SimResult


@dataclass(frozen=True)
class RatioCertificate:
    """How bad ``policy`` is on one instance, with proof.

    Attributes
    ----------
    policy, policy_options : the policy simulated (deterministic).
    tel : int
        Its total end-to-end latency (verified by the simulator).
    evictions, wasted_tokens : int
        Its evictions and wasted output tokens.
    opt_status : str
        ``OPTIMAL`` (proved) or ``FEASIBLE`` (a verified schedule without proof).
    opt_method : str
        How the optimum was certified: ``ip`` (solver proof), ``bounds`` (a certified lower bound
        equals a verified schedule's TEL) or ``unproven``.
    best_schedule : int
        TEL of the best verified schedule (an upper bound on OPT).
    lower_bound : int
        Best certified lower bound on OPT (solver bound or MODEL.md §6 bounds).
    ratio : float or None
        ``tel / OPT`` when OPT is proven, else ``None``.
    ratio_at_least : float
        ``tel / best_schedule`` — conservative: the true ratio is at least this.
    ratio_at_most : float
        ``tel / lower_bound`` — the true ratio is at most this.
    solver_seconds : float
    """

    policy: str
    policy_options: dict[str, Any]
    tel: int
    evictions: int
    wasted_tokens: int
    opt_status: str
    opt_method: str
    best_schedule: int
    lower_bound: int
    ratio: float | None
    ratio_at_least: float
    ratio_at_most: float
    solver_seconds: float

    @property
    def proven(self) -> bool:
        """True when the ratio is exact (OPT proven)."""
        return self.ratio is not None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the form kept in an instance's ``meta``)."""
        return asdict(self)


def _policy_starts(instance: Instance, sim: SimResult) -> np.ndarray:
    return np.array([sim.starts[jid] for jid in instance.ids], dtype=np.int64)


def quick_ratio(instance: Instance, policy: str, policy_options: dict[str, Any] | None = None) -> QuickRatio:
    """``TEL(policy) / UB`` with ``UB`` from :func:`lpsched.offline.schedules.heuristics.best_schedule`.

    Deterministic (the heuristics' local search is given no time, so only its deterministic
    left-justification runs). The policy's own final starts are a feasible schedule and are offered
    as a candidate, so ``value >= 1``. The history is recorded (``sim.history``) for the adaptive
    moves of the search.
    """
    opts = dict(policy_options or {})
    sim = simulate(instance, policy, record_history=True, **opts)
    starts, _, _ = best_schedule(instance, seconds=0.0, extra={"policy": _policy_starts(instance, sim)})
    ub = tel_of(instance, starts)
    return QuickRatio(tel=sim.tel, ub=ub, value=sim.tel / ub, sim=sim)


def certify(
    instance: Instance,
    policy: str,
    policy_options: dict[str, Any] | None = None,
    *,
    time_limit: float = 30.0,
    workers: int = 1,
    seed: int = 0,
) -> RatioCertificate:
    """Simulate ``policy`` and solve the hindsight IP; bracket (or pin) the ratio.

    Parameters
    ----------
    instance : Instance
    policy : str
        A registered policy name.
    policy_options : dict, optional
        Options passed to :func:`lpsched.online.simulate`.
    time_limit, workers, seed
        Passed to :func:`lpsched.offline.solve_hindsight` (``workers=1`` by default: the machine is
        shared).

    Returns
    -------
    RatioCertificate
    """
    opts = dict(policy_options or {})
    sim = simulate(instance, policy, **opts)
    sol = solve_hindsight(instance, time_limit=time_limit, workers=workers, seed=seed,
                          hint=_policy_starts(instance, sim))
    lbs = lower_bounds(instance)
    ub = int(sol.objective)
    lb = max(int(sol.bound or 0), int(lbs["best_value"]))
    proven = sol.status == "OPTIMAL" or lb >= ub
    if proven:
        method = "bounds" if int(lbs["best_value"]) >= ub else "ip"
        lb = ub
    else:
        method = "unproven"
    return RatioCertificate(
        policy=policy, policy_options=opts, tel=sim.tel, evictions=sim.evictions,
        wasted_tokens=sim.wasted_tokens, opt_status="OPTIMAL" if proven else "FEASIBLE",
        opt_method=method, best_schedule=ub, lower_bound=lb,
        ratio=sim.tel / ub if proven else None, ratio_at_least=sim.tel / ub,
        ratio_at_most=sim.tel / lb if lb > 0 else float("inf"), solver_seconds=sol.seconds,
    )
