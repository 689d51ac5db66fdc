"""Policies: hand-worked examples, the α = 1 identity, safety properties, information hiding."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lpsched.errors import OptionError
from lpsched.generate import jaillet, paper
from lpsched.instance import Instance
from lpsched.online import POLICIES, InformationHidingError, SimulationError, simulate
from lpsched.online.family import AMin


def both(inst, name, **opts):
    a = simulate(inst, name, **opts)
    b = simulate(inst, name, engine="round", **opts)
    assert a.starts == b.starts and a.tel == b.tel and a.evictions == b.evictions
    return a


# ------------------------------------------------------------------ hand-worked examples
def test_amin_eviction_and_readmission_by_hand():
    # M = 8, prompts 1, all at 0, l = 1 for all: a (o=4), b (o=4), c (o=1).
    # t=0: estimates 1,1,1; order a, b, c. Peaks at tau=1: 2, 4, 6 <= 8: all start.
    # t=1: c completes. a, b have g=1 >= e=1 -> e=2. NR = 3 + 3 = 6.
    # t=2: e=3, NR = 4 + 4 = 8 <= 8.   t=3: e=4, NR = 5 + 5 = 10 > 8: overflow.
    #   Evict first in ascending (e, g) = (4, 3) for both, then latest arrival (tie), then the
    #   largest id: b. b wasted 3 tokens, its estimate becomes max(1, 3 + 1) = 4. NR = 5.
    #   Admission at t=3: a is past its estimate (end clamped to 4): tau=4: a 5 + b 2 = 7 <= 8;
    #   tau=7: b alone 1 + 4 = 5. b restarts at 3 (a same-round restart).
    # a completes at 4, b at 3 + 4 = 7, c at 1: TEL = 4 + 7 + 1 = 12.
    inst = Instance.from_arrays(M=8, prompt=[1, 1, 1], output=[4, 4, 1], lower=[1, 1, 1],
                                upper=[4, 4, 4], ids=["a", "b", "c"])
    r = both(inst, "amin")
    assert r.starts == {"a": 0, "b": 3, "c": 0}
    assert (r.tel, r.evictions, r.wasted_tokens, r.same_round_restarts) == (12, 1, 3, 1)
    assert r.recomputed_tokens == 1 and r.peak_memory == 8
    # forbid same-round restarts: b waits to t=4, when a has completed; b completes at 8.
    r = both(inst, "amin", same_round="forbid")
    assert r.starts == {"a": 0, "b": 4, "c": 0} and r.tel == 13 and r.same_round_restarts == 0
    # resume: b keeps its 3 tokens, rebuilds 1 + 3 at t=3 (tau=4: a 5 + b 5 = 10 > 8, does not
    # fit); at t=4 a completes and b resumes, finishing its last token at 5: TEL 4 + 5 + 1.
    r = both(inst, "amin", semantics="resume")
    assert r.tel == 10 and r.wasted_tokens == 0 and r.recomputed_tokens == 4


def test_amax_by_hand():
    # M = 10, prompts 1: x (o=2, u=3), y (o=3, u=3), z (o=1, u=5); l = 1.
    # Order by u: x, y (tie -> id), z. t=0: x fits; y: tau=1 4, tau=3 8 <= 10: fits;
    # z (end 5): tau=3: 4 + 4 + 4 = 12 > 10: stop.
    # t=1: z (end 6): tau=3: x 4 + y 4 + z 3 = 11 > 10: no.
    # t=2: x completes; z (end 7): tau=3: y 4 + z 2 = 6, tau=7: z 6: start. Completes at 3.
    # TEL = 2 + 3 + 3 = 8.
    inst = Instance.from_arrays(M=10, prompt=[1, 1, 1], output=[2, 3, 1], lower=[1, 1, 1],
                                upper=[3, 3, 5], ids=["x", "y", "z"])
    r = both(inst, "amax")
    assert r.starts == {"x": 0, "y": 0, "z": 2} and r.tel == 8 and r.evictions == 0
    # H-SF knows o: order z, x, y; peaks at tau=1: 2, 4, 6; tau=2: x 3 + y 3; all start at 0.
    r = both(inst, "hsf")
    assert r.starts == {"x": 0, "y": 0, "z": 0} and r.tel == 6


def test_mcsf_by_hand_with_a_wrong_point_prediction():
    # Same jobs, predictions x 3, y 1, z 2: order y, z, x. t=0: y fits (2); z: tau=1 4, tau=2 3;
    # x (end 3): tau=1 6, tau=2 z 3 + x 3 = 6, tau=3 x 4: all start at 0.
    # y runs past its prediction (o = 3 > 1): refined, never overflows (t=1: z done, NR 6).
    inst = Instance.from_arrays(M=10, prompt=[1, 1, 1], output=[2, 3, 1], lower=[1, 1, 1],
                                upper=[3, 3, 5], predicted=[3, 1, 2], ids=["x", "y", "z"])
    r = both(inst, "mcsf")
    assert r.starts == {"x": 0, "y": 0, "z": 0} and r.tel == 6
    assert r.policy_stats["refinements"] == 1


def test_svf_by_hand():
    # M = 9: p (s=6, o=1, volume 7), q (s=1, o=3, volume 9), r (s=1, o=2, volume 5).
    # Order r, p, q. t=0: r fits; p: tau=1: 2 + 7 = 9 <= 9; q: tau=1: 11 > 9: stop.
    # t=1: p completes; q (end 4): tau=2: r 3 + q 2 = 5, tau=4: 4: start. TEL = 2 + 1 + 4 = 7.
    inst = Instance.from_arrays(M=9, prompt=[6, 1, 1], output=[1, 3, 2], ids=["p", "q", "r"])
    r = both(inst, "svf")
    assert r.starts == {"p": 0, "q": 1, "r": 0} and r.tel == 7


def test_fcfs_by_hand():
    # M = 10, w = 0.01 (limit 9.9), prompts 2: j0 (o=4), j1 (o=4), j2 (o=1), arrival order.
    # t=0: j0 (idle), j1 (3 + 3 = 6 <= 9.9), j2 (6 + 3 = 9 <= 9.9) start. t=1: j2 done, NR 8.
    # t=2: NR 10 <= 10. t=3: NR 12 > 10: evict the last admitted: start tie, arrival tie,
    # largest id j1 (3 tokens wasted). NR 6; j1 readmitted: 6 + 3 = 9 <= 9.9, restarts at 3.
    # j0 completes at 4, j1 at 7: TEL = 4 + 7 + 1 = 12.
    inst = Instance.from_arrays(M=10, prompt=[2, 2, 2], output=[4, 4, 1], ids=["j0", "j1", "j2"])
    r = both(inst, "fcfs")
    assert r.starts == {"j0": 0, "j1": 3, "j2": 0}
    assert (r.tel, r.evictions, r.wasted_tokens) == (12, 1, 3)


# ------------------------------------------------------------------ properties
@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), arrivals=st.sampled_from(["zero", "poisson"]))
def test_exact_intervals_make_amin_amax_hsf_identical(seed, arrivals):
    inst = jaillet(seed, arrivals=arrivals)
    rs = [simulate(inst, p) for p in ("amin", "amax", "hsf")]
    assert rs[0].starts == rs[1].starts == rs[2].starts
    assert all(r.evictions == 0 for r in rs)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), alpha=st.sampled_from([1 / 2, 1 / 8, 1 / 32]))
def test_amax_never_evicts_when_intervals_hold(seed, alpha):
    inst = paper(seed, n=25, alpha=alpha, concurrency=3, dist="extremes")
    assert inst.n_misses == 0
    assert simulate(inst, "amax").evictions == 0


class _CheckedAMin(AMin):
    """A_min that asserts after every decision that no estimate exceeds the true length."""

    name = "amin"
    truth_for_test: tuple[int, ...] = ()

    def decide(self, t):
        wake = super().decide(t)
        for j in range(self.v.n):
            if self.v.status[j] == 2:
                e = max(self.e_run[j], self.v.generated(j) + 1)
                assert e <= self.truth_for_test[j]
            elif self.v.status[j] == 1:
                assert self.est[j] <= self.truth_for_test[j]
        return wake


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), after=st.sampled_from(["g+1", "max_prev_g"]))
def test_amin_estimates_are_lower_bounds(seed, after):
    inst = paper(seed, n=30, alpha=1 / 32, concurrency=2)
    for engine in ("event", "round"):
        pol = _CheckedAMin(after_eviction=after)
        pol.truth_for_test = tuple(inst.output.tolist())
        simulate(inst, pol, engine=engine)


def test_amin_thrashing_is_reported():
    inst = paper(3, n=30, alpha=1 / 32, concurrency=3)
    r = simulate(inst, "amin")
    assert r.evictions > 30 and r.max_job_evictions > 5 and r.wasted_tokens > 0


def test_mispredicted_intervals_do_not_crash_and_are_counted():
    rng = np.random.default_rng(5)
    o = rng.integers(1, 30, size=40)
    inst = Instance.from_arrays(M=80, prompt=rng.integers(0, 5, size=40), output=o,
                                lower=np.maximum(1, o // 3), upper=np.maximum(1, o // 2),
                                predicted=np.maximum(1, o // 4))
    assert inst.n_misses > 0
    for p in POLICIES:
        r = both(inst, p)
        assert r.misses == inst.n_misses
    assert simulate(inst, "amax").policy_stats["refinements"] > 0


# ------------------------------------------------------------------ information hiding and errors
def test_policy_view_hides_true_lengths():
    from lpsched.online.base import Policy

    seen = {}

    class Peek(Policy):
        name = "peek"

        def bind(self, view, truth, fast):
            self.v, seen["truth"] = view, truth

        def arrive(self, j):
            with pytest.raises(InformationHidingError):
                self.v.output(j)
            assert not any("output" in s for s in type(self.v).__slots__)

        def complete(self, j):
            seen[j] = self.v.output(j)

        def decide(self, t):
            for j in range(self.v.n):
                if self.v.status[j] == 1:
                    self.v.start_job(j)
            return None

    inst = Instance.from_arrays(M=50, prompt=[1, 2], output=[3, 4])
    simulate(inst, Peek())
    assert seen == {"truth": None, 0: 3, 1: 4}


def test_engine_rejects_overflow_and_deadlock():
    from lpsched.online.base import Policy

    class Greedy(Policy):
        name = "greedy"

        def bind(self, view, truth, fast):
            self.v = view

        def arrive(self, j):
            pass

        def complete(self, j):
            pass

        def decide(self, t):
            for j in range(self.v.n):
                if self.v.status[j] == 1:
                    self.v.start_job(j)

    class Idle(Greedy):
        name = "idle"

        def decide(self, t):
            return None

    inst = Instance.from_arrays(M=6, prompt=[2, 2], output=[3, 3])
    for engine in ("event", "round"):
        with pytest.raises(SimulationError, match="greedy"):
            simulate(inst, Greedy(), engine=engine)
        with pytest.raises(SimulationError, match=r"idle.*deadlocked at time 0"):
            simulate(inst, Idle(), engine=engine)


def test_unknown_policy_and_options():
    inst = Instance.from_arrays(M=10, prompt=[1], output=[2])
    with pytest.raises(OptionError, match="known: amin"):
        simulate(inst, "nope")
    with pytest.raises(OptionError, match="unknown option"):
        simulate(inst, "amin", foo=1)
    with pytest.raises(OptionError):
        simulate(inst, "amin", semantics="keep")
    with pytest.raises(OptionError, match="arrival times"):
        simulate(inst, "amin", timing="unit")


def test_history_is_verified_and_timed_metrics_reported():
    inst = paper(1, n=20, alpha=1 / 8, concurrency=2)
    r = simulate(inst, "amin", record_history=True)
    assert r.evictions >= 0
    timed = inst.replace(arrival_time=np.linspace(0, 3, inst.n))
    r = simulate(timed, "fcfs", timing="llama2-70b-a100")
    d = r.to_dict()
    assert d["timed"]["mean_latency_s"] > 0 and d["timed"]["throughput_tokens_s"] > 0
    assert d["timed"]["mean_ttft_s"] >= 0.0435
