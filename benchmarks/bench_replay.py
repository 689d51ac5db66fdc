"""Benchmark the vLLM step engine: requests replayed per second with ``engine="vllm"``.

Requests are synthesised by resampling a measured run (prompt, output and the gap to the previous
arrival, drawn together with replacement, seeded), so the load has the run's length mix and
arrival rate; ``--rate-scale`` multiplies the arrival rate. Step times come from the run's kernel
profile; the deployment (max_num_seqs, token budget, block size, KV blocks) from its meta.json.
``--policy`` runs an estimate-based policy on the step engine instead of vLLM's FCFS, with spread
intervals of ratio ``--alpha`` (seeded; MC-SF's point prediction is the interval midpoint).

    python benchmarks/bench_replay.py                       # n = 10^5, RTX 4090 run, seed 0
    python benchmarks/bench_replay.py --n 10000 --gpu RTXPRO6000 --json out.json
    python benchmarks/bench_replay.py --policy amin --alpha 0.25
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from lpsched.fileio import write_text_atomic
from lpsched.instance import Instance
from lpsched.online import simulate
from lpsched.online.timing import get_timing
from lpsched.predictors import spread_intervals
from lpsched.replay.validate import load_measured, resolve_deployment
from lpsched.traces import shared_data_dir


def resampled(gpu: str, n: int, seed: int, rate_scale: float) -> tuple[Instance, dict]:
    data = shared_data_dir()
    if data is None:
        raise SystemExit("../shared/data not found (set LPSCHED_DATA)")
    req = data / "llmservingsim_llama31_8b" / gpu / "vllm_measured" / "requests.jsonl"
    dep = resolve_deployment(req)
    m = load_measured(req, dep["kv_tokens"])
    t = np.sort(m.instance.arrival_time)
    gaps = np.diff(t, prepend=0.0)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, m.instance.n, size=n)
    arrival = np.cumsum(gaps[rng.integers(0, gaps.size, size=n)]) / rate_scale
    inst = Instance.from_arrays(M=dep["kv_tokens"], prompt=m.instance.prompt[idx], output=m.instance.output[idx],
                                arrival=np.zeros(n, dtype=np.int64), arrival_time=arrival,
                                name=f"{gpu}-resampled-n{n}-s{seed}")
    return inst, dep


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--gpu", default="RTX4090", choices=("RTX4090", "RTXPRO6000"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--rate-scale", type=float, default=1.0)
    ap.add_argument("--policy", default="fcfs", choices=("fcfs", "amin", "amax", "hsf", "mcsf", "svf"))
    ap.add_argument("--alpha", type=float, default=0.25, help="ratio of the spread intervals (not fcfs)")
    ap.add_argument("--json", default=None, help="write the result row to this file")
    a = ap.parse_args()
    inst, dep = resampled(a.gpu, a.n, a.seed, a.rate_scale)
    policy_opts: dict = {}
    if a.policy != "fcfs":
        lower, upper = spread_intervals(inst.output, np.random.default_rng([a.seed, 1]), alpha=a.alpha)
        inst = inst.replace(lower=lower, upper=upper)
        if a.policy == "mcsf":
            policy_opts["missing"] = "mid"
    data = shared_data_dir()
    assert data is not None
    timing = get_timing(str(data / "llmservingsim_llama31_8b" / a.gpu / "profile_bf16_tp1"))
    t0 = time.perf_counter()
    r = simulate(inst, a.policy, engine="vllm", timing=timing, max_num_seqs=dep["max_num_seqs"],
                 max_num_batched_tokens=dep["max_num_batched_tokens"], block_size=dep["block_size"], **policy_opts)
    sec = time.perf_counter() - t0
    row = {"gpu": a.gpu, "policy": a.policy, "alpha": None if a.policy == "fcfs" else a.alpha,
           "n": inst.n, "seed": a.seed, "rate_scale": a.rate_scale, "kv_tokens": inst.M,
           "seconds": sec, "req_s": inst.n / sec, "steps": r.timed["steps"], "mixed_steps": r.timed["mixed_steps"],
           "preemptions": r.evictions, "recomputed_tokens": r.recomputed_tokens,
           "simulated_makespan_s": r.timed["makespan_s"], "mean_latency_s": r.timed["mean_latency_s"]}
    print(json.dumps(row))
    if a.json:
        write_text_atomic(a.json, json.dumps(row, indent=1))


if __name__ == "__main__":
    main()
