"""Does the adversarial search beat random sampling of the same budget? (docs/adversary.md)

For each policy and α, the same search space (all jobs at 0, common s and [l, u], M searched in a
range) and the same number of proxy evaluations: local search vs random sampling with lengths
uniform in [l, u] (the paper's generator) and vs a "mixed" sampler that also draws the structured
starting points the search uses (all-l, all-u, extremes, long-first). Reported: the worst proxy
ratio TEL/UB found (a certified lower bound on the ratio) per method and seed.

Usage: ``python benchmarks/bench_adversary_vs_random.py [--budget 800] [--seeds 2] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from lpsched.adversary import SearchSpace, local_search, random_search

CASES = [("amax", 1 / 4, 12, 1, 0, 3), ("amax", 1 / 16, 12, 1, 0, 3), ("amax", 1 / 64, 12, 1, 0, 3),
         ("amin", 1 / 4, 8, 2, 2, 4), ("amin", 1 / 16, 8, 2, 2, 4), ("amin", 1 / 64, 8, 2, 2, 4)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget", type=int, default=800)
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    rows = []
    print(f"{'policy':<6} {'alpha':>7} {'local':>8} {'random-uniform':>15} {'random-mixed':>13}  "
          f"(mean over seeds; budget {args.budget})")
    for policy, alpha, n, lower, prompt, f in CASES:
        upper = round(lower / alpha)
        space = SearchSpace(n=n, lower=lower, upper=upper, prompt=prompt, M=2 * (prompt + upper),
                            m_range=(prompt + upper, f * (prompt + upper)))
        vals: dict[str, list[float]] = {"local": [], "random-uniform": [], "random-mixed": []}
        for seed in range(args.seeds):
            t = time.time()
            vals["local"].append(local_search(policy, space, budget=args.budget, seed=seed).best_value)
            vals["random-uniform"].append(random_search(policy, space, budget=args.budget, seed=seed).best_value)
            vals["random-mixed"].append(
                random_search(policy, space, budget=args.budget, seed=seed, dist="mixed").best_value)
            rows.append({"policy": policy, "alpha": alpha, "seed": seed, "budget": args.budget,
                         **{k: v[-1] for k, v in vals.items()}, "seconds": time.time() - t})
        print(f"{policy:<6} {alpha:>7.4f} {np.mean(vals['local']):>8.3f} {np.mean(vals['random-uniform']):>15.3f} "
              f"{np.mean(vals['random-mixed']):>13.3f}", flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
