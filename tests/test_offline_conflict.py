"""The conflict graph and its clique bounds (lpsched/offline/bounds/conflict.py) against brute force."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import numpy as np
import pytest
from offline_brute import instance_opt
from offline_instances import random_instance
from test_offline_lp_compact import _all_schedules

from lpsched.generate import jaillet, paper
from lpsched.instance import Instance
from lpsched.offline.bounds import conflict
from lpsched.offline.bounds.report import lower_bounds
from lpsched.verify import verify_schedule

RESULTS = Path(__file__).resolve().parent.parent / "benchmarks" / "results"


def _shares_a_round(ks, inst, i, j) -> bool:
    return max(ks[i], ks[j]) < min(ks[i] + int(inst.output[i]), ks[j] + int(inst.output[j]))


@pytest.mark.parametrize("seed", range(10))
def test_conflicts_never_corun_and_the_others_can(seed):
    """Over every feasible schedule of a 3-job instance: a conflicting pair never shares a round, and
    every other pair shares one in some schedule (the condition is exact, arrivals included)."""
    rng = np.random.default_rng(3100 + seed)
    inst = random_instance(rng, (3, 4), (6, 10), 3, 3 if seed % 2 else 1)
    g = conflict.conflict_graph(inst)
    corun = set()
    for ks, _ in _all_schedules(inst):
        for i, j in itertools.combinations(range(inst.n), 2):
            if _shares_a_round(ks, inst, i, j):
                corun.add((i, j))
    for i, j in itertools.combinations(range(inst.n), 2):
        assert ((i, j) in corun) != g.has_edge(i, j), (i, j)


@pytest.mark.parametrize("seed", range(20))
def test_non_conflicting_pair_schedule_of_the_proof_is_feasible(seed):
    """The docstring's construction (the shorter job's last round against the other's first) passes
    the verifier whenever the pair does not conflict, and holds exactly ``s_i + s_j + 1 + min(o)``."""
    rng = np.random.default_rng(3300 + seed)
    M = int(rng.integers(6, 40))
    s = rng.integers(0, 6, 2).clip(max=M - 1)
    o = np.array([rng.integers(1, M - x + 1) for x in s])
    a = rng.integers(0, 5, 2)
    inst = Instance.from_arrays(M=M, prompt=s, output=o, arrival=a)
    i, j = (0, 1) if o[0] <= o[1] else (1, 0)
    k = np.zeros(2, dtype=np.int64)
    k[i] = max(int(a[i]), int(a[j]) - int(o[i]) + 1)
    k[j] = k[i] + int(o[i]) - 1
    starts = {inst.ids[x]: int(k[x]) for x in range(2)}
    feasible = verify_schedule(inst, starts).feasible
    assert feasible == (not conflict.conflicts(M, int(s[0]), int(o[0]), int(s[1]), int(o[1])))


def test_srpt_against_every_nonpreemptive_order():
    """SRPT's ``Σ C`` is at most that of every non-preemptive schedule (all orders, earliest starts)
    and equals the best order without release dates (SPT)."""
    rng = np.random.default_rng(3500)
    for trial in range(40):
        n = int(rng.integers(1, 6))
        p = rng.integers(1, 9, n)
        r = rng.integers(0, 12, n) if trial % 2 else np.zeros(n, dtype=np.int64)
        best = None
        for order in itertools.permutations(range(n)):
            t, tot = 0, 0
            for x in order:
                t = max(t, int(r[x])) + int(p[x])
                tot += t
            best = tot if best is None else min(best, tot)
        srpt = conflict.srpt_total_completion(r, p)
        assert srpt <= best
        if trial % 2 == 0:
            assert srpt == best


def test_clique_bound_is_exact_on_two_long_jobs():
    """Two jobs of peak 11 with M = 12 conflict (1 + 1 + 1 + 10 > 12): they run one after the other."""
    inst = Instance.from_arrays(M=12, prompt=[1, 1], output=[10, 10], arrival=[0, 0])
    assert conflict.conflict_graph(inst).has_edge(0, 1)
    assert conflict.clique_bound(inst) == instance_opt(inst) == 30
    assert lower_bounds(inst).values["clique"] == 30


@pytest.mark.parametrize("seed", range(16))
def test_clique_bound_at_most_brute_force(seed):
    """The clique bound never exceeds the brute-force optimum (with and without arrivals)."""
    rng = np.random.default_rng(3700 + seed)
    inst = random_instance(rng, (3, 6), (6, 12), 3, 5 if seed % 2 else 1)
    assert conflict.clique_bound(inst) <= instance_opt(inst)


def _proven(name: str) -> list[dict]:
    rows = [json.loads(line) for line in (RESULTS / name).read_text().splitlines() if line.strip()]
    return [r for r in rows if r["status"] == "OPTIMAL"]


def test_clique_bound_at_most_known_optima():
    """Below every proven optimum stored in benchmarks/results: the Jaillet draw by n, and the paper
    regime at n = 30 (``paper-s{S}-a{D}-c{C}``: prompt S, α = 1/D, C jobs at the predicted peak)."""
    proven = _proven("jaillet_by_n.jsonl")
    assert proven
    for r in proven:
        assert conflict.clique_bound(jaillet(r["seed"], n=r["n"])) <= r["objective"]
    proven = _proven("paper_s50_c8_n30.jsonl")
    assert proven
    for r in proven:
        s, d, c = (int(x) for x in re.fullmatch(r"paper-s(\d+)-a(\d+)-c(\d+)", r["family"]).groups())
        inst = paper(r["seed"], n=r["n"], s=s, lower=8, alpha=1 / d, concurrency=c)
        assert inst.M == r["M"]
        assert conflict.clique_bound(inst) <= r["objective"]


@pytest.mark.parametrize("seed", range(6))
def test_conflict_edges_are_every_conflicting_pair(seed):
    """The candidate filter loses no pair: the edges are exactly the pairs :func:`conflicts` names."""
    rng = np.random.default_rng(4300 + seed)
    inst = random_instance(rng, (20, 40), (10, 40), 8, 3)
    s, o = inst.prompt, inst.output
    expect = {(i, j) for i, j in itertools.combinations(range(inst.n), 2)
              if conflict.conflicts(inst.M, int(s[i]), int(o[i]), int(s[j]), int(o[j]))}
    i, j = conflict.conflict_edges(inst)
    assert set(zip(i.tolist(), j.tolist(), strict=True)) == expect


def test_clique_bound_not_reported_on_a_huge_graph():
    """Beyond ``MAX_EDGES`` conflicting pairs the bound is not computed (and not reported)."""
    n = 400  # 79,800 pairs, all conflicting
    inst = Instance.from_arrays(M=40, prompt=[1] * n, output=[38] * n)
    assert conflict.conflict_edges(inst)[0].size > conflict.MAX_EDGES
    assert conflict.clique_bound(inst) is None
    assert "clique" not in lower_bounds(inst).values
