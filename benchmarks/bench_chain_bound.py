"""The chain LP bound (lpsched/offline/chain.py) against the LP on the Jaillet regime.

Per instance: the LP bound (compact LP, no core rows), the chain LP bound, GLOP's seconds for each,
and the best schedule of ``best_schedule(seconds=...)``, for reduced sizes (``--n``) and the full
instances (``--full``), so the scaling of the chain LP's time with n is printed alongside.

    python benchmarks/bench_chain_bound.py --n 8,12,16,24,32 --seeds 1,2,3,4 [--full 0,1,2,3] [--jsonl F]
"""

from __future__ import annotations

import argparse
import json
import time

from lpsched.generate import jaillet
from lpsched.offline.bounds.chain import solve_chain_lp
from lpsched.offline.bounds.lp import integer_bound, solve_lp
from lpsched.offline.formulation.model import build_model
from lpsched.offline.formulation.objective import tel_of
from lpsched.offline.schedules.heuristics import best_schedule


def measure(inst, label: str, time_limit: float, heuristic_seconds: float) -> dict:
    inc, _, _ = best_schedule(inst, seconds=heuristic_seconds)
    ub = tel_of(inst, inc)
    model = build_model(inst, ub)
    t0 = time.perf_counter()
    lp = solve_lp(model, time_limit=time_limit, start_hint=inc)
    t1 = time.perf_counter()
    ch = solve_chain_lp(model, time_limit=time_limit)
    t2 = time.perf_counter()
    lpb = integer_bound(lp.bound) if lp.bound > float("-inf") else None
    chb = integer_bound(ch.bound) if ch.bound > float("-inf") else None
    return {"instance": label, "n": inst.n, "M": inst.M, "variables": model.n_variables, "schedule": ub,
            "lp": lpb, "lp_seconds": round(t1 - t0, 2), "chain": chb, "chain_converged": ch.converged,
            "chain_seconds": round(t2 - t1, 2),
            "gap_lp": round((ub - lpb) / ub, 4) if lpb else None,
            "gap_chain": round((ub - chb) / ub, 4) if chb else None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", default="8,12,16,24", help="reduced sizes (comma-separated; '' for none)")
    ap.add_argument("--seeds", default="1,2,3,4")
    ap.add_argument("--full", default="", help="seeds of full-size instances (all at 0 and Poisson)")
    ap.add_argument("--time-limit", type=float, default=240.0)
    ap.add_argument("--heuristic-seconds", type=float, default=2.0)
    ap.add_argument("--jsonl", default=None, help="append each row to this file as it is measured")
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",") if s]
    jobs = [(f"jaillet-zero s{s} n={n}", jaillet(s, n=int(n))) for n in args.n.split(",") if n for s in seeds]
    for s in (int(v) for v in args.full.split(",") if v):
        jobs.append((f"jaillet-zero s{s}", jaillet(s)))
        jobs.append((f"jaillet-poisson s{s}", jaillet(s, arrivals="poisson")))
    print(f"{'instance':28s} {'n':>3s} {'vars':>7s} {'schedule':>8s} {'LP':>7s} {'s':>6s} {'chain':>7s} {'s':>6s}"
          f" {'gap LP':>7s} {'gap chain':>9s}", flush=True)
    for label, inst in jobs:
        row = measure(inst, label, args.time_limit, args.heuristic_seconds)
        if args.jsonl:
            with open(args.jsonl, "a") as fh:
                fh.write(json.dumps(row) + "\n")
        gl = f"{100 * row['gap_lp']:.1f}%" if row["gap_lp"] is not None else "-"
        gc = f"{100 * row['gap_chain']:.1f}%" if row["gap_chain"] is not None else "-"
        print(f"{label:28s} {row['n']:3d} {row['variables']:7d} {row['schedule']:8d} {row['lp']!s:>7s} "
              f"{row['lp_seconds']:6.1f} {row['chain']!s:>7s} {row['chain_seconds']:6.1f} {gl:>7s} {gc:>9s}",
              flush=True)


if __name__ == "__main__":
    main()
