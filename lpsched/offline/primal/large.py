"""Large instances: the best schedule and certified bound a time budget buys when the IP is out of reach.

At n ≈ 1,000 the time-indexed model has 10^5–10^6 start variables; no integer solver closes
anything there in minutes (measured: ``solve_hindsight`` on paper s = 4, α = 1/4, n = 1000 with
the integer path gave a 6.6 % gap and overran a 60 s limit by 24 s, against 4.8 % here in 59 s). What
works at that size is a pipeline of its own, each step measured (docs/research/offline-log.md):

1. heuristics (:func:`~lpsched.offline.schedules.heuristics.best_schedule` with no search): its makespan
   sets the cut ``1.25 ×`` makespan of the truncated LP;
2. the LP bound: the compact LP of the truncated model by column generation around that schedule
   (:func:`~lpsched.offline.bounds.lp.solve_lp`); its Lagrangian bound is certified even when the time
   runs out before convergence (skipped when far out of reach, ``LargeBudget.lp_variables_per_second``);
3. LP-guided schedules at reduced capacities (:mod:`~lpsched.offline.primal.lp_rounding`), if the bound
   LP converged (else their time goes to step 4: at α = 1/32, n = 1000 the LP at ``0.95·M`` had not
   converged after 1,800 s);
4. the pace tuning (:func:`~lpsched.offline.schedules.fluid.tuned_fluid_schedule`) and local search;
5. window search (:mod:`~lpsched.offline.primal.window_search`): exact CP-SAT re-solves of windows of
   30–50 jobs;
6. if the LP of step 2 ran out of time, its column generation resumes from the columns it had,
   with ``LargeBudget.lp_resume_share`` of the budget taken from step 5.

The result is verified; the bound is the best of the cheap bounds of
:func:`~lpsched.offline.bounds.report.lower_bounds` and the LP bound. ``benchmarks/bench_large_gap.py``
runs the same function with its own budgets.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from ...instance import Instance
from ...verify import require_feasible, verify_schedule
from ..bounds.lp import LPResult, integer_bound, solve_lp
from ..bounds.report import BoundReport, lower_bounds
from ..formulation.model import TimeIndexedModel, build_model
from ..formulation.objective import tel_of
from ..params import SolverParams
from ..schedules.heuristics import best_schedule
from .lp_rounding import lp_guided_schedules
from .window_search import window_search

__all__ = ["LargeBudget", "LargeSearchResult", "large_search"]


@dataclass(frozen=True)
class LargeBudget:
    """Seconds of each step of :func:`large_search`: ``lp`` for the LP bound, ``guided`` for the
    LP-guided schedules at all ``fractions`` together. With ``total``, the window search gets
    whatever is left of it (steps that finish early leave their time to it) instead of ``window``.
    ``window_jobs`` and ``window_seconds``: jobs and CP-SAT seconds per window.
    ``tune_without_lp``: further seconds of pace tuning when the LP is skipped as out of reach;
    with ``total``, they come out of the window search. ``lp_variables_per_second``: the LP is
    skipped when the truncated model has more start variables than this per second of ``lp``.
    ``lp_resume_share``: with ``total``, when the LP ran out of time, this share of ``total`` is
    taken from the window search to resume its column generation at the end. (Their defaults:
    :class:`~lpsched.offline.params.SolverParams` ``large_lp_variables_per_second``,
    ``large_lp_resume_share``.)"""

    lp: float
    guided: float
    tune: float
    local_search: float
    window: float
    fractions: tuple[float, ...] = (0.96, 0.95, 0.94)
    total: float | None = None
    window_jobs: int = 50
    window_seconds: float = 4.0
    tune_without_lp: float = 0.0
    lp_variables_per_second: int = SolverParams.large_lp_variables_per_second
    lp_resume_share: float = SolverParams.large_lp_resume_share

    @classmethod
    def split(cls, time_limit: float, *, lp_share: float = SolverParams.large_lp_share,
              guided_share: float = SolverParams.large_guided_share,
              tune_share: float = SolverParams.large_tune_share,
              local_search_share: float = SolverParams.large_local_search_share,
              window_share: float = SolverParams.large_window_share,
              tune_without_lp_share: float = SolverParams.large_tune_without_lp_share,
              fractions: tuple[float, ...] = SolverParams.large_guided_fractions,
              window_jobs: int = SolverParams.large_window_jobs,
              window_seconds: float = SolverParams.large_window_seconds,
              lp_variables_per_second: int = SolverParams.large_lp_variables_per_second,
              lp_resume_share: float = SolverParams.large_lp_resume_share) -> LargeBudget:
        """Shares of one budget (defaults: :class:`~lpsched.offline.params.SolverParams`' ``large_*``
        fields): LP bound 12 %, LP-guided schedules at ``0.95·M`` and ``0.94·M`` 13 %, pace tuning
        15 %, local search 10 %, window search the rest (at least 45 %; 5 % is left for the bounds
        and the verification), windows of 30 jobs and 1 s; when the LP is skipped a further 25 %
        goes to the tuning (not when it ran without converging: the windows gain more there).
        Measured at n = 1000 with 60 s (docs/research/offline-log.md, "large-instance path")."""
        t = float(time_limit)
        return cls(lp=lp_share * t, guided=guided_share * t, tune=tune_share * t, local_search=local_search_share * t,
                   window=window_share * t, fractions=tuple(fractions), total=t, window_jobs=window_jobs,
                   window_seconds=window_seconds, tune_without_lp=tune_without_lp_share * t,
                   lp_variables_per_second=lp_variables_per_second, lp_resume_share=lp_resume_share)


@dataclass
class LargeSearchResult:
    """Outcome of :func:`large_search`: a verified schedule and a certified bound.

    The names are :class:`~lpsched.offline.result.SolveResult`'s: ``starts`` (per job, instance
    order), ``objective`` (its TEL), ``incumbent`` (the name of its source), ``bound`` (certified,
    ``<= objective``); ``bound_name`` names the bound, ``lp_bound`` is the LP's (``None`` when
    skipped) and ``lp_converged`` whether it converged."""

    starts: np.ndarray
    objective: int
    incumbent: str
    bound: int
    bound_name: str
    lp_bound: float | None
    lp_converged: bool
    info: dict = field(default_factory=dict)


def large_search(instance: Instance, budget: LargeBudget, *, workers: int = 2, seed: int = 0,
                 first: np.ndarray | None = None, first_name: str = "given", extra: dict[str, np.ndarray] | None = None,
                 log: bool = False, colgen_min_variables: int = SolverParams.lp_colgen_min_variables,
                 growth_rounds: int = SolverParams.growth_rounds, pilot_share: float = SolverParams.pilot_share,
                 order_search_max_jobs: int = SolverParams.order_search_max_jobs,
                 pilot_max_jobs: int = SolverParams.pilot_max_jobs) -> LargeSearchResult:
    """Run the pipeline of the module text within ``budget``.

    Parameters
    ----------
    instance : Instance
    budget : LargeBudget
    workers, seed : int
        CP-SAT workers of the window search; seed of the local and window search.
    first, first_name : int array and str, optional
        A feasible schedule to start from (step 1 is skipped; it sets the LP's cut) and its name.
    extra : dict name -> starts, optional
        Further candidate schedules (e.g. a user's hint).
    log : bool
        Print progress lines.
    colgen_min_variables, growth_rounds, order_search_max_jobs, pilot_max_jobs, pilot_share
        To :func:`~lpsched.offline.bounds.lp.solve_lp` (the LP bound and the LP-guided schedules),
        to :func:`~lpsched.offline.schedules.heuristics.best_schedule` (the last three).

    Returns a :class:`LargeSearchResult`.
    """
    t0 = time.perf_counter()
    if first is None:
        first, first_name, _ = best_schedule(instance, seconds=0.0, seed=seed, extra=extra)
    first = np.asarray(first, dtype=np.int64)
    require_feasible(verify_schedule(instance, first), "large_search start")
    horizon = int(1.25 * int((first + instance.output).max()))
    t1 = time.perf_counter()
    model, tune = build_model(instance, tel_of(instance, first), truncate=horizon), budget.tune
    lp_kw = dict(colgen_min_variables=colgen_min_variables, growth_rounds=growth_rounds)
    lp = _lp_step(instance, model, budget, first, log, lp_kw)
    if lp is None:  # hopeless within the budget: its time goes to the tuning
        tune += budget.lp + budget.tune_without_lp
    t2 = time.perf_counter()
    guided = {} if lp is None or not lp.converged else lp_guided_schedules(
        instance, horizon=horizon, fractions=budget.fractions, time_limit=budget.guided, start_hint=first, **lp_kw)
    if lp is None or not lp.converged:  # the reduced-capacity LPs are as large and would not converge either
        tune += budget.guided
    t3 = time.perf_counter()
    guided_tel = {k: tel_of(instance, v) for k, v in guided.items()}
    _say(log, f"  LP-guided: {guided_tel} ({t3 - t2:.0f} s)")
    cands = {**guided, **(extra or {})}
    cands[first_name] = first
    best, name, tels = best_schedule(instance, seconds=tune + budget.local_search, seed=seed,
                                     extra=cands, tune_seconds=tune, order_search_max_jobs=order_search_max_jobs,
                                     pilot_max_jobs=pilot_max_jobs, pilot_share=pilot_share)
    before_window, t4 = tel_of(instance, best), time.perf_counter()
    _say(log and "fluid_tuned" in tels, f"  tuned pace {tels.get('fluid_tuned', 0):,}; after local search "
                                          f"{before_window:,} ({name}, {t4 - t3:.0f} s)")
    window = budget.window if budget.total is None else budget.total - (t4 - t0) - 1.0
    resume = 0.0
    if lp is not None and not lp.converged and lp.column_mask is not None and budget.total is not None:
        resume = min(budget.lp_resume_share * budget.total, max(0.0, window))  # taken from the window search
        window -= resume
    if window > 0:
        best = window_search(instance, best, seconds=window, jobs_per_window=budget.window_jobs,
                             window_time=budget.window_seconds, workers=workers, seed=seed)
        after = tel_of(instance, best)
        name = f"{name}+window" if after < before_window else name
        _say(log, f"  window search: {before_window:,} -> {after:,} ({time.perf_counter() - t4:.0f} s)")
    require_feasible(verify_schedule(instance, best), "large-instance search")
    t5 = time.perf_counter()
    lp, lp_resumed, lp_rounds = _resume_lp(model, lp, resume, best, log, lp_kw)
    t6 = time.perf_counter()
    cheap, lb, lb_name, lp_bound = _best_bound(instance, lp)
    ub = tel_of(instance, best)
    info = {"first_heuristic": tel_of(instance, first), "first_name": first_name,
            "tuned_pace": tels.get("fluid_tuned"), "before_window_search": before_window,
            "guided": guided_tel, "lp_rounds": lp_rounds, "lp_resumed": lp_resumed,
            "lp_columns": lp.columns if lp else 0, "lp_model_variables": model.n_variables,
            "lower_bounds": cheap.to_dict(),
            "seconds": {"heuristic": t1 - t0, "lp": t2 - t1, "guided": t3 - t2, "tune_and_local_search": t4 - t3,
                        "window": t5 - t4, "lp_resume": t6 - t5}}
    return LargeSearchResult(starts=best, objective=ub, incumbent=name, bound=min(lb, ub), bound_name=lb_name,
                             lp_bound=lp_bound, lp_converged=bool(lp is not None and lp.converged), info=info)



def _best_bound(instance: Instance, lp: LPResult | None) -> tuple[BoundReport, int, str, float | None]:
    """The closed-form bounds, the best certified bound and its name (the LP's when larger), and
    the LP's bound (``None`` without one)."""
    cheap = lower_bounds(instance)
    lb, lb_name = cheap.bound, cheap.name
    lp_bound = float(lp.bound) if lp is not None and math.isfinite(lp.bound) else None
    if lp_bound is not None and integer_bound(lp_bound) > lb:
        lb, lb_name = integer_bound(lp_bound), "lp_relaxation"
    return cheap, lb, lb_name, lp_bound


def _lp_step(instance: Instance, model: TimeIndexedModel, budget: LargeBudget, first: np.ndarray,
             log: bool, lp_kw: dict) -> LPResult | None:
    """The truncated LP within ``budget.lp`` (column generation from ``first``; ``lp_kw`` to
    :func:`solve_lp`), or ``None`` when the model has more than ``budget.lp_variables_per_second``
    start variables per second of it."""
    t = time.perf_counter()
    if model.n_variables > budget.lp_variables_per_second * budget.lp:
        if log:
            print(f"  {instance.name}: LP skipped ({model.n_variables:,} columns for {budget.lp:.0f} s)", flush=True)
        return None
    lp = solve_lp(model, time_limit=budget.lp, start_hint=first, **lp_kw)
    if log:
        print(f"  {instance.name}: LP bound {lp.bound:,.0f} after {lp.rounds} LPs, {lp.columns:,} of "
              f"{model.n_variables:,} columns, converged {lp.converged}, {time.perf_counter() - t:.0f} s", flush=True)
    return lp


def _resume_lp(model: TimeIndexedModel, lp: LPResult | None, seconds: float, best: np.ndarray,
               log: bool, lp_kw: dict) -> tuple[LPResult | None, dict | None, int]:
    """An LP that ran out of time gets ``seconds`` more of column generation, from the columns it
    had: ``(the LP with the larger bound, what the resume did or None, LPs solved in all)``."""
    if seconds <= 0 or lp is None:
        return lp, None, lp.rounds if lp else 0
    t = time.perf_counter()
    more = solve_lp(model, time_limit=seconds, start_hint=best, columns=lp.column_mask, **lp_kw)
    if log:
        print(f"  LP resumed: bound {lp.bound:,.0f} -> {more.bound:,.0f}, converged {more.converged} "
              f"({time.perf_counter() - t:.1f} s)", flush=True)
    resumed = {"bound_before": float(lp.bound), "rounds": more.rounds, "converged": bool(more.converged)}
    return (more if more.bound > lp.bound else lp), resumed, lp.rounds + more.rounds


def _say(log: bool, line: str) -> None:
    """A progress line of :func:`large_search` (with ``log``)."""
    if log:
        print(line, flush=True)
