"""Benchmark the whole ``lpsched simulate`` process: interpreter start, imports, load, simulate,
verify, write the schedule.

The instance is built as a user would: ``lpsched generate trace`` on the Azure conv trace (a
seeded random sample of 19,266 of its 19,366 rows, "spread" intervals with α = 0.25, ``--M``),
then, since the trace holds fewer than 10^5 rows, its jobs are resampled with replacement by a
seeded generator, exactly as ``bench_sim.py`` does (same seed, same instance as its row). With
``--arrivals trace`` the rows are the trace's first 19,366 in order with their arrival times
(``--arrivals trace``, 0.05 s per round), repeated back to back (each copy shifted by the span of
the trace plus one round) until ``--n`` jobs.

The whole process (``python -m lpsched simulate FILE --policy P -o OUT``) is timed as a subprocess,
best of ``--repeat``: wall seconds, and CPU seconds (user + system, steadier when other work shares
the machine). The breakdown is measured in one more fresh process with explicit timers:
the CLI's imports, ``load_instance``, ``simulate`` (engine, in-path verification, result), the
verifier alone on the same starts (also part of ``simulate``), and ``save_schedule``.

    python benchmarks/bench_simulate_cli.py                      # n = 10^5, M = 16,492, amin
    python benchmarks/bench_simulate_cli.py --arrivals zero,trace --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from lpsched.fileio import write_text_atomic
from lpsched.instance import Instance, load_instance, save_instance
from lpsched.traces import shared_data_dir

TRACE = "azure_llm_2023/AzureLLMInferenceTrace_conv.csv"  # inside the shared data folder
TRACE_ROWS = 19_366
ROUND_SECONDS = 0.05

# Run in a fresh interpreter: the same steps as `lpsched simulate FILE -o OUT`, each timed.
_BREAKDOWN = r"""
import json, sys, time
t0 = time.perf_counter()
import lpsched.cli.app  # what `python -m lpsched` imports before the command runs
from lpsched.instance import load_instance
from lpsched.online import simulate
from lpsched.verify import save_schedule, verify_schedule
t1 = time.perf_counter()
inst = load_instance(sys.argv[1])
t2 = time.perf_counter()
res = simulate(inst, sys.argv[3])
t3 = time.perf_counter()
import numpy as np
starts = np.array([res.starts[i] for i in inst.ids], dtype=np.int64)
t4 = time.perf_counter()
verify_schedule(inst, starts)
t5 = time.perf_counter()
save_schedule(sys.argv[2], res.starts, inputs=[sys.argv[1]], policy=res.policy, tel=res.tel)
t6 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "load_s": t2 - t1, "simulate_s": t3 - t2,
                  "verify_s": t5 - t4, "write_s": t6 - t5, "tel": res.tel,
                  "evictions": res.evictions}))
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _lpsched(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "lpsched", *args], check=True, env=_env(),
                   stdout=subprocess.DEVNULL)


def build_instance(arrivals: str, n: int, M: int, seed: int, folder: Path) -> Path:
    """Write the benchmark instance to ``folder`` and return its path."""
    data = shared_data_dir()
    if data is None:
        raise SystemExit("the shared data folder was not found: set LPSCHED_DATA or check out next to ../shared/data")
    base = folder / f"base-{arrivals}.json"
    common = ["--path", str(data / TRACE), "--format", "azure", "--M", str(M), "--seed", str(seed),
              "--intervals", "spread", "--interval-param", "alpha=0.25", "-o", str(base)]
    if arrivals == "zero":
        _lpsched("generate", "trace", *common, "--n", str(TRACE_ROWS - 100), "--mode", "random")
    else:
        _lpsched("generate", "trace", *common, "--n", str(TRACE_ROWS), "--arrivals", "trace",
                 "--round-seconds", str(ROUND_SECONDS))
    full = load_instance(base)
    if arrivals == "zero":
        idx = np.random.default_rng([seed, n]).integers(0, full.n, size=n)
        arrival = np.zeros(n, dtype=np.int64)
        name = f"azure-conv-resampled-n{n}-s{seed}"
    else:
        copies = -(-n // full.n)
        idx = np.tile(np.arange(full.n), copies)[:n]
        span = int(full.arrival.max()) + 1
        arrival = (np.tile(full.arrival, copies) + span * np.repeat(np.arange(copies), full.n))[:n]
        name = f"azure-conv-trace-arrivals-n{n}-s{seed}"
    inst = Instance.from_arrays(M=M, prompt=full.prompt[idx], output=full.output[idx],
                                lower=full.lower[idx], upper=full.upper[idx], arrival=arrival, name=name)
    path = folder / f"azure-conv-{arrivals}-n{n}.json"
    save_instance(inst, path)
    return path


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def whole_process(path: Path, policy: str, out: Path, repeat: int) -> tuple[list[float], list[float]]:
    """Wall seconds and CPU seconds (user + system) of ``python -m lpsched simulate`` per repetition.
    On a machine shared with other work the CPU time is the steadier of the two."""
    times, cpu = [], []
    for _ in range(repeat):
        c0 = _children_cpu()
        t0 = time.perf_counter()
        _lpsched("simulate", str(path), "--policy", policy, "-o", str(out))
        times.append(time.perf_counter() - t0)
        cpu.append(_children_cpu() - c0)
    return times, cpu


def breakdown(path: Path, policy: str, out: Path) -> dict:
    """The steps of the command, timed in one fresh process."""
    p = subprocess.run([sys.executable, "-c", _BREAKDOWN, str(path), str(out), policy], check=True,
                       env=_env(), capture_output=True, text=True)
    return json.loads(p.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--M", type=int, default=16_492)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--policy", default="amin")
    ap.add_argument("--arrivals", default="zero", help="comma-separated: zero, trace")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", default=None, help="write the rows to this file")
    a = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for arrivals in a.arrivals.split(","):
            if arrivals not in ("zero", "trace"):
                raise SystemExit(f"unknown arrivals '{arrivals}' (known: zero, trace)")
            path = build_instance(arrivals, a.n, a.M, a.seed, folder)
            out = folder / "schedule.json"
            times, cpu = whole_process(path, a.policy, out, a.repeat)
            best = min(times)
            parts = breakdown(path, a.policy, out)
            row = {"arrivals": arrivals, "n": a.n, "M": a.M, "seed": a.seed, "policy": a.policy,
                   "whole_s": best, "whole_runs_s": times, "req_s": a.n / best,
                   "whole_cpu_s": min(cpu), "whole_cpu_runs_s": cpu, "req_per_cpu_s": a.n / min(cpu), **parts,
                   "engine_s": parts["simulate_s"] - parts["verify_s"],
                   "instance_mb": path.stat().st_size / 2**20}
            rows.append(row)
            print(f"arrivals={arrivals} n={a.n} M={a.M} {a.policy}: whole process {best:.2f} s "
                  f"(best of {a.repeat}: {', '.join(f'{t:.2f}' for t in times)}) = {a.n / best:,.0f} req/s; "
                  f"CPU {min(cpu):.2f} s = {a.n / min(cpu):,.0f} req per CPU second; "
                  f"TEL {parts['tel']}, evictions {parts['evictions']}", flush=True)
            print(f"  import {parts['import_s']:.3f} s, load {parts['load_s']:.3f} s, "
                  f"simulate {parts['simulate_s']:.3f} s (engine and result {row['engine_s']:.3f} s, "
                  f"verify {parts['verify_s']:.3f} s), write {parts['write_s']:.3f} s", flush=True)
    if a.json:
        write_text_atomic(a.json, json.dumps(rows, indent=1, allow_nan=False) + "\n")


if __name__ == "__main__":
    sys.exit(main())
