"""Validation of the vLLM step engine against the measured vLLM runs (docs/validation.md).

Run:  python experiments/validate_vllm.py [OUT_DIR]   (default docs/figures)
For each run in ../shared/data/llmservingsim_llama31_8b (RTX 4090, RTX PRO 6000): the table of
measured vs simulated (engine ``vllm`` on the run's kernel profile, deployment from the run's
meta.json, KV from vLLM's block count or the KV formula), the error budget (every mechanism on
its own over the bare step engine, every mechanism left out of the preset, the linear timing fit
instead of the profile, the KV formula instead of vLLM's count) and the CDF plots
validation_vllm_<gpu>.png. Deterministic; seconds of CPU.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from lpsched.online.profile import ProfileTiming, load_profile
from lpsched.replay.kvcapacity import Deployment, kv_capacity, model_shape
from lpsched.replay.profile_fit import fit_profile
from lpsched.replay.validate import load_measured, resolve_deployment, validate
from lpsched.traces import shared_data_dir

RUNS = {"RTX4090": "RTX 4090", "RTXPRO6000": "RTX PRO 6000"}
COLS = (("mean_ttft_s", "TTFT mean"), ("p90_ttft_s", "TTFT p90"), ("mean_latency_s", "E2E mean"),
        ("p90_latency_s", "E2E p90"), ("mean_tpot_s", "TPOT mean"), ("p90_tpot_s", "TPOT p90"),
        ("makespan_s", "makespan"))
BARE = {"block_size": 1, "max_num_seqs": 0, "max_num_batched_tokens": 0, "watermark": 0.0,
        "reserve_full": False, "prefix_cache": False, "semantics": "restart"}


def mechanisms(dep: dict) -> dict[str, dict]:
    """Each mechanism as the options that switch it on over BARE."""
    return {
        f"max_num_seqs {dep['max_num_seqs']}": {"max_num_seqs": dep["max_num_seqs"]},
        f"token budget {dep['max_num_batched_tokens']} + chunked prefill":
            {"max_num_batched_tokens": dep["max_num_batched_tokens"]},
        f"blocks of {dep['block_size']}": {"block_size": dep["block_size"]},
        "watermark 1 %": {"watermark": 0.01},
        "full-sequence admission": {"reserve_full": True},
        "resume (keep generated tokens)": {"semantics": "resume"},
        "prefix-cache reuse (with resume)": {"semantics": "resume", "prefix_cache": True},
    }


def row(label: str, v: dict) -> str:
    errs = {r["metric"]: r["error"] for r in v["rows"]}
    s = v["summary"]
    return (f"| {label} | " + " | ".join(f"{100 * errs[k]:+.1f}%" for k, _ in COLS)
            + f" | {s['evictions']} | {s['recomputed_tokens']} |")


def main(out: Path) -> None:
    data = shared_data_dir()
    if data is None:
        raise SystemExit("../shared/data not found (set LPSCHED_DATA)")
    out.mkdir(parents=True, exist_ok=True)
    head = "| variant | " + " | ".join(h for _, h in COLS) + " | preemptions | recomputed tokens |"
    sep = "|---|" + "---|" * (len(COLS) + 2)
    for gpu, title in RUNS.items():
        base = data / "llmservingsim_llama31_8b" / gpu
        req = base / "vllm_measured" / "requests.jsonl"
        prof_dir = base / "profile_bf16_tp1"
        dep = resolve_deployment(req)
        m = load_measured(req, dep["kv_tokens"])
        prof = ProfileTiming(load_profile(prof_dir))
        preset = {"engine": "vllm", "max_num_seqs": dep["max_num_seqs"],
                  "max_num_batched_tokens": dep["max_num_batched_tokens"], "block_size": dep["block_size"]}
        main_v = validate(m, timing=prof, **preset)
        print(f"## {title}\n\nKV {dep['kv_tokens']} tokens ({dep['kv_source'].split(' in ')[0]}), "
              f"max_num_seqs {dep['max_num_seqs']}, max_num_batched_tokens {dep['max_num_batched_tokens']}, "
              f"block {dep['block_size']}; profile skew alpha {prof.alpha}\n")
        print("| metric | measured | simulated | error |\n|---|---|---|---|")
        for r in main_v["rows"]:
            print(f"| {r['label']} | {r['measured']:.4g} | {r['simulated']:.4g} | {100 * r['error']:+.1f}% |")
        s = main_v["summary"]
        print(f"\npreemptions {s['evictions']}, recomputed tokens {s['recomputed_tokens']}, "
              f"prefix-cache hits {main_v['result'].timed['cached_tokens']} tokens, "
              f"steps {main_v['result'].timed['steps']}\n")

        print(f"### Error budget, {title}\n\n{head}\n{sep}")
        fit = fit_profile(prof_dir, kv_tokens=dep["kv_tokens"], max_batched_tokens=dep["max_num_batched_tokens"],
                          max_seqs=dep["max_num_seqs"]).timing(f"fit-{gpu}")
        print(row("round model, FCFS restart, linear fit (before)", validate(m, timing=fit)))
        print(row("step engine, every mechanism off, profile timing", validate(m, timing=prof, engine="vllm", **BARE)))
        for label, opts in mechanisms(dep).items():
            print(row(f"  + {label} only", validate(m, timing=prof, engine="vllm", **{**BARE, **opts})))
        print(row("**vLLM preset (all on)**", main_v))
        for label, opts in mechanisms(dep).items():
            off = {k: BARE[k] for k in opts}
            if label.startswith("prefix"):
                off = {"prefix_cache": False}
            print(row(f"  − {label}", validate(m, timing=prof, **{**preset, **off})))
        print(row("  preset, linear fit instead of the profile", validate(m, timing=fit, **preset)))
        if prof.alpha:
            print(row("  preset, no skew correction", validate(m, timing=ProfileTiming(load_profile(prof_dir),
                                                                                     skew=False), **preset)))
        run = dep["run_settings"]
        if "gpu_memory_bytes" in run and dep["kv_source"] != "kv_capacity formula":
            cap = kv_capacity(Deployment(int(run["gpu_memory_bytes"]), model_shape(run["model"]),
                                         float(run.get("gpu_memory_utilization", 0.9)), dep["block_size"],
                                         dep["max_num_batched_tokens"], dep["max_num_seqs"]))
            mk = load_measured(req, cap["tokens"])
            print(row(f"  preset, KV from the formula ({cap['tokens']} tokens, "
                      f"{100 * (cap['tokens'] / dep['kv_tokens'] - 1):+.1f}%)", validate(mk, timing=prof, **preset)))
        print()

        res = main_v["result"].timed
        fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
        for ax, (name, meas, sim) in zip(axes, (("TTFT (s)", m.ttft_s, res["ttft_s"]),
                                                ("E2E latency (s)", m.latency_s, res["latency_s"]),
                                                ("TPOT (ms)", 1000 * m.tpot_s, 1000 * res["tpot_s"])), strict=True):
            for x, lab, style in ((meas, "measured (vLLM 0.19)", "-"), (sim, "lpsched --engine vllm", "--")):
                xs = np.sort(x)
                ax.plot(xs, np.arange(1, xs.size + 1) / xs.size, style, label=lab)
            ax.set_xlabel(name)
            ax.set_ylabel("CDF")
            ax.grid(alpha=0.3)
        axes[0].legend(loc="lower right")
        fig.suptitle(f"{title}, Llama-3.1-8B, 300 ShareGPT requests: measured vs simulated")
        fig.tight_layout()
        path = out / f"validation_vllm_{gpu.lower()}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        print(f"wrote {path}\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/figures"))
