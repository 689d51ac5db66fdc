"""Window search: improve a schedule by re-solving time windows of it exactly (a MIP-based LNS).

The jobs that start in a window ``[lo, lo + W)`` are freed, every other job keeps its start, and
the freed jobs are re-placed optimally by CP-SAT on the residual memory ``M − F(τ)`` (``F``: the
memory of the fixed jobs), each within ``± reach`` rounds of its current start (and not before its
arrival). The sub-problem is the time-indexed model of docs/model.md §6 on the freed jobs, aggregated
by class ``(a, s, o)``, with the current placement as a hint, so CP-SAT starts from a feasible
solution and can only improve it. Windows slide over the schedule with a stride of half a window;
a window is kept only if the whole schedule, re-checked with :func:`lpsched.verify.verify_schedule`,
is feasible and cheaper. The result is never worse than the input.

This is the step the ruin-and-recreate moves of :mod:`~lpsched.offline.schedules.heuristics` cannot take: they
re-insert freed jobs greedily (earliest fit), while here the freed jobs are packed jointly.
"""

from __future__ import annotations

import time
from collections import defaultdict

import numpy as np
from ortools.sat.python import cp_model

from ...instance import Instance
from ...memory import memory_profile
from ...verify import verify_schedule
from ..backends.cpsat import run_cpsat
from ..formulation.classes import aggregate, run_shape

__all__ = ["window_search", "resolve_window"]


def resolve_window(instance: Instance, starts: np.ndarray, free: np.ndarray, *, reach: int,
                   time_limit: float, workers: int = 1, seed: int = 0,
                   class_of: np.ndarray | None = None) -> np.ndarray | None:
    """Re-place the jobs ``free`` optimally (within ``± reach`` rounds of their starts) with every
    other job fixed; the improved starts (instance order), or ``None`` if nothing better was found.

    ``class_of`` is :func:`~lpsched.offline.formulation.classes.aggregate`'s class of each job (computed if not
    given); the freed jobs of one class share their variables. The returned schedule is feasible
    (checked by :func:`~lpsched.verify.verify_schedule`).
    """
    n = instance.n
    free = np.asarray(free, dtype=np.int64)
    if free.size == 0:
        return None
    fixed = np.ones(n, dtype=bool)
    fixed[free] = False
    a, s, o, M = instance.arrival, instance.prompt, instance.output, int(instance.M)
    lo_k = int(max(0, (starts[free] - reach).min()))
    hi_k = int((starts[free] + reach).max())
    T = hi_k + int(o[free].max()) + 1  # rounds 1..T can hold a freed run
    F = memory_profile(s[fixed], starts[fixed], o[fixed], horizon=T) if fixed.any() else np.zeros(T + 1, np.int64)
    F = np.pad(F, (0, max(0, T + 1 - F.size)))[: T + 1]
    cap = M - F
    if class_of is None:
        class_of = aggregate(instance).class_of
    groups: dict[int, list[int]] = defaultdict(list)
    for i in free:
        groups[int(class_of[i])].append(int(i))
    m = cp_model.CpModel()
    rows: dict[int, list[tuple[object, int]]] = defaultdict(list)
    obj_terms: list[tuple[object, int]] = []
    hint_of: dict[tuple[int, int], int] = defaultdict(int)
    for i in free:
        hint_of[(int(class_of[i]), int(starts[i]))] += 1
    var_of: dict[tuple[int, int], object] = {}
    for key, members in groups.items():
        ai, si, oi = int(a[members[0]]), int(s[members[0]]), int(o[members[0]])
        shape = run_shape(si, oi)
        ks = set()
        for i in members:
            ks.update(range(max(ai, int(starts[i]) - reach, lo_k), int(starts[i]) + reach + 1))
        cnt = len(members)
        vs = []
        for k in sorted(ks):
            # a start is possible only if its run fits the residual memory on its own
            if np.any(shape > cap[k + 1:k + 1 + oi]):
                if hint_of.get((key, k)):
                    return None  # the current schedule is infeasible: not ours to repair
                continue
            v = m.new_int_var(0, cnt, "") if cnt > 1 else m.new_bool_var("")
            var_of[(key, k)] = v
            vs.append(v)
            obj_terms.append((v, k + oi - ai))
            for r in range(oi):
                rows[k + 1 + r].append((v, int(shape[r])))
        m.add(sum(vs) == cnt)
    for tau, terms in rows.items():
        m.add(cp_model.LinearExpr.weighted_sum([v for v, _ in terms], [c for _, c in terms]) <= int(cap[tau]))
    # no objective cut-off: the hint (the current placement) stays feasible, CP-SAT improves on it
    m.minimize(cp_model.LinearExpr.weighted_sum([v for v, _ in obj_terms], [c for _, c in obj_terms]))
    for (key, k), v in var_of.items():
        m.add_hint(v, hint_of.get((key, k), 0))
    solver, status = run_cpsat(m, time_limit=time_limit, workers=workers, seed=seed, log=False)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    new_ks: dict[int, list[int]] = defaultdict(list)
    for (c, k), v in sorted(var_of.items(), key=lambda kv: kv[0]):
        new_ks[c].extend([k] * int(solver.value(v)))
    new = np.array(starts, dtype=np.int64)
    for c, members in groups.items():
        for i, k in zip(sorted(members, key=lambda j: int(starts[j])), new_ks[c], strict=True):
            new[i] = k
    rep = verify_schedule(instance, new)
    if not rep.feasible or rep.tel >= int((starts + o - a).sum()):
        return None
    return new


def window_search(
    instance: Instance,
    starts: np.ndarray,
    *,
    seconds: float,
    jobs_per_window: int = 30,
    reach: int | None = None,
    window_time: float = 2.0,
    workers: int = 1,
    seed: int = 0,
) -> np.ndarray:
    """Slide windows over the schedule and re-solve each exactly (see the module text).

    Parameters
    ----------
    instance : Instance
    starts : int array
        A feasible schedule (instance order).
    seconds : float
        Total budget; passes over the schedule repeat until it is spent or a pass finds nothing.
    jobs_per_window : int
        The window holds about this many starts (its width adapts to the start density).
    reach : int, optional
        How far (rounds) a freed job may move (default 16).
    window_time : float
        CP-SAT seconds per window.
    workers, seed : int
        CP-SAT workers and seed.

    Returns
    -------
    numpy.ndarray
        Starts of a feasible schedule with TEL ``<=`` the input's.
    """
    best = np.array(starts, dtype=np.int64)
    n = instance.n
    if n < 2 or seconds <= 0:
        return best
    reach = 16 if reach is None else int(reach)
    class_of = aggregate(instance).class_of
    deadline = time.perf_counter() + seconds
    p = 0
    while time.perf_counter() < deadline:
        improved = False
        order = np.argsort(best, kind="stable")
        step = max(1, jobs_per_window // 2)
        # alternate the phase of the windows between passes
        for first in range((p % 2) * (step // 2), n, step):
            if time.perf_counter() >= deadline:
                break
            free = order[first:first + jobs_per_window]
            left = deadline - time.perf_counter()
            new = resolve_window(instance, best, free, reach=reach, time_limit=min(window_time, left),
                                 workers=workers, seed=seed + p, class_of=class_of)
            if new is not None:
                best = new
                improved = True
                order = np.argsort(best, kind="stable")
        p += 1
        if not improved:
            break
    return best
