"""lpsched's estimate-based policies on the vLLM step engine: order, admission test and victim on
hand-checked cases, and the fast engine against the step-by-step reference for every policy."""

from __future__ import annotations

import numpy as np
import pytest

from lpsched import OptionError
from lpsched.instance import Instance
from lpsched.online import simulate
from lpsched.online.base import make_policy
from lpsched.online.timing import TIMING_PRESETS
from lpsched.online.vllm_config import vllm_config
from lpsched.online.vllm_engine import run_vllm
from lpsched.online.vllm_policies import StepPolicy, StepView

ESTIMATE_POLICIES = ("amin", "amax", "hsf", "mcsf", "svf")
# every mechanism off: token blocks, no caps, no watermark, no full-sequence check, no prefix cache
BARE = dict(block_size=1, max_num_seqs=0, max_num_batched_tokens=0, watermark=0.0, reserve_full=False,
            prefix_cache=False)


def run(policy: str, M: int, prompt: list[int], output: list[int], arrival_s: list[float], **kw):
    cols = {k: kw.pop(k) for k in ("lower", "upper", "predicted") if k in kw}
    inst = Instance.from_arrays(M=M, prompt=prompt, output=output, arrival_time=arrival_s, **cols)
    return simulate(inst, policy, engine="vllm", timing="unit", **{**BARE, **kw})


def done_s(r, arrival_s: list[float]) -> list[float]:
    return (r.timed["latency_s"] + np.array(arrival_s)).tolist()


def test_the_policy_orders_the_waiting_queue() -> None:
    # one sequence at a time; j1 (3 tokens) and j2 (1 token) wait while j0 runs steps 0-4. vLLM's FCFS
    # serves j1 first; shortest first (true lengths, volumes, point predictions) serves j2 first
    args = (100, [2, 2, 2], [5, 3, 1], [0, 0.5, 0.5])
    cols = dict(max_num_seqs=1, predicted=[5, 3, 1], lower=[1, 1, 1], upper=[9, 9, 9])
    assert done_s(run("fcfs", *args, max_num_seqs=1), args[3]) == [5, 8, 9]
    for pol in ("hsf", "svf", "mcsf"):
        assert done_s(run(pol, *args, **cols), args[3]) == [5, 9, 6], pol
    # equal lower (A_min) or upper (A_max) ends: ties go by arrival, then id, as FCFS
    for pol in ("amin", "amax"):
        assert done_s(run(pol, *args, **cols), args[3]) == [5, 8, 9], pol


def test_the_future_peak_check_holds_back_an_admission() -> None:
    # 20 tokens of KV, two 4 + 10 requests. FCFS admits both and must preempt when they outgrow the
    # cache; A_max (upper = output) admits j1 only when j0's predicted peak (14 at step 10) leaves
    # room: at step 8 (round t + 1: 13 + 4 + 1 = 18; at j0's end 14 + 6 = 20 <= 20)
    fcfs = run("fcfs", 20, [4, 4], [10, 10], [0, 0])
    assert fcfs.evictions == 1
    amax = run("amax", 20, [4, 4], [10, 10], [0, 0])
    assert amax.evictions == 0 and amax.starts == {"0": 0, "1": 8}
    assert amax.timed["latency_s"].tolist() == [10, 18]


def test_the_victim_is_the_first_in_the_policy_eviction_order() -> None:
    # blocks run out at step 7 with both requests at G = 7. vLLM's FCFS preempts the last admitted
    # (j1); A_min preempts the smallest estimate: j0 (lower end 1, refined to G + 1 = 8) before j1
    # (lower end 9). j0 is the request asking for the block: it is preempted and j1 is still served.
    fcfs = run("fcfs", 20, [4, 4], [10, 10], [0, 0])
    assert fcfs.job_evictions.tolist() == [0, 1]
    amin = run("amin", 20, [4, 4], [10, 10], [0, 0], lower=[1, 9])
    assert amin.job_evictions.tolist() == [1, 0]
    assert amin.timed["latency_s"].tolist() == [13, 10]
    # eviction=last is vLLM's victim again
    last = run("amin", 20, [4, 4], [10, 10], [0, 0], lower=[1, 9], eviction="last")
    assert last.job_evictions.tolist() == [0, 1]


def test_policy_options_and_errors() -> None:
    r = run("mcsf", 100, [2, 2], [3, 3], [0, 0], missing="lower", scan="skip")
    assert r.policy == "mcsf" and r.options["missing"] == "lower" and r.options["engine"] == "vllm"
    with pytest.raises(OptionError, match="unknown option 'nope'"):
        run("amin", 100, [2], [3], [0], nope=1)
    with pytest.raises(OptionError, match="after_eviction"):
        run("amin", 100, [2], [3], [0], after_eviction="triple")
    view = StepView(100, [2], [1], [3], [0], [0], [0])
    with pytest.raises(OptionError, match="no step-engine version"):
        StepPolicy(make_policy("fcfs"), view, [3], 16, True)


CONFIGS = [dict(), dict(block_size=1, watermark=0.0), dict(max_num_seqs=8, max_num_batched_tokens=128),
           dict(semantics="restart", prefix_cache=False, max_num_batched_tokens=0),
           dict(max_num_batched_tokens=6, block_size=4, reserve_full=False),
           dict(max_num_seqs=3, block_size=8, watermark=0.05, semantics="restart")]
POLICY_OPTIONS = [dict(), dict(eviction="fewest", after_eviction="double"), dict(eviction="last", scan="skip"),
                  dict(after_eviction="max_prev_g")]


@pytest.mark.parametrize("policy", ESTIMATE_POLICIES)
@pytest.mark.parametrize("seed", range(3))
def test_fast_engine_matches_the_reference_for_every_policy(policy: str, seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    n = 50
    output = rng.integers(1, 200, n)
    inst = Instance.from_arrays(M=int(rng.integers(520, 1500)), prompt=rng.integers(1, 300, n), output=output,
                                lower=np.maximum(1, output // 8), upper=output * 2,
                                predicted=np.maximum(1, (output * rng.uniform(0.5, 1.5, n)).astype(np.int64)),
                                arrival_time=np.sort(rng.uniform(0, 8, n)))
    preempted = 0
    for k, opts in enumerate(CONFIGS):
        popts = POLICY_OPTIONS[(k + seed) % len(POLICY_OPTIONS)]
        a = simulate(inst, policy, engine="vllm", timing="llama31-8b-rtx4090", **opts, **popts)
        b = simulate(inst, policy, engine="vllm", timing="llama31-8b-rtx4090", fast=False, **opts, **popts)
        assert a.timed["latency_s"].tolist() == b.timed["latency_s"].tolist(), (opts, popts)
        assert a.timed["ttft_s"].tolist() == b.timed["ttft_s"].tolist()
        assert (a.evictions, a.recomputed_tokens, a.makespan, a.peak_memory, a.mean_memory) == \
            (b.evictions, b.recomputed_tokens, b.makespan, b.peak_memory, b.mean_memory)
        assert a.job_evictions.tolist() == b.job_evictions.tolist()
        assert a.peak_memory <= inst.M
        preempted += a.evictions
    if policy == "amin":
        assert preempted > 0  # the victim paths are exercised


@pytest.mark.parametrize("seed", range(40))
def test_fast_engine_matches_the_reference_on_tiny_caches(seed: int) -> None:
    """Few requests in a cache of a few blocks: preemptions of requests scheduled earlier in the
    step, of the request itself, and decode stretches cut short by the policy's wake-up."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 9))
    prompt = rng.integers(1, 20, n).tolist()
    output = rng.integers(1, 25, n).tolist()
    arr = sorted(int(x) for x in rng.integers(0, 5_000_000_000, n))
    kv = int(rng.integers(45, 90))
    policy = ESTIMATE_POLICIES[seed % len(ESTIMATE_POLICIES)]
    for opts in (dict(BARE), dict(block_size=4, max_num_batched_tokens=8), dict()):
        bs = vllm_config(**opts).block_size
        if max(p + o for p, o in zip(prompt, output, strict=True)) > (kv // bs) * bs:
            continue
        outs = []
        for fast in (True, False):
            view = StepView((kv // bs) * bs, prompt, [max(1, o // 4) for o in output], [2 * o for o in output],
                            output, arr, list(range(n)))
            sp = StepPolicy(make_policy(policy), view, output, bs, fast)
            outs.append(run_vllm(prompt, output, arr, kv, TIMING_PRESETS["unit"], vllm_config(**opts, fast=fast),
                                 True, sp))
        a, b = outs
        assert (a.completion_ns, a.first_token_ns, a.preempt_count, a.step_log) == \
            (b.completion_ns, b.first_token_ns, b.preempt_count, b.step_log)
