"""The pilot (rollout) construction of list orders, :func:`lpsched.offline.schedules.order_search.pilot_schedule`,
and its place among :func:`~lpsched.offline.schedules.heuristics.best_schedule`'s candidates."""

from __future__ import annotations

import numpy as np
import pytest
from offline_brute import brute_force_opt
from offline_instances import random_instance, tiny_instance

from lpsched.errors import OptionError
from lpsched.generate import paper
from lpsched.instance import Instance
from lpsched.offline.formulation.objective import tel_of
from lpsched.offline.schedules.heuristics import best_schedule
from lpsched.offline.schedules.order_search import order_search, pilot_schedule
from lpsched.offline.schedules.placement import list_schedule
from lpsched.verify import verify_schedule


def _spt(inst: Instance) -> np.ndarray:
    return np.lexsort((np.arange(inst.n), inst.output))


@pytest.mark.parametrize("seed", range(12))
def test_pilot_is_feasible_and_never_worse_than_its_base_order(seed: int) -> None:
    rng = np.random.default_rng(300 + seed)
    inst = random_instance(rng, (2, 25), (8, 50), 6, 10 if seed % 2 else 1)
    base = rng.permutation(inst.n) if seed % 3 == 0 else None
    k = pilot_schedule(inst, base)
    assert verify_schedule(inst, k).feasible
    ref = list_schedule(inst, _spt(inst) if base is None else base)
    assert tel_of(inst, k) <= tel_of(inst, ref)
    assert np.array_equal(k, pilot_schedule(inst, base))  # no randomness


def test_pilot_reaches_the_brute_force_optimum_where_shortest_first_does_not() -> None:
    """Instances found by scanning ``tiny_instance`` seeds (n = 6): the shortest-first list schedule
    is above the optimum and the pilot construction is at it (checked here by the brute force)."""
    for seed, spt_tel in ((2, 46), (7, 25), (29, 27), (32, 81)):
        inst = tiny_instance(seed, 6)
        opt = brute_force_opt(inst.M, inst.arrival, inst.prompt, inst.output)
        opt = opt[0] if isinstance(opt, tuple) else opt
        assert tel_of(inst, list_schedule(inst, _spt(inst))) == spt_tel > opt
        assert tel_of(inst, pilot_schedule(inst)) == opt


def test_pilot_without_time_is_the_base_list_schedule_and_any_budget_is_no_worse() -> None:
    inst = paper(2, n=30, s=50, lower=8, alpha=0.125, concurrency=8)
    spt = list_schedule(inst, _spt(inst))
    assert np.array_equal(pilot_schedule(inst, seconds=0.0), spt)
    full = tel_of(inst, pilot_schedule(inst))
    assert full < tel_of(inst, spt)
    for budget in (0.01, 0.05):
        assert full <= tel_of(inst, pilot_schedule(inst, seconds=budget)) <= tel_of(inst, spt)


def test_pilot_on_the_paper_corner_beats_the_order_search_from_the_cheap_heuristics() -> None:
    """s = 50, α = 1/8, C = 8, n = 30, seed 4 (docs/offline.md, fifteenth round): the pilot reaches
    a TEL the order search from ``best_schedule``'s cheap candidates (no search budget) does not
    reach with 400 placements."""
    inst = paper(4, n=30, s=50, lower=8, alpha=0.125, concurrency=8)
    cheap, _, _ = best_schedule(inst, seconds=0.0)
    searched = order_search(inst, cheap, seconds=60, seed=0, max_evals=400)
    assert tel_of(inst, pilot_schedule(inst)) < tel_of(inst, searched)


def test_best_schedule_takes_the_pilot_with_a_budget_only() -> None:
    inst = paper(4, n=30, s=50, lower=8, alpha=0.125, concurrency=8)
    _, _, tels = best_schedule(inst, seconds=0.0)
    assert "pilot" not in tels
    best, name, tels = best_schedule(inst, seconds=1.0, orders=False)
    assert tels["pilot"] == tel_of(inst, pilot_schedule(inst))
    assert tel_of(inst, best) <= tels["pilot"]
    # the pilot competes as it is: improve starts from the two best other candidates
    assert not name.startswith("pilot+")


def test_pilot_refuses_an_order_that_is_not_a_permutation() -> None:
    inst = paper(0, n=5, s=4)
    for bad in ([0, 1, 2, 3], [0, 1, 2, 3, 3], [0, 1, 2, 3, 5]):
        with pytest.raises(OptionError, match="permutation"):
            pilot_schedule(inst, bad)
