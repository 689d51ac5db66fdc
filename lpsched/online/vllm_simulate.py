"""``simulate(instance, policy, engine="vllm", timing=…)``: the vLLM step engine as a :class:`SimResult`.

The step engine (:mod:`lpsched.online.vllm_engine`) has vLLM's own FCFS scheduler built in:
``policy="fcfs"`` runs it (the FCFS option ``watermark`` is the engine's watermark). An
estimate-based policy (``amin``, ``amax``, ``hsf``, ``mcsf``, ``svf``, with its own options) takes
over the order, the admission test and the victim (:mod:`lpsched.online.vllm_policies`); every
option the engine does not know goes to the policy. KV capacity
is the instance's ``M`` (tokens; ``M // block_size`` blocks). Rounds in the result are engine
steps: ``starts`` holds each request's first scheduled step, ``completion`` the step that samples
its last token, ``latency`` completion minus the step it joined. The round-model verifier does not
apply to chunked prefill and paged blocks; the engine checks block conservation and this function
that every request's first token follows its arrival and its completion its first token.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..errors import OptionError
from ..instance import Instance
from .base import Policy, make_policy
from .profile import ProfileTiming
from .ranks import id_ranks
from .result import SimResult
from .timing import TimingModel
from .vllm_config import VLLM_OPTIONS, vllm_config
from .vllm_engine import run_vllm
from .vllm_policies import StepPolicy, StepView

__all__ = ["simulate_vllm"]


def simulate_vllm(instance: Instance, policy: str | Policy, timing: TimingModel | ProfileTiming,
                  options: dict[str, Any]) -> SimResult:
    """Run the vLLM step engine (see the module docstring); ``policy`` is a name or a policy object."""
    t0 = time.perf_counter()
    if not isinstance(policy, str):
        if not isinstance(policy, Policy):
            raise OptionError(f"policy must be a name or a Policy, got {type(policy).__name__}")
        if policy.name == "fcfs":
            options = {"watermark": policy.options["watermark"], **options}
    name = policy if isinstance(policy, str) else policy.name
    engine_opts = {k: v for k, v in options.items() if k in VLLM_OPTIONS}
    policy_opts = {k: v for k, v in options.items() if k not in VLLM_OPTIONS}
    if name == "fcfs" and policy_opts:
        raise OptionError(f"engine vllm: unknown option '{next(iter(policy_opts))}' "
                          f"(known: {', '.join(VLLM_OPTIONS)})")
    cfg = vllm_config(**engine_opts)
    if instance.arrival_time is None:
        raise OptionError("engine vllm needs arrival times in seconds (field 'arrival_time')")
    arr = np.round(np.asarray(instance.arrival_time) * 1e9).astype(np.int64)
    prompt = instance.prompt.tolist()
    output = instance.output.tolist()
    step_policy = None
    policy_options: dict[str, Any] = {}
    if name != "fcfs":
        pol = make_policy(policy, **policy_opts) if isinstance(policy, str) else policy
        if policy_opts and not isinstance(policy, str):
            raise OptionError(f"engine vllm: unknown option '{next(iter(policy_opts))}' "
                              f"(known: {', '.join(VLLM_OPTIONS)})")
        predicted = instance.predicted.tolist() if instance.predicted is not None else [0] * instance.n
        view = StepView((instance.M // cfg.block_size) * cfg.block_size, prompt, instance.lower.tolist(),
                        instance.upper.tolist(), predicted, arr.tolist(), id_ranks(instance.ids))
        step_policy = StepPolicy(pol, view, output, cfg.block_size, cfg.fast)
        policy_options = dict(pol.options)
    out = run_vllm(prompt, output, arr.tolist(), instance.M, timing, cfg, policy=step_policy)
    first = np.array(out.first_token_ns, dtype=np.int64)
    done = np.array(out.completion_ns, dtype=np.int64)
    if instance.n and not (np.all(first > arr) and np.all(done >= first)):
        raise AssertionError("engine vllm: a request finished before it arrived or before its first token")
    lat = (done - arr) / 1e9
    ttft = (first - arr) / 1e9
    o = instance.output
    tpot = np.where(o > 1, (done - first) / 1e9 / np.maximum(o - 1, 1), 0.0)
    span = max(int(done.max()) - int(arr.min()), 1) / 1e9 if instance.n else 1.0
    completion = np.array(out.completion_step, dtype=np.int64)
    joined = np.array(out.join_step, dtype=np.int64)
    ev = np.array(out.preempt_count, dtype=np.int64)
    ids = instance.ids
    timed = {
        "model": timing.to_dict(), "makespan_s": span,
        "mean_latency_s": float(lat.mean()), "p50_latency_s": float(np.median(lat)),
        "p99_latency_s": float(np.quantile(lat, 0.99)), "total_latency_s": float(lat.sum()),
        "mean_ttft_s": float(ttft.mean()), "p99_ttft_s": float(np.quantile(ttft, 0.99)),
        "throughput_tokens_s": float(o.sum()) / span, "throughput_requests_s": instance.n / span,
        "latency_s": lat, "ttft_s": ttft, "tpot_s": tpot[o > 1],
        "steps": out.steps, "decode_steps": out.decode_steps, "mixed_steps": out.mixed_steps,
        "busy_s": out.busy_ns / 1e9, "cached_tokens": out.cached_tokens,
    }
    return SimResult(
        policy=name, engine="vllm", semantics=cfg.semantics, tel=int((completion - joined).sum()),
        makespan=out.steps, starts={ids[i]: int(out.first_scheduled_step[i]) for i in range(instance.n)},
        completion=completion, latency=completion - joined,
        evictions=out.preemptions, max_job_evictions=int(ev.max()) if instance.n else 0,
        wasted_tokens=out.wasted_tokens, recomputed_tokens=out.recomputed_tokens,
        same_round_restarts=0, misses=instance.n_misses,
        peak_memory=out.peak_blocks * cfg.block_size,
        mean_memory=out.block_steps * cfg.block_size / out.steps if out.steps else 0.0,
        seconds=time.perf_counter() - t0,
        options={**policy_options, "engine": "vllm", **{f: getattr(cfg, f) for f in cfg.__dataclass_fields__},
                 "timing": timing.name},
        timed=timed, job_evictions=ev,
    )
