"""Root bounds of the relaxations, piece by piece: closed form, the conflict graph's ``clique``
bound (lpsched/offline/bounds/conflict.py), the LP and the chain LP.

Per instance: the conflict graph's size (edges, jobs in some edge, the greedy clique packing), the
best of the other closed-form bounds, the ``clique`` bound, the LP bound (compact LP on the uncut
valid horizon of a heuristic schedule, growth rows, no core rows), the chain LP bound (where two
jobs peak above ``M/2``), GLOP's seconds, and the best known value (the stored benchmark rows:
proven optimum, marked ``*``, or best schedule; else the heuristic schedule used for the horizon).
Every bound here is certified (Lagrangian of GLOP's duals).

The rows of benchmarks/results/relaxations.jsonl also hold the LP and the chain LP with the rows of
the four best cliques (``lp_clique``, ``chain_clique``); that version of this script is
``git show a8d7f08:benchmarks/bench_relaxations.py`` (research log, 2026-12-07). The rows of
benchmarks/results/relaxations_trajectory.jsonl also hold the memory-trajectory relaxation started
from the chain LP's duals (``trajectory``, ``trajectory_seconds``, ``trajectory_iterations``,
``trajectory_converged``); that version is ``git show 06b3384:benchmarks/bench_relaxations.py``
(research log, 2026-12-07, memory trajectories).

    python benchmarks/bench_relaxations.py --families jaillet-zero-n --n 12,16,20 --seeds 0,1,2,3,4 \\
        --rows relaxations.jsonl
    python benchmarks/bench_relaxations.py --families jaillet-zero,jaillet-poisson --seeds 0,1,2,3 \\
        --rows relaxations.jsonl
    python benchmarks/bench_relaxations.py --families paper-s50-a8-c8,paper-s4-a4-c10 --n 30 \\
        --seeds 0,1 --rows relaxations.jsonl

``--rows`` appends each row as it is measured and skips rows already there (same key).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from bench_ip import family, sized
from rows import RowLog, load_rows

from lpsched.offline.bounds.chain import long_jobs, solve_chain_lp
from lpsched.offline.bounds.conflict import clique_bound, clique_packing, conflict_graph
from lpsched.offline.bounds.lp import integer_bound, solve_lp
from lpsched.offline.formulation.closed_form import CLOSED_FORM_BOUNDS
from lpsched.offline.formulation.horizon import earliest_shift
from lpsched.offline.formulation.model import build_model
from lpsched.offline.formulation.objective import tel_of
from lpsched.offline.schedules.heuristics import best_schedule

RESULTS = Path(__file__).resolve().parent / "results"
KNOWN_FILES = ("jaillet_by_n.jsonl", "jaillet_n40_60.jsonl", "paper_regime_sweep.jsonl",
               "paper_regime_edge_settings.jsonl", "paper_s50_c8_n30.jsonl")


def known_values() -> dict[tuple[str, int, int], tuple[int, bool]]:
    """(family, n, seed) -> (best objective stored, proven optimal?) over the stored benchmark rows."""
    out: dict[tuple[str, int, int], tuple[int, bool]] = {}
    for name in KNOWN_FILES:
        p = RESULTS / name
        if not p.exists():
            continue
        for r in load_rows([p]):
            if "objective" not in r or r.get("objective") is None:
                continue
            key = (r["family"], int(r["n"]), int(r["seed"]))
            v = (int(r["objective"]), r.get("status") == "OPTIMAL")
            old = out.get(key)
            if old is None or v[1] > old[1] or (v[1] == old[1] and v[0] < old[0]):
                out[key] = v
    return out


def _bound(res) -> int | None:
    return integer_bound(res.bound) if np.isfinite(res.bound) else None


def measure(inst, time_limit: float) -> dict:
    """The bounds of one instance (module text)."""
    inst, _ = earliest_shift(inst)
    g = conflict_graph(inst)
    packing = clique_packing(inst, g)
    closed = max(fn(inst) for fn in CLOSED_FORM_BOUNDS.values())
    inc, _, _ = best_schedule(inst, seconds=0.0, seed=0)
    ub = tel_of(inst, inc)
    model = build_model(inst, ub)
    row: dict = {"n": inst.n, "M": inst.M, "edges": g.number_of_edges(),
                 "jobs_in_edges": sum(1 for v in g if g.degree(v)), "packing": [len(c) for _, c in packing],
                 "closed_form": closed, "clique": clique_bound(inst),
                 "heuristic": ub, "variables": model.n_variables}
    t = time.perf_counter()
    row["lp"] = _bound(solve_lp(model, time_limit=time_limit, column_generation=False))
    row["lp_seconds"] = round(time.perf_counter() - t, 2)
    row["chain"] = None
    if int(long_jobs(inst).sum()) >= 2:
        t = time.perf_counter()
        row["chain"] = _bound(solve_chain_lp(model, time_limit=time_limit, start_hint=inc))
        row["chain_seconds"] = round(time.perf_counter() - t, 2)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--families", default="jaillet-zero-n")
    ap.add_argument("--n", default="12,16,20", help="sizes of the sized families (comma-separated)")
    ap.add_argument("--seeds", default="0,1,2,3,4")
    ap.add_argument("--time-limit", type=float, default=60.0, help="GLOP seconds per LP")
    ap.add_argument("--rows", default=None, help="JSON-lines file: append rows, skip rows already there")
    args = ap.parse_args()
    log = RowLog(args.rows)
    known = known_values()
    cols = ("closed_form", "clique", "lp", "chain")
    print(f"{'instance':32s} {'edges':>5s} {'packing':>10s} " + " ".join(f"{c:>12s}" for c in cols)
          + f" {'known':>8s}", flush=True)
    for fam in (f for f in args.families.split(",") if f):
        sizes = [int(v) for v in args.n.split(",") if v] if sized(fam) else [0]
        for n in sizes:
            for seed in (int(v) for v in args.seeds.split(",") if v):
                key = f"{fam}|{n}|{seed}"
                if key in log.done:
                    row = log.done[key]
                else:
                    inst = family(fam)(seed, n)
                    row = {"key": key, "family": fam, "seed": seed, **measure(inst, args.time_limit)}
                    kv = known.get((fam, n if sized(fam) else row["n"], seed))
                    if kv is None and not sized(fam):
                        kv = known.get((fam, row["n"], seed))
                    row["known"], row["known_optimal"] = (kv if kv is not None else (row["heuristic"], False))
                    log.add(row)
                label = f"{fam} n={row['n']} s{seed}"
                vals = " ".join(f"{'-' if row.get(c) is None else row[c]:>12}" for c in cols)
                star = "*" if row["known_optimal"] else ""
                print(f"{label:32s} {row['edges']:>5d} {row['packing']!s:>10s} {vals} {row['known']:>7d}{star:1s}",
                      flush=True)


if __name__ == "__main__":
    main()
