"""Reports from a sweep database: Markdown tables per α and policy, and the A_min growth fit.

Every number printed comes from ``results`` rows; each table names the ratio it shows (against the
proven optimum, against the certified lower bound — an upper bound on the true ratio —, or against
H-SF) and never mixes them, and each worst value names its row id (``results.id``) so it can be
looked up: ``sqlite3 DB "SELECT * FROM results WHERE id = …"``.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..online import POLICIES
from .store import open_store, read_cells, read_results
from .theory import Counterexample, GrowthFit, fit_growth

#: ``c -> Counterexample or None``: where the verdict looks for a certified bad case at memory factor
#: ``c`` (the CLI passes the adversarial library's lookup; ``None``: no library consulted).
CounterexampleLookup = Callable[[float], Counterexample | None]

__all__ = ["RATIO_KINDS", "summarise", "markdown_report", "amin_fit", "amin_scope", "worst_by_alpha", "Summary",
           "CounterexampleLookup"]

#: ratio column -> how the report names it.
RATIO_KINDS: dict[str, str] = {
    "ratio_opt": "TEL / proven optimum",
    "ratio_lb": "TEL / best certified lower bound (an upper bound on the true ratio)",
    "ratio_hsf": "TEL / TEL(H-SF) (the paper's benchmark; may be below 1)",
}


@dataclass(frozen=True)
class Summary:
    """One (α, label) group of one ratio kind."""

    alpha: float
    label: str
    count: int
    mean: float
    p95: float
    worst: float
    worst_row: int
    evictions: float
    wasted_tokens: float


def _open(db: str | Path) -> sqlite3.Connection:
    return open_store(db, create=False)


def summarise(rows: list[dict[str, Any]], kind: str) -> list[Summary]:
    """Group rows by (α, label) and summarise column ``kind`` over the rows that have it."""
    groups: dict[tuple[float, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        if r.get(kind) is not None:
            groups[(round(r["alpha"], 9), r["label"])].append(r)
    out = []
    for (alpha, label), rs in sorted(groups.items(), key=lambda kv: (-kv[0][0], kv[0][1])):
        vals = np.array([r[kind] for r in rs], dtype=float)
        worst_i = int(np.argmax(vals))
        out.append(
            Summary(
                alpha,
                label,
                len(rs),
                float(vals.mean()),
                float(np.quantile(vals, 0.95)),
                float(vals[worst_i]),
                int(rs[worst_i]["id"]),
                float(np.mean([r["evictions"] or 0 for r in rs])),
                float(np.mean([r["wasted_tokens"] or 0 for r in rs])),
            )
        )
    return out


def worst_by_alpha(rows: list[dict[str, Any]], label: str, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """(α values, worst ``kind`` ratio at each α) for one policy label."""
    best: dict[float, float] = {}
    for r in rows:
        if r["label"] == label and r.get(kind) is not None:
            a = r["alpha"]
            best[a] = max(best.get(a, 0.0), r[kind])
    alphas = np.array(sorted(best, reverse=True))
    return alphas, np.array([best[a] for a in alphas])


def pick_kind(rows: list[dict[str, Any]], label: str) -> str:
    """``ratio_opt`` if every row of ``label`` has a proven optimum, else ``ratio_lb``."""
    rs = [r for r in rows if r["label"] == label]
    return "ratio_opt" if rs and all(r["ratio_opt"] is not None for r in rs) else "ratio_lb"


def _memory_factor(row: dict[str, Any]) -> float | None:
    """``c = M/(s + u)`` of a row's instance from its generator parameters, when they say."""
    try:
        params = json.loads(row.get("params") or "{}")
    except (TypeError, json.JSONDecodeError):
        return None
    c = params.get("concurrency")
    if isinstance(c, (int, float)) and not isinstance(c, bool):
        return float(c)
    s, lo, a, M = params.get("s"), params.get("lower"), row.get("alpha"), row.get("M")
    if all(isinstance(v, (int, float)) for v in (s, lo, a, M)) and a:
        return float(M) / (float(s) + round(float(lo) / float(a)))
    return None


def _reading(row: dict[str, Any]) -> str:
    """The non-default options of a row's policy (``default`` when none)."""
    try:
        opts = json.loads(row.get("options") or "{}")
    except (TypeError, json.JSONDecodeError):
        return "unknown"
    pol = POLICIES.get(row.get("policy", ""))
    defaults = {**(getattr(pol, "DEFAULTS", {}) or {}), "engine": "event", "semantics": "restart", "timing": None}
    diff = {k: v for k, v in opts.items() if defaults.get(k, v) != v}
    return ",".join(f"{k}={v}" for k, v in sorted(diff.items())) or "default"


def amin_scope(rows: list[dict[str, Any]], label: str = "amin") -> tuple[str, list[float]]:
    """What A_min's rows cover, in words (generators, n range, c = M/(s+u), reading), and the c values."""
    rs = [r for r in rows if r["label"] == label]
    gens = sorted({str(r.get("generator")) for r in rs})
    ns = [int(r["n"]) for r in rs if r.get("n") is not None]
    cs = sorted({round(c, 2) for c in (_memory_factor(r) for r in rs) if c is not None})
    unknown_c = any(_memory_factor(r) is None for r in rs)
    readings = sorted({_reading(r) for r in rs})
    c_text = ("c = M/(s+u) " + ("= " if len(cs) == 1 else "∈ {") + ", ".join(f"{c:g}" for c in cs)
              + ("" if len(cs) == 1 else "}") if cs else "c unknown") + (" (and unknown)" if cs and unknown_c else "")
    n_text = f"n = {min(ns)}" if ns and min(ns) == max(ns) else (f"n = {min(ns)}–{max(ns)}" if ns else "n unknown")
    return (f"this sweep's instances (family {', '.join(gens)}, {n_text}, {c_text}, "
            f"A_min reading {', '.join(readings)})"), cs


def amin_fit(rows: list[dict[str, Any]], label: str = "amin",
             counterexample_for: CounterexampleLookup | None = None) -> tuple[str, GrowthFit] | None:
    """Fit A_min's worst ratio per α to ``a + b·log2(1/α)`` (and the polynomial alternatives).

    The verdict names its scope (:func:`amin_scope`); when the rows cover one memory factor ``c`` and
    ``counterexample_for(c)`` returns a certified bad case above the fit, the verdict points to it.
    Returns ``(ratio kind used, fit)``, or ``None`` with fewer than 3 distinct α below 1.
    """
    kind = pick_kind(rows, label)
    alphas, worst = worst_by_alpha(rows, label, kind)
    if np.unique(alphas).size < 3:
        return None
    scope, cs = amin_scope(rows, label)
    ce = counterexample_for(cs[0]) if counterexample_for is not None and len(cs) == 1 else None
    return kind, fit_growth(alphas, worst, scope=scope, counterexample=ce)


def _fmt(x: float) -> str:
    return f"{x:.3f}"


def _pivot(summ: list[Summary], labels: list[str], cell) -> list[str]:  # type: ignore[no-untyped-def]
    alphas = sorted({x.alpha for x in summ}, reverse=True)
    by = {(x.alpha, x.label): x for x in summ}
    out = ["| α | " + " | ".join(labels) + " |", "|---" * (len(labels) + 1) + "|"]
    for a in alphas:
        out.append(f"| {a:.4g} | " + " | ".join(cell(by[(a, lab)]) if (a, lab) in by else "–" for lab in labels)
                   + " |")
    return out


def markdown_report(db: str | Path, counterexample_for: CounterexampleLookup | None = None) -> str:
    """The Markdown report of a sweep database.

    Per ratio kind, one table α × policy with ``mean / p95 / worst`` and one with the ``results.id``
    of each worst row; then evictions and wasted tokens per α × policy; then the A_min growth fit,
    whose verdict names its scope and, through ``counterexample_for``, points to a certified
    counterexample when the adversarial library holds one for the sweep's c.
    """
    con = _open(db)
    try:
        rows = read_results(con)
        cells = read_cells(con)
    finally:
        con.close()
    ok = [c for c in cells if c["status"] == "ok"]
    failed = [c for c in cells if c["status"] != "ok"]
    proven = sum(1 for c in ok if c["opt_status"] == "OPTIMAL")
    sweeps = sorted({c["sweep"] for c in cells})
    labels = sorted({r["label"] for r in rows}, key=lambda x: (x == "opt", x))
    lines = [f"# Sweep report: {', '.join(sweeps) or '(empty)'}", "",
             f"Database `{db}`: {len(cells)} instances ({len(failed)} failed), {len(rows)} result rows; "
             f"optimum proven on {proven} of {len(ok)} instances. `opt` is the hindsight solver's best schedule.",
             ""]
    if failed:
        lines += ["Failed cells:", *[f"- `{c['cell_key']}`: {c['error']}" for c in failed[:10]], ""]
    for kind, title in RATIO_KINDS.items():
        # the lower-bound table covers only instances without a proven optimum (else it repeats the first)
        use = [r for r in rows if r["ratio_opt"] is None] if kind == "ratio_lb" else rows
        summ = summarise(use, kind)
        if not summ:
            continue
        if kind == "ratio_lb":
            title += f", on the {len({r['cell_key'] for r in use})} instances without a proven optimum"
        present = [lab for lab in labels if any(x.label == lab for x in summ)]
        lines += [f"## {title}", "", "mean / p95 / worst over the instances of each α:", ""]
        lines += _pivot(summ, present, lambda x: f"{_fmt(x.mean)} / {_fmt(x.p95)} / {_fmt(x.worst)}")
        lines += ["", "Row id (`results.id`) of each worst value:", ""]
        lines += _pivot(summ, present, lambda x: str(x.worst_row))
        lines.append("")
    summ = summarise(rows, "tel")
    if summ:
        lines += ["## Evictions and wasted tokens", "", "mean evictions / mean wasted tokens per instance:", ""]
        lines += _pivot(summ, [lab for lab in labels if lab != "opt"],
                        lambda x: f"{x.evictions:.1f} / {x.wasted_tokens:.0f}")
        lines.append("")
    if "amin" in labels:
        fit = amin_fit(rows, counterexample_for=counterexample_for)
        lines += ["## A_min: growth of the worst ratio with 1/α", ""]
        if fit is None:
            lines.append("Fewer than 3 distinct α values: no fit.")
        else:
            kind, f = fit
            lines += [
                f"Fitted to the worst {RATIO_KINDS[kind]} per α ({f.n_points} points).",
                "",
                f"- log model: ratio ≈ {f.log_a:.3f} + {f.log_b:.3f}·log2(1/α), "
                f"b {f.level:.0%} t interval [{f.log_b_ci[0]:.3f}, {f.log_b_ci[1]:.3f}]",
                f"- power model: ratio ≈ {f.power_c:.3f}·(1/α)^{f.power_p:.3f}, "
                f"p {f.level:.0%} t interval [{f.power_p_ci[0]:.3f}, {f.power_p_ci[1]:.3f}]",
                f"- linear model: ratio ≈ {f.linear_a:.3f} + {f.linear_b:.3f}/α",
                "- residual sum of squares (ratio scale): " + ", ".join(f"{k} {v:.4g}" for k, v in f.rss.items()),
                "",
                f"**Verdict:** {f.verdict}.",
                "",
            ]
    return "\n".join(lines)
