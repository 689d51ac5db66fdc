"""A proven optimum kept in the repository (``benchmarks/results/opt_paper-s50-a8-c8_seed4_n30.json``; proven by
HiGHS on one core in 1,381 s, docs/research/offline-log.md) against the bounds and heuristics of the toolkit."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lpsched.generate import paper
from lpsched.offline import lower_bounds
from lpsched.offline.bounds.relaxation import lp_relaxation_bound
from lpsched.offline.formulation.objective import tel_of
from lpsched.offline.schedules.heuristics import best_schedule
from lpsched.verify import load_schedule, verify_schedule

STORED = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "opt_paper-s50-a8-c8_seed4_n30.json"
OPT = 1828


def test_stored_optimum_verifies_and_sits_between_bounds_and_heuristics() -> None:
    inst = paper(4, n=30, s=50, lower=8, alpha=1 / 8, concurrency=8)  # family paper-s50-a8-c8, seed 4
    starts = load_schedule(STORED)
    arr = np.array([starts[j] for j in inst.ids])
    assert verify_schedule(inst, arr).tel == OPT
    assert lower_bounds(inst).bound <= OPT
    lp = lp_relaxation_bound(inst, time_limit=30)
    assert lp is not None and lp <= OPT
    heur, _, _ = best_schedule(inst, seconds=0.0)
    assert tel_of(inst, heur) >= OPT
