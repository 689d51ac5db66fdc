"""Build ``instances/adversarial/``: the worst instances found per policy, α and memory factor c.

Every file is ``<policy>-a1_<1/α>-c<c>-<method>.json`` (``c = M/(s + u)``) and carries its
certificate in ``meta.adversary`` (``certificate = {"starts", "tel"}``, ``policy_tel``,
``policy_options``, ``ratio_kind``), written strict and whole by
:func:`lpsched.adversary.library.write_library_instance`.

Steps (each can run alone):

* ``--search`` – for each policy and α ∈ {1/2, …, 1/64}: a seeded local search (small n, so the
  hindsight IP proves the optimum) and the matching construction (``-search`` / ``-construction``);
* ``--migrate`` – files in the older naming (``<policy>-a1_<1/α>-<method>.json``, without a
  certificate) are re-certified (:func:`lpsched.adversary.certify.certified_ratio`, IP up to 16 jobs)
  and rewritten under the new name, keeping their search record;
* ``--from-map ROWS`` – for each (c, α) of ``--cells``, the best ``default``-reading row of an A_min
  map (``benchmarks/amin_map.py``) is re-measured and stored as ``amin-a1_<1/α>-c<c>-<family>.json``;
* ``--from-outside ROWS`` – the rows of an A_min map outside the theorem's setting
  (``benchmarks/amin_map.py --preset outside``) whose certified bound beats the library's best in the
  setting at the same (c, α) are re-measured and stored as
  ``amin-a1_<1/α>-c<c>-<family>_outside_<arrivals|prompts|arrivals_prompts>.json``, with
  ``meta.adversary.drops`` naming the assumptions they drop;
* the README table is always rewritten.

Usage: ``python experiments/adversary/build_library.py --from-map benchmarks/results/amin_map_reduced.jsonl``.
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

from lpsched.adversary import SearchSpace, certify, local_search
from lpsched.adversary.certify import certified_ratio
from lpsched.adversary.constructions import amax_reservation, amin_harmonic
from lpsched.adversary.library import (
    DEFAULT_DIR,
    adversary_meta,
    certificate_meta,
    library_name,
    load_library,
    memory_factor,
    worst_found,
    write_library_instance,
)
from lpsched.adversary.outside import dropped_assumptions
from lpsched.adversary.ratio_map import MapCell, load_rows, measure_cell
from lpsched.adversary.search import SearchResult
from lpsched.compare.theory import amax_lower, amax_upper
from lpsched.fileio import write_text_atomic
from lpsched.instance import Instance, load_instance

ALPHAS = (1 / 2, 1 / 4, 1 / 8, 1 / 16, 1 / 32, 1 / 64)
#: policy -> (n, lower, prompt, M-range factor): the search spaces (all jobs at 0, common s and [l, u]).
SETTINGS = {"amax": (12, 1, 0, 3), "amin": (8, 2, 2, 4)}
CERT_TIME = 60.0
OLD_NAME = re.compile(r"^(amin|amax)-a1_(\d+)-(search|construction)\.json$")
#: the (c, 1/α) cells of the map stored in the library: the 9 of issue 33, and c = 1 further down in α
MAP_CELLS = [(c, inv) for c in (1, 2, 4) for inv in (64, 512, 4096)] + [(1, 32768), (1, 65536)]


def _store(inst: Instance, method: str, record: dict, policy: str, options: dict, seconds: float) -> Path:
    cr = certified_ratio(inst, policy, options, seconds=seconds, ip_max_n=16, ip_time_limit=CERT_TIME)
    meta = {**inst.meta, "adversary": {**record, **certificate_meta(inst, cr)}}
    alpha = float(meta["adversary"]["alpha"])
    out = DEFAULT_DIR / library_name(policy, alpha, memory_factor(inst), method)
    write_library_instance(inst.replace(name=out.stem, meta=meta), out)
    print(f"{out.name}: {cr.kind} ratio in [{cr.ratio_lower:.4f}, {cr.ratio_upper:.4f}] "
          f"(schedule {cr.schedule_method}, {cr.seconds:.0f} s, {out.stat().st_size / 1e3:.0f} kB)", flush=True)
    return out


def _search(policy: str, alpha: float, budget: int, seed: int) -> None:
    n, lower, prompt, f = SETTINGS[policy]
    upper = round(lower / alpha)
    space = SearchSpace(n=n, lower=lower, upper=upper, prompt=prompt, M=2 * (prompt + upper),
                        m_range=(prompt + upper, f * (prompt + upper)))
    res = local_search(policy, space, budget=budget, seed=seed, restarts=8)
    best = None
    for _, inst in res.top[:3]:
        c = certify(inst, policy, time_limit=CERT_TIME, workers=1, seed=seed)
        key = c.ratio if c.ratio is not None else c.ratio_at_least
        if best is None or key > best[0]:
            best = (key, inst, c)
    _, inst, c = best
    _store(inst, "search", adversary_meta(res, c, certify_time_limit=CERT_TIME), policy, {}, 2.0)


def _construction(policy: str, alpha: float) -> None:
    inst = amax_reservation(0, alpha=alpha) if policy == "amax" else amin_harmonic(0, alpha=alpha)
    c = certify(inst, policy, time_limit=CERT_TIME, workers=1)
    cons = inst.meta["construction"]
    fake = SearchResult(method=f"construction:{cons['name']}", policy=policy,
                        space=SearchSpace(n=inst.n, lower=int(inst.lower[0]), upper=int(inst.upper[0]),
                                          prompt=int(inst.prompt[0]), M=inst.M),
                        budget=0, seed=0, evaluations=0, best_value=None, best=inst, best_quick=None)  # type: ignore[arg-type]
    _store(inst, "construction", adversary_meta(fake, c, certify_time_limit=CERT_TIME), policy, {}, 2.0)


def migrate() -> None:
    """Re-certify the files in the older naming and rewrite them under the new one."""
    for p in sorted(DEFAULT_DIR.glob("*.json")):
        m = OLD_NAME.match(p.name)
        if m is None:
            continue
        inst = load_instance(p)
        rec = dict(inst.meta["adversary"])
        old_ratio = rec.get("ratio")
        out = _store(inst, m.group(3), rec, rec["policy"], rec.get("policy_options") or {}, 2.0)
        new = load_instance(out).meta["adversary"]
        if old_ratio is not None and (new["ratio"] is None or abs(new["ratio"] - old_ratio) > 1e-9):
            raise SystemExit(f"{p.name}: recorded ratio {old_ratio} not reproduced ({new['ratio']})")
        if out != p:
            p.unlink()


def from_map(rows_path: str, seconds: float) -> None:
    """Store the best default-reading row of each (c, α) of :data:`MAP_CELLS`."""
    rows = [r for r in load_rows(rows_path) if r.get("status") == "ok" and r["reading"] == "default"]
    for c, inv in MAP_CELLS:
        cand = [r for r in rows if float(r["c"]) == c and int(r["inv_alpha"]) == inv]
        if not cand:
            print(f"c={c} 1/α={inv}: no row in {rows_path}", flush=True)
            continue
        r = max(cand, key=lambda x: x["ratio_lower"])
        cell = MapCell(r["reading"], float(r["c"]), int(r["inv_alpha"]), r["family"], int(r["n"]), int(r["seed"]),
                       int(r["lower"]), int(r["prompt"]))
        if (DEFAULT_DIR / library_name("amin", cell.alpha, cell.c, cell.family)).exists():
            print(f"c={c} 1/α={inv}: already stored", flush=True)
            continue
        t0 = time.perf_counter()
        inst, cr = measure_cell(cell, seconds)
        record = {"policy": "amin", "alpha": cell.alpha, "method": f"map:{cell.family}", "map_cell": cell.key,
                  "map_rows": rows_path, "map_ratio_lower": r["ratio_lower"], "seed": cell.seed,
                  "objective": "TEL(policy) / TEL(best verified schedule) (a certified lower bound on the ratio)"}
        out = DEFAULT_DIR / library_name("amin", cell.alpha, memory_factor(inst), cell.family)
        meta = {**inst.meta, "adversary": {**record, **certificate_meta(inst, cr)}}
        write_library_instance(inst.replace(name=out.stem, meta=meta), out)
        print(f"{out.name}: {cr.kind} ratio in [{cr.ratio_lower:.4f}, {cr.ratio_upper:.4f}] (map row "
              f"{r['ratio_lower']:.4f}; n={cell.n}, {time.perf_counter() - t0:.0f} s, "
              f"{out.stat().st_size / 1e3:.0f} kB)", flush=True)


def _outside_method(cell: MapCell) -> str:
    parts = [p for p, v in (("arrivals", cell.arrival_rate), ("prompts", cell.prompt_spread)) if v]
    return f"{cell.family}_outside_{'_'.join(parts)}"


def from_outside(rows_path: str, seconds: float) -> None:
    """Store the rows outside the theorem's setting that beat the library's best in it at their (c, α)."""
    rows = [r for r in load_rows(rows_path) if r.get("status") == "ok" and r["reading"] == "default"
            and (r.get("arrival_rate") or r.get("prompt_spread"))]
    best: dict[tuple[float, int], dict] = {}
    for r in rows:
        k = (float(r["c"]), int(r["inv_alpha"]))
        if k not in best or r["ratio_lower"] > best[k]["ratio_lower"]:
            best[k] = r
    for (c, inv), r in sorted(best.items()):
        alphas, worst = worst_found("amin", c=c)
        inside = max((w for a, w in zip(alphas, worst, strict=True) if round(1 / a) == inv), default=None)
        if inside is not None and r["ratio_lower"] <= inside:
            print(f"c={c:g} 1/α={inv}: best outside {r['ratio_lower']:.4f} <= {inside:.4f} in the setting; "
                  "not stored", flush=True)
            continue
        cell = MapCell(r["reading"], float(r["c"]), int(r["inv_alpha"]), r["family"], int(r["n"]), int(r["seed"]),
                       int(r["lower"]), int(r["prompt"]), float(r["arrival_rate"]), float(r["prompt_spread"]))
        t0 = time.perf_counter()
        inst, cr = measure_cell(cell, seconds)
        if inside is not None and cr.ratio_lower <= inside:
            print(f"c={c:g} 1/α={inv}: re-measured {cr.ratio_lower:.4f} <= {inside:.4f}; not stored", flush=True)
            continue
        record = {"policy": "amin", "alpha": cell.alpha, "method": f"map:{_outside_method(cell)}",
                  "map_cell": cell.key, "map_rows": rows_path, "map_ratio_lower": r["ratio_lower"], "seed": cell.seed,
                  "drops": dropped_assumptions(inst), "outside_setting": inst.meta["outside_setting"],
                  "in_setting_best": inside,
                  "objective": "TEL(policy) / TEL(best verified schedule) (a certified lower bound on the ratio)"}
        out = DEFAULT_DIR / library_name("amin", cell.alpha, memory_factor(inst), _outside_method(cell))
        meta = {**inst.meta, "adversary": {**record, **certificate_meta(inst, cr)}}
        write_library_instance(inst.replace(name=out.stem, meta=meta), out)
        print(f"{out.name}: {cr.kind} ratio in [{cr.ratio_lower:.4f}, {cr.ratio_upper:.4f}] (in the setting "
              f"{inside}; n={cell.n}, {time.perf_counter() - t0:.0f} s)", flush=True)


def write_readme() -> None:
    rows = []
    for p, inst in load_library():
        m = inst.meta["adversary"]
        a = m["alpha"]
        lo, hi = m["ratio_at_least"], m["ratio_at_most"]
        shown = f"{lo:.3f}" if m.get("ratio_kind") == "exact" else f"≥ {lo:.3f} (≤ {hi:.3f})"
        c = memory_factor(inst)
        rows.append((m["policy"], round(c, 2), -a, inst.n,
                     f"| {p.name} | {m['policy']} | 1/{round(1 / a)} | {c:.3g} | {inst.n} | {inst.M} | "
                     f"{m['policy_tel']} | {m['certificate']['tel']} | {m['lower_bound']} | {shown} | "
                     f"{m.get('ratio_kind')} | {m['method']} | "
                     f"{float(amax_lower(a)):.2f} / {float(amax_upper(a)):.2f} |"))
    rows.sort()
    text = [
        "# Adversarial instances", "",
        "Worst instances found per policy, α and memory factor c = M/(s+u) (`experiments/adversary/build_library.py`),",
        "named `<policy>-a1_<1/α>-c<c>-<method>.json`. Each is a normal instance whose `meta.adversary` records",
        "how it was found (search, construction, or a cell of the A_min map, `benchmarks/amin_map.py`) and",
        "carries its certificate: `certificate = {\"starts\": {id: round}, \"tel\": int}` (a schedule anyone can",
        "check with `lpsched verify`), `policy_tel` and `policy_options` (re-simulate to get `policy_tel`).",
        "`tests/test_adversary_library.py` re-verifies every file.", "",
        "Files whose method ends in `_outside_…` leave the theorem's setting (all jobs at time 0, a common prompt",
        "and interval): `meta.adversary.drops` names the assumptions they drop (Poisson arrivals, prompts in a",
        "range; docs/adversary.md, \"Outside the theorem's setting\"). The worst-found series and the growth",
        "verdict read only the files in the setting.", "",
        "Ratio = TEL(policy)/OPT: `exact` when a certified lower bound (IP proof or docs/model.md §6 bounds) meets",
        "the certificate's TEL, else `lower bound` (TEL / certificate TEL; the upper end TEL / LB in brackets).",
        "The last column is A_max's reconstructed lower / upper bound (docs/model.md §5) at that α,",
        "for comparison.", "",
        "| file | policy | α | c | n | M | TEL | certificate TEL | LB | ratio | kind | found by "
        "| A_max lower / upper |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        *[r[-1] for r in rows], "",
    ]
    write_text_atomic(DEFAULT_DIR / "README.md", "\n".join(text))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--search", action="store_true", help="Run the small-n searches and constructions.")
    ap.add_argument("--migrate", action="store_true", help="Re-certify files in the older naming.")
    ap.add_argument("--from-map", metavar="ROWS", help="Store the best map cells of this rows file.")
    ap.add_argument("--from-outside", metavar="ROWS", help="Store the outside-setting rows that beat the setting.")
    ap.add_argument("--map-seconds", type=float, default=6.0, help="Search budget per map cell.")
    ap.add_argument("--budget", type=int, default=1500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", choices=["amin", "amax"], default=None)
    args = ap.parse_args()
    Path(DEFAULT_DIR).mkdir(parents=True, exist_ok=True)
    if args.search:
        for policy in ("amax", "amin"):
            if args.only and policy != args.only:
                continue
            for alpha in ALPHAS:
                _construction(policy, alpha)
                _search(policy, alpha, args.budget, args.seed)
    if args.migrate:
        migrate()
    if args.from_map:
        from_map(args.from_map, args.map_seconds)
    if args.from_outside:
        from_outside(args.from_outside, args.map_seconds)
    write_readme()


if __name__ == "__main__":
    main()
