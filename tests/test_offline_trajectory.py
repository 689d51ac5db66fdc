"""Memory trajectories (lpsched/offline/bounds/trajectory.py) and the memory-exact relaxation over
them (trajectory_lp.py): the program against every schedule, the bound against brute force."""

from __future__ import annotations

import numpy as np
import pytest
from offline_brute import instance_opt
from offline_instances import random_instance, tiny_instance
from test_offline_lp_compact import _all_schedules

from lpsched.offline.bounds.chain import solve_chain_lp
from lpsched.offline.bounds.trajectory import cheapest_trajectory, schedule_counts, trajectory_space
from lpsched.offline.bounds.trajectory_lp import duals_from_chain, lagrangian, master_layout, solve_trajectory_lp
from lpsched.offline.formulation.model import build_model
from lpsched.offline.formulation.objective import tel_of
from lpsched.offline.schedules.heuristics import best_schedule


def _replay(space, model, traj) -> None:
    """The trajectory's events replayed from (0, 0): every state meets the conditions of the
    module text and the path ends at (0, 0)."""
    n = q = 0
    for t in range(space.horizon + 1):
        for v in space.ends_at[t]:
            n, q = n - int(traj.ends[v]), q - int(traj.ends[v]) * int(space.leave[v])
        assert n >= 0 and q >= n * space.floor
        for v in space.starts_at[t]:
            n, q = n + int(traj.starts[v]), q + int(traj.starts[v]) * int(space.enter[v])
        if t < space.horizon:
            q += n
            assert n * space.floor <= q <= model.M
    assert (n, q) == (0, 0)


@pytest.mark.parametrize("seed", range(8))
def test_cheapest_trajectory_is_at_most_every_schedule(seed):
    """For random event costs, the program's value is at most the cost of every feasible
    schedule's trajectory (exhaustive, 3-job instances), and the trajectory it returns costs its
    value and replays within the conditions."""
    rng = np.random.default_rng(4100 + seed)
    inst = random_instance(rng, (2, 4), (6, 10), 3, 3 if seed % 2 else 1)
    model = build_model(inst, None, aggregate_classes=seed % 3 != 0)
    space = trajectory_space(model)
    r = rng.normal(0.0, 4.0, model.n_variables)
    e = rng.normal(0.0, 4.0, model.n_variables)
    traj = cheapest_trajectory(space, r, e)
    assert traj.value == pytest.approx(float(r @ traj.starts + e @ traj.ends), abs=1e-9)
    _replay(space, model, traj)
    seen = 0
    for ks, _ in _all_schedules(inst):
        if any(int(k) + int(o) > model.horizon for k, o in zip(ks, inst.output, strict=True)):
            continue
        y = schedule_counts(model, np.array(ks))
        assert traj.value <= float((r + e) @ y) + 1e-9
        seen += 1
    assert seen > 0


@pytest.mark.parametrize("seed", range(10))
def test_bound_from_random_duals_is_at_most_the_optimum(seed):
    """The Lagrangian bound holds for any duals (random ones), with and without arrivals."""
    rng = np.random.default_rng(4300 + seed)
    inst = tiny_instance(4400 + seed, n_max=5, arrivals=seed % 2 == 1)
    opt = instance_opt(inst)
    model = build_model(inst, None, aggregate_classes=seed % 3 != 0, core_rows=seed % 2)
    space, lay = trajectory_space(model), master_layout(model)
    for _ in range(5):
        L, _ = lagrangian(model, space, lay, rng.normal(0.0, 3.0, lay.rows))
        assert L <= opt + 1e-6


@pytest.mark.parametrize("seed", range(8))
def test_start_is_the_chain_lp_and_the_bound_stays_below_the_optimum(seed):
    """At the duals mapped from the chain LP, L is at least the chain LP's bound (module text); the
    column generation only raises it, and it stays at most the brute-force optimum."""
    rng = np.random.default_rng(5000 + seed)
    inst = random_instance(rng, (4, 7), (8, 14), 3, 3 if seed % 2 else 1)
    opt = instance_opt(inst)
    inc, _, _ = best_schedule(inst, seconds=0.0, seed=0)
    model = build_model(inst, tel_of(inst, inc), aggregate_classes=False, core_rows=seed % 2)
    chain = solve_chain_lp(model)
    lay = master_layout(model)
    L0, _ = lagrangian(model, trajectory_space(model), lay, duals_from_chain(model, lay, chain.duals))
    assert L0 >= chain.bound - 1e-6
    res = solve_trajectory_lp(model, inc, chain_duals=chain.duals, time_limit=2.0)
    assert res.start_bound == pytest.approx(L0)
    assert L0 - 1e-9 <= res.bound <= opt + 1e-6


def test_converged_relaxation_beats_the_chain_lp_on_a_measured_instance():
    """``random_instance(default_rng(5006), (4, 7), (8, 14), 3, 1)``: the chain LP gives 29.27, the
    optimum is 30; the converged master reaches 30 (research log, 2026-12-07)."""
    inst = random_instance(np.random.default_rng(5006), (4, 7), (8, 14), 3, 1)
    assert instance_opt(inst) == 30
    inc, _, _ = best_schedule(inst, seconds=0.0, seed=0)
    model = build_model(inst, tel_of(inst, inc), aggregate_classes=False)
    chain = solve_chain_lp(model)
    assert chain.bound < 29.5
    res = solve_trajectory_lp(model, inc, chain_duals=chain.duals, time_limit=60.0)
    assert res.converged
    assert res.bound == pytest.approx(30.0, abs=1e-6)
