"""The stored worst cases (``instances/adversarial/``) and the worst ratio found per α.

Every file there is a normal instance whose ``meta["adversary"]`` records how it was found and
certified (see :func:`adversary_meta`). :func:`worst_found` reads them back and returns, per α, the
worst *certified-from-below* ratio of a policy: the exact ratio when OPT is proven, else
``TEL / best verified schedule`` (the conservative direction; never the ratio against a lower bound).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from ..instance import Instance, load_instance
from .certify import RatioCertificate
from .search import SearchResult

__all__ = ["DEFAULT_DIR", "adversary_meta", "load_library", "worst_found", "worst_found_series"]

#: ``instances/adversarial`` of the source tree this package lives in.
DEFAULT_DIR = Path(__file__).resolve().parents[2] / "instances" / "adversarial"


def adversary_meta(result: SearchResult, cert: RatioCertificate, *, certify_time_limit: float) -> dict[str, Any]:
    """The ``meta["adversary"]`` record of a search result and its certificate."""
    return {
        "policy": cert.policy, "policy_options": cert.policy_options, "alpha": result.space.alpha,
        "method": result.method, "budget": result.budget, "evaluations": result.evaluations,
        "seed": result.seed, "space": result.space.to_dict(),
        "objective": "TEL(policy) / TEL(best heuristic schedule) (a certified lower bound on the ratio)",
        "search_value": result.best_value if math.isfinite(result.best_value) else None,
        "ratio": cert.ratio, "ratio_at_least": cert.ratio_at_least, "ratio_at_most": cert.ratio_at_most,
        "opt_status": cert.opt_status, "opt_method": cert.opt_method, "opt_value": cert.best_schedule
        if cert.proven else None, "best_schedule": cert.best_schedule, "lower_bound": cert.lower_bound,
        "tel": cert.tel, "evictions": cert.evictions, "wasted_tokens": cert.wasted_tokens,
        "certify_time_limit": certify_time_limit, "moves_accepted": result.moves_accepted,
    }


def load_library(directory: str | Path | None = None) -> list[tuple[Path, Instance]]:
    """Every instance file in ``directory`` (default :data:`DEFAULT_DIR`) that has ``meta["adversary"]``."""
    d = Path(directory) if directory is not None else DEFAULT_DIR
    if not d.is_dir():
        return []
    out = []
    for p in sorted(d.glob("*.json")):
        inst = load_instance(p)
        if isinstance(inst.meta.get("adversary"), dict):
            out.append((p, inst))
    return out


def worst_found(policy: str, directory: str | Path | None = None, *, proven_only: bool = False
                ) -> tuple[np.ndarray, np.ndarray]:
    """(α values descending, worst ratio found at each α) for ``policy`` from the stored instances.

    The ratio of a file is ``meta.adversary.ratio`` when OPT was proven, else ``ratio_at_least``
    (skipped with ``proven_only``).
    """
    best: dict[float, float] = {}
    for _, inst in load_library(directory):
        m = inst.meta["adversary"]
        if m.get("policy") != policy:
            continue
        r = m.get("ratio")
        if r is None:
            if proven_only:
                continue
            r = m.get("ratio_at_least")
        if r is None:
            continue
        a = round(float(m["alpha"]), 12)
        best[a] = max(best.get(a, 0.0), float(r))
    alphas = np.array(sorted(best, reverse=True))
    return alphas, np.array([best[a] for a in alphas])


def worst_found_series(policies: list[str] | tuple[str, ...], directory: str | Path | None = None
                       ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{"<policy> worst found": (alphas, ratios)}`` for the policies that have stored instances
    (the ``extra_series`` of :func:`lpsched.compare.plots.plot_ratio_vs_alpha`)."""
    out = {}
    for p in policies:
        a, r = worst_found(p, directory)
        if a.size:
            out[f"{p} worst found"] = (a, r)
    return out
