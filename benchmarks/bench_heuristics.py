"""How the list schedule (the inner loop of the fluid, tuned-pace and local-search heuristics) scales with n.

For paper-regime instances (s = 4, l = 8, c = 10) at α = 1/4 and α = 1/32 and growing n, prints the
seconds of one fluid-release list schedule with the sliding-maximum earliest fit of
:func:`lpsched.offline.schedules.placement.earliest_fit` and with the direct window test it replaced (every
start of a chunk checked against an ``o``-wide window), their ratio, and the seconds per job.

    python benchmarks/bench_heuristics.py --n 250,500,1000,2000 --repeat 3
"""

from __future__ import annotations

import argparse
import functools
import time

import lpsched.offline.schedules.placement as P
from lpsched.generate import paper
from lpsched.offline.formulation.objective import tel_of
from lpsched.offline.schedules.fluid import fluid_schedules


def time_fluid(inst, repeat: int) -> tuple[float, int]:
    best, tel = float("inf"), 0
    for _ in range(repeat):
        t = time.perf_counter()
        k = fluid_schedules(inst, thetas=(1.06,), offsets=(0.5,))["fluid_1.06_0.5"]
        best = min(best, time.perf_counter() - t)
        tel = tel_of(inst, k)
    return best, tel


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", default="250,500,1000,2000")
    ap.add_argument("--alpha", default="4,32", help="comma-separated 1/α values")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    fast = P.earliest_fit
    print(f"{'1/α':>4} {'n':>6} {'sliding max s':>14} {'direct s':>10} {'speed-up':>9} {'µs/job':>8}")
    for inv in (int(a) for a in args.alpha.split(",")):
        for n in (int(x) for x in args.n.split(",")):
            inst = paper(0, n=n, s=4, lower=8, alpha=1 / inv, concurrency=10)
            P.earliest_fit = fast
            t_fast, tel_fast = time_fluid(inst, args.repeat)
            P.earliest_fit = functools.partial(fast, sliding_max=False)
            try:
                t_dir, tel_dir = time_fluid(inst, args.repeat)
            finally:
                P.earliest_fit = fast
            assert tel_fast == tel_dir, "the two earliest-fit tests disagree"
            print(f"{inv:>4} {n:>6} {t_fast:>14.4f} {t_dir:>10.4f} {t_dir / t_fast:>9.1f} {1e6 * t_fast / n:>8.0f}",
                  flush=True)


if __name__ == "__main__":
    main()
