"""Class aggregation and disaggregation; run shapes; the heuristics' feasibility."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from offline_instances import random_instance

from lpsched.instance import Instance
from lpsched.memory import memory_profile
from lpsched.offline.formulation.classes import aggregate, class_counts, disaggregate, run_shape
from lpsched.offline.formulation.objective import tel_of
from lpsched.offline.schedules.fluid import fluid_schedules
from lpsched.offline.schedules.local_search import improve
from lpsched.offline.schedules.placement import list_schedule
from lpsched.verify import verify_schedule


def test_run_shape_is_the_memory_model() -> None:
    assert run_shape(3, 4).tolist() == [4, 5, 6, 7]
    assert run_shape(0, 1).tolist() == [1]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(1, 3)), min_size=1, max_size=12),
       st.integers(0, 1000))
def test_aggregate_disaggregate_roundtrip(jobs, seed) -> None:
    a, s, o = (np.array(x) for x in zip(*jobs, strict=True))
    inst = Instance.from_arrays(M=20, prompt=s, output=o, arrival=a)
    cl = aggregate(inst)
    assert int(cl.count.sum()) == inst.n
    for c, mem in enumerate(cl.members):
        assert np.all(a[mem] == cl.arrival[c]) and np.all(s[mem] == cl.prompt[c]) and np.all(o[mem] == cl.output[c])
    keys = {(int(x), int(y), int(z)) for x, y, z in zip(a, s, o, strict=True)}
    assert cl.n_classes == len(keys)
    rng = np.random.default_rng(seed)
    starts = a + rng.integers(0, 5, inst.n)
    back = disaggregate(cl, class_counts(cl, starts), inst.n)
    # same multiset of starts per class -> same memory profile and same TEL
    assert tel_of(inst, back) == tel_of(inst, starts)
    assert np.array_equal(memory_profile(s, back, o), memory_profile(s, starts, o))
    for mem in cl.members:  # within a class, earlier (instance-order) jobs get earlier starts
        assert np.all(np.diff(back[mem]) >= 0)
    plain = aggregate(inst, enabled=False)
    assert plain.n_classes == inst.n


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000))
def test_heuristics_are_feasible_and_improve_never_worsens(seed) -> None:
    rng = np.random.default_rng(seed)
    inst = random_instance(rng, (1, 25), (8, 40), 4, 10)
    n = inst.n
    k = list_schedule(inst, rng.permutation(n))
    assert verify_schedule(inst, k).feasible
    k2 = improve(inst, k, seconds=0.05, seed=seed)
    assert verify_schedule(inst, k2).feasible and tel_of(inst, k2) <= tel_of(inst, k)
    for kk in fluid_schedules(inst, thetas=(1.0,), offsets=(0.0,)).values():
        assert verify_schedule(inst, kk).feasible
