"""Benchmark of the hindsight solver: the default (``auto``) versus the plain time-indexed model.

Generated families with fixed seeds; per family and n it prints the fraction proven optimal, the
median and worst solve time and the median gap, for each formulation in the same run (so the gain
is a ratio on the same machine). ``auto`` resolves to the interval/cumulative model on tight
instances (Jaillet regime) and to the strong time-indexed model otherwise (paper regime).
``--sweep`` increases n in the paper families until some seed is not proven (default only);
``--large`` adds the certified gap at n = 1000 (best schedule of the heuristics and the LP-guided
roundings, polished by local search, over the best lower bound incl. the truncated LP; no IP).

Quick run:  python benchmarks/bench_ip.py --time-limit 5 --count 2 --families paper-s4
Full run:   python benchmarks/bench_ip.py --time-limit 60 --count 8 --paper-count 5 --plain-count 3 \\
                --sweep 50,100,150,200 --sweep-down 20,10 --large
"""

from __future__ import annotations

import argparse
import json
import statistics

from bench_large_gap import large_gap_row

from lpsched.generate import jaillet, paper
from lpsched.offline import solve_hindsight
from lpsched.offline.lp_rounding import DEFAULT_FRACTIONS

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
    open_gaps = [g for r, g in zip(rows, gaps, strict=True) if r["status"] != "OPTIMAL"]
    og = f"{100 * statistics.median(open_gaps):5.2f}%" if open_gaps else "   - "
    return (f"proven {proven}/{len(rows)}  time median {statistics.median(times):6.1f}s worst {max(times):6.1f}s  "
            f"gap median {100 * statistics.median(gaps):5.2f}% worst {100 * max(gaps):5.2f}%  "
            f"median gap of unproven {og}")


def _run(fam: str, n: int, seed: int, form: str, args: argparse.Namespace) -> dict:
    inst = FAMILIES[fam](seed, n)
    r = solve_hindsight(inst, time_limit=args.time_limit, workers=args.workers, seed=0, formulation=form)
    row = {"family": fam, "n": inst.n, "M": inst.M, "seed": seed, "formulation": form,
           "resolved": r.info.get("formulation"), "status": r.status, "objective": r.objective,
           "bound": r.bound, "gap": r.gap, "seconds": r.seconds, "n_variables": r.n_variables,
           "horizon": r.horizon, "incumbent": r.incumbent, "lp_bound": r.info.get("lp_bound"),
           "hsf": r.info.get("heuristics", {}).get("hsf")}
    print(json.dumps(row), flush=True)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--count", type=int, default=5, help="instances (seeds) per Jaillet family")
    ap.add_argument("--paper-count", type=int, default=5, help="seeds per paper family and n")
    ap.add_argument("--plain-count", type=int, default=None,
                    help="run the plain formulation on the first K seeds only (default: all)")
    ap.add_argument("--families", default=",".join(FAMILIES), help="comma-separated subset")
    ap.add_argument("--n", default="30", help="comma-separated n for the paper families")
    ap.add_argument("--no-plain", action="store_true", help="skip the plain formulation")
    ap.add_argument("--only-plain", action="store_true", help="run the plain formulation only (no sweep)")
    ap.add_argument("--sweep", default="", help="paper families: further n (ascending, default only)")
    ap.add_argument("--sweep-down", default="", help="paper families: smaller n tried when n=30 fails")
    ap.add_argument("--large", action="store_true", help="also the n=1000 certified gaps")
    ap.add_argument("--json", dest="json_out", default=None, help="write all rows to this file")
    args = ap.parse_args()
    forms = ["plain"] if args.only_plain else ["auto"] if args.no_plain else ["auto", "plain"]
    all_rows: list[dict] = []
    proven_all: dict[str, bool] = {}
    for fam in args.families.split(","):
        paper_fam = fam.startswith("paper")
        ns = [int(x) for x in args.n.split(",")] if paper_fam else [0]
        count = args.paper_count if paper_fam else args.count
        for n in ns:
            per: dict[str, list[dict]] = {f: [] for f in forms}
            for seed in range(count):
                for form in forms:
                    if form == "plain" and args.plain_count is not None and seed >= args.plain_count:
                        continue
                    row = _run(fam, n, seed, form, args)
                    per[form].append(row)
                    all_rows.append(row)
            label = f"{fam}" + (f" n={n}" if n else " n=gen")
            for form in forms:
                if per[form]:
                    print(f"== {label:<22} {form:<6} {_summary(per[form])}", flush=True)
            proven_all[f"{fam}:{n}"] = all(r["status"] == "OPTIMAL" for r in per.get("auto", []))
        if paper_fam and (args.sweep or args.sweep_down) and not args.only_plain:
            up = [int(x) for x in args.sweep.split(",") if x]
            down = [int(x) for x in args.sweep_down.split(",") if x]
            largest = max((n for n in ns if proven_all.get(f"{fam}:{n}")), default=None)
            seq = up if largest is not None else down
            for n in seq:
                rows = []
                for seed in range(args.paper_count):
                    row = _run(fam, n, seed, "auto", args)
                    row["sweep"] = True
                    rows.append(row)
                    all_rows.append(row)
                    if row["status"] != "OPTIMAL":
                        break
                ok = len(rows) == args.paper_count and all(r["status"] == "OPTIMAL" for r in rows)
                print(f"== sweep {fam} n={n} auto {_summary(rows)}  all seeds proven: {ok}", flush=True)
                if ok:
                    largest = n if largest is None else max(largest, n)
                if (seq is up and not ok) or (seq is down and ok):
                    break
            print(f"== sweep {fam}: largest n with all {args.paper_count} seeds proven: {largest}", flush=True)
    if args.large:
        for alpha in (0.25, 1 / 32):
            for s in (4, 50):
                inst = paper(0, n=1000, s=s, lower=8, alpha=alpha, concurrency=10)
                row = {"family": "paper-large", "s": s, "alpha": alpha,
                       **large_gap_row(inst, lp_time=args.time_limit, fractions=DEFAULT_FRACTIONS,
                                       ls_time=args.time_limit, window_time=4 * args.time_limit,
                                       tune_time=2 * args.time_limit, log=False)}
                all_rows.append(row)
                print(json.dumps(row), flush=True)
    if args.json_out:
        with open(args.json_out, "w") as fh:
            json.dump(all_rows, fh, indent=1)


if __name__ == "__main__":
    main()
