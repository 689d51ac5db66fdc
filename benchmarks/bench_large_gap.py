"""Certified gap at n = 1000 (paper regime) as a function of the LP budget.

For each setting: the best heuristic schedule (fluid-release, list schedules, H-SF/SVF), the LP
bound (compact LP, column generation seeded with that schedule, Lagrangian bound from the last
duals) within ``--lp-time`` seconds, LP-guided schedules at the capacity fractions ``--fractions``
(each LP within ``--lp-time``), ``--ls-time`` seconds of local search on the best schedule, then
``--window-time`` seconds of window search (:mod:`lpsched.offline.window_search`: windows of ~50
jobs re-solved exactly by CP-SAT, 4 s each, 2 workers).
Prints one JSON row per setting: schedule, bound, mean-busy bound, gap and the seconds of each part.

    python benchmarks/bench_large_gap.py --alpha 32 --s 4 --lp-time 900 --fractions 0.95
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Sequence

from lpsched.generate import paper
from lpsched.instance import Instance
from lpsched.offline.bounds import lower_bounds
from lpsched.offline.heuristics import best_schedule, tel_of
from lpsched.offline.lp import solve_lp
from lpsched.offline.lp_rounding import lp_guided_schedules
from lpsched.offline.model import build_model
from lpsched.offline.window_search import window_search
from lpsched.verify import require_feasible, verify_schedule


def large_gap_row(inst: Instance, *, lp_time: float, fractions: Sequence[float], ls_time: float,
                  window_time: float = 0.0, log: bool = True) -> dict:
    """Best schedule, best certified bound and their gap for one large instance (see the module text)."""
    t0 = time.perf_counter()
    first, first_name, _ = best_schedule(inst, seconds=0.0, seed=0)
    horizon = int(1.25 * int((first + inst.output).max()))
    t1 = time.perf_counter()
    model = build_model(inst, tel_of(inst, first), truncate=horizon)
    lp = solve_lp(model, time_limit=lp_time, start_hint=first)
    t2 = time.perf_counter()
    if log:
        print(f"  {inst.name}: LP bound {lp.bound:,.0f} after {lp.rounds} LPs, {lp.columns:,} of "
              f"{model.n_variables:,} columns, converged {lp.optimal}, {t2 - t1:.0f} s", flush=True)
    guided = lp_guided_schedules(inst, horizon=horizon, fractions=fractions,
                                 time_limit=lp_time * len(fractions), start_hint=first)
    t3 = time.perf_counter()
    guided_tel = {k: tel_of(inst, v) for k, v in guided.items()}
    if log:
        print(f"  LP-guided: {guided_tel} ({t3 - t2:.0f} s)", flush=True)
    best, name, _ = best_schedule(inst, seconds=ls_time, seed=0, extra=guided)
    before_window = tel_of(inst, best)
    if window_time > 0:
        best = window_search(inst, best, seconds=window_time, jobs_per_window=50, window_time=4.0, workers=2)
        if tel_of(inst, best) < before_window:
            name = f"{name}+window"
        if log:
            print(f"  window search: {before_window:,} -> {tel_of(inst, best):,} ({window_time:.0f} s)", flush=True)
    require_feasible(verify_schedule(inst, best), "bench_large_gap schedule")
    t4 = time.perf_counter()
    ub = tel_of(inst, best)
    cheap = lower_bounds(inst)  # sum_output, volume_rank, mean_busy
    lp_lb = math.ceil(lp.bound - 1e-6 * abs(lp.bound)) if math.isfinite(lp.bound) else None
    lb, lb_name = int(cheap["best_value"]), str(cheap["best"])
    if lp_lb is not None and lp_lb > lb:
        lb, lb_name = lp_lb, "lp_relaxation"
    return {"name": inst.name, "n": inst.n, "M": inst.M, "schedule": ub, "schedule_from": name,
            "first_heuristic": tel_of(inst, first), "first_name": first_name,
            "before_window_search": before_window,
            "lp_bound": lp.bound if math.isfinite(lp.bound) else None,
            "lp_converged": lp.optimal, "lp_rounds": lp.rounds, "lp_columns": lp.columns,
            "mean_busy": cheap["mean_busy"], "bound": lb, "bound_name": lb_name, "gap": ub / lb - 1,
            "guided": guided_tel, "seconds": {"heuristic": t1 - t0, "lp": t2 - t1, "guided": t3 - t2,
                                               "local_search_and_window": t4 - t3}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--alpha", default="4,32", help="comma-separated 1/α values")
    ap.add_argument("--s", default="4,50", help="comma-separated prompt lengths")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lp-time", type=float, default=60.0, help="seconds per LP (bound and each fraction)")
    ap.add_argument("--fractions", default="0.96,0.95,0.94", help="capacity fractions of the LP-guided schedules")
    ap.add_argument("--ls-time", type=float, default=60.0, help="seconds of local search at the end")
    ap.add_argument("--window-time", type=float, default=240.0,
                    help="seconds of window search (exact re-solve of time windows) after the local search")
    ap.add_argument("--json", dest="json_out", default=None, help="append the rows to this JSON-lines file")
    args = ap.parse_args()
    fractions = tuple(float(f) for f in args.fractions.split(",")) if args.fractions else ()
    for inv_alpha in (int(a) for a in args.alpha.split(",")):
        for s in (int(x) for x in args.s.split(",")):
            inst = paper(args.seed, n=args.n, s=s, lower=8, alpha=1 / inv_alpha, concurrency=10)
            row = {"s": s, "alpha": f"1/{inv_alpha}", "seed": args.seed,
                   **large_gap_row(inst, lp_time=args.lp_time, fractions=fractions, ls_time=args.ls_time,
                                  window_time=args.window_time)}
            print(json.dumps(row), flush=True)
            if args.json_out:
                with open(args.json_out, "a") as fh:
                    fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
