"""``simulate(instance, policy, **options)``: run a policy on an instance and verify the outcome.

Options (engine): ``engine`` = ``event`` (default) | ``round`` (the per-round reference) |
``vllm`` (the step engine with vLLM v1's scheduler mechanisms, :mod:`lpsched.online.vllm_engine`;
FCFS and the estimate-based policies, timed only, semantics ``resume`` by default; its options ``max_num_seqs``,
``max_num_batched_tokens``, ``block_size``, ``watermark``, ``reserve_full``, ``prefix_cache``);
``semantics`` = ``restart`` (default) | ``resume``; ``timing`` = ``None`` (round model) or a preset
name of :mod:`lpsched.online.timing` or a :class:`TimingModel` (then ``instance.arrival_time`` gives
the arrivals in seconds); ``record_memory`` (per-round memory in the result); ``record_history``
(verify every run with :func:`lpsched.verify.verify_runs`). Every other option goes to the policy.

Every finished run is verified in this code path: the final starts with
:func:`~lpsched.verify.verify_schedule` (restart), the whole history with
:func:`~lpsched.verify.verify_runs` (resume, or when a history is recorded); a failure raises.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..errors import OptionError
from ..instance import Instance
from ..verify import require_feasible, verify_runs, verify_schedule
from .base import Policy, make_policy
from .engine import Core, EngineInput, run_events, run_rounds
from .profile import ProfileTiming
from .ranks import id_ranks
from .result import SimResult
from .timing import TimingModel, get_timing
from .vllm_simulate import simulate_vllm

__all__ = ["simulate", "ENGINE_OPTIONS", "id_ranks"]

ENGINE_OPTIONS = ("engine", "semantics", "timing", "record_memory", "record_history")

def _flag(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        return value.lower() in ("1", "true", "yes", "on")
    raise OptionError(f"option {name} must be true or false, got {value!r}")


def simulate(instance: Instance, policy: str | Policy, **options: Any) -> SimResult:
    """Simulate ``policy`` (a registered name or a :class:`Policy` instance) on ``instance``.

    Raises
    ------
    OptionError
        For an unknown policy or option, or a timed run without arrival times.
    SimulationError
        If the policy overflows round ``t + 1`` or deadlocks (a bug in the policy).
    ScheduleVerificationError
        If the verifier rejects the outcome (a bug in lpsched).
    """
    t0 = time.perf_counter()
    engine = options.pop("engine", "event")
    semantics = options.pop("semantics", "resume" if engine == "vllm" else "restart")
    timing_spec = options.pop("timing", None)
    record_memory = _flag("record_memory", options.pop("record_memory", False))
    record_history = _flag("record_history", options.pop("record_history", False))
    if engine == "vllm":
        if timing_spec in (None, "", "none"):
            raise OptionError("engine vllm is timed: give timing=PRESET or a kernel-profile folder")
        options["semantics"] = semantics
        return simulate_vllm(instance, policy, get_timing(timing_spec), options)
    if engine not in ("event", "round"):
        raise OptionError(f"unknown engine '{engine}' (known: event, round, vllm)")
    if semantics not in ("restart", "resume"):
        raise OptionError(f"unknown eviction semantics '{semantics}' (known: restart, resume)")
    pol = make_policy(policy, **options) if isinstance(policy, str) else policy
    if not isinstance(pol, Policy):
        raise OptionError(f"policy must be a name or a Policy, got {type(policy).__name__}")
    timing: TimingModel | ProfileTiming | None = None
    arrival_ns = None
    if timing_spec not in (None, "", "none"):
        timing = get_timing(timing_spec)
        if instance.arrival_time is None:
            raise OptionError("the timed model needs arrival times in seconds (field 'arrival_time')")
        arrival_ns = np.round(np.asarray(instance.arrival_time) * 1e9).astype(np.int64).tolist()
    predicted = instance.predicted.tolist() if instance.predicted is not None else [0] * instance.n
    inp = EngineInput(
        M=instance.M, prompt=instance.prompt.tolist(), output=instance.output.tolist(),
        lower=instance.lower.tolist(), upper=instance.upper.tolist(), predicted=predicted,
        rank=id_ranks(instance.ids), arrival=instance.arrival.tolist(), arrival_ns=arrival_ns,
        semantics=semantics, timing=timing, record_memory=record_memory, record_history=record_history,
    )
    core = Core(inp, pol, fast=(engine == "event"))
    trace = run_events(core) if engine == "event" else run_rounds(core)

    ids = instance.ids
    starts_arr = np.array(core.kstart, dtype=np.int64)
    completion = np.array(core.completion, dtype=np.int64)
    joined = np.array(core.view.arrival, dtype=np.int64)
    checked = instance if timing is None else instance.replace(arrival=joined)
    producer = f"simulate(policy={pol.name}, engine={engine}, semantics={semantics})"
    if semantics == "restart":
        res = require_feasible(verify_schedule(checked, starts_arr), producer)
        if res.tel != int((completion - joined).sum()):
            raise AssertionError(f"{producer}: engine TEL disagrees with the verifier")
    if core.history is not None:
        res = require_feasible(verify_runs(checked, core.history, semantics), producer)
    tel = int((completion - joined).sum())
    makespan = int(completion.max()) if instance.n else 0
    job_ev = np.array(core.evict_count, dtype=np.int64)
    timed = None
    if timing is not None:
        arr_s = np.asarray(arrival_ns, dtype=np.int64)
        done_s = np.array(core.completion_ns, dtype=np.int64)
        first = np.array(core.first_token_ns, dtype=np.int64)
        lat = (done_s - arr_s) / 1e9
        ttft = (first - arr_s) / 1e9
        span = max(int(done_s.max()) - int(arr_s.min()), 1) / 1e9 if instance.n else 1.0
        timed = {
            "model": timing.to_dict(), "makespan_s": span,
            "mean_latency_s": float(lat.mean()), "p50_latency_s": float(np.median(lat)),
            "p99_latency_s": float(np.quantile(lat, 0.99)), "total_latency_s": float(lat.sum()),
            "mean_ttft_s": float(ttft.mean()), "p99_ttft_s": float(np.quantile(ttft, 0.99)),
            "throughput_tokens_s": float(instance.output.sum()) / span,
            "throughput_requests_s": instance.n / span,
            "latency_s": lat, "ttft_s": ttft,
            "tpot_s": ((done_s - first) / 1e9 / np.maximum(instance.output - 1, 1))[instance.output > 1],
        }
    return SimResult(
        policy=pol.name, engine=engine, semantics=semantics, tel=tel, makespan=makespan,
        starts=dict(zip(ids, starts_arr.tolist(), strict=True)),
        completion=completion, latency=completion - joined,
        evictions=core.evictions, max_job_evictions=int(job_ev.max()) if instance.n else 0,
        wasted_tokens=core.wasted, recomputed_tokens=core.recomputed,
        same_round_restarts=core.same_round, misses=instance.n_misses,
        peak_memory=trace.peak, mean_memory=trace.total / makespan if makespan else 0.0,
        seconds=time.perf_counter() - t0,
        options={**pol.options, "engine": engine, "semantics": semantics,
                 "timing": None if timing is None else timing.name},
        policy_stats=pol.stats(),
        memory=trace.per_round(makespan) if record_memory else None,
        timed=timed, job_evictions=job_ev,
        history=core.history if record_history else None,
    )
