"""Differential test: the event-driven engine gives exactly the per-round reference's answer."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lpsched import memory
from lpsched.instance import Instance
from lpsched.online import simulate

CONFIGS = [
    ("amin", {}),
    ("amin", {"scan": "skip"}),
    ("amin", {"eviction": "fewest"}),
    ("amin", {"eviction": "last"}),
    ("amin", {"after_eviction": "max_prev_g"}),
    ("amin", {"after_eviction": "double"}),
    ("amin", {"same_round": "forbid"}),
    ("amin", {"semantics": "resume"}),
    ("amax", {}),
    ("amax", {"semantics": "resume", "scan": "skip"}),
    ("hsf", {}),
    ("mcsf", {}),
    ("mcsf", {"missing": "lower", "same_round": "forbid"}),
    ("svf", {}),
    ("fcfs", {}),
    ("fcfs", {"semantics": "resume", "watermark": 0.2}),
    ("fcfs", {"scan": "skip", "same_round": "forbid"}),
]


@st.composite
def instances(draw, timed=False):
    M = draw(st.integers(6, 40))
    n = draw(st.integers(1, 9))
    prompt, output, lower, upper, pred, arrival = [], [], [], [], [], []
    for _ in range(n):
        s = draw(st.integers(0, min(6, M - 1)))
        o = draw(st.integers(1, M - s))
        lo = draw(st.integers(1, M))
        up = draw(st.integers(lo, M + 5))
        if draw(st.booleans()):  # mostly valid intervals
            lo, up = draw(st.integers(1, o)), draw(st.integers(o, M + 5))
        prompt.append(s)
        output.append(o)
        lower.append(lo)
        upper.append(up)
        pred.append(draw(st.integers(0, M)))
        arrival.append(draw(st.integers(0, 12)) if draw(st.booleans()) else 0)
    times = None
    if timed:
        times = [draw(st.floats(0, 2.0, allow_nan=False)) for _ in range(n)]
    ids = [f"j{i}" for i in draw(st.permutations(range(n)))]
    return Instance.from_arrays(M=M, prompt=prompt, output=output, lower=lower, upper=upper,
                                predicted=pred, arrival=arrival, arrival_time=times, ids=ids)


def _same(inst, name, opts):
    a = simulate(inst, name, engine="event", record_memory=True, **opts)
    b = simulate(inst, name, engine="round", record_memory=True, **opts)
    assert a.starts == b.starts
    assert a.tel == b.tel
    assert a.evictions == b.evictions
    assert np.array_equal(a.completion, b.completion)
    assert np.array_equal(a.job_evictions, b.job_evictions)
    assert (a.wasted_tokens, a.recomputed_tokens, a.same_round_restarts) == (
        b.wasted_tokens, b.recomputed_tokens, b.same_round_restarts)
    assert a.peak_memory == b.peak_memory and a.mean_memory == b.mean_memory
    assert np.array_equal(a.memory, b.memory)
    assert a.policy_stats == b.policy_stats
    return a, b


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inst=instances(), cfg=st.sampled_from(CONFIGS))
def test_event_engine_equals_per_round_engine(inst, cfg):
    name, opts = cfg
    _same(inst, name, dict(opts))


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inst=instances(timed=True), cfg=st.sampled_from(CONFIGS),
       timing=st.sampled_from(["unit", "llama2-70b-a100", "llama31-8b-h100"]))
def test_engines_agree_in_timed_model(inst, cfg, timing):
    name, opts = cfg
    a, b = _same(inst, name, {**opts, "timing": timing})
    assert np.array_equal(a.timed["latency_s"], b.timed["latency_s"])
    assert np.array_equal(a.timed["ttft_s"], b.timed["ttft_s"])
    assert (a.timed["ttft_s"] > 0).all()


@pytest.mark.parametrize("scan_max", [16, None])
@pytest.mark.parametrize("name,opts", [("amin", {}), ("amin", {"semantics": "resume"}), ("amax", {}),
                                       ("hsf", {}), ("mcsf", {"eviction": "fewest"})])
def test_engines_agree_with_many_runs_at_once(name, opts, scan_max, monkeypatch):
    """Over a hundred runs share the memory: with ``SCAN_MAX = 16`` the event engine's PeakIndex
    checks on its cached arrays (more predicted ends ahead than that) as well as by walking them."""
    if scan_max is not None:
        monkeypatch.setattr(memory, "SCAN_MAX", scan_max)
    rng = np.random.default_rng(7)
    n = 600
    output = rng.integers(1, 300, n)
    lower = np.maximum(1, output // 2 - rng.integers(0, 20, n))
    inst = Instance.from_arrays(M=12_000, prompt=rng.integers(0, 20, n), output=output, lower=lower,
                                upper=output + rng.integers(0, 50, n), predicted=rng.integers(1, 300, n),
                                arrival=np.sort(rng.integers(0, 200, n)))
    a, _ = _same(inst, name, dict(opts))
    assert a.peak_memory > 10_000
