"""The A_min map (issue 33): certified bounds on A_min's ratio over (reading, c, α, family, n).

Runs the cells of :mod:`lpsched.adversary.ratio_map` (each in a child process with a time limit),
appending one JSON line per cell to ``--rows``; a rerun skips the cells already there (resume after
a kill). Then prints the map: per (reading, c, α) the best certified lower bound ``TEL/UB`` (with
``TEL/LB`` above it) and its growth with n; per (reading, c) the growth in ``1/α`` fitted two ways
(``a + b·log2(1/α)`` and ``C·(1/α)^p``, 95 % t intervals). Progress goes to stderr.

The full map (about 10 minutes per cell on 2 cores; days of CPU: run it in pieces, it resumes)::

    python benchmarks/amin_map.py --preset full --rows benchmarks/results/amin_map_full.jsonl

The reduced map measured for docs/adversary.md::

    python benchmarks/amin_map.py --preset reduced --rows benchmarks/results/amin_map_reduced.jsonl \
        --summary-md benchmarks/results/amin_map_reduced.md
    python benchmarks/amin_map.py --preset readings --rows benchmarks/results/amin_map_readings.jsonl \
        --summary-md benchmarks/results/amin_map_readings.md

The sweep of c itself between 1 and 2 (where does the growth at c = 1 stop?)::

    python benchmarks/amin_map.py --preset c_sweep --rows benchmarks/results/amin_map_csweep.jsonl \
        --summary-md benchmarks/results/amin_map_csweep.md

Outside the theorem's setting (Poisson arrivals, prompts in a range; ``--outside RATE SPREAD``,
``--seeds``; reported in a table of their own), and the other online policies on the same cells
(``--readings amax mcsf_upper mcsf_lower fcfs``)::

    python benchmarks/amin_map.py --preset outside --rows benchmarks/results/amin_map_outside.jsonl
    python benchmarks/amin_map.py --preset all_policies --rows benchmarks/results/all_policies.jsonl

``--summary-only`` prints the map of an existing rows file without running anything.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

from lpsched.adversary.constructions import THEOREM_FAMILIES
from lpsched.adversary.ratio_map import OTHER_POLICIES, READINGS, MapCell, load_rows, map_cells, reading_policy, run_map
from lpsched.compare.theory import GrowthFit, fit_growth
from lpsched.errors import LpschedInputError
from lpsched.fileio import write_text_atomic

#: name -> (readings, c values, 1/α values, families, n values, seconds per cell)
PRESETS: dict[str, dict[str, Any]] = {
    "full": {"readings": list(READINGS), "c": [1, 1.5, 2, 3, 4, 8], "inv_alpha": [2**k for k in range(1, 17)],
             "families": list(THEOREM_FAMILIES), "n": [16, 64, 256, 1024, 4096], "seconds": 600.0},
    "reduced": {"readings": ["default"], "c": [1, 2, 4], "inv_alpha": [8, 64, 512, 4096],
                "families": list(THEOREM_FAMILIES), "n": [16, 64, 256, 1024], "seconds": 6.0},
    "readings": {"readings": [r for r in READINGS if r != "default"], "c": [1, 2], "inv_alpha": [64, 512, 4096],
                 "families": ["harmonic", "epochs"], "n": [64, 256], "seconds": 3.0},
    # c between 1 and 2 (where does the growth at c = 1 stop?); the harmonic family also at larger n
    # (``--families harmonic --n 4096 16384``, and 65536 at 1/α = 4096), as docs/adversary.md lists
    "c_sweep": {"readings": ["default"], "c": [1, 1.1, 1.25, 1.5, 1.75, 2, 3], "inv_alpha": [512, 4096],
                "families": ["harmonic", "epochs"], "n": [256, 1024], "seconds": 6.0},
    # outside the theorem's setting: the c = 1 harmonic cells (and ``--c 2 --families epochs --n 256``)
    "outside": {"readings": ["default"], "c": [1], "inv_alpha": [64, 512], "families": ["harmonic"],
                "n": [256, 1024], "seconds": 6.0, "seeds": [0, 1],
                "outside": [[0.0, 0.0], [1.0, 0.0], [0.0625, 0.0], [0.0, 0.25], [1.0, 0.25]]},
    # every online policy on one family at c = 2 (harmonic at n = 4096; and ``--families epochs --n 256
    # --inv-alpha 8 64 512``)
    "all_policies": {"readings": ["default", "resume", "double", *OTHER_POLICIES], "c": [2],
                     "inv_alpha": [8, 64, 512, 4096], "families": ["harmonic"], "n": [4096], "seconds": 3.0},
}

#: every reading name, A_min's first, in the order tables show them
ALL_READINGS = [*READINGS, *OTHER_POLICIES]


def _in_setting(row: dict[str, Any]) -> bool:
    return not (row.get("arrival_rate") or row.get("prompt_spread"))


@dataclass(frozen=True)
class MapSummary:
    """The map: per (reading, c, α) the best certified lower bound (row) and its values per n; per
    (reading, c) the log-vs-power fit over α (``None`` with fewer than 3 α)."""

    best: dict[tuple[str, float, int], dict[str, Any]]
    by_n: dict[tuple[str, float, int], list[tuple[int, float, str]]]
    fits: dict[tuple[str, float], GrowthFit | None]

    def growing_in_n(self, key: tuple[str, float, int], factor: float = 1.05) -> bool | None:
        """Whether the best bound still grows at the largest n (last > ``factor`` × previous)."""
        pts = self.by_n.get(key, [])
        if len(pts) < 2:
            return None
        return pts[-1][1] > factor * pts[-2][1]


def summarise(rows: list[dict[str, Any]]) -> MapSummary:
    """Build the :class:`MapSummary` of the ``ok`` rows in the theorem's setting (the last row of a
    key wins; rows outside the setting are left to :func:`outside_summary`)."""
    last: dict[str, dict[str, Any]] = {}
    for r in rows:
        last[r["key"]] = r
    ok = [r for r in last.values() if r.get("status") == "ok" and _in_setting(r)]
    best: dict[tuple[str, float, int], dict[str, Any]] = {}
    per_n: dict[tuple[str, float, int], dict[int, tuple[float, str]]] = {}
    for r in ok:
        k = (r["reading"], float(r["c"]), int(r["inv_alpha"]))
        if k not in best or r["ratio_lower"] > best[k]["ratio_lower"]:
            best[k] = r
        d = per_n.setdefault(k, {})
        if r["n"] not in d or r["ratio_lower"] > d[r["n"]][0]:
            d[r["n"]] = (float(r["ratio_lower"]), r["family"])
    by_n = {k: [(n, v, f) for n, (v, f) in sorted(d.items())] for k, d in per_n.items()}
    fits: dict[tuple[str, float], GrowthFit | None] = {}
    for reading, c in sorted({(k[0], k[1]) for k in best}):
        pts = sorted((k[2], r["ratio_lower"]) for k, r in best.items() if k[0] == reading and k[1] == c)
        if len(pts) >= 3:
            inv = np.array([p[0] for p in pts], dtype=float)
            fits[(reading, c)] = fit_growth(1 / inv, np.array([p[1] for p in pts]))
        else:
            fits[(reading, c)] = None
    return MapSummary(best=best, by_n=by_n, fits=fits)


def outside_summary(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (reading, c, α, family, n, arrival rate, prompt spread) outside the theorem's setting: the
    best and mean certified lower bound over the seeds, beside the same cell in the setting (``None``
    when the rows do not have it)."""
    last: dict[str, dict[str, Any]] = {r["key"]: r for r in rows}
    ok = [r for r in last.values() if r.get("status") == "ok"]
    base = {(r["reading"], float(r["c"]), int(r["inv_alpha"]), r["family"], int(r["n"])): r["ratio_lower"]
            for r in ok if _in_setting(r)}
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for r in ok:
        if not _in_setting(r):
            k = (r["reading"], float(r["c"]), int(r["inv_alpha"]), r["family"], int(r["n"]),
                 float(r["arrival_rate"]), float(r["prompt_spread"]))
            groups.setdefault(k, []).append(r)
    out = []
    for k, rs in sorted(groups.items()):
        best = max(rs, key=lambda r: r["ratio_lower"])
        out.append({"reading": k[0], "c": k[1], "inv_alpha": k[2], "family": k[3], "n": k[4], "arrival_rate": k[5],
                    "prompt_spread": k[6], "seeds": sorted(int(r["seed"]) for r in rs),
                    "best": best["ratio_lower"], "best_upper": best["ratio_upper"], "best_key": best["key"],
                    "mean": float(np.mean([r["ratio_lower"] for r in rs])), "in_setting": base.get(k[:5])})
    return out


def _fmt_ci(ci: tuple[float, float]) -> str:
    return f"[{ci[0]:.2f}, {ci[1]:.2f}]"


def markdown_summary(rows: list[dict[str, Any]]) -> str:
    """The map as Markdown: one table of best bounds per reading, then the fits."""
    s = summarise(rows)
    last: dict[str, dict[str, Any]] = {r["key"]: r for r in rows}
    counts = {st: sum(1 for r in last.values() if r.get("status") == st) for st in ("ok", "timeout", "error")}
    lines = [f"Cells: {counts['ok']} ok, {counts['timeout']} over their time limit, {counts['error']} failed.", ""]
    readings = sorted({k[0] for k in s.best}, key=lambda r: ALL_READINGS.index(r) if r in ALL_READINGS else 99)
    for reading in readings:
        keys = sorted(k for k in s.best if k[0] == reading)
        policy, options = reading_policy(reading) if reading in ALL_READINGS else ("amin", {})
        lines += [f"### Reading `{reading}` (policy {policy}, options {json.dumps(options)})", "",
                  "| c | 1/α | best certified ratio ≥ (≤ upper) | kind | family | n | best per n (n: ratio) | "
                  "still growing in n |", "|---|---|---|---|---|---|---|---|"]
        for k in keys:
            r = s.best[k]
            per = ", ".join(f"{n}: {v:.2f}" for n, v, _ in s.by_n[k])
            g = s.growing_in_n(k)
            lines.append(f"| {k[1]:g} | {k[2]} | {r['ratio_lower']:.3f} (≤ {r['ratio_upper']:.3f}) | {r['kind']} | "
                         f"{r['family']} | {r['n']} | {per} | {'–' if g is None else ('yes' if g else 'no')} |")
        lines.append("")
    lines += ["### Growth in 1/α of the best bound per α (least squares, 95 % t intervals)", "",
              "| reading | c | points | log: a + b·log2(1/α), b [CI] | power: C·(1/α)^p, p [CI] | "
              "RSS log / power | better |", "|---|---|---|---|---|---|---|"]
    for (reading, c), f in sorted(s.fits.items(), key=lambda kv: (readings.index(kv[0][0]), kv[0][1])):
        if f is None:
            lines.append(f"| {reading} | {c:g} | < 3 | – | – | – | – |")
            continue
        lines.append(f"| {reading} | {c:g} | {f.n_points} | {f.log_a:.2f} + {f.log_b:.2f}·log2(1/α), "
                     f"{_fmt_ci(f.log_b_ci)} | {f.power_c:.2f}·(1/α)^{f.power_p:.3f}, {_fmt_ci(f.power_p_ci)} | "
                     f"{f.rss['log']:.4f} / {f.rss['power']:.4f} | {f.better()} |")
    lines.append("")
    outside = outside_summary(rows)
    if outside:
        lines += ["### Outside the theorem's setting (Poisson arrivals at rate λ per round in tie-break order; "
                  "prompts s + U{0..⌊f·u⌋})", "",
                  "| c | 1/α | family | n | λ | f | seeds | best ≥ (≤ upper) | mean | in the setting |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for o in outside:
            ins = "–" if o["in_setting"] is None else f"{o['in_setting']:.3f}"
            lines.append(f"| {o['c']:g} | {o['inv_alpha']} | {o['family']} | {o['n']} | {o['arrival_rate']:g} | "
                         f"{o['prompt_spread']:g} | {len(o['seeds'])} | {o['best']:.3f} (≤ {o['best_upper']:.3f}) | "
                         f"{o['mean']:.3f} | {ins} |")
        lines.append("")
    return "\n".join(lines)


def summary_json(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The map as a JSON-ready dict (strict: no NaN)."""
    s = summarise(rows)
    return {
        "best": [{"reading": k[0], "c": k[1], "inv_alpha": k[2], "ratio_lower": r["ratio_lower"],
                  "ratio_upper": r["ratio_upper"], "kind": r["kind"], "family": r["family"], "n": r["n"],
                  "per_n": [{"n": n, "ratio_lower": v, "family": f} for n, v, f in s.by_n[k]],
                  "growing_in_n": s.growing_in_n(k)} for k, r in sorted(s.best.items())],
        "fits": [{"reading": k[0], "c": k[1], **(f.to_dict() if f is not None else {})}
                 for k, f in sorted(s.fits.items())],
        "outside_setting": outside_summary(rows),
    }


def _progress(i: int, total: int, cell: MapCell, row: dict[str, Any] | None) -> None:
    if row is None:
        print(f"[{i + 1}/{total}] {cell.key} ...", file=sys.stderr, flush=True)
    elif row["status"] == "ok":
        print(f"    {row['kind']}: ratio in [{row['ratio_lower']:.3f}, {row['ratio_upper']:.3f}] "
              f"(TEL {row['tel']}, {row['evictions']} evictions, schedule {row['schedule_method']}) "
              f"{row['seconds']:.1f} s", file=sys.stderr, flush=True)
    else:
        print(f"    {row['status']} after {row['seconds']:.1f} s {row.get('error', '')}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", required=True, help="JSON-lines rows file (appended; resumed).")
    ap.add_argument("--preset", choices=sorted(PRESETS), default="reduced")
    ap.add_argument("--readings", nargs="+", choices=ALL_READINGS,
                    help="A_min readings and, for the all-policies question, the other online policies.")
    ap.add_argument("--c", nargs="+", type=float)
    ap.add_argument("--inv-alpha", nargs="+", type=int)
    ap.add_argument("--families", nargs="+", choices=list(THEOREM_FAMILIES))
    ap.add_argument("--n", nargs="+", type=int)
    ap.add_argument("--seconds", type=float, help="Search budget per cell (the hard limit is 2x + 30 s).")
    ap.add_argument("--hard-limit", type=float, help="Wall-time limit of a cell (default 2 x seconds + 30 s).")
    ap.add_argument("--seeds", nargs="+", type=int, help="Seeds (default: the preset's, else 0); outside the "
                    "setting a seed draws the arrivals and prompts, inside it only permutes the rows.")
    ap.add_argument("--outside", nargs=2, type=float, action="append", metavar=("RATE", "SPREAD"),
                    help="Leave the theorem's setting: Poisson arrivals at RATE jobs per round and prompts "
                         "s + U{0..SPREAD·u} (0 0: stay in it; repeatable).")
    ap.add_argument("--retry-timeouts", action="store_true", help="Run cells that timed out before again.")
    ap.add_argument("--summary-only", action="store_true")
    ap.add_argument("--summary-md", help="Also write the map (Markdown) here.")
    ap.add_argument("--summary-json", help="Also write the map (JSON) here.")
    args = ap.parse_args(argv)
    if not args.summary_only:
        pre = PRESETS[args.preset]
        pick = {k: getattr(args, k.replace("-", "_")) or pre[k] for k in ("readings", "c", "families", "n")}
        cells = []
        for rate, spread in args.outside or pre.get("outside", [[0.0, 0.0]]):
            if rate < 0 or spread < 0:
                ap.error("--outside RATE SPREAD must be >= 0")
            # in the setting the seed only permutes the rows (same ratio): one seed is enough
            for seed in (args.seeds or pre.get("seeds", [0]))[: 1 if rate == spread == 0 else None]:
                cells += map_cells(pick["readings"], pick["c"], args.inv_alpha or pre["inv_alpha"],
                                   pick["families"], pick["n"], seed=seed, arrival_rate=rate, prompt_spread=spread)
        seconds = args.seconds if args.seconds is not None else pre["seconds"]
        if seconds <= 0:
            ap.error("--seconds must be > 0")
        retry = ("error", "timeout") if args.retry_timeouts else ("error",)
        print(f"{len(cells)} cells, {seconds:g} s each -> {args.rows}", file=sys.stderr, flush=True)
        run_map(cells, args.rows, budget=seconds, retry=retry, progress=_progress, hard_limit=args.hard_limit)
    rows = load_rows(args.rows)
    md = markdown_summary(rows)
    print(md)
    if args.summary_md:
        write_text_atomic(args.summary_md, md, [args.rows], "--summary-md")
    if args.summary_json:
        text = json.dumps(summary_json(rows), indent=1, allow_nan=False) + "\n"
        write_text_atomic(args.summary_json, text, [args.rows], "--summary-json")
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except LpschedInputError as exc:
        print(f"amin_map: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
