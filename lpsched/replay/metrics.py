"""Timed replay of an instance under several policies, and the per-policy latency report.

:func:`replay` runs :func:`lpsched.online.simulate` with a batch-time model for each policy and
:func:`latency_summary` turns each result into the figures a serving engineer reads: mean and
p50/p90/p99 end-to-end latency and time to first token (seconds), makespan, throughput, evictions,
wasted and recomputed tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..instance import Instance
from ..online.result import SimResult

__all__ = ["latency_summary", "replay", "QUANTILES", "format_table"]

#: Percentiles reported for latency and TTFT.
QUANTILES = (50, 90, 99)


def _stats(prefix: str, x: np.ndarray) -> dict[str, float]:
    out = {f"mean_{prefix}_s": float(x.mean()) if x.size else 0.0}
    for q in QUANTILES:
        out[f"p{q}_{prefix}_s"] = float(np.percentile(x, q)) if x.size else 0.0
    return out


def latency_summary(res: SimResult) -> dict[str, Any]:
    """Seconds-based figures of a timed :class:`SimResult` (raises if it was run untimed)."""
    if res.timed is None:
        raise ValueError("latency_summary needs a timed simulation (option timing=PRESET)")
    t = res.timed
    return {
        "policy": res.policy,
        "timing": t["model"]["name"],
        "n": res.n,
        **_stats("latency", np.asarray(t["latency_s"])),
        **_stats("ttft", np.asarray(t["ttft_s"])),
        **_stats("tpot", np.asarray(t.get("tpot_s", []))),
        "makespan_s": float(t["makespan_s"]),
        "throughput_tokens_s": float(t["throughput_tokens_s"]),
        "throughput_requests_s": float(t["throughput_requests_s"]),
        "evictions": res.evictions,
        "max_job_evictions": res.max_job_evictions,
        "wasted_tokens": res.wasted_tokens,
        "recomputed_tokens": res.recomputed_tokens,
        "peak_memory": res.peak_memory,
        "rounds": res.makespan,
        "sim_seconds": res.seconds,
    }


def replay(instance: Instance, policies: Sequence[str], timing: str = "llama2-70b-a100",
           **options: Any) -> list[dict[str, Any]]:
    """Simulate every policy on ``instance`` in the timed model; one summary dict per policy.

    ``options`` go to :func:`~lpsched.online.simulate` (engine and policy options; a policy that
    does not know an option raises, so pass policy-specific options one policy at a time).
    """
    from ..online import simulate

    return [latency_summary(simulate(instance, p, timing=timing, **options)) for p in policies]


def format_table(rows: Sequence[dict[str, Any]]) -> str:
    """A Markdown table of :func:`latency_summary` rows."""
    head = ("| policy | mean lat (s) | p50 | p90 | p99 | mean TTFT (s) | p50 | p90 | p99 | makespan (s) "
            "| tokens/s | evictions | recomputed tokens |")
    lines = [head, "|" + "---|" * 13]
    for r in rows:
        lines.append(
            f"| {r['policy']} | {r['mean_latency_s']:.2f} | {r['p50_latency_s']:.2f} | {r['p90_latency_s']:.2f} "
            f"| {r['p99_latency_s']:.2f} | {r['mean_ttft_s']:.2f} | {r['p50_ttft_s']:.2f} | {r['p90_ttft_s']:.2f} "
            f"| {r['p99_ttft_s']:.2f} | {r['makespan_s']:.1f} | {r['throughput_tokens_s']:.0f} "
            f"| {r['evictions']} | {r['recomputed_tokens']} |")
    return "\n".join(lines)
