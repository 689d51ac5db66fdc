"""The conflict graph of an instance and the certified bounds of its cliques.

**Conflict.** Jobs ``i`` and ``j`` *conflict* when ``s_i + s_j + 1 + min(o_i, o_j) > M``.

Claim: two conflicting jobs never run in the same round of a feasible schedule; two jobs that do
not conflict run in the same round in some feasible schedule (whatever the arrivals).

Proof. A job started at ``k`` holds ``s + r`` tokens in round ``k + r`` of its run, ``r = 1..o``
(docs/model.md §2), so it runs in rounds ``k + 1..C`` with ``C = k + o``. Suppose the runs of ``i``
and ``j`` share a round. The shared rounds are the interval ``max(k_i, k_j) + 1 .. min(C_i, C_j)``;
let ``f`` be a job that completes first (``C_f = min(C_i, C_j)``) and ``g`` the other. In round
``C_f`` both run: ``f`` at age ``o_f`` (its peak ``s_f + o_f``) and ``g`` at some age ``r_g >= 1``,
so that round holds at least ``s_f + o_f + s_g + 1 >= s_i + s_j + 1 + min(o_i, o_j)`` tokens. If this
exceeds ``M`` the round is over capacity: conflicting jobs never share a round. (It is the largest
memory of the overlap that matters: both runs grow by one token per round, so the last shared round
is the fullest, and there the first to complete is at its peak and the other at age at least 1.)
The bound is attained: with ``o_i <= o_j``, start ``i`` at any ``k_i >= a_i`` with
``k_i + o_i − 1 >= a_j`` and ``j`` at ``k_j = k_i + o_i − 1``. They share exactly round ``C_i``,
holding ``s_i + o_i + s_j + 1`` tokens, and every other round holds one run (each job alone fits:
``s + o <= M``); the other jobs run one by one after ``C_j``. So non-conflicting jobs co-run in a
feasible schedule: the condition is exact for a pair, arrivals included.

**Cliques.** The jobs of a clique ``K`` of the conflict graph run one at a time: a single machine
with release dates ``a_i`` and processing times ``o_i`` (``i`` occupies ``(k_i, k_i + o_i]``,
``k_i >= a_i``). Preemptive shortest-remaining-processing-time (SRPT) minimises ``Σ C_i`` on one
machine with release dates and preemption (Schrage 1968; it is exact without arrivals, where it is
SPT), and a non-preemptive schedule is a preemptive one, so ``Σ_{i∈K} C_i >= SRPT(K)`` in every
feasible schedule. Each job's latency is ``C_i − a_i >= o_i``. For disjoint cliques
``K_1, …, K_m``,

    ``TEL >= Σ_i o_i + Σ_t (SRPT(K_t) − Σ_{i∈K_t} (a_i + o_i))``              (the ``clique`` bound)

(each clique's jobs by SRPT, every other job by its output). A clique's term is its *waiting*
``SRPT(K) − Σ (a_i + o_i) >= 0``, which only grows when jobs are added to ``K`` (a schedule of the
larger set restricted to ``K`` is a schedule of ``K``, and the added job completes no earlier than
``a + o``).
"""

from __future__ import annotations

import heapq
from itertools import islice
from typing import TYPE_CHECKING

import numpy as np

from ...instance import Instance

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["conflicts", "conflict_candidates", "conflict_edges", "conflict_graph", "srpt_total_completion",
           "clique_waiting", "clique_packing", "clique_bound"]

#: Maximal cliques looked at per greedy step (Bron–Kerbosch can enumerate exponentially many).
MAX_CLIQUES_PER_STEP = 500
#: ``networkx.max_weight_clique`` (exact branch and bound) only on graphs of at most this many jobs.
MAX_WEIGHT_CLIQUE_JOBS = 80
#: The graph is built only when at most this many jobs can conflict with some job, and the bound is
#: computed only when it has at most this many edges (beyond: ``None``, the bound is not reported).
MAX_CANDIDATES = 3000
MAX_EDGES = 50_000


def conflicts(M: int, s_i: int, o_i: int, s_j: int, o_j: int) -> bool:
    """Whether two jobs can never run in the same round (module text): ``s_i + s_j + 1 + min(o_i, o_j) > M``."""
    return s_i + s_j + 1 + min(o_i, o_j) > M


def conflict_candidates(instance: Instance) -> np.ndarray:
    """Jobs that can conflict with some job: ``s_i + o_i + max_j s_j + 1 > M`` (necessary, since
    ``min(o_i, o_j) <= o_i``), as indices."""
    if instance.n < 2:
        return np.zeros(0, dtype=np.int64)
    s, o = instance.prompt.astype(np.int64), instance.output.astype(np.int64)
    return np.flatnonzero(s + o + int(s.max()) + 1 > instance.M)


def conflict_edges(instance: Instance) -> tuple[np.ndarray, np.ndarray]:
    """The conflicting pairs ``(i, j)``, ``i < j``, as two index arrays (:func:`conflicts`)."""
    c = conflict_candidates(instance)
    s, o = instance.prompt.astype(np.int64)[c], instance.output.astype(np.int64)[c]
    need = s[:, None] + s[None, :] + 1 + np.minimum(o[:, None], o[None, :]) > instance.M
    i, j = np.nonzero(np.triu(need, k=1))
    return c[i], c[j]


def conflict_graph(instance: Instance) -> nx.Graph:
    """The conflict graph: one node per job index (attribute ``o``: its output), an edge per
    conflicting pair (:func:`conflicts`)."""
    import networkx as nx  # lazy: ~0.2 s to import, needed only where some pair conflicts

    o = instance.output
    g = nx.Graph()
    g.add_nodes_from((i, {"o": int(o[i])}) for i in range(instance.n))
    i, j = conflict_edges(instance)
    g.add_edges_from(zip(i.tolist(), j.tolist(), strict=True))
    return g


def srpt_total_completion(release: np.ndarray, processing: np.ndarray) -> int:
    """``Σ C_i`` of preemptive SRPT on one machine (the minimum over preemptive schedules).

    Integer data give integer completions. ``O(n log n)``.
    """
    order = np.argsort(release, kind="stable")
    rel = [int(release[i]) for i in order]
    proc = [int(processing[i]) for i in order]
    heap: list[int] = []  # remaining processing times of released, unfinished jobs
    t, total, nxt, n = 0, 0, 0, len(rel)
    while nxt < n or heap:
        if not heap:
            t = max(t, rel[nxt])
        while nxt < n and rel[nxt] <= t:
            heapq.heappush(heap, proc[nxt])
            nxt += 1
        rem = heapq.heappop(heap)
        horizon = rel[nxt] if nxt < n else t + rem
        run = min(rem, horizon - t)
        t += run
        if run == rem:
            total += t
        else:
            heapq.heappush(heap, rem - run)
    return total


def clique_waiting(instance: Instance, clique: list[int] | tuple[int, ...]) -> int:
    """A clique's term of the ``clique`` bound: ``SRPT(K) − Σ_{i∈K} (a_i + o_i)`` (>= 0)."""
    idx = np.asarray(sorted(clique), dtype=np.int64)
    if idx.size < 2:
        return 0
    a, o = instance.arrival[idx], instance.output[idx]
    return srpt_total_completion(a, o) - int((a + o).sum())


def _best_clique(instance: Instance, g: nx.Graph) -> tuple[int, tuple[int, ...]]:
    """The clique of largest waiting among ``networkx``'s maximum-output clique and up to
    :data:`MAX_CLIQUES_PER_STEP` maximal cliques."""
    import networkx as nx  # lazy: ~0.2 s to import, needed only where some pair conflicts

    cands = [tuple(c) for c in islice(nx.find_cliques(g), MAX_CLIQUES_PER_STEP)]
    if g.number_of_nodes() <= MAX_WEIGHT_CLIQUE_JOBS:
        heavy, _ = nx.max_weight_clique(g, weight="o")
        cands.append(tuple(heavy))
    return max(((clique_waiting(instance, c), tuple(sorted(c))) for c in cands), default=(0, ()))


def clique_packing(instance: Instance, graph: nx.Graph | None = None) -> list[tuple[int, tuple[int, ...]]]:
    """Disjoint cliques of the conflict graph, greedily: take the clique of largest waiting, remove
    its jobs, repeat while a clique still waits. Returns ``[(waiting, clique), …]`` in the order taken."""
    g = (conflict_graph(instance) if graph is None else graph).copy()
    g.remove_nodes_from([v for v in list(g) if g.degree(v) == 0])
    out: list[tuple[int, tuple[int, ...]]] = []
    while g.number_of_edges():
        w, c = _best_clique(instance, g)
        if w <= 0:
            break
        out.append((w, c))
        g.remove_nodes_from(c)
        g.remove_nodes_from([v for v in list(g) if g.degree(v) == 0])
    return out


def clique_bound(instance: Instance) -> int | None:
    """The ``clique`` bound (module text): ``Σ o_i`` plus the waiting of a disjoint clique packing;
    ``None`` when more than :data:`MAX_CANDIDATES` jobs can conflict or the graph has more than
    :data:`MAX_EDGES` edges (the graph is not built then)."""
    if conflict_candidates(instance).size > MAX_CANDIDATES:
        return None
    i, _ = conflict_edges(instance)
    if i.size > MAX_EDGES:
        return None
    if i.size == 0:  # no conflicts: the bound is the sum of outputs (networkx is not loaded)
        return int(instance.output.sum())
    return int(instance.output.sum()) + sum(w for w, _ in clique_packing(instance))
