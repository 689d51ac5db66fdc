"""Benchmark the online simulators: requests simulated per second, per policy, engine, n and M.

Instances come from real traces (lpsched.generate.trace_sample, mode="random", without
replacement); for n larger than the trace the rows of a full random sample are resampled with a
seeded generator. Intervals: the "spread" predictor (α = 0.25), so A_min evicts as it would in
practice. The per-round reference engine runs on the sizes up to --round-max, in the same process,
so the speed-up is a ratio of like with like. Reports time growth 10^5 -> 10^6 and peak RSS.

    python benchmarks/bench_sim.py                 # full run (tens of minutes on 2 cores)
    python benchmarks/bench_sim.py --quick         # n = 10^3, 10^4 only
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import multiprocessing
import resource
import sys
import time

import numpy as np

from lpsched.fileio import write_text_atomic
from lpsched.generate import trace_sample
from lpsched.instance import Instance
from lpsched.online import POLICIES, simulate
from lpsched.traces import shared_data_dir

TRACES = {  # paths inside the shared data folder (lpsched.traces.shared_data_dir: LPSCHED_DATA or ../shared/data)
    "azure-conv": ("azure_llm_2023/AzureLLMInferenceTrace_conv.csv", "azure"),
    "sharegpt": ("sharegpt_sarathi/sharegpt_8k_filtered_stats_llama2_tokenizer.csv", "lengths"),
}
ROWS = {"azure-conv": 19_366, "sharegpt": 30_731}


def make_instance(trace: str, n: int, M: int, seed: int) -> Instance:
    data = shared_data_dir()
    if data is None:
        raise SystemExit("the shared data folder was not found: set LPSCHED_DATA or check out next to ../shared/data")
    rel, fmt = TRACES[trace]
    path = data / rel
    kw = dict(path=path, fmt=fmt, M=M, mode="random", intervals="spread", alpha=0.25)
    if n <= ROWS[trace] - 100:
        return trace_sample(seed, n=n, **kw)
    full = trace_sample(seed, n=ROWS[trace] - 100, **kw)
    idx = np.random.default_rng([seed, n]).integers(0, full.n, size=n)
    return Instance.from_arrays(M=M, prompt=full.prompt[idx], output=full.output[idx],
                                lower=full.lower[idx], upper=full.upper[idx],
                                name=f"{trace}-resampled-n{n}-s{seed}")


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(trace: str, n: int, M: int, seed: int, pol: str, eng: str, inst: Instance | None = None) -> dict:
    """One timed run; ``rss_mb`` is the peak resident memory of the process doing it."""
    inst = make_instance(trace, n, M, seed) if inst is None else inst
    t0 = time.perf_counter()
    r = simulate(inst, pol, engine=eng)
    sec = time.perf_counter() - t0
    return {"trace": trace, "M": M, "n": inst.n, "policy": pol, "engine": eng,
            "req_s": inst.n / sec, "seconds": sec, "evictions": r.evictions,
            "max_job_evictions": r.max_job_evictions, "wasted": r.wasted_tokens,
            "tel": r.tel, "rss_mb": rss_mb()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,10000,100000,1000000")
    ap.add_argument("--M", default="16492,467000")
    ap.add_argument("--traces", default="azure-conv,sharegpt")
    ap.add_argument("--policies", default=",".join(POLICIES))
    ap.add_argument("--round-max", type=int, default=1000, help="largest n for the per-round engine")
    ap.add_argument("--quick", action="store_true", help="n = 10^3 and 10^4 only")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default=None, help="write all rows to this file")
    ap.add_argument("--isolate", action="store_true",
                    help="run every measurement in a fresh process, so RSS is that run's own peak")
    a = ap.parse_args()
    sizes = [1000, 10000] if a.quick else [int(float(x)) for x in a.sizes.split(",")]
    rows = []
    print(f"{'trace':<11} {'M':>7} {'n':>8} {'policy':<6} {'engine':<6} {'req/s':>10} {'seconds':>8} "
          f"{'evictions':>10} {'max/job':>7} {'wasted':>11} {'TEL':>16} {'RSS MB':>7}", flush=True)
    for trace in a.traces.split(","):
        for M in (int(x) for x in a.M.split(",")):
            for n in sizes:
                inst = None if a.isolate else make_instance(trace, n, M, a.seed)
                for pol in a.policies.split(","):
                    engines = ["event"] + (["round"] if n <= a.round_max else [])
                    for eng in engines:
                        if a.isolate:
                            ctx = multiprocessing.get_context("spawn")
                            with cf.ProcessPoolExecutor(1, mp_context=ctx) as ex:
                                row = ex.submit(measure, trace, n, M, a.seed, pol, eng).result()
                        else:
                            row = measure(trace, n, M, a.seed, pol, eng, inst)
                        rows.append(row)
                        print(f"{trace:<11} {M:>7} {row['n']:>8} {pol:<6} {eng:<6} {row['req_s']:>10.0f} "
                              f"{row['seconds']:>8.2f} {row['evictions']:>10} {row['max_job_evictions']:>7} "
                              f"{row['wasted']:>11} {row['tel']:>16} {row['rss_mb']:>7.0f}", flush=True)
    print("\nspeed-up (event / per-round, same instance):")
    for r in rows:
        if r["engine"] == "round":
            ev = next(x for x in rows if x["engine"] == "event" and all(
                x[k] == r[k] for k in ("trace", "M", "n", "policy")))
            print(f"  {r['trace']} M={r['M']} n={r['n']} {r['policy']}: {r['seconds'] / ev['seconds']:.1f}x")
    print("\ntime growth 10^5 -> 10^6 (event engine):")
    for r in rows:
        if r["engine"] == "event" and r["n"] >= 900_000:
            small = [x for x in rows if x["engine"] == "event" and 90_000 <= x["n"] <= 110_000 and all(
                x[k] == r[k] for k in ("trace", "M", "policy"))]
            if small:
                print(f"  {r['trace']} M={r['M']} {r['policy']}: {r['seconds'] / small[0]['seconds']:.1f}x")
    print(f"\npeak RSS of the process: {rss_mb():.0f} MB")
    if a.json:
        write_text_atomic(a.json, json.dumps(rows, indent=1))


if __name__ == "__main__":
    sys.exit(main())
