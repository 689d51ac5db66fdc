"""How the order search (:func:`lpsched.offline.schedules.order_search.order_search`) scales with n, and what it gains.

For paper-regime instances (l = 8, c = 10, α = 1/4) at growing n, from the best schedule of the
cheap heuristics (``best_schedule(seconds=0)``), prints the seconds per re-placement (a fixed
number of evaluations, so the figure is deterministic in work), and the TEL reached within a fixed
time by the order search and by the ruin-and-recreate search (:func:`~lpsched.offline.schedules.local_search.improve`)
alone, each from the same start and with the whole budget (no stall stop), as a change against that start.
Up to ``--pilot-max-n`` jobs it also runs the pilot construction
(:func:`~lpsched.offline.schedules.order_search.pilot_schedule`) to the end, with no budget,
and prints its seconds (how the ``O(n^2)`` list placements grow with n) and its TEL against the
same start.

    python benchmarks/bench_order_search.py --n 25,50,100,200,400 --seconds 5
"""

from __future__ import annotations

import argparse
import time

from lpsched.generate import paper
from lpsched.offline.formulation.objective import tel_of
from lpsched.offline.schedules.heuristics import best_schedule
from lpsched.offline.schedules.local_search import improve
from lpsched.offline.schedules.order_search import order_search, pilot_schedule


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", default="25,50,100,200,400")
    ap.add_argument("--s", default="4,50", help="comma-separated prompt lengths")
    ap.add_argument("--seconds", type=float, default=5.0, help="budget of each search")
    ap.add_argument("--evals", type=int, default=2000, help="re-placements timed per instance")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--pilot-max-n", type=int, default=150, help="largest n the pilot construction runs at")
    args = ap.parse_args()
    print(f"{'s':>3} {'n':>5} {'ms/placement':>13} {'start TEL':>10} {'order search':>13} {'improve':>9} "
          f"{'pilot s':>8} {'pilot':>8}")
    for s in (int(x) for x in args.s.split(",")):
        for n in (int(x) for x in args.n.split(",")):
            inst = paper(args.seed, n=n, s=s, lower=8, alpha=0.25, concurrency=10)
            start, _, _ = best_schedule(inst, seconds=0)
            t0 = tel_of(inst, start)
            t = time.perf_counter()
            order_search(inst, start, seconds=1e9, seed=args.seed, max_evals=args.evals, stall=10**9)
            per = (time.perf_counter() - t) / args.evals
            by_order = tel_of(inst, order_search(inst, start, seconds=args.seconds, seed=args.seed, stall=10**9))
            by_improve = tel_of(inst, improve(inst, start, seconds=args.seconds, seed=args.seed, stall=10**9))
            pilot = "-", "-"
            if n <= args.pilot_max_n:
                t = time.perf_counter()
                by_pilot = tel_of(inst, pilot_schedule(inst))
                pilot = f"{time.perf_counter() - t:.2f}", f"{100 * (by_pilot / t0 - 1):.2f}%"
            print(f"{s:>3} {n:>5} {1000 * per:>13.3f} {t0:>10} {100 * (by_order / t0 - 1):>12.2f}% "
                  f"{100 * (by_improve / t0 - 1):>8.2f}% {pilot[0]:>8} {pilot[1]:>8}", flush=True)


if __name__ == "__main__":
    main()
