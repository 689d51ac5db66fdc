"""Validation of the timed model against the measured vLLM run on an RTX 4090 (docs/validation.md).

Run:  python experiments/validate_rtx4090.py [OUT_DIR]   (default docs/figures)
Prints the Markdown tables of docs/validation.md and writes validation_rtx4090.png (CDFs of TTFT
and end-to-end latency: measured vs simulated). Seconds of CPU, deterministic (no randomness).
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from lpsched.replay.profile_fit import fit_profile
from lpsched.replay.validate import decode_recost, load_measured, measured_dir, validate

VARIANTS = {  # label -> options of simulate
    "FCFS restart (MODEL default)": {},
    "FCFS resume (vLLM recompute keeps tokens)": {"semantics": "resume"},
    "FCFS resume, watermark 0": {"semantics": "resume", "watermark": 0.0},
    "FCFS restart, watermark 0.05": {"watermark": 0.05},
}


def main(out: Path) -> None:
    fit = fit_profile(measured_dir() / "profile_bf16_tp1")
    print(f"fit: {fit.c0_ms:.4f} + {fit.c_prefill_ms:.6f}·P + {fit.c_decode_ms:.6f}·N + {fit.c_kv_ms:.7f}·K ms; "
          f"R² {fit.r2:.3f}, median rel. error {100 * fit.median_rel_error:.1f}% "
          f"({', '.join(f'{k} {100 * v:.1f}%' for k, v in fit.median_rel_error_by_regime.items())})\n")
    m = load_measured()
    results = {}
    for label, opts in VARIANTS.items():
        results[label] = validate(m, record_history=True, **opts)
    labels = list(results)
    print("| metric | measured | " + " | ".join(labels) + " |")
    print("|---|---|" + "---|" * len(labels))
    first = results[labels[0]]["rows"]
    for i, row in enumerate(first):
        name, meas = row["label"], row["measured"]
        cells = [f"{v['rows'][i]['simulated']:.1f} ({100 * v['rows'][i]['error']:+.1f}%)" for v in results.values()]
        print(f"| {name} | {meas:.1f} | " + " | ".join(cells) + " |")
    ev = [f"{v['summary']['evictions']} / {v['summary']['recomputed_tokens']}" for v in results.values()]
    print("| evictions / recomputed tokens | 0 recomputed prompt tokens (timeseries) | " + " | ".join(ev) + " |")
    print("\nDecode-only rounds re-costed with the full profile composition instead of the linear fit:\n")
    print("| variant | decode rounds | mean batch | mean KV tokens | linear fit (s) | profile composition (s) "
          "| makespan (s) | makespan with composed decode (s) | error vs measured |")
    print("|---|---|---|---|---|---|---|---|---|")
    for label, v in results.items():
        rc = decode_recost(m.instance, v["result"], measured_dir() / "profile_bf16_tp1", "llama31-8b-rtx4090")
        ms = v["summary"]["makespan_s"]
        adj = ms - rc["linear_s"] + rc["composed_s"]
        err = 100 * (adj / m.makespan_s - 1)
        print(f"| {label} | {rc['decode_rounds']} | {rc['mean_batch']:.1f} | {rc['mean_kv_tokens']:.0f} | "
              f"{rc['linear_s']:.1f} | {rc['composed_s']:.1f} | {ms:.1f} | {adj:.1f} | {err:+.1f}% |")
    out.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, key, meas, title in ((axes[0], "ttft_s", m.ttft_s, "time to first token"),
                                 (axes[1], "latency_s", m.latency_s, "end-to-end latency")):
        ax.plot(np.sort(meas), np.linspace(0, 1, meas.size), "k-", lw=2.5, label="vLLM measured")
        for label in labels[:2]:
            x = np.sort(results[label]["result"].timed[key])
            ax.plot(x, np.linspace(0, 1, x.size), label=label)
        ax.set_xlabel("seconds")
        ax.set_ylabel("fraction of requests")
        ax.set_title(f"RTX 4090, 300 requests: {title}")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    path = out / "validation_rtx4090.png"
    fig.savefig(path, dpi=120)
    print(f"\nfigure: {path}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/figures"))
