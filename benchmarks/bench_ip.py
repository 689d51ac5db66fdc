"""Benchmark of the hindsight solver: the default (``auto``) versus the plain time-indexed model.

Generated families with fixed seeds; per family and n it prints the fraction proven optimal, the
median and worst solve time and the median gap, for each formulation in the same run (so the gain
is a ratio on the same machine). ``auto`` resolves to the interval/cumulative model on tight
instances (Jaillet regime) and to the strong time-indexed model otherwise (paper regime).
``--sweep`` increases n in the sized families (``paper-*``, and ``jaillet-zero-n``: the Jaillet draw
with ``n`` jobs at time 0) until some seed is not proven (default only);
``--large`` adds the certified gap at n = 1000 (best schedule of the heuristics and the LP-guided
roundings, polished by local search, over the best lower bound incl. the truncated LP; no IP).

``--rows FILE`` appends every row to a JSON-lines file as soon as it is measured and, run again,
takes the rows already there (same family, n, seed, formulation, time limit and workers) instead of
solving them again: a sweep killed at any point resumes where it stopped. ``--plot PNG`` draws the
fraction proven and the median gap per family and n; ``--plot-only`` draws it from the rows of
``--rows`` (or of earlier ``--json`` / JSON-lines files given with ``--plot-from``) without solving.

Quick run:  python benchmarks/bench_ip.py --time-limit 5 --count 2 --families paper-s4
Full run:   python benchmarks/bench_ip.py --time-limit 60 --count 8 --paper-count 5 --plain-count 3 \\
                --sweep 50,100,150,200 --sweep-down 20,10 --large --rows bench_ip_rows.jsonl --plot ip.png
Jaillet, by n: python benchmarks/bench_ip.py --time-limit 60 --no-plain --families jaillet-zero-n --n 8,10,12,14,16
Plot only:  python benchmarks/bench_ip.py --plot-only --plot ip.png \\
                --plot-from benchmarks/results/paper_regime_sweep.jsonl
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import statistics
from collections.abc import Callable, Iterable
from pathlib import Path

from bench_large_gap import large_gap_row
from rows import RowLog, load_rows

from lpsched.fileio import write_text_atomic
from lpsched.generate import jaillet, paper
from lpsched.instance import Instance
from lpsched.offline import SolverParams, solve_hindsight

FAMILIES = {
    "jaillet-zero": lambda seed, n: jaillet(seed),
    "jaillet-poisson": lambda seed, n: jaillet(seed, arrivals="poisson"),
    # the Jaillet draw (M, prompts, outputs) with n jobs at time 0 instead of n ~ U{40..60}
    "jaillet-zero-n": lambda seed, n: jaillet(seed, n=n),
    "paper-s4": lambda seed, n: paper(seed, n=n, s=4, lower=8, alpha=0.25, concurrency=10),
    "paper-s50": lambda seed, n: paper(seed, n=n, s=50, lower=8, alpha=0.25, concurrency=10),
}
#: The families of ``FAMILIES`` whose generator takes ``n`` (besides every ``paper-*`` family).
SIZED_FAMILIES = frozenset({"jaillet-zero-n"})
PAPER_NAME = re.compile(r"paper-s(\d+)(?:-a(\d+))?(?:-c(\d+))?")


def sized(name: str) -> bool:
    """Whether family ``name`` takes ``n`` from ``--n`` (the paper families and ``jaillet-zero-n``);
    the other Jaillet families draw it."""
    return name.startswith("paper") or name in SIZED_FAMILIES


def family(name: str) -> Callable[[int, int], Instance]:
    """The generator of a family: one of ``FAMILIES`` or a paper-regime setting spelt
    ``paper-s{S}[-a{D}][-c{C}]`` (prompt ``S``, ``α = 1/D``, default 4; ``C`` jobs fit at the
    predicted peak, default 10; ``l = 8``), e.g. ``paper-s4-a32-c20``."""
    if name in FAMILIES:
        return FAMILIES[name]
    m = PAPER_NAME.fullmatch(name)
    if m is None:
        raise ValueError(f"unknown family '{name}' (known: {', '.join(FAMILIES)}, or paper-s{{S}}-a{{D}}-c{{C}})")
    s, d, c = int(m[1]), int(m[2] or 4), int(m[3] or 10)
    if d < 1 or c < 1:
        raise ValueError(f"family '{name}': α = 1/D and the concurrency C need D, C >= 1")
    return lambda seed, n: paper(seed, n=n, s=s, lower=8, alpha=1 / d, concurrency=c)


def _summary(rows: list[dict]) -> str:
    proven = sum(r["status"] == "OPTIMAL" for r in rows)
    times = [r["seconds"] for r in rows]
    gaps = [r["gap"] for r in rows]
    open_gaps = [g for r, g in zip(rows, gaps, strict=True) if r["status"] != "OPTIMAL"]
    og = f"{100 * statistics.median(open_gaps):5.2f}%" if open_gaps else "   - "
    return (f"proven {proven}/{len(rows)}  time median {statistics.median(times):6.1f}s worst {max(times):6.1f}s  "
            f"gap median {100 * statistics.median(gaps):5.2f}% worst {100 * max(gaps):5.2f}%  "
            f"median gap of unproven {og}")


def row_key(fam: str, n_requested: int, seed: int, form: str, time_limit: float, workers: int) -> str:
    """What identifies a measured row for ``--rows`` (``n_requested`` is 0 for the families whose
    generator draws n)."""
    return f"{fam}|{n_requested}|{seed}|{form}|{float(time_limit):g}|{int(workers)}"


def _run(fam: str, n: int, seed: int, form: str, args: argparse.Namespace, log: RowLog) -> dict:
    key = row_key(fam, n, seed, form, args.time_limit, args.workers)
    if key in log.done:
        row = dict(log.done[key])
        print(f"# resumed {key}: {row['status']} {row['objective']} / {row['bound']}", flush=True)
        return row
    inst = family(fam)(seed, n)
    params = SolverParams()
    r = solve_hindsight(inst, time_limit=args.time_limit, workers=args.workers, seed=0, formulation=form,
                        params=params)
    row = {"key": key, "family": fam, "n": inst.n, "M": inst.M, "seed": seed, "formulation": form,
           "resolved": r.info.get("formulation"), "status": r.status, "objective": r.objective,
           "bound": r.bound, "gap": r.gap, "seconds": r.seconds, "n_variables": r.n_variables,
           "horizon": r.horizon, "incumbent": r.incumbent, "lp_bound": r.info.get("lp_bound"),
           "hsf": r.info.get("heuristics", {}).get("hsf"), "time_limit": args.time_limit,
           "workers": args.workers, "params": dataclasses.asdict(params)}
    log.emit(row)
    print(f"#   {key}: {r.status} {r.objective:,} / {r.bound:,} (gap {100 * r.gap:.2f}%) in {r.seconds:.1f}s",
          flush=True)
    return row


def figure_proofs(rows: Iterable[dict]):
    """Per family (paper families by n; Jaillet families as one point at their mean n) and
    formulation: the fraction proven optimal (left) and the median gap of the unproven rows
    (right, log scale; a point is missing where every row is proven)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups: dict[tuple[str, str], dict[int, list[dict]]] = {}
    for r in rows:
        if r.get("family", "").startswith(("paper-s", "jaillet")) and "status" in r:
            fam = r["family"]
            n = int(r["n"]) if sized(fam) else 0
            groups.setdefault((fam, r.get("formulation", "auto")), {}).setdefault(n, []).append(r)
    fig, (ax_p, ax_g) = plt.subplots(1, 2, figsize=(12, 4.5))
    palette = plt.get_cmap("tab20").colors if len(groups) > 10 else [f"C{i}" for i in range(10)]
    for i, ((fam, form), by_n) in enumerate(sorted(groups.items())):
        color = palette[i % len(palette)]
        ns = sorted(by_n)
        xs = [n if n else statistics.mean(int(r["n"]) for r in by_n[n]) for n in ns]
        frac = [sum(r["status"] == "OPTIMAL" for r in by_n[n]) / len(by_n[n]) for n in ns]
        style = "o-" if form == "auto" else "s--"
        label = f"{fam} ({form})"
        ax_p.plot(xs, frac, style, color=color, label=label)
        # hollow: fewer seeds than this family's full count (a sweep stops at the first unproven one)
        full = max(len(v) for v in by_n.values())
        short = [(x, f) for x, f, n in zip(xs, frac, ns, strict=True) if len(by_n[n]) < full]
        if short:
            ax_p.plot(*zip(*short, strict=True), "o", color=color, mfc="white")
        gx, gy = [], []
        for x, n in zip(xs, ns, strict=True):
            open_gaps = [100 * r["gap"] for r in by_n[n] if r["status"] != "OPTIMAL" and r.get("gap") is not None]
            if open_gaps:
                gx.append(x)
                gy.append(max(statistics.median(open_gaps), 1e-2))
        if gx:
            ax_g.plot(gx, gy, style, color=color, label=label)
    ax_p.axhline(0.5, color="grey", ls=":", lw=1)
    ax_p.text(ax_p.get_xlim()[0], 0.52, " Jaillet target: ≥ 50 % proven", fontsize=8, color="grey")
    ax_g.axhline(2.0, color="grey", ls=":", lw=1)
    ax_g.text(ax_g.get_xlim()[0], 2.1, " Jaillet target: median gap ≤ 2 %", fontsize=8, color="grey")
    ax_p.set(xlabel="n (Jaillet families: mean n of their instances)", ylabel="fraction proven optimal",
             ylim=(-0.05, 1.05), title="Proven optimal within the time limit")
    ax_g.set(xlabel="n", ylabel="median gap of the unproven rows (%)", yscale="log",
             title="Gap left (best schedule vs best bound)")
    for ax in (ax_p, ax_g):
        ax.grid(alpha=0.3)
    if len(groups) > 10:  # below the panels, where it hides no point
        fig.set_size_inches(12, 6)
        fig.legend(*ax_p.get_legend_handles_labels(), fontsize=8, loc="lower center", ncol=4)
    else:
        ax_p.legend(fontsize=8, loc="best")
    if any(len(v) < max(len(w) for w in by.values()) for by in groups.values() for v in by.values()):
        ax_p.set_title("Proven optimal within the time limit\n(hollow: sweep stopped at the first unproven seed)",
                       fontsize=10)
    fig.tight_layout(rect=(0, 0.14, 1, 1) if len(groups) > 10 else None)
    return fig


def plot_proofs(rows: Iterable[dict], path: str | Path) -> Path:
    """Write :func:`figure_proofs` as a PNG; returns the path."""
    import matplotlib.pyplot as plt

    fig = figure_proofs(rows)
    out = Path(path)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--count", type=int, default=5, help="instances (seeds) per Jaillet family")
    ap.add_argument("--paper-count", type=int, default=5, help="seeds per paper family and n")
    ap.add_argument("--plain-count", type=int, default=None,
                    help="run the plain formulation on the first K seeds only (default: all)")
    ap.add_argument("--families", default=",".join(FAMILIES),
                    help="comma-separated: the keys above or paper-s{S}-a{D}-c{C}")
    ap.add_argument("--n", default="30", help="comma-separated n for the sized families (paper-*, jaillet-zero-n)")
    ap.add_argument("--no-plain", action="store_true", help="skip the plain formulation")
    ap.add_argument("--only-plain", action="store_true", help="run the plain formulation only (no sweep)")
    ap.add_argument("--sweep", default="", help="sized families: further n (ascending, default only)")
    ap.add_argument("--sweep-down", default="", help="sized families: smaller n tried when the first fails")
    ap.add_argument("--large", action="store_true", help="also the n=1000 certified gaps")
    ap.add_argument("--json", dest="json_out", default=None, help="write all rows to this file")
    ap.add_argument("--rows", default=None, help="JSON-lines file: append rows as measured; resume from it")
    ap.add_argument("--plot", default=None, help="write the proof/gap plot of this run's rows to this PNG")
    ap.add_argument("--plot-only", action="store_true", help="only plot (rows of --rows and --plot-from)")
    ap.add_argument("--plot-from", default="", help="comma-separated earlier --json / --rows files to plot")
    args = ap.parse_args()
    try:
        for fam in args.families.split(","):
            family(fam)
        for opt, text in (("--n", args.n), ("--sweep", args.sweep), ("--sweep-down", args.sweep_down)):
            if not all(x.isdigit() and int(x) >= 1 for x in text.split(",") if x):
                raise ValueError(f"{opt} takes comma-separated job counts >= 1, got {text!r}")
        log = RowLog(args.rows)
        earlier = load_rows([p for p in args.plot_from.split(",") if p]) if args.plot_only else []
    except (OSError, ValueError) as e:
        ap.error(str(e))
    if args.plot_only:
        if not args.plot:
            ap.error("--plot-only needs --plot PNG")
        rows = earlier + list(log.done.values())
        if not rows:
            ap.error("nothing to plot: give --rows or --plot-from with rows in them")
        print(f"wrote {plot_proofs(rows, args.plot)} ({len(rows)} rows)")
        return
    forms = ["plain"] if args.only_plain else ["auto"] if args.no_plain else ["auto", "plain"]
    all_rows: list[dict] = []
    proven_all: dict[str, bool] = {}
    for fam in args.families.split(","):
        sized_fam = sized(fam)
        ns = [int(x) for x in args.n.split(",")] if sized_fam else [0]
        count = args.paper_count if fam.startswith("paper") else args.count
        for n in ns:
            per: dict[str, list[dict]] = {f: [] for f in forms}
            for seed in range(count):
                for form in forms:
                    if form == "plain" and args.plain_count is not None and seed >= args.plain_count:
                        continue
                    row = _run(fam, n, seed, form, args, log)
                    per[form].append(row)
                    all_rows.append(row)
            label = f"{fam}" + (f" n={n}" if n else " n=gen")
            for form in forms:
                if per[form]:
                    print(f"== {label:<22} {form:<6} {_summary(per[form])}", flush=True)
            proven_all[f"{fam}:{n}"] = all(r["status"] == "OPTIMAL" for r in per.get("auto", []))
        if sized_fam and (args.sweep or args.sweep_down) and not args.only_plain:
            up = [int(x) for x in args.sweep.split(",") if x]
            down = [int(x) for x in args.sweep_down.split(",") if x]
            largest = max((n for n in ns if proven_all.get(f"{fam}:{n}")), default=None)
            seq = up if largest is not None else down
            for n in seq:
                rows = []
                for seed in range(count):
                    row = _run(fam, n, seed, "auto", args, log)
                    row["sweep"] = True
                    rows.append(row)
                    all_rows.append(row)
                    if row["status"] != "OPTIMAL":
                        break
                ok = len(rows) == count and all(r["status"] == "OPTIMAL" for r in rows)
                print(f"== sweep {fam} n={n} auto {_summary(rows)}  all seeds proven: {ok}", flush=True)
                if ok:
                    largest = n if largest is None else max(largest, n)
                if (seq is up and not ok) or (seq is down and ok):
                    break
            print(f"== sweep {fam}: largest n with all {count} seeds proven: {largest}", flush=True)
    if args.large:
        for alpha in (0.25, 1 / 32):
            for s in (4, 50):
                key = f"paper-large|1000|s{s}|a{alpha:g}|{float(args.time_limit):g}"
                if key in log.done:
                    all_rows.append(log.done[key])
                    print(f"# resumed {key}", flush=True)
                    continue
                inst = paper(0, n=1000, s=s, lower=8, alpha=alpha, concurrency=10)
                params = SolverParams()  # recorded in the row (large_gap_row)
                row = {"key": key, "family": "paper-large", "s": s, "alpha": alpha,
                       **large_gap_row(inst, lp_time=args.time_limit, fractions=params.lp_guided_fractions,
                                       ls_time=args.time_limit, window_time=4 * args.time_limit,
                                       tune_time=2 * args.time_limit, log=False, params=params)}
                all_rows.append(row)
                log.emit(row)
    if args.json_out:
        write_text_atomic(args.json_out, json.dumps(all_rows, indent=1))
    if args.plot:
        print(f"wrote {plot_proofs(all_rows, args.plot)}", flush=True)


if __name__ == "__main__":
    main()
