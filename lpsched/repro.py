"""Tables of the reproductions (docs/reproductions.md), computed from sweep databases.

* :func:`jaillet_table` – Jaillet et al.'s synthetic table: MC-SF (exact predictions) against the
  hindsight optimum, per arrival regime, from a sweep of ``experiments/jaillet_table.toml``;
* :func:`paper_table` – Chen, Ye, Zhou's setting on real lengths: A_min and A_max against H-SF per
  dataset, predictor and α, from ``experiments/paper_real_lengths.toml``.

Every number is read from the database; published numbers are printed beside ours, labelled.
Command line: ``python -m lpsched.repro jaillet|paper DB``.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from .compare.store import open_store, read_cells, read_results
from .errors import OptionError

__all__ = ["jaillet_table", "paper_table", "JAILLET_PUBLISHED", "main"]

#: Jaillet et al. (arXiv 2502.07115), Gurobi, 200 trials each: (mean, worst, exactly optimal).
JAILLET_PUBLISHED = {"zero": (1.005, 1.074, "114 of 200"), "poisson": (1.047, 1.227, "not stated")}


def _load(db: str | Path) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    if not Path(db).exists():
        raise OptionError(f"{db}: no such results database")
    con = open_store(db)
    try:
        rows = read_results(con)
        cells = {c["cell_key"]: c for c in read_cells(con) if c["status"] == "ok"}
    finally:
        con.close()
    return rows, cells


def jaillet_table(db: str | Path) -> str:
    """Markdown: MC-SF vs the best schedule the IP found, the IP's proofs and bounds, per regime."""
    rows, cells = _load(db)
    by_cell: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for r in rows:
        if r["cell_key"] in cells:
            by_cell[r["cell_key"]][r["label"]] = r
    groups: dict[str, list[tuple[dict[str, Any], dict[str, dict[str, Any]]]]] = defaultdict(list)
    for key, labels in by_cell.items():
        c = cells[key]
        groups[json.loads(c["params"])["arrivals"]].append((c, labels))
    out = ["| arrivals | instances | MC-SF / best found: mean | worst | MC-SF = best found | "
           "IP proved optimal | MC-SF / proven OPT (proven only): mean, worst | "
           "MC-SF / certified LB: mean | worst | mean IP gap | published mean / worst / optimal |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for arr in ("zero", "poisson"):
        g = groups.get(arr, [])
        if not g:
            continue
        mc = np.array([lab["mcsf"]["tel"] for _, lab in g], dtype=float)
        best = np.array([min(lab["mcsf"]["tel"], lab["opt"]["tel"]) if "opt" in lab else lab["mcsf"]["tel"]
                         for _, lab in g], dtype=float)
        lb = np.array([c["lb_best"] for c, _ in g], dtype=float)
        proven = [i for i, (c, _) in enumerate(g) if c["opt_status"] == "OPTIMAL"]
        gaps = [(best[i] - lb[i]) / best[i] for i in range(len(g))]
        r_best = mc / best
        r_lb = mc / lb
        if proven:
            rp = r_best[proven]
            proven_txt = f"{rp.mean():.3f}, {rp.max():.3f}"
        else:
            proven_txt = "–"
        pub = JAILLET_PUBLISHED[arr]
        out.append(
            f"| {arr} | {len(g)} | {r_best.mean():.3f} | {r_best.max():.3f} | {int((mc == best).sum())} | "
            f"{len(proven)} | {proven_txt} | {r_lb.mean():.3f} | {r_lb.max():.3f} | {100 * np.mean(gaps):.1f}% | "
            f"{pub[0]} / {pub[1]} / {pub[2]} |")
    return "\n".join(out)


def _dataset(params: dict[str, Any]) -> str:
    p = str(params.get("path", ""))
    return "ShareGPT" if "sharegpt" in p else "Azure conv" if "conv" in p else Path(p).stem


def _predictor(params: dict[str, Any]) -> str:
    kind = params.get("intervals", "exact")
    if kind == "bins":
        scale, top = params.get("scale", "linear"), params.get("max_len", 512)
        return f"bins {scale} 1..{top}, acc {params.get('accuracy', 1.0):g}"
    if kind == "common":
        return f"common [{params.get('lower')}, {params.get('upper')}]"
    if kind == "spread":
        return f"spread α={params.get('alpha'):g}"
    return str(kind)


def paper_table(db: str | Path) -> str:
    """Markdown: mean and worst TEL/TEL(H-SF) of A_min and A_max per dataset and predictor."""
    rows, cells = _load(db)
    groups: dict[tuple[str, str], dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    order: list[tuple[str, str]] = []
    for r in rows:
        if r["cell_key"] not in cells:
            continue
        params = json.loads(r["params"])
        key = (_dataset(params), _predictor(params))
        if key not in groups:
            order.append(key)
        groups[key][r["label"]].append(r)
    out = ["| dataset | predictor | median α | misses | seeds | A_min / H-SF mean | worst | A_max / H-SF mean "
           "| worst | A_min evictions (mean) | H-SF / certified LB (mean) |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for key in order:
        labs = groups[key]
        am, ax, hs = labs.get("amin", []), labs.get("amax", []), labs.get("hsf", [])
        if not (am and ax and hs):
            continue
        ra = np.array([r["ratio_hsf"] for r in am])
        rx = np.array([r["ratio_hsf"] for r in ax])
        alpha = np.median([r["alpha"] for r in am])
        miss = np.mean([r["misses"] or 0 for r in am]) / max(1, am[0]["n"])
        lbr = np.mean([r["ratio_lb"] for r in hs if r["ratio_lb"] is not None] or [np.nan])
        out.append(f"| {key[0]} | {key[1]} | {alpha:.3g} | {100 * miss:.0f}% | {len(am)} | {ra.mean():.3f} | "
                   f"{ra.max():.3f} | {rx.mean():.3f} | {rx.max():.3f} | "
                   f"{np.mean([r['evictions'] for r in am]):.0f} | {lbr:.3f} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """``python -m lpsched.repro jaillet|paper DB``: print the table."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] not in ("jaillet", "paper"):
        print("usage: python -m lpsched.repro jaillet|paper DB", file=sys.stderr)
        return 2
    try:
        print(jaillet_table(args[1]) if args[0] == "jaillet" else paper_table(args[1]))
    except OptionError as exc:
        print(f"lpsched.repro: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
