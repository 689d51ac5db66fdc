"""The chain LP (lpsched/offline/chain.py): its bound and reduced costs against exhaustive enumeration."""

from __future__ import annotations

import numpy as np
import pytest
from offline_brute import instance_opt
from offline_instances import random_instance, tiny_instance
from test_offline_lp_compact import assert_fixing_certified, best_tel_with

from lpsched.instance import Instance
from lpsched.offline.bounds import chain
from lpsched.offline.bounds.lp import solve_lp
from lpsched.offline.bounds.relaxation import chain_lp_bound
from lpsched.offline.formulation.model import build_model
from lpsched.offline.schedules.heuristics import best_schedule


def _opt(inst: Instance) -> int:
    return instance_opt(inst)


@pytest.mark.parametrize("seed", range(12))
def test_chain_bound_between_lp_and_optimum(seed):
    """LP <= chain LP <= optimum on tiny instances (with and without arrivals, classes or not)."""
    inst = tiny_instance(900 + seed, n_max=5, arrivals=seed % 2 == 1)
    opt = _opt(inst)
    model = build_model(inst, None, aggregate_classes=seed % 3 != 0)
    lp = solve_lp(model, column_generation=False, growth=0)  # the chain LP has no growth rows
    res = chain.solve_chain_lp(model)
    assert res.converged and np.isfinite(res.bound)
    assert lp.objective - 1e-6 <= res.bound <= opt + 1e-6
    assert res.objective <= opt + 1e-6


def test_chain_closes_the_two_long_jobs_gap():
    """Two jobs of peak 10 with M = 12 overlap one round at most: the optimum is 9 + 17 = 26. The
    LP overlaps fractional copies further (25.2); the chain LP is exact here."""
    inst = Instance.from_arrays(M=12, prompt=[1, 1], output=[9, 9], arrival=[0, 0])
    model = build_model(inst, None, aggregate_classes=False)
    assert solve_lp(model, column_generation=False, growth=0).objective < 25.5
    res = chain.solve_chain_lp(model)
    assert res.bound == pytest.approx(26.0, abs=1e-6)
    assert _opt(inst) == 26
    assert chain_lp_bound(inst) == 26


@pytest.mark.parametrize("seed", range(8))
def test_chain_reduced_costs_certify_fixing(seed):
    """Every schedule that starts job i at k costs at least ``bound + d`` of the variable (i, k)
    (exhaustive over all schedules of 3-job instances with long jobs)."""
    rng = np.random.default_rng(1700 + seed)
    inst = random_instance(rng, (3, 4), (6, 10), 3, 3 if seed % 2 else 1)
    model = build_model(inst, None, aggregate_classes=False)
    res = chain.solve_chain_lp(model)
    best_with = best_tel_with(inst)
    assert_fixing_certified(model, res, best_with)
    assert res.bound <= min(best_with.values()) + 1e-6


@pytest.mark.parametrize("seed", range(8))
def test_bound_from_arbitrary_duals_is_valid(seed):
    """The Lagrangian bound holds for any duals, not only GLOP's optimal ones (random duals)."""
    rng = np.random.default_rng(2700 + seed)
    inst = tiny_instance(2800 + seed, n_max=5, arrivals=seed % 2 == 1)
    opt = _opt(inst)
    model = build_model(inst, None, aggregate_classes=False)
    long = chain.long_classes(model)
    nodes = chain.chain_nodes(model, long)
    A, *_ = chain.chain_matrix(model, nodes)
    for _ in range(5):
        duals = rng.normal(0.0, 3.0, A.shape[0])
        L, rc = chain._bound_and_costs(model, nodes, long, duals)[:2]
        assert L <= opt + 1e-6
        assert np.all(rc >= 0)


def _chains_by_enumeration(nodes, w, p, s, M):
    """Cheapest chain and cheapest chain through each node, by depth-first enumeration of every
    sequence of nodes in which each successor completes later and satisfies rule (1)."""
    best = [np.inf]
    through = np.full(nodes.var.size, np.inf)

    def ok(u, v):
        cu, cv = nodes.cls[u], nodes.cls[v]
        Cu, kv = nodes.completion[u], nodes.start[v]
        return nodes.completion[v] > Cu and (kv >= Cu or Cu + p[cu] <= kv + M - s[cv])

    def dfs(path, cost):
        best[0] = min(best[0], cost)
        for v in path:  # every chain is a node of the search, recorded for each of its members
            through[v] = min(through[v], cost)
        for v in range(nodes.var.size):
            if ok(path[-1], v):
                dfs([*path, v], cost + w[v])

    for v in range(nodes.var.size):
        dfs([v], w[v])
    return best[0], through


def test_chain_dp_matches_enumeration():
    """The dynamic program's cheapest chain, and cheapest chain through every node, equal those
    found by enumerating all chains (random weights)."""
    rng = np.random.default_rng(5)
    inst = Instance.from_arrays(M=6, prompt=[1, 0, 1], output=[3, 4, 4], arrival=[0, 0, 1])
    model = build_model(inst, None, aggregate_classes=False)
    nodes = chain.chain_nodes(model)
    assert nodes.var.size == model.n_variables  # every job is long here
    s = np.array([1, 0, 1])
    p = s + inst.output
    for _ in range(5):
        w = rng.normal(0.0, 5.0, nodes.var.size)
        best, through = chain.chain_dp(nodes, w)
        best_bf, through_bf = _chains_by_enumeration(nodes, w, p, s, inst.M)
        assert best == pytest.approx(best_bf)
        assert np.allclose(through, through_bf)


@pytest.mark.parametrize("seed", range(6))
def test_column_generation_reaches_the_full_chain_lp(seed):
    """Started from one schedule's starts only (width 0, one column per class and round), the column
    generation ends at the full chain LP's bound, and its reduced costs still certify fixing."""
    rng = np.random.default_rng(3700 + seed)
    inst = random_instance(rng, (3, 4), (6, 10), 3, 3 if seed % 2 else 1)
    model = build_model(inst, None, aggregate_classes=False)
    full = chain.solve_chain_lp(model)
    inc, _, _ = best_schedule(inst, seconds=0.0)
    cg = chain.solve_chain_lp(model, start_hint=inc, column_generation=True, width=0, per_class=1)
    assert cg.converged and cg.rounds >= 1
    assert cg.bound == pytest.approx(full.bound, abs=1e-5)
    best_with = best_tel_with(inst)
    assert_fixing_certified(model, cg, best_with)
