"""Build ``instances/adversarial/``: the worst instances found per policy (amin, amax) and α.

For each policy and α ∈ {1/2, …, 1/64}: a seeded local search (small n, so the hindsight IP proves
the optimum in seconds) and the matching construction; each result is certified with the IP and
written with its record in ``meta["adversary"]``. Then ``instances/adversarial/README.md`` gets the
table. Usage: ``python experiments/adversary/build_library.py [--budget B] [--only amin|amax]``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from lpsched.adversary import SearchSpace, certify, local_search
from lpsched.adversary.constructions import amax_reservation, amin_harmonic
from lpsched.adversary.library import DEFAULT_DIR, adversary_meta, load_library
from lpsched.adversary.search import SearchResult
from lpsched.compare.theory import amax_lower, amax_upper
from lpsched.instance import save_instance

ALPHAS = (1 / 2, 1 / 4, 1 / 8, 1 / 16, 1 / 32, 1 / 64)
#: policy -> (n, lower, prompt, M-range factor): the search spaces (all jobs at 0, common s and [l, u]).
SETTINGS = {"amax": (12, 1, 0, 3), "amin": (8, 2, 2, 4)}
CERT_TIME = 60.0


def _tag(alpha: float) -> str:
    return f"1_{round(1 / alpha)}"


def _search(policy: str, alpha: float, budget: int, seed: int) -> None:
    n, lower, prompt, f = SETTINGS[policy]
    upper = round(lower / alpha)
    space = SearchSpace(n=n, lower=lower, upper=upper, prompt=prompt, M=2 * (prompt + upper),
                        m_range=(prompt + upper, f * (prompt + upper)))
    t = time.time()
    res = local_search(policy, space, budget=budget, seed=seed, restarts=8)
    best = None
    for _, inst in res.top[:3]:
        c = certify(inst, policy, time_limit=CERT_TIME, workers=1, seed=seed)
        key = c.ratio if c.ratio is not None else c.ratio_at_least
        if best is None or key > best[0]:
            best = (key, inst, c)
    _, inst, c = best
    meta = {"adversary": adversary_meta(res, c, certify_time_limit=CERT_TIME)}
    out = DEFAULT_DIR / f"{policy}-a{_tag(alpha)}-search.json"
    save_instance(inst.replace(name=out.stem, meta=meta), out)
    print(f"{out.name}: ratio {c.ratio} [{c.ratio_at_least:.4f}, {c.ratio_at_most:.4f}] "
          f"({c.opt_method}), {time.time() - t:.0f} s", flush=True)


def _construction(policy: str, alpha: float) -> None:
    inst = amax_reservation(0, alpha=alpha) if policy == "amax" else amin_harmonic(0, alpha=alpha)
    t = time.time()
    c = certify(inst, policy, time_limit=CERT_TIME, workers=1)
    cons = inst.meta["construction"]
    fake = SearchResult(method=f"construction:{cons['name']}", policy=policy,
                        space=SearchSpace(n=inst.n, lower=int(inst.lower[0]), upper=int(inst.upper[0]),
                                          prompt=int(inst.prompt[0]), M=inst.M),
                        budget=0, seed=0, evaluations=0, best_value=float("nan"), best=inst, best_quick=None)  # type: ignore[arg-type]
    meta = {**inst.meta, "adversary": adversary_meta(fake, c, certify_time_limit=CERT_TIME)}
    out = DEFAULT_DIR / f"{policy}-a{_tag(alpha)}-construction.json"
    save_instance(inst.replace(name=out.stem, meta=meta), out)
    print(f"{out.name}: ratio {c.ratio} [{c.ratio_at_least:.4f}, {c.ratio_at_most:.4f}] "
          f"({c.opt_method}), {time.time() - t:.0f} s", flush=True)


def write_readme() -> None:
    rows = []
    for p, inst in load_library():
        m = inst.meta["adversary"]
        a = m["alpha"]
        r = m["ratio"]
        shown = f"{r:.3f}" if r is not None else f"≥ {m['ratio_at_least']:.3f} (≤ {m['ratio_at_most']:.3f})"
        rows.append((m["policy"], -a, f"| {p.name} | {m['policy']} | 1/{round(1 / a)} | {inst.n} | {inst.M} | "
                     f"{m['tel']} | {m['best_schedule']} | {shown} | {m['opt_method']} | {m['method']} | "
                     f"{float(amax_lower(a)):.2f} / {float(amax_upper(a)):.2f} |"))
    rows.sort()
    text = [
        "# Adversarial instances", "",
        "Worst instances found per policy and α (`experiments/adversary/build_library.py`), each a normal",
        "instance whose `meta.adversary` records the search (method, budget, seed, space) and the certificate.",
        "`tests/test_adversary_library.py` re-runs the policy and the optimum and checks the recorded ratio.", "",
        "Ratio = TEL(policy)/OPT, exact when OPT is proven (`ip`: solver proof; `bounds`: a certified lower",
        "bound equals a verified schedule). The last column is A_max's reconstructed lower / upper bound",
        "(docs/model.md §5) at that α, for comparison.", "",
        "| file | policy | α | n | M | TEL | OPT | ratio | OPT proof | found by | A_max lower / upper |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        *[r[2] for r in rows], "",
    ]
    (DEFAULT_DIR / "README.md").write_text("\n".join(text))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget", type=int, default=1500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", choices=["amin", "amax"], default=None)
    ap.add_argument("--readme-only", action="store_true")
    args = ap.parse_args()
    Path(DEFAULT_DIR).mkdir(parents=True, exist_ok=True)
    if not args.readme_only:
        for policy in ("amax", "amin"):
            if args.only and policy != args.only:
                continue
            for alpha in ALPHAS:
                _construction(policy, alpha)
                _search(policy, alpha, args.budget, args.seed)
    write_readme()


if __name__ == "__main__":
    main()
