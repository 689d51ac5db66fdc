"""Measuring a policy's ratio ``TEL(policy) / OPT`` on one instance, with the direction of every bound.

Two quantities bracket the true ratio ``ρ = TEL / OPT``:

* ``ratio_at_least = TEL / UB`` where ``UB`` is the TEL of a *verified feasible schedule*. Since
  ``OPT <= UB``, ``ρ >= TEL / UB``: this is the **conservative** number for a "worst case found"
  claim (it never overstates how bad the policy is);
* ``ratio_at_most = TEL / LB`` where ``LB`` is a *certified lower bound* on ``OPT`` (docs/model.md §6).
  Since ``OPT >= LB``, ``ρ <= TEL / LB``: an **upper bound** on the true ratio, useful to say how
  much is left, never to claim a bad case.

When the two meet (``UB == LB``, by the solver's proof or because a bound is attained) the ratio is
exact and ``ratio`` is set. :func:`quick_ratio` is the cheap, deterministic proxy the search
maximises (``UB`` from the clairvoyant heuristics, no solver); :func:`certify` runs the hindsight IP
(:func:`lpsched.offline.solve_hindsight`) and returns a :class:`RatioCertificate`.

:func:`certified_ratio` is the objective at scale (thousands of jobs): no proof of optimality is
needed for a lower bound on the ratio, so the best verified schedule comes from the primal
heuristics (H-SF, list and fluid schedules, local search) and, where a budget is given, the window
search; the IP runs only on small instances, where it can prove. Each result is an interval
``[TEL/UB, TEL/LB]`` labelled ``exact`` (``UB == LB``) or ``lower bound``, and carries its
certificate: the verified schedule's starts, which anyone can re-check with
:func:`lpsched.verify.verify_schedule`.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..instance import Instance
from ..offline import lower_bounds, solve_hindsight
from ..offline.formulation.objective import tel_of
from ..offline.primal.window_search import window_search
from ..offline.schedules.heuristics import best_schedule
from ..online import SimResult, simulate
from ..verify import require_feasible, verify_schedule

__all__ = ["RatioCertificate", "QuickRatio", "quick_ratio", "certify", "CertifiedRatio", "certified_ratio",
           "EXACT", "LOWER_BOUND"]

#: Labels of a :class:`CertifiedRatio`: the ratio is pinned, or only bounded from below.
EXACT, LOWER_BOUND = "exact", "lower bound"


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
        Best certified lower bound on OPT (solver bound or docs/model.md §6 bounds).
    ratio : float or None
        ``tel / OPT`` when OPT is proven, else ``None``.
    ratio_at_least : float
        ``tel / best_schedule`` — conservative: the true ratio is at least this.
    ratio_at_most : float
        ``tel / lower_bound`` — the true ratio is at most this.
    solver_seconds : float
    schedule_starts : dict id -> round
        The best verified schedule (TEL ``best_schedule``): the certificate of ``ratio_at_least``.
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
    schedule_starts: dict[str, int] | None = None

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
    checked = require_feasible(verify_schedule(instance, sol.starts), "certify")
    ub = int(sol.objective)
    if checked.tel != ub:
        raise AssertionError(f"certify: the solver's schedule has TEL {checked.tel}, not {ub}")
    lb = max(int(sol.bound or 0), int(lbs.bound))
    proven = sol.status == "OPTIMAL" or lb >= ub
    if proven:
        method = "bounds" if int(lbs.bound) >= ub else "ip"
        lb = ub
    else:
        method = "unproven"
    return RatioCertificate(
        policy=policy, policy_options=opts, tel=sim.tel, evictions=sim.evictions,
        wasted_tokens=sim.wasted_tokens, opt_status="OPTIMAL" if proven else "FEASIBLE",
        opt_method=method, best_schedule=ub, lower_bound=lb,
        ratio=sim.tel / ub if proven else None, ratio_at_least=sim.tel / ub,
        ratio_at_most=sim.tel / lb if lb > 0 else float("inf"), solver_seconds=sol.seconds,
        schedule_starts={jid: int(sol.starts[jid]) for jid in instance.ids},
    )


@dataclass(frozen=True)
class CertifiedRatio:
    """``TEL(policy)/OPT`` bracketed by a verified schedule and a certified lower bound.

    Attributes
    ----------
    policy, policy_options : the policy simulated (deterministic) and its options.
    tel, evictions, wasted_tokens : int
        The policy's TEL (verified by the simulator), evictions and wasted output tokens.
    schedule_tel : int
        TEL of the best verified schedule found (an upper bound ``UB`` on OPT).
    schedule_method : str
        Where it came from (a heuristic's name, ``+window``, or ``ip``).
    starts : dict id -> round
        That schedule: the certificate (re-checkable without the solver).
    lower_bound : int
        A certified lower bound ``LB`` on OPT (docs/model.md §6 bounds, or the IP's bound).
    ratio_lower : float
        ``tel / schedule_tel``: the true ratio is at least this (a certified lower bound).
    ratio_upper : float
        ``tel / lower_bound``: the true ratio is at most this.
    kind : str
        :data:`EXACT` when ``UB == LB`` (then both ratios are equal), else :data:`LOWER_BOUND`.
    seconds : float
        Wall time spent.
    """

    policy: str
    policy_options: dict[str, Any]
    tel: int
    evictions: int
    wasted_tokens: int
    schedule_tel: int
    schedule_method: str
    starts: dict[str, int]
    lower_bound: int
    ratio_lower: float
    ratio_upper: float
    kind: str
    seconds: float

    def certificate(self) -> dict[str, Any]:
        """``{"starts": {id: round}, "tel": int}``: the schedule behind ``ratio_lower``."""
        return {"starts": dict(self.starts), "tel": self.schedule_tel}

    def to_dict(self, *, with_starts: bool = False) -> dict[str, Any]:
        """JSON-ready dict (the starts only with ``with_starts``: they are large)."""
        d = asdict(self)
        if not with_starts:
            d.pop("starts")
        return d


def certified_ratio(
    instance: Instance,
    policy: str,
    policy_options: dict[str, Any] | None = None,
    *,
    seconds: float = 1.0,
    window_seconds: float = 0.0,
    ip_max_n: int = 16,
    ip_time_limit: float = 30.0,
    seed: int = 0,
) -> CertifiedRatio:
    """The certified interval ``[TEL/UB, TEL/LB]`` of ``policy`` on ``instance``, and its certificate.

    Parameters
    ----------
    instance : Instance
    policy : str
        A registered policy name.
    policy_options : dict, optional
        Options passed to :func:`lpsched.online.simulate` (engine options included).
    seconds : float
        Budget of :func:`lpsched.offline.schedules.heuristics.best_schedule` (its local search and pace
        tuning); the policy's own final starts are offered as a candidate too.
    window_seconds : float
        Then improve the best schedule with :func:`lpsched.offline.primal.window_search.window_search`
        for this long (0: skip).
    ip_max_n : int
        Up to this many jobs, also run the hindsight IP (``ip_time_limit`` seconds, one worker,
        the best schedule as a hint): its schedule and bound are used, and its proof makes the
        ratio exact.
    seed : int

    Returns
    -------
    CertifiedRatio
        ``ratio_lower`` never overstates the ratio: the schedule is verified here
        (:func:`lpsched.verify.verify_schedule`) and its TEL recomputed by the verifier.
    """
    t0 = time.perf_counter()
    opts = dict(policy_options or {})
    sim = simulate(instance, policy, **opts)
    policy_starts = _policy_starts(instance, sim)
    starts, method, _ = best_schedule(instance, seconds=seconds, seed=seed, extra={"policy": policy_starts})
    if window_seconds > 0:
        better = window_search(instance, starts, seconds=window_seconds, seed=seed)
        if tel_of(instance, better) < tel_of(instance, starts):
            starts, method = better, f"{method}+window"
    lb = int(lower_bounds(instance).bound)
    if instance.n <= ip_max_n and lb < tel_of(instance, starts):
        sol = solve_hindsight(instance, time_limit=ip_time_limit, workers=1, seed=seed, hint=starts)
        ip_starts = np.array([int(sol.starts[jid]) for jid in instance.ids], dtype=np.int64) if sol.starts else None
        if ip_starts is not None and verify_schedule(instance, ip_starts).feasible \
                and tel_of(instance, ip_starts) <= tel_of(instance, starts):
            starts, method = ip_starts, "ip"
        if sol.status == "OPTIMAL":
            lb = max(lb, int(sol.objective))
        elif sol.bound is not None:
            lb = max(lb, int(np.ceil(sol.bound - 1e-9)))
    res = require_feasible(verify_schedule(instance, starts), "certified_ratio")
    ub = int(res.tel)
    if lb > ub:
        raise AssertionError(f"certified_ratio: lower bound {lb} above a verified schedule's TEL {ub} (a bug)")
    return CertifiedRatio(
        policy=policy, policy_options=opts, tel=sim.tel, evictions=sim.evictions,
        wasted_tokens=sim.wasted_tokens, schedule_tel=ub, schedule_method=method,
        starts={jid: int(k) for jid, k in zip(instance.ids, starts, strict=True)}, lower_bound=lb,
        ratio_lower=sim.tel / ub, ratio_upper=sim.tel / lb if lb > 0 else float("inf"),
        kind=EXACT if lb >= ub else LOWER_BOUND, seconds=time.perf_counter() - t0,
    )
