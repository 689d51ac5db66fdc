"""Window search (MIP-based LNS over time windows): exact on a window holding every job, never worse."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from lpsched.baseline import serial_schedule
from lpsched.generate import paper
from lpsched.offline.formulation.objective import tel_of
from lpsched.offline.primal.window_search import resolve_window, window_search
from lpsched.verify import verify_schedule

sys.path.insert(0, str(Path(__file__).parent))
from offline_brute import instance_opt
from offline_instances import tiny_instance


@pytest.mark.parametrize("seed", range(8))
def test_a_window_with_every_job_finds_the_optimum(seed: int) -> None:
    inst = tiny_instance(700 + seed, n_max=6, arrivals=seed % 2 == 1)
    opt = instance_opt(inst)
    start = serial_schedule(inst)
    horizon = int((start + inst.output).max())
    new = resolve_window(inst, start, np.arange(inst.n), reach=horizon, time_limit=10)
    if tel_of(inst, start) == opt:
        assert new is None  # nothing better exists
    else:
        assert new is not None
        rep = verify_schedule(inst, new)
        assert rep.feasible and rep.tel == opt


def test_fixed_jobs_keep_their_starts_and_the_rest_fits_around_them() -> None:
    inst = paper(2, n=40, concurrency=4)
    start = serial_schedule(inst)
    free = np.argsort(start)[10:25]
    new = resolve_window(inst, start, free, reach=30, time_limit=5)
    assert new is not None
    keep = np.setdiff1d(np.arange(inst.n), free)
    assert np.array_equal(new[keep], start[keep])
    assert verify_schedule(inst, new).feasible and tel_of(inst, new) < tel_of(inst, start)


@pytest.mark.parametrize("seed", range(3))
def test_window_search_improves_a_serial_schedule_and_stays_feasible(seed: int) -> None:
    inst = paper(seed, n=60, concurrency=5)
    start = serial_schedule(inst)
    a = window_search(inst, start, seconds=5, jobs_per_window=20, window_time=0.5, seed=seed)
    rep = verify_schedule(inst, a)
    assert rep.feasible and rep.tel < tel_of(inst, start)


def test_window_search_never_worsens_a_good_schedule() -> None:
    from lpsched.offline.schedules.heuristics import best_schedule

    inst = paper(5, n=50)
    good, _, _ = best_schedule(inst, seconds=0.5)
    out = window_search(inst, good, seconds=3, window_time=0.5)
    assert verify_schedule(inst, out).feasible and tel_of(inst, out) <= tel_of(inst, good)
