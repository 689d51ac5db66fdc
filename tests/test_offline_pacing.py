"""The tuned fluid pace (:func:`lpsched.offline.schedules.fluid.tuned_fluid_schedule`) and its use in
:func:`~lpsched.offline.schedules.heuristics.best_schedule`."""

from __future__ import annotations

import numpy as np
import pytest
from offline_instances import random_instance

from lpsched.generate import jaillet, paper
from lpsched.offline.formulation.objective import tel_of
from lpsched.offline.params import SolverParams
from lpsched.offline.schedules.fluid import fluid_schedules, tuned_fluid_schedule
from lpsched.offline.schedules.heuristics import best_schedule
from lpsched.verify import verify_schedule


@pytest.mark.parametrize("alpha,s", [(1 / 4, 4), (1 / 32, 4), (1 / 4, 50)])
def test_tuned_pace_is_feasible_and_never_worse_than_its_start(alpha, s) -> None:
    inst = paper(1, n=150, s=s, lower=8, alpha=alpha, concurrency=10)
    start = fluid_schedules(inst, thetas=(1.06,), offsets=(0.5,))["fluid_1.06_0.5"]
    k, info = tuned_fluid_schedule(inst, theta=1.06, beta=0.5, max_evals=120, seconds=120)
    assert verify_schedule(inst, k).feasible
    assert tel_of(inst, k) == info["objective"] <= tel_of(inst, start)
    assert 1 <= info["evals"] <= 120
    assert len(info["theta"]) == len(info["beta"]) in (4, 7, 13)


def test_tuned_pace_gains_on_long_outputs() -> None:
    """The case it was built for: α = 1/32 (outputs 8..256), where one pace leaves memory idle."""
    inst = paper(0, n=300, s=4, lower=8, alpha=1 / 32, concurrency=10)
    fixed = fluid_schedules(inst)
    best_fixed = min(tel_of(inst, k) for k in fixed.values())
    k, _ = tuned_fluid_schedule(inst, theta=1.06, beta=0.5, max_evals=400, seconds=120)
    assert tel_of(inst, k) < best_fixed


def test_tuned_pace_is_deterministic_and_respects_the_budget() -> None:
    inst = paper(2, n=80, s=4, lower=8, alpha=1 / 8, concurrency=10)
    a, ia = tuned_fluid_schedule(inst, max_evals=60, seconds=120)
    b, ib = tuned_fluid_schedule(inst, max_evals=60, seconds=120)
    assert np.array_equal(a, b) and ia == ib
    assert ia["evals"] == 60  # far from converged at 60 list schedules
    c, ic = tuned_fluid_schedule(inst, max_evals=1, seconds=120)
    assert ic["evals"] == 1 and verify_schedule(inst, c).feasible


@pytest.mark.parametrize("seed", range(6))
def test_tuned_pace_with_arrivals_and_small_instances(seed) -> None:
    rng = np.random.default_rng(seed)
    inst = random_instance(rng, (1, 25), (8, 40), 4, 10)
    k, info = tuned_fluid_schedule(inst, max_evals=80, seconds=60)
    assert verify_schedule(inst, k).feasible and tel_of(inst, k) == info["objective"]
    assert np.all(k >= inst.arrival)


def test_best_schedule_includes_the_tuned_pace_only_with_a_budget() -> None:
    inst = jaillet(3, arrivals="poisson")
    _, _, tels_small = best_schedule(inst, seconds=1.0)
    assert "fluid_tuned" not in tels_small  # below tune_min_jobs: all for the local search
    _, _, tels = best_schedule(inst, seconds=1.0, tune_seconds=0.5)
    assert "fluid_tuned" in tels
    assert tels["fluid_tuned"] <= min(v for nm, v in tels.items() if nm.startswith("fluid_") and nm != "fluid_tuned")
    _, _, tels0 = best_schedule(inst, seconds=1.0, tune_seconds=0.0)
    assert "fluid_tuned" not in tels0
    _, _, tels_free = best_schedule(inst, seconds=0.0)
    assert "fluid_tuned" not in tels_free


def test_best_schedule_tunes_by_default_from_tune_min_jobs() -> None:
    inst = paper(0, n=SolverParams().tune_min_jobs, s=4, lower=8, alpha=1 / 8, concurrency=10)
    k, _, tels = best_schedule(inst, seconds=1.0)
    assert "fluid_tuned" in tels and verify_schedule(inst, k).feasible
    assert tel_of(inst, k) <= tels["fluid_tuned"]
    # the threshold is the caller's: one job more than the instance has, and it is not tuned
    _, _, tels = best_schedule(inst, seconds=1.0, tune_min_jobs=inst.n + 1)
    assert "fluid_tuned" not in tels


def _earliest_fit_direct(mem: np.ndarray, M: int, shape: np.ndarray, release: int) -> int:
    """The definition, one start at a time (reference for the sliding-maximum fast path)."""
    k = release
    while True:
        seg = np.zeros(shape.size, dtype=np.int64)
        part = mem[k + 1 : k + 1 + shape.size]
        seg[: part.size] = part
        if np.all(seg + shape <= M):
            return k
        k += 1


@pytest.mark.parametrize("seed", range(4))
def test_earliest_fit_fast_path_matches_the_definition(seed) -> None:
    from lpsched.offline.formulation.classes import run_shape
    from lpsched.offline.schedules.placement import earliest_fit

    rng = np.random.default_rng(seed)
    for _ in range(300):
        M = int(rng.integers(5, 300))
        s = int(rng.integers(0, M // 2))
        o = int(rng.integers(1, M - s + 1))
        T = int(rng.integers(1, 700))
        mem = rng.integers(0, M + 1, T).astype(np.int64)
        if rng.random() < 0.5:  # flatter profiles, where fits are found
            mem = np.minimum(mem, rng.integers(0, M + 1))
        rel = int(rng.integers(0, T + 5))
        shape = run_shape(s, o)
        want = _earliest_fit_direct(mem, M, shape, rel)
        assert earliest_fit(mem, M, shape, rel) == want == earliest_fit(mem, M, shape, rel, sliding_max=False)
        bumpy = shape + rng.integers(0, 2, o)  # a shape that is not linear: the general test
        if bumpy.max() <= M:
            assert earliest_fit(mem, M, bumpy, rel) == _earliest_fit_direct(mem, M, bumpy, rel)
