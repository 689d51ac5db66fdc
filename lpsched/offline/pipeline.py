"""``solve_hindsight``: the hindsight optimum of MODEL.md §6, with proof or with a certified gap.

Pipeline: (1) incumbent from the clairvoyant heuristics (:mod:`~lpsched.offline.heuristics`, with
H-SF/SVF from :mod:`lpsched.online` when available, and the caller's hint); (2) certified lower
bounds (:mod:`~lpsched.offline.bounds`); if they meet the incumbent, it is optimal by proof;
(3) the time-indexed model with class aggregation and the provably valid horizon
(:mod:`~lpsched.offline.model`), solved by CP-SAT or CBC with the incumbent as hint;
(4) the best schedule is verified (:func:`lpsched.verify.verify_schedule` +
:func:`~lpsched.verify.require_feasible`) before it is returned.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ..errors import OptionError
from ..instance import Instance
from ..verify import require_feasible, starts_array, verify_schedule
from .backend import BackendOutcome, StopSignal
from .bounds import lower_bounds
from .chain import long_jobs, solve_chain_lp
from .classes import class_counts
from .cpsat import solve_cpsat
from .heuristics import ORDER_SEARCH_MAX_JOBS, best_schedule, improve, order_search, tel_of
from .large import LARGE_MODEL_VARIABLES, LargeBudget, large_search
from .lp import LPResult, integer_bound, solve_lp
from .model import build_model, restrict, starts_of_values
from .progress import ProgressEvent, Reporter
from .result import SolveResult

__all__ = ["solve_hindsight", "BACKENDS", "FORMULATIONS"]

BACKENDS = ("cpsat", "highs", "pulp")
FORMULATIONS = ("auto", "cumulative", "strong", "hybrid", "plain")


def is_tight(instance: Instance) -> bool:
    """At least two jobs peak above ``M/2`` (so no-overlap structure exists): the ``auto`` rule
    picks the interval/cumulative model then, the time-indexed ``strong`` model otherwise."""
    return int(long_jobs(instance).sum()) >= 2


#: Share of the time limit ``auto`` gives ``strong`` before trying ``cumulative`` on tight instances.
AUTO_STRONG_SHARE = 0.5
#: Tight instances whose model has at most this many start variables get the chain LP (chain.py)
#: before the LP (Jaillet regime, n = 50: 40,000 variables, ~18 s with column generation).
CHAIN_MAX_VARIABLES = 150_000
#: Share of the time limit the chain LP may take (at least the LP's share).
CHAIN_SHARE = 0.8
#: From this many jobs on, ``auto`` first builds the model on the cheap heuristics' schedule to see
#: whether it exceeds :data:`~lpsched.offline.large.LARGE_MODEL_VARIABLES` (paper regime: from
#: n ≈ 100 at α = 1/8, n ≈ 50 at α = 1/32 it comes close); costs well under a second below it.
LARGE_PROBE_JOBS = 100


def choose_formulation(instance: Instance, backend: str = "cpsat") -> str:
    """What ``auto`` runs: ``strong``, or the ``strong``-then-``cumulative`` portfolio on tight
    instances (``"portfolio"``); always ``strong`` for the PuLP backend."""
    if backend != "cpsat":
        return "strong"
    return "portfolio" if is_tight(instance) else "strong"


def _auto_portfolio(instance: Instance, time_limit: float, t0: float, **kw: Any) -> SolveResult:
    """``strong`` for a share of the budget; if unproven, ``cumulative`` for the rest, warm-started
    and with the relaxation the first call solved (:func:`_reused_lp`): the LP (on tight instances
    the chain LP, which may take most of a call's budget) is solved once.

    Measured (docs/offline.md): ``strong`` proves small tight instances (adversarial A_min
    constructions, n = 16) in about a second where ``cumulative`` stalls, while ``cumulative`` proves
    some reduced Jaillet instances that ``strong`` leaves open. Both results are verified; the
    better schedule and the larger proven bound are returned (each bound is valid on its own).
    """
    # the LP (chain LP) is solved once, in the first call, with the whole call's LP budget; the
    # strong model's solver gets AUTO_STRONG_SHARE of what is left, the interval model the rest
    shared: dict[str, Any] = {"lp_time": CHAIN_SHARE * time_limit}
    first = _solve(instance, time_limit=time_limit, formulation="strong", shared=shared,
                   solver_share=AUTO_STRONG_SHARE, **kw)
    if first.status == "OPTIMAL":
        first.info["formulation"] = "auto: strong"
        first.seconds = time.perf_counter() - t0
        return first
    remaining = max(0.5, time_limit - (time.perf_counter() - t0))
    kw = {**kw, "hint": first.starts}
    second = _solve(instance, time_limit=remaining, formulation="cumulative", shared=shared, **kw)
    best = second if second.objective <= first.objective else first
    obj = best.objective
    status, bound, gap = _status(obj, max(first.bound, second.bound))
    info = {**best.info, "formulation": "auto: strong then cumulative", "lp_reused": bool(second.info.get("lp_reused")),
            "strong": {"objective": first.objective, "bound": first.bound, "seconds": first.seconds},
            "cumulative": {"objective": second.objective, "bound": second.bound, "seconds": second.seconds}}
    return SolveResult(
        status=status, objective=obj, bound=bound, gap=gap, starts=best.starts,
        seconds=time.perf_counter() - t0, backend=best.backend,
        n_variables=best.n_variables, n_constraints=best.n_constraints, horizon=best.horizon,
        incumbent=best.incumbent, info=info,
    )


def _hint_array(instance: Instance, hint: Any) -> np.ndarray | None:
    if hint is None:
        return None
    if isinstance(hint, Mapping):
        return starts_array(instance, hint)
    arr = np.asarray(hint, dtype=np.int64)
    if arr.shape != (instance.n,):
        raise OptionError(f"hint must give one start per job ({instance.n}), got shape {arr.shape}")
    return arr


def solve_hindsight(
    instance: Instance,
    *,
    backend: str = "cpsat",
    time_limit: float = 60.0,
    workers: int = 2,
    seed: int = 0,
    log: bool = False,
    hint: Mapping[str, int] | np.ndarray | None = None,
    formulation: str = "auto",
    heuristic_seconds: float | None = None,
    lp_fixing: bool = True,
    core_rows: int | None = None,
    progress: Callable[[ProgressEvent], None] | None = None,
) -> SolveResult:
    """Solve the hindsight IP of MODEL.md §6 (minimum total end-to-end latency).

    Parameters
    ----------
    instance : Instance
    backend : {"cpsat", "highs", "pulp"}
        OR-Tools CP-SAT (default; on the ``strong`` model of an instance that is not tight and with
        at least two workers, a portfolio of CP-SAT and OR-Tools' HiGHS MIP, on small models two
        HiGHS searches, see :func:`_run_backend`; ``info["backend_ran"]`` says what ran), HiGHS alone
        (OR-Tools' bundled HiGHS through MathOpt), or CBC through PuLP.
    time_limit : float
        Wall-clock budget in seconds for the whole solve (heuristics included).
    workers : int
        Solver threads.
    seed : int
        Seed of the solver and of the local search.
    log : bool
        Show the solver's log.
    hint : mapping id -> start, or int array, optional
        A schedule to warm-start from (used if feasible and better than the heuristics').
    formulation : {"auto", "cumulative", "strong", "hybrid", "plain"}
        ``strong``: the time-indexed model with class aggregation, both horizon rules, heuristic
        incumbent (hint, objective cut-off) and certified bound as an objective floor.
        ``cumulative`` (CP-SAT only): the exact interval model of :mod:`~lpsched.offline.cumulative`
        (staircase cumulative, redundant no-overlaps, symmetry breaking), with the same incumbent,
        horizon, LP bound and reduced-cost fixing (of start domains). ``hybrid`` (CP-SAT only): both
        models channelled (no aggregation). ``auto`` (default): ``strong``; when at least two jobs
        peak above ``M/2`` (:func:`is_tight`) and ``strong`` has not proven optimality within
        :data:`AUTO_STRONG_SHARE` of the time limit, ``cumulative`` gets the rest of it, warm-started
        from ``strong``'s best schedule, and the better schedule and the larger proven bound are
        kept (:func:`_auto_portfolio`). ``strong`` with PuLP. ``plain``:
        Jaillet et al.'s model as written — one 0/1 variable per job and start, the idle-rule
        horizon, the serial schedule as hint; kept for benchmarking.
    heuristic_seconds : float, optional
        Budget of the local search (default ``min(5, 0.1·time_limit)``).
    lp_fixing : bool
        (not ``plain``) Solve the LP relaxation first: its bound, and reduced-cost fixing of every
        variable that cannot be in a schedule better than the incumbent. Where the LP shows a
        proof is out of reach (instances that are not tight; :data:`WINDOW_MIN_VARIABLES`), window
        search improves the incumbent first, with up to :data:`WINDOW_SHARE` of the remaining time.
    core_rows : int, optional
        (not ``plain``) Peak thresholds of core no-overlap rows added to the time-indexed model
        (:func:`~lpsched.offline.model.build_model`); default 1 when :func:`is_tight`, else 0.
    progress : callable, optional
        Called with a :class:`~lpsched.offline.progress.ProgressEvent` at every stage the solve
        enters or finishes (best verified TEL and best certified bound so far); the last event,
        stage ``"done"``, carries the result's objective, bound and status.

    Returns
    -------
    SolveResult
        ``status`` is ``OPTIMAL`` only with a proof (solver status, or bound equal to value).

    Raises
    ------
    OptionError
        For an unknown backend or formulation, a bad ``time_limit``/``workers`` or a malformed hint.
    ScheduleVerificationError
        If a schedule produced here fails verification (a bug, never expected).
    """
    t0 = time.perf_counter()
    if backend not in BACKENDS:
        raise OptionError(f"unknown backend '{backend}' (known: {', '.join(BACKENDS)})")
    if formulation not in FORMULATIONS:
        raise OptionError(f"unknown formulation '{formulation}' (known: {', '.join(FORMULATIONS)})")
    if not time_limit > 0:
        raise OptionError(f"time_limit must be > 0, got {time_limit}")
    if workers < 1:
        raise OptionError(f"workers must be >= 1, got {workers}")
    rep = Reporter(progress, t0, ids=instance.ids)
    kw: dict[str, Any] = dict(backend=backend, workers=workers, seed=seed, log=log, hint=hint,
                              heuristic_seconds=heuristic_seconds, lp_fixing=lp_fixing, core_rows=core_rows, rep=rep)
    if formulation == "auto" and choose_formulation(instance, backend) == "portfolio":
        res = _auto_portfolio(instance, time_limit, t0, **kw)
    else:
        res = _solve(instance, time_limit=time_limit, formulation=formulation, t0=t0, **kw)
    rep.note("done", objective=res.objective, bound=res.bound, detail=res.status, starts=res.starts)
    return res


def _solve(instance: Instance, *, backend: str, time_limit: float, workers: int, seed: int, log: bool,
           hint: Mapping[str, int] | np.ndarray | None, formulation: str, heuristic_seconds: float | None,
           lp_fixing: bool, core_rows: int | None, t0: float | None = None,
           shared: dict[str, Any] | None = None, solver_share: float = 1.0,
           rep: Reporter | None = None) -> SolveResult:
    """The body of :func:`solve_hindsight` for one formulation (``auto`` is ``strong`` here).

    ``shared``: the store of :func:`_auto_portfolio`; the first call leaves its relaxation there and
    a later call on the same instance reuses it (:func:`_reused_lp`) instead of solving it again;
    ``shared["lp_time"]`` caps the chain LP instead of :data:`CHAIN_SHARE` of ``time_limit``.
    ``solver_share``: the integer solver gets this share of the time left when it starts.
    ``rep``: where the stages are reported (:mod:`~lpsched.offline.progress`).
    """
    t0 = time.perf_counter() if t0 is None else t0
    rep = Reporter(None, t0) if rep is None else rep
    auto = formulation == "auto"
    if auto:
        formulation = choose_formulation(instance, backend)
    if backend != "cpsat" and formulation in ("cumulative", "hybrid"):
        raise OptionError(f"formulation '{formulation}' needs the cpsat backend")
    info_form = formulation
    strong = formulation != "plain"
    hint_arr = _hint_array(instance, hint)
    info: dict[str, Any] = {"formulation": info_form}
    if instance.n == 0:
        return SolveResult("OPTIMAL", 0, 0, 0.0, {}, time.perf_counter() - t0, backend, incumbent="empty")

    # what the large path hands the rest of the budget to (the integer path on its schedule)
    then_integer = functools.partial(_solve, instance, backend=backend, time_limit=time_limit, workers=workers,
                                     seed=seed, log=log, formulation="strong", heuristic_seconds=0.0,
                                     lp_fixing=lp_fixing, core_rows=core_rows, t0=t0, rep=rep)

    # (1) incumbent
    if strong:
        hs = min(5.0, 0.1 * time_limit) if heuristic_seconds is None else heuristic_seconds
        extra = {"hint": hint_arr} if hint_arr is not None else None
        if auto and formulation == "strong" and instance.n >= LARGE_PROBE_JOBS:
            # is the model beyond the integer path? then the large path gets the whole budget
            # (it tunes and searches on its own; a local search here would be repeated there)
            inc, inc_name, tels = best_schedule(instance, seconds=0.0, seed=seed, extra=extra)
            probe = build_model(instance, tel_of(instance, inc))
            if probe.n_variables > LARGE_MODEL_VARIABLES:
                info["heuristics"] = tels
                rep.note("incumbent", objective=tel_of(instance, inc), detail=inc_name, starts=inc)
                return _solve_large(instance, probe, inc, inc_name, time_limit, t0, workers=workers, seed=seed,
                                    log=log, info=info, backend=backend, then=then_integer, rep=rep)
            extra = {**(extra or {}), inc_name: inc}
        inc, inc_name, tels = best_schedule(instance, seconds=hs, seed=seed, extra=extra, orders=False)
        info["heuristics"] = tels
    else:
        from ..baseline import serial_schedule

        inc, inc_name = serial_schedule(instance), "serial"
        if hint_arr is not None and verify_schedule(instance, hint_arr).feasible:
            if tel_of(instance, hint_arr) < tel_of(instance, inc):
                inc, inc_name = hint_arr, "hint"
    require_feasible(verify_schedule(instance, inc), f"offline incumbent ({inc_name})")
    ub = tel_of(instance, inc)
    rep.note("incumbent", objective=ub, detail=inc_name, starts=inc)

    # (2) certified bounds
    lbs = lower_bounds(instance)
    lb = int(lbs["best_value"])
    rep.note("bounds", bound=lb, detail=f"closed form: {lbs.get('best', '')} {lb:,}")
    info["lower_bounds"] = lbs
    best, best_src, bound = inc, inc_name, lb
    n_vars = n_cons = horizon = 0
    solver_status = "not run"
    if lb < ub:
        # (3) the model (with the LP: its bound and reduced-cost fixing)
        if core_rows is None:
            core_rows = 1 if strong and is_tight(instance) else 0
        info["core_rows"] = core_rows
        model = build_model(instance, ub if strong else None,
                            aggregate_classes=formulation in ("strong", "cumulative"),
                            use_incumbent_horizon=strong, core_rows=core_rows)
        horizon = model.horizon
        if auto and formulation == "strong" and model.n_variables > LARGE_MODEL_VARIABLES:
            return _solve_large(instance, model, inc, inc_name, time_limit, t0, workers=workers, seed=seed,
                                log=log, info=info, backend=backend, then=then_integer, rep=rep)
        target = ub  # the model holds every schedule of TEL <= target
        if strong and lp_fixing:
            # the core rows make the LP slower and stronger: give it up to half the budget
            lp_share = max(1.0, (0.5 if core_rows else 0.25) * time_limit)
            lp, t_lp = _reused_lp(shared, model, info), time.perf_counter()  # its bound is taken below
            chain_fits = model.n_variables <= CHAIN_MAX_VARIABLES and model.late_cost is None
            if lp is None and is_tight(instance) and chain_fits:
                # the chain LP (chain.py): much stronger where many jobs are long; used when it converges.
                # On tight instances no proof is in reach without it, so it may take most of the budget.
                chain_time = (shared or {}).get("lp_time", max(lp_share, CHAIN_SHARE * time_limit))
                chain = solve_chain_lp(model, time_limit=max(1.0, chain_time - (time.perf_counter() - t0)),
                                       start_hint=inc)
                info["chain_lp"] = {"converged": chain.optimal,
                                    "bound": integer_bound(chain.bound) if math.isfinite(chain.bound) else None}
                if math.isfinite(chain.bound):
                    bound = lb = max(lb, integer_bound(chain.bound))
                chain_value = f"{integer_bound(chain.bound):,}, " if math.isfinite(chain.bound) else ""
                rep.note("chain LP", bound=bound,
                         detail=chain_value + ("converged" if chain.optimal else "not converged"))
                if chain.optimal:
                    lp = chain
            if lp is None:
                left = lp_share - (time.perf_counter() - t_lp)
                if "chain_lp" in info and left < 1.0:
                    lp = chain  # the chain LP used the LP's share: its bound is kept above, no fixing
                else:
                    lp = solve_lp(model, time_limit=max(1.0, left), start_hint=inc)
            if shared is not None and "lp" not in shared:
                shared.update(lp=lp, model=model, chain_lp=info.get("chain_lp"))
            if math.isfinite(lp.bound):  # certified from the last duals, converged or not (lp.py)
                info["lp_bound"] = integer_bound(lp.bound)
                bound = lb = max(lb, info["lp_bound"])
                rep.note("LP", bound=bound, detail=f"{info['lp_bound']:,}, " + (
                    "reused" if info.get("lp_reused") else "converged" if lp.optimal else "not converged"))
            if lp.optimal:
                if not is_tight(instance):
                    inc, inc_name, ub = _lp_guided_incumbent(instance, model, lp, inc, inc_name, ub, time_limit,
                                                             t0, seed, info)
                    best, best_src = inc, inc_name
                # Reduced-cost fixing: a variable with L + d_j > UB - 1 is in no schedule better than UB.
                margin = 1e-3 + 1e-6 * ub
                keep = lp.bound + lp.reduced_costs <= ub - 1 + margin
                searched = _search_incumbent(instance, int(keep.sum()), inc, inc_name, ub, lb, time_limit, t0,
                                             workers, seed, info)
                if searched is not None:
                    inc, inc_name, ub = searched
                    best, best_src = inc, inc_name
                    keep = lp.bound + lp.reduced_costs <= ub - 1 + margin
                info["fixed_by_reduced_cost"] = int((~keep).sum())
                rep.note("fixing", objective=ub, starts=inc,
                         detail=f"{inc_name}; {int(keep.sum()):,} of {keep.size:,} variables "
                                "left after reduced-cost fixing")
                model, _ = restrict(model, keep)
                target = ub - 1
            else:  # not converged: no fixing, and a model this slow to relax leaves no proof to find
                info["lp_converged"] = False
                searched = _search_incumbent(instance, model.n_variables, inc, inc_name, ub, lb, time_limit, t0,
                                             workers, seed, info)
                if searched is not None:
                    inc, inc_name, ub = searched
                    best, best_src = inc, inc_name
                    target = ub
                rep.note("search", objective=ub, detail=inc_name, starts=inc)
        n_vars = model.n_variables
        if formulation not in ("cumulative", "hybrid"):
            n_cons = model.n_constraints  # the explicit rows, which the backends build anyway
        else:
            remaining = max(0.5, solver_share * (time_limit - (time.perf_counter() - t0)))
            rep.note("interval model", detail=f"cp-sat, {remaining:.0f} s")
            best, best_src, bound, solver_status = _solve_interval(
                instance, model, formulation, inc, best, best_src, bound, lb, target, ub,
                remaining, workers, seed, log, info)
            rep.note("interval model done", objective=tel_of(instance, best), bound=bound, detail=solver_status,
                     starts=best)
            n_cons = int(info["solver"].get("intervals", 0))
            if formulation == "cumulative":
                n_vars = instance.n
    skip = (lb < ub and strong and formulation not in ("cumulative", "hybrid") and solver_share < 1
            and model.n_variables > ORDER_MIN_VARIABLES
            and solver_share * (time_limit - (time.perf_counter() - t0)) < BACKEND_MIN_SECONDS)
    if skip:  # building a model this size takes longer than the time left (a later stage gets it)
        solver_status = "not run (too little time for a model this size)"
    if lb < ub and formulation not in ("cumulative", "hybrid") and not skip:
        var_of = {(int(c), int(k)): j for j, (c, k) in enumerate(zip(model.var_class, model.var_start, strict=True))}
        counts = class_counts(model.classes, inc)
        hint_vals: dict[int, int] | None = {}
        for key, m in counts.items():
            if key not in var_of:  # the incumbent lies outside the (valid) horizon: no hint
                hint_vals = None
                break
            hint_vals[var_of[key]] = m
        remaining = max(0.5, solver_share * (time_limit - (time.perf_counter() - t0)))
        kw = dict(time_limit=remaining, workers=workers, seed=seed, log=log, hint=hint_vals,
                  objective_lb=lb if strong else None, objective_ub=target if strong else None,
                  on_solution=_solution_reporter(instance, model, rep))
        rep.note("solver", detail=f"{backend}, {model.n_variables:,} variables, {remaining:.0f} s")
        out, ran = _run_backend(backend, model, strong=strong, portfolio=strong and not is_tight(instance), **kw)
        info["backend_ran"] = ran
        solver_status = out.status_text
        info["solver"] = out.info
        if out.values is not None:
            cand = starts_of_values(model, out.values)
            require_feasible(verify_schedule(instance, cand), f"{backend} solver")
            if tel_of(instance, cand) <= tel_of(instance, best):
                best, best_src = cand, "solver"
        if out.proven_optimal:
            bound = max(bound, tel_of(instance, best))
        elif out.infeasible and strong and target < ub:
            bound = max(bound, ub)  # no schedule better than the incumbent exists
        elif out.infeasible:
            info["warning"] = "solver reported the model infeasible; incumbent kept without proof"
        elif out.bound is not None:
            bound = max(bound, math.ceil(out.bound - 1e-6))
        verdict = ("no schedule better than the incumbent" if out.infeasible and strong and target < ub
                   else out.status_text)
        rep.note("solver done", objective=tel_of(instance, best), bound=bound, detail=f"{ran}: {verdict}",
                 starts=best)
    # (4) verify and report
    info["solver_status"] = solver_status
    return _verified_result(instance, best, best_src, bound, t0, backend=backend, n_variables=n_vars,
                            n_constraints=n_cons, horizon=horizon, info=info)


def _solution_reporter(instance: Instance, model: Any, rep: Reporter) -> Callable[[dict[int, int]], None] | None:
    """What the integer backends call with an improving solution while they run: the schedule is
    disaggregated and verified, and a feasible one is reported (stage ``solution``), so that
    ``progress`` (and ``lpsched solve -o``) sees it before the solver returns. ``None`` (no
    callback, nothing to do) when nobody listens. Called from the solvers' threads."""
    if rep.callback is None:
        return None

    def found(values: dict[int, int]) -> None:
        try:
            cand = starts_of_values(model, values)
        except ValueError:  # not a complete assignment: not a schedule, nothing to report
            return
        res = verify_schedule(instance, cand)
        if res.feasible:
            rep.note("solution", objective=res.tel, starts=cand, detail="found by the solver while it runs")

    return found


def _reused_lp(shared: dict[str, Any] | None, model: Any, info: dict[str, Any]) -> LPResult | None:
    """The relaxation an earlier call left in ``shared``, its reduced costs mapped onto ``model``'s
    variables by (class, start); ``None`` if there is none.

    Valid because every call builds its model from the same classes with a valid horizon no longer
    than the earlier one's (its incumbent is at least as good): every schedule of ``model`` is a
    point of the earlier model, so the earlier bound ``L`` bounds it and ``L + d_j`` bounds every
    schedule that uses a variable ``j``. A variable the earlier model did not have (not expected)
    gets ``d_j = 0``, which keeps it.
    """
    if not shared or "lp" not in shared:
        return None
    old_lp, old = shared["lp"], shared["model"]
    width = int(max(model.var_start.max(initial=0), old.var_start.max(initial=0))) + 1
    key_old = old.var_class.astype(np.int64) * width + old.var_start
    key_new = model.var_class.astype(np.int64) * width + model.var_start
    rc, values = np.zeros(model.n_variables), np.zeros(model.n_variables)
    if key_old.size:
        order = np.argsort(key_old)
        pos = np.minimum(np.searchsorted(key_old[order], key_new), key_old.size - 1)
        found = key_old[order][pos] == key_new
        rc[found] = old_lp.reduced_costs[order][pos][found]
        values[found] = old_lp.values[order][pos][found]
    info["lp_reused"] = True
    if shared.get("chain_lp") is not None:
        info["chain_lp"] = shared["chain_lp"]
    return LPResult(old_lp.optimal, old_lp.value, rc, values, old_lp.late, old_lp.bound, old_lp.columns,
                    old_lp.rounds)


def _status(obj: int, bound: float) -> tuple[str, int, float]:
    """Status, bound (never above the value) and gap of a schedule of TEL ``obj``: ``OPTIMAL``
    only when the certified bound reaches it."""
    b = int(min(bound, obj))
    return ("OPTIMAL" if b >= obj else "FEASIBLE"), b, (obj - b) / obj if obj else 0.0


def _verified_result(instance: Instance, starts: np.ndarray, source: str, bound: float, t0: float,
                     **fields: Any) -> SolveResult:
    """Step (4): verify the schedule (raises if infeasible) and report it with :func:`_status`."""
    obj = require_feasible(verify_schedule(instance, starts), f"solve_hindsight ({source})").tel
    status, b, gap = _status(obj, bound)
    return SolveResult(status=status, objective=obj, bound=b, gap=gap,
                       starts={jid: int(k) for jid, k in zip(instance.ids, starts, strict=True)},
                       seconds=time.perf_counter() - t0, incumbent=source, **fields)


#: The large path hands what is left of the budget to the integer path when at least this many
#: seconds and :data:`HANDOFF_MIN_SHARE` of the limit are left (twelfth round).
HANDOFF_MIN_SECONDS = 10.0
HANDOFF_MIN_SHARE = 0.2


def _solve_large(instance: Instance, model: Any, inc: np.ndarray, inc_name: str, time_limit: float, t0: float, *,
                 workers: int, seed: int, log: bool, info: dict[str, Any], backend: str,
                 then: Callable[..., SolveResult] | None = None, rep: Reporter | None = None) -> SolveResult:
    """``auto`` on a model too large for the integer backends (more than
    :data:`~lpsched.offline.large.LARGE_MODEL_VARIABLES` start variables): the rest of the budget
    goes to :func:`~lpsched.offline.large.large_search` (truncated LP bound, LP-guided schedules,
    pace tuning, local and window search), which returns a verified schedule and a certified bound.

    The large search stops early when its window search finds nothing. If it leaves at least
    :data:`HANDOFF_MIN_SECONDS` and :data:`HANDOFF_MIN_SHARE` of the limit, and the model rebuilt
    on its better schedule (a tighter horizon) is within ``LARGE_MODEL_VARIABLES``, ``then`` (the
    integer path, hinted with that schedule) gets the rest (``info["path"] = "large+integer"``);
    the better schedule and the larger bound are kept (each bound is valid on its own).
    """
    rep = Reporter(None, t0) if rep is None else rep
    remaining = max(1.0, time_limit - (time.perf_counter() - t0))
    rep.note("large search", detail=f"{model.n_variables:,} variables, {remaining:.0f} s")
    res = large_search(instance, LargeBudget.split(remaining), workers=workers, seed=seed, first=inc,
                       first_name=inc_name, log=log)
    rep.note("large search done", objective=res.tel, bound=res.bound, detail=f"bound from {res.bound_name}",
             starts=res.starts)
    info.update(path="large", large=res.info, bound_name=res.bound_name, solver_status="not run (large instance)")
    if res.lp_bound is not None:
        info["lp_bound"] = integer_bound(res.lp_bound)
    left = time_limit - (time.perf_counter() - t0)
    if then is not None and res.bound < res.tel and left >= max(HANDOFF_MIN_SECONDS, HANDOFF_MIN_SHARE * time_limit):
        rebuilt = build_model(instance, res.tel).n_variables
        if rebuilt <= LARGE_MODEL_VARIABLES:
            sub = then(hint=res.starts)
            sub_starts = starts_array(instance, sub.starts)
            better = sub.objective < res.tel
            info.update(path="large+integer", solver_status=sub.info.get("solver_status"),
                        handoff={"seconds_left": left, "rebuilt_variables": rebuilt, "objective": sub.objective,
                                 "bound": sub.bound, "backend_ran": sub.info.get("backend_ran")})
            if sub.bound > res.bound:
                info["bound_name"] = "integer path"
            return _verified_result(instance, sub_starts if better else res.starts,
                                    sub.incumbent if better else res.source, max(res.bound, sub.bound), t0,
                                    backend=backend, n_variables=sub.n_variables, n_constraints=sub.n_constraints,
                                    horizon=sub.horizon, info=info)
    return _verified_result(instance, res.starts, res.source, res.bound, t0, backend=backend,
                            n_variables=model.n_variables, n_constraints=0, horizon=model.horizon, info=info)


def _run_backend(backend: str, model: Any, *, strong: bool, portfolio: bool, workers: int,
                 **kw: Any) -> tuple[BackendOutcome, str]:
    """Step (4): the integer backend on the time-indexed model; returns the outcome and what ran.

    ``cpsat`` on the ``strong`` model of an instance that is not tight (``portfolio``), with at
    least two workers, runs :func:`_portfolio`: CP-SAT (``workers − 1``) and HiGHS without the
    cut-off, or on models of at most :data:`HIGHS_PAIR_MAX_VARIABLES` start variables two HiGHS
    searches with the cut-off and random seeds ``seed`` and ``seed + 1`` (and CP-SAT on
    ``workers − 2`` from three workers on). The ``plain``
    model is Jaillet et al.'s as written (explicit memory rows only, CP-SAT's default workers).
    """
    if backend == "pulp":
        from .cbc import solve_cbc

        return solve_cbc(model, workers=workers, **kw), "pulp"
    from .highs import solve_highs

    if backend == "highs":
        return solve_highs(model, workers=workers, **kw), "highs"
    if strong and portfolio and workers >= 2:
        pair = model.n_variables <= HIGHS_PAIR_MAX_VARIABLES
        cpsat_workers = workers - 2 if pair else workers - 1
        members: dict[str, Callable[..., BackendOutcome]] = {}  # in the order they are reported
        if cpsat_workers >= 1:
            members["cpsat"] = functools.partial(solve_cpsat, model, params=proof_params(cpsat_workers),
                                                 memory="both", workers=cpsat_workers)
        if pair:
            members["highs_cutoff"] = functools.partial(solve_highs, model, workers=1, objective_window="cutoff")
            members["highs_cutoff_2"] = functools.partial(_reseeded, solve_highs, model, workers=1,
                                                          objective_window="cutoff")
        else:
            members["highs"] = functools.partial(solve_highs, model, workers=1, objective_window="none")
        return _portfolio(model, members, **kw), "+".join(members)
    return solve_cpsat(model, params=proof_params(workers) if strong else None,
                       memory="both" if strong else "explicit", workers=workers, **kw), "cpsat"


def _reseeded(solver: Callable[..., BackendOutcome], *args: Any, seed: int = 0, **kw: Any) -> BackendOutcome:
    """``solver`` with the next random seed: the second member of a pair of the same solver."""
    return solver(*args, seed=seed + 1, **kw)


def _portfolio(model: Any, members: Mapping[str, Callable[..., BackendOutcome]], **kw: Any) -> BackendOutcome:
    """The ``members`` (name -> solver taking the common backend keywords and ``stop``) side by
    side on the same model, one thread each; the first proof (optimal or infeasible) stops the
    others.

    Measured (docs/offline.md, fifth and tenth rounds): on the paper regime HiGHS proves instances
    CP-SAT leaves open for 60 s (s = 50, n = 30: all five seeds in 8–35 s alone; CP-SAT none), and
    HiGHS' time to proof swings with its cut-off setting (s = 50, n = 30, seed 4: 57 s without,
    29 s with; s = 4, n = 45, seed 4: 26 s without, open after 60 s with), so no single solver is
    the better choice. Merged outcome: the cheapest solution, the largest bound (each member's
    bound is valid for the model), proof or infeasibility from any. A member that fails (an
    exception) is left out, with the error in ``info``; if all fail, the first error is raised.
    """
    from concurrent.futures import ThreadPoolExecutor

    stop = StopSignal()
    with ThreadPoolExecutor(max_workers=len(members)) as pool:
        futs = {name: pool.submit(fn, stop=stop, **kw) for name, fn in members.items()}
        for fut in futs.values():
            fut.add_done_callback(lambda f: stop.stop() if f.exception() is None and
                                  (f.result().proven_optimal or f.result().infeasible) else None)
        while not all(f.done() for f in futs.values()):
            if stop.stopped:
                stop.stop()  # again, in case another solver had not started its search yet
            time.sleep(0.05)
    errors = {name: f.exception() for name, f in futs.items() if f.exception() is not None}
    outs = {name: f.result() for name, f in futs.items() if name not in errors}
    if not outs:
        raise next(iter(errors.values()))
    cost = model.var_cost

    def value(o: BackendOutcome) -> float:
        return math.inf if o.values is None else float(sum(cost[j] * v for j, v in o.values.items()))

    best = min(outs.values(), key=value)
    bounds = [o.bound for o in outs.values() if o.bound is not None]
    proved = [name for name, o in outs.items() if o.proven_optimal or o.infeasible]
    info: dict[str, Any] = {name: o.info for name, o in outs.items()}
    info["proved_by"] = proved[0] if proved else None
    info.update({f"{name}_error": repr(e) for name, e in errors.items()})
    return BackendOutcome(
        # a proof covers the merged solution only if that solution is as cheap as the proven one
        proven_optimal=any(o.proven_optimal and value(o) <= value(best) for o in outs.values()),
        infeasible=best.values is None and any(o.infeasible for o in outs.values()),
        values=best.values, bound=max(bounds) if bounds else None,
        status_text=", ".join(f"{name} {o.status_text}" for name, o in outs.items()),
        info=info,
    )


def proof_params(workers: int) -> dict[str, Any]:
    """CP-SAT workers for the ``strong`` model, which starts from a good incumbent.

    With 2 workers CP-SAT's default runs one full-problem search (``default_lp``) and spends the
    other worker on interleaved LNS, which mostly improves schedules; since the incumbent already
    comes from the heuristics and the LP-guided schedules, the second worker goes to
    ``lb_tree_search`` (a best-first search on the LP bound). Measured (60 s budget, 2 workers;
    time to proof, or gap left): paper s = 50, n = 20, seed 4: default 42.6 s, this pair 35.3 s,
    ``max_lp`` + ``lb_tree_search`` 0.35 %; s = 50, n = 30, seed 0: gap 1.44 % / 1.00 % / 1.44 %;
    s = 4, n = 50, seed 0: 0.16 % / 0.08 % / proven in 33 s; seed 1: 0.84 % / 0.61 % / 0.61 %. No
    pair wins everywhere; this one loses no proof the default finds on these. With other worker
    counts the default portfolio is kept (from 8 workers on it includes ``lb_tree_search``).
    """
    if workers == 2:
        return {"subsolvers": ["default_lp", "lb_tree_search"], "num_full_subsolvers": 2}
    return {}


def _lp_guided_incumbent(instance: Instance, model: Any, lp: Any, inc: np.ndarray, inc_name: str, ub: int,
                         time_limit: float, t0: float, seed: int,
                         info: dict[str, Any]) -> tuple[np.ndarray, str, int]:
    """Try the schedules rounded from the LP (:mod:`~lpsched.offline.lp_rounding`) as incumbents.

    The full-capacity LP just solved is rounded first, then LPs at reduced capacities within 10 %
    of the time limit; a better schedule is polished by the local search (5 % of the limit).
    """
    from .heuristics import improve
    from .lp_rounding import lp_guided_schedules, schedule_from_lp

    horizon = int(1.25 * int((inc + instance.output).max()))
    cands = {"lp_1": schedule_from_lp(instance, model, lp)}
    budget = min(0.1 * time_limit, max(0.0, time_limit - (time.perf_counter() - t0)) / 4)
    cands.update(lp_guided_schedules(instance, horizon=horizon, time_limit=budget, start_hint=inc))
    tels = {k: tel_of(instance, v) for k, v in cands.items()}
    info["lp_guided"] = tels
    name = min(tels, key=lambda k: tels[k])
    if tels[name] >= ub:
        return inc, inc_name, ub
    cand = improve(instance, cands[name], seconds=0.05 * time_limit, seed=seed)
    require_feasible(verify_schedule(instance, cand), f"LP-guided schedule ({name})")
    return cand, f"{name}+ls", tel_of(instance, cand)


#: The integer path spends part of its budget on window search (:mod:`~lpsched.offline.window_search`)
#: before the integer solver when a proof is out of reach: the model left after reduced-cost fixing
#: has more start variables than this and the LP leaves more than :data:`WINDOW_MIN_GAP` of the
#: incumbent. Measured with 60 s (docs/offline.md, seventh round): the solvers proved paper-regime
#: instances up to n = 50 with 300–2,200 variables left; from n = 100
#: (5,000 and more) they neither proved nor improved the schedule, and window search did.
WINDOW_MIN_VARIABLES = 4_000
WINDOW_MIN_GAP = 0.01
#: Share of the remaining time the window search may use (it stops earlier when a pass over the
#: schedule finds nothing); the integer solver gets the rest, with the better incumbent.
WINDOW_SHARE = 0.5
#: Jobs per window and CP-SAT seconds per window of that step.
WINDOW_JOBS = 50
WINDOW_SECONDS = 4.0


def _wants_window_search(instance: Instance, n_left: int, ub: int, lb: int) -> bool:
    """The rule of :data:`WINDOW_MIN_VARIABLES`: a large model after fixing and a wide LP gap, on
    an instance that is not tight (on tight ones the interval model is the better search)."""
    return (n_left > WINDOW_MIN_VARIABLES and ub - lb > WINDOW_MIN_GAP * ub
            and not is_tight(instance))


#: The order step: when a proof is out of reach, the order search
#: (:func:`~lpsched.offline.heuristics.order_search`) gets :data:`ORDER_SHARE` of the remaining
#: time before the integer solver. On tight instances (the Jaillet regime) that is more than
#: :data:`ORDER_MIN_VARIABLES` start variables left after fixing and a certified bound more than
#: :data:`ORDER_MIN_GAP` below the incumbent; on the others, between
#: :data:`ORDER_MIN_VARIABLES_NOT_TIGHT` and :data:`WINDOW_MIN_VARIABLES` variables (more take the
#: window step, which the order step then follows: :func:`_search_incumbent`) and
#: :data:`WINDOW_MIN_GAP`. Measured (docs/offline.md, ninth round): CP-SAT proves
#: reduced Jaillet instances up to n ≈ 12 (≈ 3,600 variables); at n = 40–75 (30,000–100,000) the
#: chain LP leaves 9–17 %, CP-SAT finds nothing better in the rest of 60 s, and the order search
#: finds schedules 0.5–2 % better; the paper-regime proofs (n <= 50) leave 300–2,200 variables and
#: never take the step.
ORDER_MIN_VARIABLES = 8_000
ORDER_MIN_VARIABLES_NOT_TIGHT = 2_500
#: Fixed models of at most this many start variables run two HiGHS searches with the incumbent
#: cut-off and different random seeds, instead of CP-SAT next to one HiGHS (:func:`_run_backend`).
#: The same line as the order step's: below it a proof is in reach (the paper regime up to n ≈ 50
#: leaves 135–2,200 variables), above it the search matters. Measured: HiGHS' time to proof on
#: these models swings by a factor of two between random seeds and with the cut-off setting
#: (docs/offline.md, tenth round: then the pair was with and without the cut-off); since the
#: pipeline's incumbents are within a few units of the optimum (fifteenth round), two seeds with
#: the cut-off prove s = 50, C = 8, n = 30 at α = 1/8 4/5 instead of 3/5 and lose no proof at
#: s = 4, n = 45–50 (docs/offline.md, fifteenth round).
HIGHS_PAIR_MAX_VARIABLES = ORDER_MIN_VARIABLES_NOT_TIGHT
#: In the first stage of the tight portfolio, the integer solver is not started on a model of more
#: than :data:`ORDER_MIN_VARIABLES` variables with less than this many seconds left for it: building
#: its rows takes longer (measured: 9.5 s for 2.9 s of solver time at 100,000 variables).
BACKEND_MIN_SECONDS = 5.0
ORDER_MIN_GAP = 0.03
ORDER_SHARE = 0.5
#: The short order step (thirteenth round): where a proof is in reach but the incumbent is more than
#: :data:`WINDOW_MIN_GAP` above the bound, the order search alone gets at most this share of the
#: remaining time (it stops earlier when it stalls: ~1.5 s at n = 30) before the fixing is redone.
#: Restarting it until the share is used (``order_search(restarts=True)``) gained no proof there
#: (docs/offline.md, fourteenth round).
#: Measured (docs/offline.md, thirteenth round) on paper s = 50, C = 8, n = 30: the incumbents
#: handed to HiGHS were 0.4–1.3 % above the optimum, and each unit less fixes more variables and
#: lets HiGHS' cut-off prune earlier.
ORDER_SHORT_SHARE = 0.1


def _wants_order_search(instance: Instance, n_left: int, ub: int, lb: int) -> bool:
    """The rule of :data:`ORDER_MIN_VARIABLES` (checked after :func:`_wants_window_search`), up to
    :data:`~lpsched.offline.heuristics.ORDER_SEARCH_MAX_JOBS` jobs."""
    if instance.n > ORDER_SEARCH_MAX_JOBS:
        return False
    if is_tight(instance):
        return n_left > ORDER_MIN_VARIABLES and ub - lb > ORDER_MIN_GAP * ub
    return ORDER_MIN_VARIABLES_NOT_TIGHT < n_left <= WINDOW_MIN_VARIABLES and ub - lb > WINDOW_MIN_GAP * ub


def _wants_short_order_search(instance: Instance, n_left: int, ub: int, lb: int) -> bool:
    """The short order step: a proof is in reach (instances that are not tight, at most
    :data:`ORDER_MIN_VARIABLES_NOT_TIGHT` variables left) but the bound is more than
    :data:`WINDOW_MIN_GAP` below the incumbent."""
    return (not is_tight(instance) and instance.n <= ORDER_SEARCH_MAX_JOBS
            and n_left <= ORDER_MIN_VARIABLES_NOT_TIGHT and ub - lb > WINDOW_MIN_GAP * ub)


def _search_incumbent(instance: Instance, n_left: int, inc: np.ndarray, inc_name: str, ub: int, lb: int,
                      time_limit: float, t0: float, workers: int, seed: int,
                      info: dict[str, Any]) -> tuple[np.ndarray, str, int] | None:
    """The window and order steps, when their rules ask for them: ``(starts, name, TEL)`` of the
    (possibly) improved incumbent, or ``None`` when neither runs.

    After the window step the order step gets half of what is left if the gap is still above
    :data:`WINDOW_MIN_GAP`: measured (docs/offline.md, ninth round), windows gain more at s = 4,
    n = 100 and the order search at s = 50, n = 100; one after the other is as good as the better.
    """
    if _wants_window_search(instance, n_left, ub, lb):
        inc, inc_name, ub = _window_incumbent(instance, inc, inc_name, ub, time_limit, t0, workers, seed, info)
        if ub - lb > WINDOW_MIN_GAP * ub and instance.n <= ORDER_SEARCH_MAX_JOBS:
            inc, inc_name, ub = _order_incumbent(instance, inc, inc_name, ub, time_limit, t0, seed, info)
        return inc, inc_name, ub
    if _wants_order_search(instance, n_left, ub, lb):
        return _order_incumbent(instance, inc, inc_name, ub, time_limit, t0, seed, info)
    if _wants_short_order_search(instance, n_left, ub, lb):
        return _order_incumbent(instance, inc, inc_name, ub, time_limit, t0, seed, info,
                                share=ORDER_SHORT_SHARE, ruin=False)
    return None


def _order_incumbent(instance: Instance, inc: np.ndarray, inc_name: str, ub: int, time_limit: float, t0: float,
                     seed: int, info: dict[str, Any], *, share: float = ORDER_SHARE,
                     ruin: bool = True) -> tuple[np.ndarray, str, int]:
    """Improve the incumbent with ``share`` of the remaining time, split between the order search
    and the ruin-and-recreate search of :func:`~lpsched.offline.heuristics.improve` (all of it to
    the order search without ``ruin``)."""
    t = time.perf_counter()
    budget = share * max(0.0, time_limit - (t - t0))
    cand = order_search(instance, inc, seconds=budget / 2 if ruin else budget, seed=seed)
    if ruin:
        cand = improve(instance, cand, seconds=budget / 2, seed=seed)
    return _accept_search(instance, inc, inc_name, ub, cand, "order_search", "search", t, info)


def _accept_search(instance: Instance, inc: np.ndarray, inc_name: str, ub: int, cand: np.ndarray, step: str,
                   suffix: str, t: float, info: dict[str, Any]) -> tuple[np.ndarray, str, int]:
    """The end of the window and order steps: ``cand`` verified (an infeasible one raises), the step
    recorded in ``info[step]``, and the incumbent replaced (named ``<name>+<suffix>``) if it is better."""
    tel = require_feasible(verify_schedule(instance, cand), step.replace("_", " ")).tel
    info[step] = {"before": ub, "after": tel, "seconds": time.perf_counter() - t}
    if tel < ub:
        return cand, f"{inc_name}+{suffix}", tel
    return inc, inc_name, ub


def _window_incumbent(instance: Instance, inc: np.ndarray, inc_name: str, ub: int, time_limit: float,
                      t0: float, workers: int, seed: int, info: dict[str, Any]) -> tuple[np.ndarray, str, int]:
    """Improve the incumbent by window search with up to :data:`WINDOW_SHARE` of the remaining time
    (the windows of the large-instance path: ~50 jobs, 4 s each)."""
    from .window_search import window_search

    t = time.perf_counter()
    budget = WINDOW_SHARE * max(0.0, time_limit - (t - t0))
    cand = window_search(instance, inc, seconds=budget, jobs_per_window=WINDOW_JOBS,
                         window_time=min(WINDOW_SECONDS, budget / 4), workers=workers, seed=seed)
    return _accept_search(instance, inc, inc_name, ub, cand, "window_search", "window", t, info)


def _solve_interval(instance: Instance, model: Any, formulation: str, inc: np.ndarray,
                    best: np.ndarray, best_src: str, bound: int, lb: int, target: int, ub: int,
                    remaining: float, workers: int, seed: int, log: bool,
                    info: dict[str, Any]) -> tuple[np.ndarray, str, int, str]:
    """Step (3) for ``cumulative`` / ``hybrid``: the interval model on CP-SAT.

    The start domains are those the time-indexed ``model`` kept (its valid horizon, then
    reduced-cost fixing when ``target < ub``); a job left without any start proves that no schedule
    better than the incumbent exists.
    """
    from .cumulative import solve_cumulative, solve_hybrid

    classes = model.classes
    domains: list[np.ndarray] = [np.zeros(0, dtype=np.int64)] * instance.n
    for c in range(classes.n_classes):
        ks = np.unique(model.var_start[model.class_vars(c)])
        for i in classes.members[c]:
            domains[int(i)] = ks
    if any(d.size == 0 for d in domains):
        info["solver"] = {"intervals": 0}
        if target < ub:
            return best, best_src, max(bound, ub), "fixed: a job has no start left"
        info["warning"] = "empty start domain without fixing; incumbent kept without proof"
        return best, best_src, bound, "empty domain"
    latest = np.array([int(d.max()) for d in domains], dtype=np.int64) + instance.output
    kw: dict[str, Any] = dict(time_limit=remaining, workers=workers, seed=seed, log=log, hint=inc,
                              objective_lb=lb, objective_ub=target)
    if formulation == "hybrid":
        out, ks = solve_hybrid(instance, model, **kw)
    else:
        out, ks, _ = solve_cumulative(instance, latest, domains=domains, **kw)
    info["solver"] = out.info
    if ks is not None:
        require_feasible(verify_schedule(instance, ks), f"cpsat {formulation} solver")
        if tel_of(instance, ks) <= tel_of(instance, best):
            best, best_src = ks, "solver"
    if out.proven_optimal:
        bound = max(bound, tel_of(instance, best))
    elif out.infeasible and target < ub:
        bound = max(bound, ub)  # no schedule better than the incumbent exists
    elif out.infeasible:
        info["warning"] = "solver reported the model infeasible; incumbent kept without proof"
    elif out.bound is not None:
        bound = max(bound, math.ceil(out.bound - 1e-6))
    return best, best_src, bound, out.status_text
