"""The verifier and the memory model, checked against a brute-force per-round recomputation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lpsched import Instance, Run, ScheduleError, serial_schedule, verify_runs, verify_schedule
from lpsched.memory import future_peak, kv_tokens, memory_profile, memory_summary


# ---------------------------------------------------------------- brute force, written separately
def brute_force(M, prompts, outputs, arrivals, starts):
    """Walk every round and add up each active job's tokens; return verdict, TEL, first overflow."""
    horizon = max(k + o for k, o in zip(starts, outputs, strict=True))
    first_over = None
    peak = 0
    for tau in range(1, horizon + 1):
        used = 0
        for s, o, k in zip(prompts, outputs, starts, strict=True):
            if k < tau <= k + o:
                used += s + (tau - k)
        peak = max(peak, used)
        if used > M and first_over is None:
            first_over = (tau, used - M)
    early = any(k < a for k, a in zip(starts, arrivals, strict=True))
    tel = sum(k + o - a for k, o, a in zip(starts, outputs, arrivals, strict=True))
    return (first_over is None and not early), tel, first_over, peak


@st.composite
def instances(draw, max_n: int = 6, with_arrivals: bool = True):
    M = draw(st.integers(2, 30))
    n = draw(st.integers(1, max_n))
    prompts, outputs, arrivals = [], [], []
    for _ in range(n):
        s = draw(st.integers(0, M - 1))
        o = draw(st.integers(1, M - s))
        prompts.append(s)
        outputs.append(o)
        arrivals.append(draw(st.integers(0, 6)) if with_arrivals else 0)
    return Instance.from_arrays(M=M, prompt=prompts, output=outputs, arrival=arrivals)


@settings(max_examples=300, deadline=None)
@given(instances())
def test_serial_schedule_is_feasible_and_tel_correct(inst: Instance) -> None:
    for order in ("spt", "arrival"):
        starts = serial_schedule(inst, order=order)
        res = verify_schedule(inst, {inst.ids[i]: int(k) for i, k in enumerate(starts)})
        ok, tel, _, peak = brute_force(inst.M, inst.prompt.tolist(), inst.output.tolist(),
                                       inst.arrival.tolist(), starts.tolist())
        assert res.feasible and ok
        assert res.tel == tel
        assert res.peak_memory == peak
        # one job at a time: never two jobs active in the same round
        mem = memory_profile(inst.prompt, starts, inst.output)
        assert mem.max() <= inst.peak.max()


@settings(max_examples=400, deadline=None)
@given(instances(), st.data())
def test_verifier_agrees_with_brute_force_on_random_schedules(inst: Instance, data) -> None:
    starts = [data.draw(st.integers(0, 12)) for _ in range(inst.n)]
    res = verify_schedule(inst, {inst.ids[i]: k for i, k in enumerate(starts)})
    ok, tel, first_over, peak = brute_force(inst.M, inst.prompt.tolist(), inst.output.tolist(),
                                            inst.arrival.tolist(), starts)
    assert res.feasible == ok
    assert res.tel == tel
    assert res.peak_memory == peak
    assert res.makespan == max(k + o for k, o in zip(starts, inst.output.tolist(), strict=True))
    if first_over is None:
        assert res.first_overflow_round is None and res.overflow is None
    else:
        assert (res.first_overflow_round, res.overflow) == first_over
        assert not res.feasible and res.reason


def test_overflow_message_names_round_and_excess() -> None:
    inst = Instance.from_arrays(M=7, prompt=[2, 2], output=[3, 2])
    # both at 0: round 1 -> 3+3 = 6, round 2 -> 4+4 = 8 > 7
    res = verify_schedule(inst, {"0": 0, "1": 0})
    assert not res.feasible
    assert res.first_overflow_round == 2 and res.overflow == 1
    assert res.reason == "round 2 uses 8 tokens > M = 7 (over by 1)"


def test_early_start_is_infeasible() -> None:
    inst = Instance.from_arrays(M=10, prompt=[1, 1], output=[2, 2], arrival=[0, 5])
    res = verify_schedule(inst, {"0": 0, "1": 3})
    assert not res.feasible and "starts at 3 before its arrival 5" in res.reason


@pytest.mark.parametrize(
    ("starts", "part"),
    [({"0": 0}, "'1' has no start"), ({"0": 0, "1": 1, "z": 2}, "'z' is not in the instance"),
     ({"0": 0, "1": 1.5}, "integer"), ({"0": 0, "1": -1}, ">= 0"), ({"0": 0, "1": True}, "integer")],
)
def test_malformed_schedules(starts, part: str) -> None:
    inst = Instance.from_arrays(M=10, prompt=[1, 1], output=[2, 2])
    with pytest.raises(ScheduleError, match=part):
        verify_schedule(inst, starts)


def test_four_job_worked_example_from_docs() -> None:
    # docs/model.md: M = 9; jobs (s, o) = A(2, 3), B(1, 2), C(3, 2), D(1, 4); starts 0, 0, 2, 3.
    # A holds 3,4,5 in rounds 1-3; B 2,3 in rounds 1-2; C 4,5 in rounds 3-4; D 2,3,4,5 in rounds 4-7.
    inst = Instance.from_arrays(M=9, prompt=[2, 1, 3, 1], output=[3, 2, 2, 4], ids=list("ABCD"))
    mem = memory_profile(inst.prompt, [0, 0, 2, 3], inst.output)
    assert mem.tolist() == [0, 5, 7, 9, 7, 3, 4, 5]
    res = verify_schedule(inst, {"A": 0, "B": 0, "C": 2, "D": 3})
    assert res.feasible and res.tel == 3 + 2 + 4 + 7 and res.peak_memory == 9 and res.peak_round == 3
    # starting D one round earlier puts 5 + 4 + 2 = 11 tokens in round 3
    bad = verify_schedule(inst, {"A": 0, "B": 0, "C": 2, "D": 2})
    assert not bad.feasible and bad.reason == "round 3 uses 11 tokens > M = 9 (over by 2)"


# ---------------------------------------------------------------- memory model pieces
def test_kv_tokens_matches_profile() -> None:
    rng = np.random.default_rng(0)
    b = rng.integers(0, 5, 20)
    k = rng.integers(0, 10, 20)
    L = rng.integers(0, 6, 20)
    mem = memory_profile(b, k, L, horizon=20)
    for tau in range(21):
        assert mem[tau] == sum(kv_tokens(int(b[j]), int(k[j]), int(L[j]), tau) for j in range(20))


def _peak_brute(t, base, start, est):
    ends = [max(k + e, t + 1) for k, e in zip(start, est, strict=True)]
    best = 0
    for tau in range(t + 1, max(ends, default=t) + 1):
        best = max(best, sum(b + tau - k for b, k, end in zip(base, start, ends, strict=True) if tau <= end))
    return best


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10), st.lists(st.tuples(st.integers(0, 6), st.integers(0, 10), st.integers(1, 8)),
                                   max_size=7))
def test_future_peak_matches_brute_force(t, jobs) -> None:
    jobs = [(b, min(k, t), e) for b, k, e in jobs]
    base = [j[0] for j in jobs]
    start = [j[1] for j in jobs]
    est = [j[2] for j in jobs]
    assert future_peak(t, base, start, est) == _peak_brute(t, base, start, est)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 15), st.integers(0, 8)), max_size=8),
       st.integers(1, 40))
def test_memory_summary_matches_profile(runs, M) -> None:
    base = [r[0] for r in runs]
    start = [r[1] for r in runs]
    length = [r[2] for r in runs]
    mem = memory_profile(base, start, length)
    summ = memory_summary(base, start, length, M)
    assert summ.peak == int(mem.max())
    assert summ.peak_round == int(np.argmax(mem))
    over = np.flatnonzero(mem > M)
    if over.size:
        assert summ.first_overflow_round == int(over[0]) and summ.overflow == int(mem[over[0]] - M)
    else:
        assert summ.first_overflow_round is None and summ.overflow is None


# ---------------------------------------------------------------- histories with evictions
def test_verify_runs_counts_evicted_runs() -> None:
    inst = Instance.from_arrays(M=10, prompt=[2, 2], output=[3, 3])
    # job 0 runs 0..2 and is evicted; job 1 runs 0..3; job 0 restarts at 3.
    ok = verify_runs(inst, [Run(0, 0, 0, 2), Run(1, 0, 0, 3), Run(0, 3, 0, 3)])
    assert ok.feasible and ok.tel == 6 + 3
    # the same final starts, but an evicted run that overlaps too much memory
    inst2 = Instance.from_arrays(M=7, prompt=[2, 2], output=[3, 3])
    bad = verify_runs(inst2, [Run(0, 0, 0, 2), Run(1, 0, 0, 3), Run(0, 3, 0, 3)])
    assert not bad.feasible and bad.first_overflow_round == 2
    assert verify_schedule(inst2, {"0": 3, "1": 0}).feasible  # final starts alone cannot see it


def test_verify_runs_resume_semantics() -> None:
    inst = Instance.from_arrays(M=20, prompt=[2], output=[5])
    good = verify_runs(inst, [Run(0, 0, 0, 2), Run(0, 4, 2, 3)], semantics="resume")
    assert good.feasible and good.tel == 7
    wrong_kept = verify_runs(inst, [Run(0, 0, 0, 2), Run(0, 4, 0, 5)], semantics="resume")
    assert not wrong_kept.feasible and "kept" in wrong_kept.reason
    incomplete = verify_runs(inst, [Run(0, 0, 0, 2)], semantics="restart")
    assert not incomplete.feasible and "not its output" in incomplete.reason
    with pytest.raises(ScheduleError):
        verify_runs(inst, [Run(0, 0, 0, 5)], semantics="bogus")
