"""Timed replay studies from a small TOML spec (real traces with arrivals, seconds-based metrics).

The comparator's sweeps (:mod:`lpsched.compare`) store TEL in rounds and ratios; a replay study
reports what a serving engineer reads instead: latency and TTFT percentiles in seconds,
throughput, evictions and recomputed tokens, per policy, averaged over seeds. Spec::

    name = "azure-conv-a100"
    seeds = [0, 1, 2]
    timing = "llama2-70b-a100"
    policies = ["fcfs", "mcsf", "svf", "amin", "amax", "hsf"]
    options = {}                      # engine options for every run (e.g. semantics = "resume")

    [[instances]]                     # one table per block; parameters of lpsched.generate.trace_sample
    label = "conv, 2x speed"
    path = "{data}/azure_llm_2023/AzureLLMInferenceTrace_conv.csv"
    fmt = "azure"
    n = 2000
    M = 16492
    arrivals = "trace"
    intervals = "spread"
    alpha = 0.25

    [[variants]]                      # extra rows: a policy with options, under its own label
    policy = "fcfs"
    label = "fcfs-resume"
    options = { semantics = "resume" }
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import OptionError
from ..fileio import read_toml
from .metrics import latency_summary

__all__ = ["Study", "load_study", "run_study", "STUDY_METRICS"]

#: Columns of the study table: (key, header, format).
STUDY_METRICS = (
    ("mean_latency_s", "mean lat (s)", "{:.1f}"), ("p50_latency_s", "p50", "{:.1f}"),
    ("p90_latency_s", "p90", "{:.1f}"), ("p99_latency_s", "p99", "{:.1f}"),
    ("mean_ttft_s", "mean TTFT (s)", "{:.1f}"), ("p90_ttft_s", "p90 TTFT", "{:.1f}"),
    ("p99_ttft_s", "p99 TTFT", "{:.1f}"), ("throughput_tokens_s", "tokens/s", "{:.0f}"),
    ("evictions", "evictions", "{:.0f}"), ("recomputed_tokens", "recomputed tok", "{:.0f}"),
    ("wasted_tokens", "wasted tok", "{:.0f}"),
)
_TOP = {"name", "description", "seeds", "timing", "policies", "options", "instances", "variants"}


@dataclass(frozen=True)
class Study:
    """A validated replay study."""

    name: str
    description: str
    seeds: tuple[int, ...]
    timing: str
    runs: tuple[tuple[str, str, dict[str, Any]], ...]  # (label, policy, options)
    options: dict[str, Any]
    instances: tuple[dict[str, Any], ...]


def load_study(path: str | Path) -> Study:
    """Read and validate a study spec (errors name the key)."""
    from ..online import POLICIES
    from ..online.timing import get_timing

    p = Path(path)
    d = read_toml(p, "replay study", OptionError)
    bad = set(d) - _TOP
    if bad:
        raise OptionError(f"replay study: unknown key '{sorted(bad)[0]}' (known: {', '.join(sorted(_TOP))})")
    seeds = d.get("seeds", 1)
    seeds = list(range(seeds)) if isinstance(seeds, int) else seeds
    if not seeds or not all(isinstance(s, int) for s in seeds):
        raise OptionError("replay study: 'seeds' must be a positive integer or a list of integers")
    timing = str(d.get("timing", "llama2-70b-a100"))
    get_timing(timing)
    runs: list[tuple[str, str, dict[str, Any]]] = []
    for pol in d.get("policies", ["fcfs", "mcsf", "svf", "amin", "amax", "hsf"]):
        if pol not in POLICIES:
            raise OptionError(f"replay study: unknown policy '{pol}' (known: {', '.join(POLICIES)})")
        runs.append((pol, pol, {}))
    for i, v in enumerate(d.get("variants", [])):
        if not isinstance(v, Mapping) or v.get("policy") not in POLICIES or "label" not in v:
            raise OptionError(f"replay study: variants[{i}] needs a known 'policy' and a 'label'")
        runs.append((str(v["label"]), v["policy"], dict(v.get("options", {}))))
    blocks = d.get("instances")
    if not isinstance(blocks, list) or not blocks:
        raise OptionError("replay study: at least one [[instances]] block is required")
    return Study(d.get("name", p.stem), str(d.get("description", "")), tuple(seeds), timing, tuple(runs),
                 dict(d.get("options", {})), tuple(dict(b) for b in blocks))


def run_study(st: Study) -> dict[str, Any]:
    """Run every (block, seed, run); return per-run rows, per-(block, label) means and Markdown."""
    from ..compare.spec import resolve_params
    from ..generate import trace_sample
    from ..online import simulate

    t0 = time.perf_counter()
    rows: list[dict[str, Any]] = []
    md = [f"# Replay study: {st.name}", "", st.description, "",
          f"Timing preset `{st.timing}`; seeds {list(st.seeds)}; values are means over seeds.", ""]
    for bi, block in enumerate(st.instances):
        params = {k: v for k, v in block.items() if k != "label"}
        label = str(block.get("label", f"block {bi}"))
        per_label: dict[str, list[dict[str, Any]]] = {}
        info = []
        for seed in st.seeds:
            inst = trace_sample(seed, **resolve_params(params))
            info.append((inst.n, inst.M, inst.meta.get("interval_report", {})))
            for run_label, pol, opts in st.runs:
                res = simulate(inst, pol, timing=st.timing, **{**st.options, **opts})
                r = {"block": label, "seed": seed, "label": run_label, **latency_summary(res)}
                rows.append(r)
                per_label.setdefault(run_label, []).append(r)
        n_mean = np.mean([i[0] for i in info])
        rep = info[0][2]
        md += [f"## {label}", "",
               f"{n_mean:.0f} requests per seed, M = {info[0][1]}; intervals: median α "
               f"{rep.get('alpha_median', float('nan')):.3f}, miss rate {rep.get('miss_rate', 0.0):.3f} (seed "
               f"{st.seeds[0]}).", "",
               "| policy | " + " | ".join(h for _, h, _ in STUDY_METRICS) + " |",
               "|---|" + "---|" * len(STUDY_METRICS)]
        for run_label, rs in per_label.items():
            cells = [fmt.format(float(np.mean([r[k] for r in rs]))) for k, _, fmt in STUDY_METRICS]
            md.append(f"| {run_label} | " + " | ".join(cells) + " |")
        md.append("")
    return {"name": st.name, "rows": rows, "markdown": "\n".join(md), "seconds": time.perf_counter() - t0}
