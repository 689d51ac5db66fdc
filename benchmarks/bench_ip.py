"""Benchmark of the hindsight IP: strong formulation versus the plain time-indexed model.

Generated families with fixed seeds; per family and n it prints the fraction proven optimal, the
median and worst solve time and the median gap, for both formulations in the same run (so the
gain is a ratio on the same machine). ``--large`` adds the certified gap at n = 1000 (best
heuristic schedule over the best cheap lower bound; no IP).

Quick run:  python benchmarks/bench_ip.py --time-limit 5 --count 2 --families paper-s4
Full run:   python benchmarks/bench_ip.py --time-limit 60 --count 5 --large
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from lpsched.generate import jaillet, paper
from lpsched.offline import lower_bounds, solve_hindsight
from lpsched.offline.heuristics import best_schedule, tel_of

FAMILIES = {
    "jaillet-zero": lambda seed, n: jaillet(seed),
    "jaillet-poisson": lambda seed, n: jaillet(seed, arrivals="poisson"),
    "paper-s4": lambda seed, n: paper(seed, n=n, s=4, lower=8, alpha=0.25, concurrency=10),
    "paper-s50": lambda seed, n: paper(seed, n=n, s=50, lower=8, alpha=0.25, concurrency=10),
}


def _summary(rows: list[dict]) -> str:
    proven = sum(r["status"] == "OPTIMAL" for r in rows)
    times = [r["seconds"] for r in rows]
    gaps = [r["gap"] for r in rows]
    return (f"proven {proven}/{len(rows)}  time median {statistics.median(times):6.1f}s worst {max(times):6.1f}s  "
            f"gap median {100 * statistics.median(gaps):5.2f}% worst {100 * max(gaps):5.2f}%")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--count", type=int, default=5, help="instances (seeds) per family and n")
    ap.add_argument("--families", default=",".join(FAMILIES), help="comma-separated subset")
    ap.add_argument("--n", default="30", help="comma-separated n for the paper families")
    ap.add_argument("--no-plain", action="store_true", help="skip the plain formulation")
    ap.add_argument("--large", action="store_true", help="also the n=1000 certified gaps")
    ap.add_argument("--json", dest="json_out", default=None, help="write all rows to this file")
    args = ap.parse_args()
    forms = ["strong"] if args.no_plain else ["strong", "plain"]
    all_rows: list[dict] = []
    for fam in args.families.split(","):
        ns = [int(x) for x in args.n.split(",")] if fam.startswith("paper") else [0]
        for n in ns:
            per: dict[str, list[dict]] = {f: [] for f in forms}
            for seed in range(args.count):
                inst = FAMILIES[fam](seed, n)
                for form in forms:
                    r = solve_hindsight(inst, time_limit=args.time_limit, workers=args.workers, seed=0,
                                        formulation=form)
                    row = {"family": fam, "n": inst.n, "seed": seed, "formulation": form,
                           "status": r.status, "objective": r.objective, "bound": r.bound,
                           "gap": r.gap, "seconds": r.seconds, "n_variables": r.n_variables,
                           "horizon": r.horizon, "incumbent": r.incumbent}
                    per[form].append(row)
                    all_rows.append(row)
                    print(json.dumps(row), flush=True)
            label = f"{fam}" + (f" n={n}" if n else " n=40-60")
            for form in forms:
                print(f"== {label:<22} {form:<6} {_summary(per[form])}", flush=True)
    if args.large:
        for alpha in (0.25, 1 / 32):
            for s in (4, 50):
                inst = paper(0, n=1000, s=s, lower=8, alpha=alpha, concurrency=10)
                t0 = time.perf_counter()
                k, name, _ = best_schedule(inst, seconds=args.time_limit, seed=0)
                lb = lower_bounds(inst)
                ub = tel_of(inst, k)
                row = {"family": "paper-large", "n": 1000, "s": s, "alpha": alpha, "ub": ub,
                       "lb": lb["best_value"], "lb_name": lb["best"], "gap_ub_over_lb": ub / lb["best_value"] - 1,
                       "heuristic": name, "seconds": time.perf_counter() - t0}
                all_rows.append(row)
                print(json.dumps(row), flush=True)
    if args.json_out:
        with open(args.json_out, "w") as fh:
            json.dump(all_rows, fh, indent=1)


if __name__ == "__main__":
    main()
