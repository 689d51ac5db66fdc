"""Seeded local search on starts (:func:`improve`): left-justification, then ruin-and-recreate of
time windows."""

from __future__ import annotations

import time

import numpy as np

from ...instance import Instance
from ...verify import require_feasible, verify_schedule
from ..formulation.classes import run_shape
from ..formulation.objective import tel_of
from .placement import earliest_fit, padded_profile, place_earliest

__all__ = ["improve"]


def _left_justify(instance: Instance, starts: np.ndarray, mem: np.ndarray) -> bool:
    """Move each job (latest first) to its earliest fit; True if anything moved."""
    moved = False
    for i in np.argsort(-starts, kind="stable"):
        i = int(i)
        k0 = int(starts[i])
        if k0 == int(instance.arrival[i]):
            continue
        shape = run_shape(int(instance.prompt[i]), int(instance.output[i]))
        mem[k0 + 1 : k0 + 1 + shape.size] -= shape
        k = earliest_fit(mem, instance.M, shape, int(instance.arrival[i]))
        if k > k0:  # cannot happen (k0 fits); keep the old start defensively
            k = k0
        mem[k + 1 : k + 1 + shape.size] += shape
        if k < k0:
            starts[i] = k
            moved = True
    return moved


def improve(
    instance: Instance,
    starts: np.ndarray,
    *,
    seconds: float = 1.0,
    seed: int = 0,
    max_rounds: int | None = None,
    stall: int | None = None,
) -> np.ndarray:
    """Seeded local search on starts; never returns a worse schedule than it was given.

    Moves: left-justification (each job to its earliest fit, which only lowers TEL), and
    ruin-and-recreate: take the jobs starting in a random time window, remove them, reinsert them
    at their earliest fit in a random priority order (shortest-first, smallest-volume-first, their
    old order, or random), left-justify, and keep the result if TEL did not rise.

    Parameters
    ----------
    instance : Instance
    starts : int array
        A feasible schedule (per-job starts in instance order).
    seconds : float
        Time budget.
    seed : int
        Seed of the random choices.
    max_rounds : int, optional
        Stop after this many ruin-and-recreate moves.
    stall : int, optional
        Stop after this many consecutive moves without a strict improvement (default
        ``max(100, 10·n)``).

    Returns
    -------
    numpy.ndarray
        Starts of a feasible schedule with TEL ``<=`` the input's.
    """
    rng = np.random.default_rng(seed)
    n = instance.n
    best = np.array(starts, dtype=np.int64)
    if n <= 1:
        return best
    size = int((best + instance.output).max()) + 2
    mem = padded_profile(instance, best, size)
    _left_justify(instance, best, mem)
    best_tel = tel_of(instance, best)
    deadline = time.perf_counter() + seconds
    it = 0
    since = 0
    stall = max(100, 10 * n) if stall is None else stall
    o, s = instance.output, instance.prompt
    vol = s * o + o * (o + 1) // 2
    while time.perf_counter() < deadline and (max_rounds is None or it < max_rounds) and since < stall:
        it += 1
        since += 1
        moved = _ruin_and_recreate(instance, best, mem, rng, vol)
        if moved is None:
            continue
        cur, cmem = moved
        t = tel_of(instance, cur)
        if t <= best_tel:
            if t < best_tel:
                since = 0
            best, mem, best_tel = cur, cmem, t
    require_feasible(verify_schedule(instance, best), "local search (improve)")
    return best


def _ruin_and_recreate(instance: Instance, best: np.ndarray, mem: np.ndarray, rng: np.random.Generator,
                       vol: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """One move of :func:`improve`: the jobs starting in a random time window are removed and
    reinserted at their earliest fit in a random priority order (shortest-first, smallest-volume-
    first, their old order, or random), then everything is left-justified. Returns the new starts
    and memory profile (copies), or ``None`` when the window holds fewer than two jobs."""
    o, s = instance.output, instance.prompt
    cur = best.copy()
    cmem = mem.copy()
    span = int((cur + o).max())
    width = int(rng.integers(2, max(3, min(span, 4 * int(o.max())) + 1)))
    lo = int(rng.integers(0, max(1, span - width + 1)))
    ruin = np.flatnonzero((cur >= lo) & (cur < lo + width))
    if ruin.size < 2:
        return None
    for i in ruin:
        k = int(cur[i])
        cmem[k + 1 : k + 1 + o[i]] -= run_shape(int(s[i]), int(o[i]))
    mode = int(rng.integers(4))
    if mode == 0:
        order = ruin[np.lexsort((rng.random(ruin.size), o[ruin]))]
    elif mode == 1:
        order = ruin[np.lexsort((rng.random(ruin.size), vol[ruin]))]
    elif mode == 2:
        order = ruin[np.argsort(cur[ruin] + 0.5 * rng.random(ruin.size), kind="stable")]
    else:
        order = rng.permutation(ruin)
    for i in order:
        i = int(i)
        shape = run_shape(int(s[i]), int(o[i]))
        cmem, cur[i] = place_earliest(cmem, instance.M, shape, int(instance.arrival[i]))
    _left_justify(instance, cur, cmem)
    return cur, cmem
