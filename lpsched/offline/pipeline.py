"""``solve_hindsight``: the hindsight optimum of docs/model.md §6, with proof or with a certified gap.

The pipeline reads in phases over one :class:`~lpsched.offline.state.SolveState` (best verified
schedule, certified bound, info, solver status) and one :class:`~lpsched.offline.state.Budget`:

1. :func:`_phase_incumbent` — the clairvoyant heuristics (:mod:`~lpsched.offline.schedules`, H-SF /
   SVF from :mod:`lpsched.online`, the caller's hint); on a model too large for the integer
   backends, the large-instance search (:func:`_phase_large`) takes the rest of the budget;
2. :func:`_phase_bounds` — the closed-form bounds (:mod:`~lpsched.offline.bounds.report`);
3. :func:`_phase_model` — the time-indexed model on the provably valid horizon
   (:mod:`~lpsched.offline.formulation`);
4. :func:`_phase_relaxation` — the chain LP and the LP (:mod:`~lpsched.offline.bounds.report`): their
   certified bounds;
5. :func:`_phase_fix_and_search` — LP-guided schedules, window and order search
   (:mod:`~lpsched.offline.primal`), then reduced-cost fixing below the incumbent;
6. :func:`_phase_integer` or :func:`_phase_interval` — the integer solvers
   (:mod:`~lpsched.offline.backends`);
7. :meth:`~lpsched.offline.state.SolveState.result` — the schedule verified again and the status.

Every schedule and bound a phase finds goes through :meth:`~lpsched.offline.state.SolveState.absorb`.
The thresholds and shares are :class:`~lpsched.offline.params.SolverParams`.

**Formulations.** ``strong``: the time-indexed model with class aggregation, both horizon rules,
heuristic incumbent (hint, objective cut-off) and certified bound as an objective floor.
``cumulative`` (CP-SAT only): the exact interval model of
:mod:`~lpsched.offline.formulation.interval` with the same incumbent, horizon, LP bound and
reduced-cost fixing (of start domains). ``hybrid`` (CP-SAT only): both models channelled (no
aggregation). ``auto`` (default): ``strong``; when at least two jobs peak above ``M/2``
(:func:`is_tight`) and ``strong`` has not proven optimality within ``params.auto_strong_share`` of
the time limit, ``cumulative`` gets the rest of it, warm-started from ``strong``'s best schedule,
and the better schedule and the larger proven bound are kept (:func:`_auto_portfolio`); always
``strong`` with PuLP. ``plain``: Jaillet et al.'s model as written — one 0/1 variable per job and
start, the idle-rule horizon, the serial schedule as hint; kept for benchmarking.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np

from ..baseline import serial_schedule
from ..errors import OptionError
from ..instance import Instance
from ..limits import MAX_WORKERS
from ..verify import require_feasible, starts_array, verify_schedule
from .backends.interval import solve_cumulative, solve_hybrid
from .backends.portfolio import portfolio_info, portfolio_status, run_backend
from .bounds.chain import long_jobs, solve_chain_lp
from .bounds.lp import LPResult, integer_bound, solve_lp
from .bounds.report import lower_bounds
from .formulation.classes import class_counts
from .formulation.horizon import earliest_shift
from .formulation.model import TimeIndexedModel, build_model, model_size, restrict, starts_of_values
from .formulation.objective import tel_of
from .params import SolverParams
from .primal.large import LargeBudget, large_search
from .primal.lp_rounding import lp_guided_schedules, schedule_from_lp
from .primal.window_search import window_search
from .progress import ProgressEvent, Reporter
from .result import SolveResult
from .schedules.heuristics import best_schedule
from .schedules.local_search import improve
from .schedules.order_search import order_search
from .state import Budget, Finding, SolveState, result_status, solver_findings

__all__ = ["solve_hindsight", "BACKENDS", "FORMULATIONS", "is_tight", "choose_formulation", "search_step"]

BACKENDS = ("cpsat", "highs", "pulp")
FORMULATIONS = ("auto", "cumulative", "strong", "hybrid", "plain")


def is_tight(instance: Instance) -> bool:
    """At least two jobs peak above ``M/2`` (so no-overlap structure exists): the ``auto`` rule
    picks the interval/cumulative model then, the time-indexed ``strong`` model otherwise."""
    return int(long_jobs(instance).sum()) >= 2


def choose_formulation(instance: Instance, backend: str = "cpsat") -> str:
    """What ``auto`` runs: ``strong``, or the ``strong``-then-``cumulative`` portfolio on tight
    instances (``"portfolio"``); always ``strong`` for the PuLP backend."""
    if backend != "cpsat":
        return "strong"
    return "portfolio" if is_tight(instance) else "strong"


@dataclass(frozen=True)
class SolveOptions:
    """The caller's options of one :func:`solve_hindsight` call (see its parameters)."""

    backend: str
    workers: int
    seed: int
    log: bool
    heuristic_seconds: float | None
    lp_fixing: bool
    core_rows: int | None
    params: SolverParams


@dataclass
class Run:
    """One pass of the pipeline on one formulation (``auto`` runs two on tight instances).

    ``shared``: the store of :func:`_auto_portfolio`: the first pass leaves its relaxation there and
    the second reuses it (:func:`_reused_lp`). ``solver_share``: the integer solver gets this share
    of the time left when it starts. ``large``: ``auto`` may take the large-instance path.
    """

    instance: Instance
    opts: SolveOptions
    formulation: str
    budget: Budget
    rep: Reporter
    hint: np.ndarray | None = None
    large: bool = False
    shared: dict[str, Any] | None = None
    solver_share: float = 1.0
    lp_limit: float | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def strong(self) -> bool:
        return self.formulation != "plain"

    @property
    def interval(self) -> bool:
        return self.formulation in ("cumulative", "hybrid")

    @cached_property
    def tight(self) -> bool:
        return is_tight(self.instance)


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
    params: SolverParams | None = None,
) -> SolveResult:
    """Solve the hindsight IP of docs/model.md §6 (minimum total end-to-end latency).

    Parameters
    ----------
    instance : Instance
    backend : {"cpsat", "highs", "pulp"}
        OR-Tools CP-SAT (default; on the ``strong`` model of an instance that is not tight, with two
        workers or more, next to OR-Tools' HiGHS MIP: :func:`~.backends.portfolio.run_backend`,
        ``info["backend_ran"]``), HiGHS alone (through MathOpt), or CBC through PuLP.
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
        The model the integer solvers get (module text, "Formulations"); default ``auto``.
    heuristic_seconds : float, optional
        Budget of the local search (default ``min(5, 0.1·time_limit)``).
    lp_fixing : bool
        (not ``plain``) Solve the LP relaxation first: its bound, and reduced-cost fixing of every
        variable that cannot be in a schedule better than the incumbent. Where the LP shows a
        proof is out of reach, window and order search improve the incumbent first.
    core_rows : int, optional
        (not ``plain``) Peak thresholds of core no-overlap rows added to the time-indexed model
        (:func:`~lpsched.offline.formulation.model.build_model`); default 1 when :func:`is_tight`,
        else 0.
    progress : callable, optional
        Called with a :class:`~lpsched.offline.progress.ProgressEvent` at every stage the solve
        enters or finishes (best verified TEL and best certified bound so far); the last event,
        stage ``"done"``, carries the result's objective, bound and status.
    params : SolverParams, optional
        Thresholds and budget shares of the pipeline (default: the measured ones).

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
    _check_options(backend, formulation, time_limit, workers)
    budget = Budget(time_limit)
    opts = SolveOptions(backend, workers, seed, log, heuristic_seconds, lp_fixing, core_rows, params or SolverParams())
    hint_arr = _hint_array(instance, hint)
    instance, a0 = earliest_shift(instance)  # solve from the earliest arrival; starts shifted back below
    rep = Reporter(_shifted_callback(progress, a0), budget.t0, ids=instance.ids)
    if hint_arr is not None:
        hint_arr = hint_arr - a0
    res = _run_formulation(instance, opts, formulation, budget, rep, hint_arr)
    rep.note("done", objective=res.objective, bound=res.bound, detail=res.status, starts=res.starts)
    if a0:
        res = replace(res, starts={i: k + a0 for i, k in res.starts.items()}, horizon=res.horizon + a0)
    return res


def _run_formulation(instance: Instance, opts: SolveOptions, formulation: str, budget: Budget, rep: Reporter,
                     hint: np.ndarray | None) -> SolveResult:
    """``formulation`` on ``instance``: ``auto`` as :func:`choose_formulation` resolves it (the
    portfolio of :func:`_auto_portfolio`, or one pass that may take the large path), any other one
    pass."""
    if formulation == "auto" and choose_formulation(instance, opts.backend) == "portfolio":
        return _auto_portfolio(instance, opts, budget, rep, hint)
    auto = formulation == "auto"
    form = choose_formulation(instance, opts.backend) if auto else formulation
    return _solve(Run(instance, opts, form, budget, rep, hint, large=auto))


def _shifted_callback(progress: Callable[[ProgressEvent], None] | None,
                      a0: int) -> Callable[[ProgressEvent], None] | None:
    """``progress`` seeing the starts of the caller's clock (the solve runs ``a0`` rounds earlier)."""
    if progress is None or a0 == 0:
        return progress

    def shifted(event: ProgressEvent) -> None:
        starts = None if event.starts is None else {i: k + a0 for i, k in event.starts.items()}
        progress(replace(event, starts=starts))

    return shifted


def _check_options(backend: str, formulation: str, time_limit: float, workers: int) -> None:
    if backend not in BACKENDS:
        raise OptionError(f"unknown backend '{backend}' (known: {', '.join(BACKENDS)})")
    if formulation not in FORMULATIONS:
        raise OptionError(f"unknown formulation '{formulation}' (known: {', '.join(FORMULATIONS)})")
    if not time_limit > 0:
        raise OptionError(f"time_limit must be > 0, got {time_limit}")
    if not 1 <= workers <= MAX_WORKERS:
        raise OptionError(f"workers must be between 1 and {MAX_WORKERS}, got {workers}")


def _hint_array(instance: Instance, hint: Any) -> np.ndarray | None:
    if hint is None:
        return None
    if isinstance(hint, Mapping):
        return starts_array(instance, hint)
    arr = np.asarray(hint, dtype=np.int64)
    if arr.shape != (instance.n,):
        raise OptionError(f"hint must give one start per job ({instance.n}), got shape {arr.shape}")
    return arr


def _auto_portfolio(instance: Instance, opts: SolveOptions, budget: Budget, rep: Reporter,
                    hint: np.ndarray | None) -> SolveResult:
    """``strong`` for a share of the budget; if unproven, ``cumulative`` for the rest, warm-started
    and with the relaxation the first pass solved (:func:`_reused_lp`): the LP (on tight instances
    the chain LP, which may take most of a pass's budget) is solved once. Both results are
    verified; the better schedule and the larger proven bound are returned (each bound is valid on
    its own)."""
    p = opts.params
    shared: dict[str, Any] = {}
    lp_limit = p.chain_share * budget.limit
    first = _solve(Run(instance, opts, "strong", budget, rep, hint, shared=shared,
                       solver_share=p.auto_strong_share, lp_limit=lp_limit))
    if first.status == "OPTIMAL":
        first.info["formulation"] = "auto: strong"
        first.seconds = budget.elapsed()
        return first
    rest = Budget(max(p.stage_min_seconds, budget.limit - budget.elapsed()))
    second = _solve(Run(instance, opts, "cumulative", rest, rep, starts_array(instance, first.starts),
                        shared=shared, lp_limit=lp_limit))
    best = second if second.objective <= first.objective else first
    status, bound, gap = result_status(best.objective, max(first.bound, second.bound))
    info = {**best.info, "formulation": "auto: strong then cumulative", "lp_reused": bool(second.info.get("lp_reused")),
            "strong": {"objective": first.objective, "bound": first.bound, "seconds": first.seconds},
            "cumulative": {"objective": second.objective, "bound": second.bound, "seconds": second.seconds}}
    return replace(best, status=status, bound=bound, gap=gap, seconds=budget.elapsed(), info=info)


def _solve(run: Run) -> SolveResult:
    """One pass of the pipeline (module text) on ``run.formulation``."""
    instance, opts = run.instance, run.opts
    if opts.backend != "cpsat" and run.interval:
        raise OptionError(f"formulation '{run.formulation}' needs the cpsat backend")
    run.info["formulation"] = run.formulation
    if instance.n == 0:
        return SolveResult("OPTIMAL", 0, 0, 0.0, {}, run.budget.elapsed(), opts.backend, incumbent="empty")
    first = _phase_incumbent(run)
    if isinstance(first, SolveResult):
        return first
    state = first
    _phase_bounds(run, state)
    if state.open:
        model = _phase_model(run, state)
        if isinstance(model, SolveResult):
            return model
        target = state.objective  # the model holds every schedule of TEL <= target
        if run.strong and opts.lp_fixing:
            lp = _phase_relaxation(run, state, model)
            model, target = _phase_fix_and_search(run, state, model, lp)
        state.n_variables = model.n_variables
        if run.interval:
            _phase_interval(run, state, model, target)
        else:
            state.n_constraints = model.n_constraints  # the explicit rows, which the backends build anyway
            _phase_integer(run, state, model, target)
    return state.result(run.budget.elapsed(), backend=opts.backend)


def _phase_incumbent(run: Run) -> SolveState | SolveResult:
    """Phase 1: the best heuristic schedule (``plain``: the serial schedule or the hint). With
    ``auto`` from ``params.large_probe_jobs`` jobs on, the model's size is first computed on the cheap
    heuristics' schedule (:func:`model_size`, nothing built): beyond ``params.large_model_variables``
    the large path takes over."""
    instance, opts, p = run.instance, run.opts, run.opts.params
    if not run.strong:
        inc, name = serial_schedule(instance), "serial"
        if run.hint is not None and verify_schedule(instance, run.hint).feasible:
            if tel_of(instance, run.hint) < tel_of(instance, inc):
                inc, name = run.hint, "hint"
        return SolveState.start(instance, run.rep, inc, name, run.info)
    extra = {"hint": run.hint} if run.hint is not None else None
    if run.large and instance.n >= p.large_probe_jobs:
        # is the model beyond the integer path? then the large path gets the whole budget
        # (it tunes and searches on its own; a local search here would be repeated there)
        inc, name, tels = best_schedule(instance, seconds=0.0, seed=opts.seed, extra=extra, **_heuristic_kw(p))
        probe = model_size(instance, tel_of(instance, inc))
        if probe[0] > p.large_model_variables:
            run.info["heuristics"] = tels
            return _phase_large(run, SolveState.start(instance, run.rep, inc, name, run.info), probe)
        extra = {**(extra or {}), name: inc}
    hs = p.heuristic_seconds(run.budget.limit) if opts.heuristic_seconds is None else opts.heuristic_seconds
    inc, name, tels = best_schedule(instance, seconds=hs, seed=opts.seed, extra=extra, orders=False,
                                    **_heuristic_kw(p))
    run.info["heuristics"] = tels
    return SolveState.start(instance, run.rep, inc, name, run.info)


def _heuristic_kw(p: SolverParams) -> dict[str, Any]:
    """The thresholds of :func:`~lpsched.offline.schedules.heuristics.best_schedule` from ``p``."""
    return {"tune_min_jobs": p.tune_min_jobs, "order_search_max_jobs": p.order_search_max_jobs,
            "pilot_max_jobs": p.pilot_max_jobs, "pilot_share": p.pilot_share}


def _lp_kw(p: SolverParams) -> dict[str, Any]:
    """The thresholds of :func:`~lpsched.offline.bounds.lp.solve_lp` from ``p``."""
    return {"colgen_min_variables": p.lp_colgen_min_variables, "growth_rounds": p.growth_rounds}


def _large_kw(p: SolverParams) -> dict[str, Any]:
    """The shares and thresholds of :meth:`~lpsched.offline.primal.large.LargeBudget.split` from ``p``."""
    return {"lp_share": p.large_lp_share, "guided_share": p.large_guided_share, "tune_share": p.large_tune_share,
            "local_search_share": p.large_local_search_share, "window_share": p.large_window_share,
            "tune_without_lp_share": p.large_tune_without_lp_share, "fractions": p.large_guided_fractions,
            "window_jobs": p.large_window_jobs, "window_seconds": p.large_window_seconds,
            "lp_variables_per_second": p.large_lp_variables_per_second, "lp_resume_share": p.large_lp_resume_share}


def _phase_bounds(run: Run, state: SolveState) -> None:
    """Phase 2: the closed-form bounds."""
    report = lower_bounds(run.instance)
    state.info["lower_bounds"] = report.to_dict()
    state.absorb(Finding("bounds", bound=report.bound, detail=f"closed form: {report.name} {report.bound:,}"))


def _phase_model(run: Run, state: SolveState) -> TimeIndexedModel | SolveResult:
    """Phase 3: the time-indexed model on the valid horizon of the incumbent (``strong``) or the
    idle rule (``plain``); with ``auto``, a model beyond ``params.large_model_variables`` goes to
    the large path."""
    core_rows = run.opts.core_rows
    if core_rows is None:
        core_rows = 1 if run.strong and run.tight else 0
    state.info["core_rows"] = core_rows
    model = build_model(run.instance, state.objective if run.strong else None,
                        aggregate_classes=run.formulation in ("strong", "cumulative"),
                        use_incumbent_horizon=run.strong, core_rows=core_rows)
    state.horizon = model.horizon
    if run.large and model.n_variables > run.opts.params.large_model_variables:
        return _phase_large(run, state, (model.n_variables, model.horizon))
    return model


def _phase_relaxation(run: Run, state: SolveState, model: TimeIndexedModel) -> LPResult:
    """Phase 4: the relaxation, its certified bound absorbed: the one an earlier pass left
    (:func:`_reused_lp`), or on tight instances the chain LP (used for fixing when it converges),
    or the LP. The core rows make the LP slower and stronger: it gets up to half the budget."""
    p = run.opts.params
    lp_share = max(1.0, (p.lp_share_core_rows if state.info["core_rows"] else p.lp_share) * run.budget.limit)
    t_lp = run.budget.elapsed()
    lp = _reused_lp(run.shared, model, state.info)
    chain = None
    if lp is None and run.tight and model.n_variables <= p.chain_max_variables and model.late_cost is None:
        chain_limit = run.lp_limit if run.lp_limit is not None else max(lp_share, p.chain_share * run.budget.limit)
        chain = solve_chain_lp(model, time_limit=max(1.0, chain_limit - run.budget.elapsed()),
                               start_hint=state.starts, colgen_min_variables=p.chain_colgen_min_variables)
        value = integer_bound(chain.bound) if math.isfinite(chain.bound) else None
        state.info["chain_lp"] = {"converged": chain.converged, "bound": value}
        state.absorb(Finding("chain LP", bound=value, detail=("" if value is None else f"{value:,}, ")
                             + ("converged" if chain.converged else "not converged")))
        if chain.converged:
            lp = chain
    if lp is None:
        left = lp_share - (run.budget.elapsed() - t_lp)
        if chain is not None and left < 1.0:
            lp = chain  # the chain LP used the LP's share: its bound is kept above, no fixing
        else:
            lp = solve_lp(model, time_limit=max(1.0, left), start_hint=state.starts, **_lp_kw(p))
    if run.shared is not None and "lp" not in run.shared:
        run.shared.update(lp=lp, model=model, chain_lp=state.info.get("chain_lp"))
    if math.isfinite(lp.bound):  # certified from the last duals, converged or not (bounds/lp.py)
        state.info["lp_bound"] = integer_bound(lp.bound)
        how = "reused" if state.info.get("lp_reused") else "converged" if lp.converged else "not converged"
        state.absorb(Finding("LP", bound=state.info["lp_bound"], detail=f"{state.info['lp_bound']:,}, {how}"))
    return lp


def _phase_fix_and_search(run: Run, state: SolveState, model: TimeIndexedModel,
                          lp: LPResult) -> tuple[TimeIndexedModel, int]:
    """Phase 5: better incumbents (LP-guided schedules on instances that are not tight, then the
    window and order steps where their rules ask), then reduced-cost fixing: a variable with
    ``L + d_j > UB − 1`` is in no schedule better than ``UB``. Returns the model left and the
    largest TEL it is known to hold every schedule of (the cut-off)."""
    if not lp.converged:  # not converged: no fixing, and a model this slow to relax leaves no proof to find
        state.info["lp_converged"] = False
        _search_incumbent(run, state, model.n_variables)
        state.note("search", state.source)
        return model, state.objective
    if not run.tight:
        _lp_guided_incumbent(run, state, model, lp)
    margin = 1e-3 + 1e-6 * state.objective
    keep = lp.bound + lp.reduced_costs <= state.objective - 1 + margin
    if _search_incumbent(run, state, int(keep.sum())):
        keep = lp.bound + lp.reduced_costs <= state.objective - 1 + margin
    state.info["fixed_by_reduced_cost"] = int((~keep).sum())
    state.note("fixing", f"{state.source}; {int(keep.sum()):,} of {keep.size:,} variables "
                         "left after reduced-cost fixing")
    model, _ = restrict(model, keep)
    return model, state.objective - 1


def _phase_integer(run: Run, state: SolveState, model: TimeIndexedModel, target: int) -> None:
    """Phase 6: the integer backend(s) on the time-indexed model, hinted with the incumbent, with
    the certified bound as objective floor and ``target`` as cut-off (``strong``); each solver's
    outcome absorbed on its own (:func:`~lpsched.offline.state.solver_findings`)."""
    opts, p = run.opts, run.opts.params
    if not state.open:
        return
    if (run.strong and run.solver_share < 1 and model.n_variables > p.order_min_variables
            and run.budget.share(run.solver_share) < p.backend_min_seconds):
        # building a model this size takes longer than the time left (a later pass gets it)
        state.status = "not run (too little time for a model this size)"
        return
    remaining = max(run.opts.params.stage_min_seconds, run.budget.share(run.solver_share))
    kw = dict(time_limit=remaining, workers=opts.workers, seed=opts.seed, log=opts.log,
              hint=_class_hint(model, state.starts),
              objective_lb=state.bound if run.strong else None, objective_ub=target if run.strong else None,
              on_solution=_solution_reporter(run.instance, model, run.rep))
    state.note("solver", f"{opts.backend}, {model.n_variables:,} variables, {remaining:.0f} s")
    (outs, errors), ran = run_backend(opts.backend, model, strong=run.strong, portfolio=run.strong and not run.tight,
                                      highs_pair_max_variables=p.highs_pair_max_variables, **kw)
    cutoff = target if run.strong and target < state.objective else None
    found = solver_findings(run.instance, outs, model=model, cutoff=cutoff)
    state.info["backend_ran"] = ran
    state.info["solver"] = portfolio_info(outs, errors)
    state.status = portfolio_status(outs)
    state.absorb_solvers(found)
    proved = cutoff is not None and any(o.infeasible for o in outs.values())
    state.note("solver done", f"{ran}: " + ("no schedule better than the incumbent" if proved else state.status))


def _class_hint(model: TimeIndexedModel, starts: np.ndarray) -> dict[int, int] | None:
    """The incumbent as the model's variable values (class and start -> count), or ``None`` when
    it lies outside the (valid) horizon."""
    var_of = {(int(c), int(k)): j for j, (c, k) in enumerate(zip(model.var_class, model.var_start, strict=True))}
    hint: dict[int, int] = {}
    for key, m in class_counts(model.classes, starts).items():
        if key not in var_of:
            return None
        hint[var_of[key]] = m
    return hint


def _phase_interval(run: Run, state: SolveState, model: TimeIndexedModel, target: int) -> None:
    """Phase 6 for ``cumulative`` / ``hybrid``: the interval model on CP-SAT. The start domains are
    those the time-indexed ``model`` kept (its valid horizon, then reduced-cost fixing when
    ``target`` is below the incumbent); a job left without any start proves that no schedule
    better than the incumbent exists."""
    instance, opts = run.instance, run.opts
    remaining = max(run.opts.params.stage_min_seconds, run.budget.share(run.solver_share))
    state.note("interval model", f"cp-sat, {remaining:.0f} s")
    if run.formulation == "cumulative":
        state.n_variables = instance.n
    cutoff = target if target < state.objective else None
    domains = _start_domains(instance, model)
    if any(d.size == 0 for d in domains):
        state.info["solver"] = {"intervals": 0}
        if cutoff is not None:
            state.status = "fixed: a job has no start left"
            state.absorb(Finding("interval model done", bound=cutoff + 1, detail=state.status))
        else:
            state.info["warning"] = "empty start domain without fixing; incumbent kept without proof"
            state.status = "empty domain"
            state.note("interval model done", state.status)
        return
    kw: dict[str, Any] = dict(time_limit=remaining, workers=opts.workers, seed=opts.seed, log=opts.log,
                              hint=state.starts, objective_lb=state.bound, objective_ub=target)
    if run.formulation == "hybrid":
        out = solve_hybrid(instance, model, **kw)
    else:
        latest = np.array([int(d.max()) for d in domains], dtype=np.int64) + instance.output
        out = solve_cumulative(instance, latest, domains=domains, **kw)
    state.info["solver"] = out.info
    state.n_constraints = int(out.info.get("intervals", 0))
    state.status = out.status
    state.absorb_solvers(solver_findings(instance, {"cpsat": out}, cutoff=cutoff))
    state.note("interval model done", state.status)


def _start_domains(instance: Instance, model: TimeIndexedModel) -> list[np.ndarray]:
    """Per job, the starts the time-indexed model kept for its class."""
    domains: list[np.ndarray] = [np.zeros(0, dtype=np.int64)] * instance.n
    for c in range(model.classes.n_classes):
        ks = np.unique(model.var_start[model.class_vars(c)])
        for i in model.classes.members[c]:
            domains[int(i)] = ks
    return domains


def _lp_guided_incumbent(run: Run, state: SolveState, model: TimeIndexedModel, lp: LPResult) -> None:
    """Schedules rounded from the LP (:mod:`~lpsched.offline.primal.lp_rounding`) as incumbents: the
    LP just solved first, then LPs at reduced capacities within ``params.lp_guided_share`` of the
    limit; a better one is polished by the local search (``params.lp_guided_polish_share``)."""
    instance, p, limit = run.instance, run.opts.params, run.budget.limit
    horizon = int(p.lp_guided_horizon_factor * int((state.starts + instance.output).max()))
    cands = {"lp_1": schedule_from_lp(instance, model, lp)}
    seconds = min(p.lp_guided_share * limit, run.budget.share(p.lp_guided_rest_share))
    cands.update(lp_guided_schedules(instance, horizon=horizon, fractions=p.lp_guided_fractions, time_limit=seconds,
                                     start_hint=state.starts, **_lp_kw(p)))
    tels = {k: tel_of(instance, v) for k, v in cands.items()}
    state.info["lp_guided"] = tels
    name = min(tels, key=lambda k: tels[k])
    if tels[name] >= state.objective:
        return
    cand = improve(instance, cands[name], seconds=p.lp_guided_polish_share * limit, seed=run.opts.seed)
    require_feasible(verify_schedule(instance, cand), f"LP-guided schedule ({name})")
    state.absorb(Finding("LP-guided", starts=cand, source=f"{name}+ls"), report=False)


def search_step(p: SolverParams, *, tight: bool, n: int, n_left: int, objective: int, bound: int) -> str | None:
    """Which incumbent search runs before the integer solver (``params``): ``"window"`` (then the
    order search if the gap is still wide), ``"order"``, ``"short order"`` or ``None``.

    Window search: more than ``window_min_variables`` left and a gap above ``window_min_gap``, on
    instances that are not tight. Order step: up to ``order_search_max_jobs`` jobs; on tight
    instances more than ``order_min_variables`` left and a gap above ``order_min_gap``; on the
    others between ``order_min_variables_not_tight`` and ``window_min_variables``; the short order
    step below that (a proof is in reach) with a gap above ``window_min_gap``.
    """
    wide = objective - bound > p.window_min_gap * objective
    if n_left > p.window_min_variables and wide and not tight:
        return "window"
    if n > p.order_search_max_jobs:
        return None
    if tight:
        return "order" if n_left > p.order_min_variables and objective - bound > p.order_min_gap * objective else None
    if p.order_min_variables_not_tight < n_left <= p.window_min_variables and wide:
        return "order"
    return "short order" if n_left <= p.order_min_variables_not_tight and wide else None


def _search_incumbent(run: Run, state: SolveState, n_left: int) -> bool:
    """The step :func:`search_step` picks; after the window step the order step gets half of what
    is left if the gap is still above ``params.window_min_gap`` (windows gain more at s = 4, the
    order search at s = 50; one after the other is as good as the better). Returns whether a step
    ran."""
    p = run.opts.params
    step = search_step(p, tight=run.tight, n=run.instance.n, n_left=n_left, objective=state.objective,
                       bound=state.bound)
    if step == "window":
        _window_step(run, state)
        if (state.objective - state.bound > p.window_min_gap * state.objective
                and run.instance.n <= p.order_search_max_jobs):
            _order_step(run, state, p.order_share, ruin=True)
    elif step == "order":
        _order_step(run, state, p.order_share, ruin=True)
    elif step == "short order":
        _order_step(run, state, p.order_short_share, ruin=False)
    return step is not None


def _order_step(run: Run, state: SolveState, share: float, *, ruin: bool) -> None:
    """Improve the incumbent with ``share`` of the remaining time, split between the order search
    and the ruin-and-recreate search of :func:`~lpsched.offline.schedules.local_search.improve` (all
    of it to the order search without ``ruin``)."""
    t, seconds = run.budget.elapsed(), run.budget.share(share)
    cand = order_search(run.instance, state.starts, seconds=seconds / 2 if ruin else seconds, seed=run.opts.seed)
    if ruin:
        cand = improve(run.instance, cand, seconds=seconds / 2, seed=run.opts.seed)
    _accept_search(run, state, cand, "order_search", "search", t)


def _window_step(run: Run, state: SolveState) -> None:
    """Improve the incumbent by window search with up to ``params.window_share`` of the remaining
    time (windows of ``params.window_jobs`` jobs, ``params.window_seconds`` each)."""
    p = run.opts.params
    t, seconds = run.budget.elapsed(), run.budget.share(p.window_share)
    cand = window_search(run.instance, state.starts, seconds=seconds, jobs_per_window=p.window_jobs,
                         window_time=min(p.window_seconds, seconds / 4), workers=run.opts.workers, seed=run.opts.seed)
    _accept_search(run, state, cand, "window_search", "window", t)


def _accept_search(run: Run, state: SolveState, cand: np.ndarray, step: str, suffix: str, t: float) -> None:
    """The end of the window and order steps: ``cand`` verified (an infeasible one raises), the step
    recorded in ``info[step]``, and absorbed (named ``<source>+<suffix>``) if it is better."""
    tel = require_feasible(verify_schedule(run.instance, cand), step.replace("_", " ")).tel
    state.info[step] = {"before": state.objective, "after": tel, "seconds": run.budget.elapsed() - t}
    state.absorb(Finding(step, starts=cand, source=f"{state.source}+{suffix}"), report=False)


def _solution_reporter(instance: Instance, model: TimeIndexedModel,
                       rep: Reporter) -> Callable[[dict[int, int]], None] | None:
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


def _reused_lp(shared: dict[str, Any] | None, model: TimeIndexedModel, info: dict[str, Any]) -> LPResult | None:
    """The relaxation an earlier pass left in ``shared``, its reduced costs mapped onto ``model``'s
    variables by (class, start); ``None`` if there is none.

    Valid because every pass builds its model from the same classes with a valid horizon no longer
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
    return replace(old_lp, reduced_costs=rc, values=values, column_mask=None)


def _phase_large(run: Run, state: SolveState, model_shape: tuple[int, int]) -> SolveResult:
    """``auto`` on a model too large for the integer backends: the rest of the budget goes to
    :func:`~lpsched.offline.primal.large.large_search` (truncated LP bound, LP-guided schedules,
    pace tuning, local and window search), which returns a verified schedule and a certified bound.

    If it stops early and leaves at least ``params.handoff_min_seconds`` and
    ``params.handoff_min_share`` of the limit, and the model rebuilt on its better schedule (a
    tighter horizon) is within ``params.large_model_variables``, the integer path (hinted with that
    schedule) gets the rest (``info["path"] = "large+integer"``); the better schedule and the larger
    bound are kept (each bound is valid on its own).
    """
    p, budget = run.opts.params, run.budget
    n_variables, horizon = model_shape  # of the strong model on the first schedule (not built)
    remaining = max(1.0, budget.left())
    state.note("large search", f"{n_variables:,} variables, {remaining:.0f} s")
    res = large_search(run.instance, LargeBudget.split(remaining, **_large_kw(p)), workers=run.opts.workers,
                       seed=run.opts.seed, first=state.starts, first_name=state.source, log=run.opts.log, **_lp_kw(p),
                       order_search_max_jobs=p.order_search_max_jobs, pilot_max_jobs=p.pilot_max_jobs,
                       pilot_share=p.pilot_share)
    state.absorb(Finding("large search done", starts=res.starts, source=res.incumbent, bound=res.bound,
                         wins_ties=True, detail=f"bound from {res.bound_name}"))
    state.info.update(path="large", large=res.info, bound_name=res.bound_name, solver_status="not run (large instance)")
    if res.lp_bound is not None:
        state.info["lp_bound"] = integer_bound(res.lp_bound)
    state.n_variables, state.horizon = n_variables, horizon
    left = budget.limit - budget.elapsed()
    if state.open and left >= max(p.handoff_min_seconds, p.handoff_min_share * budget.limit):
        rebuilt = model_size(run.instance, state.objective)[0]
        if rebuilt <= p.large_model_variables:
            return _handoff(run, state, left, rebuilt)
    return state.result(budget.elapsed(), backend=run.opts.backend)


def _handoff(run: Run, state: SolveState, left: float, rebuilt: int) -> SolveResult:
    """The rest of the budget to the integer path (``strong``, no local search), hinted with the
    large search's schedule; its schedule and bound absorbed."""
    sub_run = Run(run.instance, replace(run.opts, heuristic_seconds=0.0), "strong", run.budget, run.rep,
                  state.starts)
    sub = _solve(sub_run)
    state.info.update(path="large+integer", solver_status=sub.info.get("solver_status"),
                      handoff={"seconds_left": left, "rebuilt_variables": rebuilt, "objective": sub.objective,
                               "bound": sub.bound, "backend_ran": sub.info.get("backend_ran")})
    if sub.bound > state.bound:
        state.info["bound_name"] = "integer path"
    state.absorb(Finding("integer path", starts=starts_array(run.instance, sub.starts), source=sub.incumbent,
                         bound=sub.bound), report=False)
    state.n_variables, state.n_constraints, state.horizon = sub.n_variables, sub.n_constraints, sub.horizon
    return state.result(run.budget.elapsed(), backend=run.opts.backend)
