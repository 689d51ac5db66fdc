"""Certified gap at n = 1000 (paper regime): :func:`lpsched.offline.primal.large.large_search` with explicit budgets.

For each setting: the best heuristic schedule (fluid-release, list schedules, H-SF/SVF), the LP
bound (compact LP, column generation seeded with that schedule, Lagrangian bound from the last
duals) within ``--lp-time`` seconds, LP-guided schedules at the capacity fractions ``--fractions``
(each LP within ``--lp-time``; skipped, and their time given to the tuning, when the bound LP did
not converge), up to ``--tune-time`` seconds of pace tuning
(:func:`~lpsched.offline.schedules.fluid.tuned_fluid_schedule`), ``--ls-time`` seconds of local search
on the best schedule, then ``--window-time`` seconds of window search
(:mod:`lpsched.offline.primal.window_search`: windows of ~50 jobs re-solved exactly by CP-SAT, 4 s each,
2 workers).
Prints one JSON row per setting: schedule, bound, mean-busy bound, gap and the seconds of each part,
with the budget (``budget``) and the solver parameters (``params``, :class:`~lpsched.offline.params.SolverParams`)
it ran with.

    python benchmarks/bench_large_gap.py --alpha 32 --s 4 --lp-time 900 --fractions 0.95

``--via-solve 60`` runs ``solve_hindsight(time_limit=60)`` instead (what a user of the library or of
``lpsched solve`` gets: at this size its large-instance path, :mod:`lpsched.offline.primal.large`, with the
budget split by :meth:`~lpsched.offline.primal.large.LargeBudget.split`).
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Sequence

from rows import RowLog

from lpsched.generate import paper
from lpsched.instance import Instance
from lpsched.offline import SolverParams, solve_hindsight
from lpsched.offline.primal.large import LargeBudget, large_search


def large_gap_row(inst: Instance, *, lp_time: float, fractions: Sequence[float], ls_time: float,
                  window_time: float = 0.0, tune_time: float = 0.0, log: bool = True,
                  params: SolverParams | None = None) -> dict:
    """Best schedule, best certified bound and their gap for one large instance
    (:func:`lpsched.offline.primal.large.large_search` with these budgets and the thresholds of
    ``params``, default :class:`SolverParams`)."""
    params = params or SolverParams()
    budget = LargeBudget(lp=lp_time, guided=lp_time * len(fractions), tune=tune_time, local_search=ls_time,
                         window=window_time, fractions=tuple(fractions),
                         lp_variables_per_second=params.large_lp_variables_per_second,
                         lp_resume_share=params.large_lp_resume_share)
    res = large_search(inst, budget, workers=2, seed=0, log=log,  # verifies its schedule
                       colgen_min_variables=params.lp_colgen_min_variables, growth_rounds=params.growth_rounds,
                       order_search_max_jobs=params.order_search_max_jobs, pilot_max_jobs=params.pilot_max_jobs,
                       pilot_share=params.pilot_share)
    info = res.info
    return {"name": inst.name, "n": inst.n, "M": inst.M, "schedule": res.objective, "schedule_from": res.incumbent,
            "first_heuristic": info["first_heuristic"], "first_name": info["first_name"],
            "tuned_pace": info["tuned_pace"], "before_window_search": info["before_window_search"],
            "lp_bound": res.lp_bound, "lp_converged": res.lp_converged, "lp_rounds": info["lp_rounds"],
            "lp_columns": info["lp_columns"], "mean_busy": info["lower_bounds"]["mean_busy"],
            "bound": res.bound, "bound_name": res.bound_name, "gap": res.objective / res.bound - 1,
            "guided": info["guided"], "seconds": info["seconds"], "budget": dataclasses.asdict(budget),
            "params": dataclasses.asdict(params)}


def via_solve_row(inst: Instance, seconds: float, params: SolverParams | None = None) -> dict:
    """What ``solve_hindsight`` (its large-instance path at this size) returns within ``seconds``."""
    params = params or SolverParams()
    res = solve_hindsight(inst, time_limit=seconds, workers=2, params=params)
    return {"name": inst.name, "n": inst.n, "M": inst.M, "time_limit": seconds, "status": res.status,
            "schedule": res.objective, "bound": res.bound, "gap": res.objective / res.bound - 1,
            "schedule_from": res.incumbent, "path": res.info.get("path", "integer"), "seconds": res.seconds,
            "params": dataclasses.asdict(params)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--alpha", default="4,32", help="comma-separated 1/α values")
    ap.add_argument("--s", default="4,50", help="comma-separated prompt lengths")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lp-time", type=float, default=60.0, help="seconds per LP (bound and each fraction)")
    ap.add_argument("--fractions", default="0.96,0.95,0.94", help="capacity fractions of the LP-guided schedules")
    ap.add_argument("--tune-time", type=float, default=120.0,
                    help="cap in seconds of the pace tuning (tuned_fluid_schedule); 0 skips it")
    ap.add_argument("--ls-time", type=float, default=60.0, help="seconds of local search at the end")
    ap.add_argument("--window-time", type=float, default=240.0,
                    help="seconds of window search (exact re-solve of time windows) after the local search")
    ap.add_argument("--via-solve", type=float, default=None, metavar="SECONDS",
                    help="instead: solve_hindsight(time_limit=SECONDS, workers=2), the path a user gets")
    ap.add_argument("--json", dest="json_out", default=None, help="append the rows to this JSON-lines file")
    args = ap.parse_args()
    fractions = tuple(float(f) for f in args.fractions.split(",")) if args.fractions else ()
    log = RowLog(args.json_out)
    for inv_alpha in (int(a) for a in args.alpha.split(",")):
        for s in (int(x) for x in args.s.split(",")):
            inst = paper(args.seed, n=args.n, s=s, lower=8, alpha=1 / inv_alpha, concurrency=10)
            row = {"s": s, "alpha": f"1/{inv_alpha}", "seed": args.seed}
            if args.via_solve is not None:
                row.update(via_solve_row(inst, args.via_solve))
            else:
                row.update(large_gap_row(inst, lp_time=args.lp_time, fractions=fractions, ls_time=args.ls_time,
                                         window_time=args.window_time, tune_time=args.tune_time))
            log.emit(row)


if __name__ == "__main__":
    main()
