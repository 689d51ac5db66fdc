"""Clairvoyant offline heuristics: incumbents and warm starts for the hindsight IP.

These know the true lengths and place whole runs in time; they are offline tools, not online
policies (the online policies, H-SF and SVF among them, live in :mod:`lpsched.online`).

* :func:`earliest_fit` – the earliest start at which a run fits under ``M`` in a memory profile;
* :func:`list_schedule` – serial generation: jobs in a given order, each at its earliest fit
  (optionally not before a per-job release, e.g. an LP's start times, which keeps staggering);
* :func:`fluid_schedules` – list schedules released at the pace of a full-memory fluid schedule, and
  :func:`tuned_fluid_schedule`, whose pace varies along the schedule, tuned by coordinate descent;
* :func:`improve` – seeded local search (left-justification, then ruin-and-recreate of time windows);
* :func:`order_search` – iterated insertion and swap search over the order a list schedule places
  jobs in;
* :func:`pilot_schedule` – rollout construction of such an order (the pilot method): each position
  takes the job whose greedy completion is cheapest;
* :func:`online_schedules` – H-SF / SVF from :mod:`lpsched.online`;
* :func:`best_schedule` – the best of all of them, verified.

Memory profiles come from :func:`lpsched.memory.memory_profile` and run shapes from
:func:`lpsched.offline.formulation.classes.run_shape`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import numpy as np

from ...baseline import serial_schedule
from ...errors import OptionError
from ...instance import Instance
from ...memory import memory_profile
from ...online import simulate
from ...verify import require_feasible, verify_schedule
from ..formulation.classes import run_shape
from ..formulation.objective import tel_of

__all__ = [
    "earliest_fit",
    "list_schedule",
    "fluid_schedules",
    "tuned_fluid_schedule",
    "improve",
    "order_search",
    "pilot_schedule",
    "online_schedules",
    "best_schedule",
    "tel_of",
]


def _profile(instance: Instance, starts: np.ndarray, size: int) -> np.ndarray:
    mem = memory_profile(instance.prompt, starts, instance.output, horizon=size - 1)
    out = np.zeros(size, dtype=np.int64)
    out[: mem.size] = mem[:size]
    return out


def _grow(mem: np.ndarray, need: int) -> np.ndarray:
    if need <= mem.size:
        return mem
    out = np.zeros(max(need, 2 * mem.size), dtype=np.int64)
    out[: mem.size] = mem
    return out


def _window_max(x: np.ndarray, w: int) -> np.ndarray:
    """``out[i] = max(x[i : i + w])`` for ``i = 0..len(x) − w`` (van Herk / Gil-Werman: block
    prefix and suffix maxima, O(len(x)) numpy work whatever ``w``)."""
    n = x.size
    pad = (-n) % w
    blocks = np.concatenate([x, np.full(pad, np.iinfo(np.int64).min, dtype=np.int64)]).reshape(-1, w)
    pre = np.maximum.accumulate(blocks, axis=1).ravel()
    suf = np.maximum.accumulate(blocks[:, ::-1], axis=1)[:, ::-1].ravel()
    m = n - w + 1
    return np.maximum(suf[:m], pre[w - 1 : w - 1 + m])


def earliest_fit(mem: np.ndarray, M: int, shape: np.ndarray, release: int, *, sliding_max: bool = True) -> int:
    """Earliest ``k >= release`` with ``mem[k + r] + shape[r - 1] <= M`` for ``r = 1..o``.

    Parameters
    ----------
    mem : int array
        Memory per round (index = round); rounds past its end hold 0.
    M : int
    shape : int array
        The run's memory in its rounds ``1..o`` (:func:`~lpsched.offline.formulation.classes.run_shape`).
    release : int
        Earliest allowed start.
    sliding_max : bool
        Use the sliding-maximum test for linear shapes (see Notes); ``False`` forces the direct
        window test (for comparisons: ``benchmarks/bench_heuristics.py``).

    Returns
    -------
    int
        The start (always exists: past the profile's end memory is empty and ``shape <= M``).

    Notes
    -----
    When the shape grows by one token per round (``shape[r − 1] = b + r``, the memory model of
    docs/model.md §2) the test for start ``k`` is ``max_{t = k+1..k+o} (mem[t] + t) <= M − b + k``: one
    sliding maximum of ``mem[t] + t`` per chunk of candidate starts instead of an ``o``-wide window
    per start (the general shape keeps the direct test; a test checks that both agree).
    """
    o = shape.size
    k = release
    end = mem.size
    chunk = 256
    linear = sliding_max and o > 1 and int(shape[-1]) - int(shape[0]) == o - 1 and bool(np.all(np.diff(shape) == 1))
    base = int(shape[0]) - 1
    while True:
        if k + 1 >= end:
            return k
        hi = min(end, k + 1 + chunk + o)
        seg = np.zeros(chunk + o, dtype=np.int64)
        seg[: hi - (k + 1)] = mem[k + 1 : hi]
        if linear:
            g = seg + np.arange(k + 1, k + 1 + chunk + o, dtype=np.int64)
            ok = _window_max(g, o)[:chunk] <= M - base + np.arange(k, k + chunk, dtype=np.int64)
        else:
            win = np.lib.stride_tricks.sliding_window_view(seg, o)[:chunk]
            ok = np.all(win + shape <= M, axis=1)
        idx = np.flatnonzero(ok)
        if idx.size:
            return k + int(idx[0])
        k += chunk


def _place_earliest(mem: np.ndarray, M: int, shape: np.ndarray, release: int) -> tuple[np.ndarray, int]:
    """Place a run at its :func:`earliest_fit` into ``mem`` (grown if needed, else in place);
    returns the profile and the start."""
    k = earliest_fit(mem, M, shape, release)
    mem = _grow(mem, k + shape.size + 2)
    mem[k + 1 : k + 1 + shape.size] += shape
    return mem, k


def list_schedule(
    instance: Instance,
    order: Sequence[int] | np.ndarray,
    release: np.ndarray | None = None,
) -> np.ndarray:
    """Serial generation: place jobs in ``order``, each at its earliest fit.

    Parameters
    ----------
    instance : Instance
    order : sequence of job indices (a permutation)
    release : int array, optional
        Per-job earliest start on top of the arrival (e.g. rounded LP start times).

    Returns
    -------
    numpy.ndarray
        Starts in instance order (feasible by construction).
    """
    n = instance.n
    starts = np.zeros(n, dtype=np.int64)
    mem = np.zeros(max(16, 2 * int(instance.output.sum()) // max(1, n) + 16), dtype=np.int64)
    for i in order:
        i = int(i)
        rel = int(instance.arrival[i]) if release is None else max(int(instance.arrival[i]), int(release[i]))
        shape = run_shape(int(instance.prompt[i]), int(instance.output[i]))
        mem, starts[i] = _place_earliest(mem, instance.M, shape, rel)
    return starts


def _orders(instance: Instance) -> dict[str, np.ndarray]:
    a, s, o = instance.arrival, instance.prompt, instance.output
    idx = np.arange(instance.n)
    vol = s * o + o * (o + 1) // 2
    return {
        "spt": np.lexsort((idx, a, o)),
        "svf": np.lexsort((idx, a, vol)),
        "release_spt": np.lexsort((idx, o, a)),
        "release_plus_length": np.lexsort((idx, a + o)),
    }


def _fluid_plan(instance: Instance) -> tuple[np.ndarray, np.ndarray]:
    """Jobs in ascending volume (ties: arrival, index) and the running sum ``V_j`` of their volumes."""
    s, o = instance.prompt, instance.output
    vol = s * o + o * (o + 1) // 2
    order = np.lexsort((np.arange(instance.n), instance.arrival, vol))
    return order, np.cumsum(vol[order])


def _fluid_release_schedule(instance: Instance, order: np.ndarray, V: np.ndarray, theta: np.ndarray | float,
                            beta: np.ndarray | float) -> np.ndarray:
    """The list schedule of ``order`` with the ``j``-th job released at ``θ_j·V_j/M − β_j·o_j``."""
    rel = np.zeros(instance.n, dtype=np.int64)
    rel[order] = np.maximum(0, np.floor(theta * V / instance.M - beta * instance.output[order])).astype(np.int64)
    return list_schedule(instance, order, release=rel)


def fluid_schedules(instance: Instance, thetas: Sequence[float] = (0.9, 0.95, 1.0, 1.03, 1.06, 1.1, 1.2),
                    offsets: Sequence[float] = (0.0, 0.5, 1.0)) -> dict[str, np.ndarray]:
    """Staggered list schedules that follow the fluid (volume) plan.

    Jobs in ascending volume; the ``j``-th may not start before ``θ·V_j/M − β·o_j`` (``V_j`` the
    sum of the ``j`` smallest volumes), then goes to its earliest fit. Greedy earliest-fit starts
    as many jobs as fit at once, so their peaks collide; the release dates spread the starts the
    way a fluid schedule at full memory would. One schedule per ``(θ, β)``, named ``fluid_θ_β``.
    """
    return {f"fluid_{th:g}_{off:g}": k for (th, off), k in _fluid_grid(instance, thetas, offsets).items()}


def _fluid_grid(instance: Instance, thetas: Sequence[float] = (0.9, 0.95, 1.0, 1.03, 1.06, 1.1, 1.2),
                offsets: Sequence[float] = (0.0, 0.5, 1.0)) -> dict[tuple[float, float], np.ndarray]:
    """The schedules of :func:`fluid_schedules`, keyed by ``(θ, β)``."""
    order, V = _fluid_plan(instance)
    return {(th, off): _fluid_release_schedule(instance, order, V, th, off) for th in thetas for off in offsets}


def tuned_fluid_schedule(
    instance: Instance,
    *,
    theta: float = 1.06,
    beta: float = 0.0,
    levels: Sequence[int] = (4, 7, 13),
    max_evals: int = 2000,
    seconds: float = 60.0,
) -> tuple[np.ndarray, dict[str, object]]:
    """A fluid-release schedule whose pace ``θ`` and offset ``β`` vary along the schedule, tuned by descent.

    :func:`fluid_schedules` releases the ``j``-th smallest-volume job at ``θ·V_j/M − β·o_j`` with
    one ``(θ, β)`` for the whole schedule. How much memory a schedule can keep busy changes along
    it (long runs free their whole peak at once and the memory refills one token per run and
    round), so one pace is too fast somewhere and too slow elsewhere: on paper s = 4, α = 1/32,
    n = 1000 the best single-pace schedule keeps 87–94 % of the memory busy. Here ``θ_j`` and
    ``β_j`` are piecewise-linear functions of the volume rank ``j/(n−1)`` with ``K`` equally
    spaced knots each; a coordinate descent moves each knot by ``±step`` (``β`` knots by
    ``±5·step``), keeps every move that lowers TEL, halves the step after a sweep without gain
    (from 0.04 down to 0.0025), and then refines to the next ``K`` of ``levels`` (the knots of
    ``K = 4, 7, 13`` are nested, so a refinement keeps the schedule). Deterministic for a given
    ``max_evals`` (list schedules evaluated); ``seconds`` is a safety cap that can end it earlier.

    Parameters
    ----------
    instance : Instance
    theta, beta : float
        Starting pace and offset (e.g. the best of :func:`fluid_schedules`).
    levels : sequence of int
        Numbers of knots, coarse to fine.
    max_evals : int
        Budget of list schedules.
    seconds : float
        Time cap.

    Returns
    -------
    (starts, info)
        A feasible schedule (by construction: a list schedule) and ``{"theta": knots, "beta":
        knots, "evals", "tel"}``.
    """
    order, V = _fluid_plan(instance)
    q = np.arange(instance.n) / max(1, instance.n - 1)
    deadline = time.perf_counter() + seconds
    evals = 0

    def run(kt: np.ndarray, kb: np.ndarray) -> tuple[int, np.ndarray]:
        nonlocal evals
        evals += 1
        grid = np.linspace(0.0, 1.0, kt.size)
        st = _fluid_release_schedule(instance, order, V, np.interp(q, grid, kt), np.interp(q, grid, kb))
        return tel_of(instance, st), st

    def budget_left() -> bool:
        return evals < max_evals and time.perf_counter() < deadline

    K0 = max(1, int(levels[0])) if levels else 1
    kt, kb = np.full(K0, float(theta)), np.full(K0, float(beta))
    best_tel, best = run(kt, kb)
    for K in levels:
        K = max(1, int(K))
        if K != kt.size:
            old, new = np.linspace(0.0, 1.0, kt.size), np.linspace(0.0, 1.0, K)
            kt, kb = np.interp(new, old, kt), np.interp(new, old, kb)
        step = 0.04
        while step >= 0.0025 and budget_left():
            kt, kb, best_tel, best, improved = _knot_sweep(run, budget_left, kt, kb, step, best_tel, best)
            if not improved:
                step /= 2
    return best, {"theta": kt.tolist(), "beta": kb.tolist(), "evals": evals, "tel": best_tel}


def _knot_sweep(run: Callable[[np.ndarray, np.ndarray], tuple[int, np.ndarray]], budget_left: Callable[[], bool],
                kt: np.ndarray, kb: np.ndarray, step: float, best_tel: int,
                best: np.ndarray) -> tuple[np.ndarray, np.ndarray, int, np.ndarray, bool]:
    """One sweep of :func:`tuned_fluid_schedule`'s coordinate descent: each pace knot ``±step``,
    each offset knot ``±5·step``, keeping every move that lowers TEL (``run`` places the schedule
    of the knots)."""
    K = kt.size
    improved = False
    for i in range(2 * K):
        for d in (step, -step):
            if not budget_left():
                break
            t_, b_ = kt.copy(), kb.copy()
            if i < K:
                t_[i] = max(0.0, t_[i] + d)
            else:
                b_[i - K] = max(0.0, b_[i - K] + 5 * d)
            t, st = run(t_, b_)
            if t < best_tel:
                best_tel, best, kt, kb, improved = t, st, t_, b_, True
    return kt, kb, best_tel, best, improved


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
    mem = _profile(instance, best, size)
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
        cmem, cur[i] = _place_earliest(cmem, instance.M, shape, int(instance.arrival[i]))
    _left_justify(instance, cur, cmem)
    return cur, cmem


def _moved(order: np.ndarray, a: int, b: int) -> np.ndarray:
    """A copy of ``order`` with the job at position ``a`` moved to position ``b`` (the insertion
    move of :func:`order_search` and :func:`pilot_schedule`)."""
    return np.insert(np.delete(order, a), b, order[a])


class _ListPlacer:
    """List scheduling of an order with every prefix's memory kept (for :func:`order_search`).

    ``rows[p]`` is the memory profile after the first ``p`` jobs of the current order are placed at
    their earliest fit (:func:`earliest_fit`), ``tel[p]`` their total latency; a changed order is
    re-placed from the first position that differs, and only accepted orders are stored.
    """

    def __init__(self, instance: Instance, order: np.ndarray) -> None:
        self.instance = instance
        self.shapes = [run_shape(int(s), int(o)) for s, o in zip(instance.prompt, instance.output, strict=True)]
        self.size = int(instance.arrival.max(initial=0)) + int(instance.output.sum()) + 2
        n = instance.n
        self.rows = np.zeros((n + 1, self.size), dtype=np.int64)
        self.tel = np.zeros(n + 1, dtype=np.int64)
        self.starts = np.zeros(n, dtype=np.int64)
        self.order = np.array(order, dtype=np.int64)
        self.place(self.order, 0, store=True)

    def place(self, order: np.ndarray, pos: int, *, store: bool, cutoff: float = np.inf) -> int:
        """TEL of ``order`` re-placed from position ``pos`` (rows ``0..pos`` are the current ones);
        stops early (returns a value ``>= cutoff``) once the jobs placed so far plus the outputs of
        the rest reach ``cutoff``. With ``store`` the order becomes the current one."""
        inst = self.instance
        mem = self.rows[pos].copy()
        tel = int(self.tel[pos])
        rest = int(inst.output[order[pos:]].sum())
        for p in range(pos, order.size):
            i = int(order[p])
            sh = self.shapes[i]
            mem, k = _place_earliest(mem, inst.M, sh, int(inst.arrival[i]))
            tel += k + sh.size - int(inst.arrival[i])
            rest -= sh.size
            if store:
                self.starts[i] = k
                self.rows[p + 1] = mem
                self.tel[p + 1] = tel
            elif tel + rest >= cutoff:
                return int(cutoff)
        if store:
            self.order = order.copy()
        return tel


def order_search(
    instance: Instance,
    starts: np.ndarray,
    *,
    seconds: float = 1.0,
    seed: int = 0,
    window: int = 10,
    swap_window: int | None = None,
    max_evals: int | None = None,
    stall: int | None = None,
    restarts: bool = False,
) -> np.ndarray:
    """Iterated insertion and swap search over list orders; never returns a worse schedule than it
    was given.

    A schedule is represented by an order, placed by list scheduling (each job at its earliest fit
    after the jobs before it, :func:`list_schedule`). Starting from the order of ``starts``, the
    search moves one job to another position within ``window`` places or swaps two jobs within
    ``swap_window`` places (first improvement, moves in random order; the order is re-placed only
    from the first position that changed), and when no move improves, restarts from the best order
    after three random insertions. Complements :func:`improve` (which moves starts in time
    windows): on Jaillet et al.'s instances and the paper regime it reaches 1–2 % below what the same
    time of :func:`improve` reaches (docs/research/offline-log.md).

    Parameters
    ----------
    instance : Instance
    starts : int array
        A feasible schedule (per-job starts in instance order).
    seconds : float
        Time budget.
    seed : int
        Seed of the move order and the perturbations.
    window : int
        Largest distance a job moves in one step.
    swap_window : int, optional
        Largest distance between two jobs that swap places in one step (default: any two jobs;
        0: insertions only, the earlier search). Swaps let two jobs change
        places at once where each insertion alone is worse (measured on the paper regime, s = 50,
        C = 8, n = 30: better on 9 of 10 instances, docs/research/offline-log.md).
    max_evals : int, optional
        Stop after this many re-placements (deterministic for a given seed).
    stall : int, optional
        Stop (or restart) after this many re-placements without a new best schedule of the run
        (default ``40·n``, about two passes over every insertion from a local optimum, most of one
        pass with the swaps; 0.1–2 s at n = 30–75).
    restarts : bool
        When the search stalls, start a new run from the given order (the random stream goes on)
        instead of stopping, until ``seconds`` or ``max_evals`` run out. Independent runs spread
        better than one long run: measured on the paper regime, s = 50, C = 8, n = 30, 6 s of
        restarts reach the best known schedule on 2–5 of the 10 instances (three seeds), one run
        (~1.5 s) on 2–3 (docs/research/offline-log.md).

    Returns
    -------
    numpy.ndarray
        Starts of a feasible schedule with TEL ``<=`` the input's.
    """
    if window < 1:
        raise OptionError(f"order_search: window must be >= 1, got {window}")
    if swap_window is not None and swap_window < 0:
        raise OptionError(f"order_search: swap_window must be >= 0, got {swap_window}")
    n = instance.n
    given = np.array(starts, dtype=np.int64)
    if given.shape != (n,):
        raise OptionError(f"order_search: starts must hold one start per job ({n}), got shape {given.shape}")
    if n <= 2:
        return given
    sw = n if swap_window is None else swap_window
    search = _OrderSearch(instance, given, seed=seed, window=window, swap_window=sw, seconds=seconds,
                          max_evals=max_evals, stall=40 * n if stall is None else stall, restarts=restarts)
    while not search.out_of_budget():
        search.descend()
        if not search.next_run():
            break
    if search.best_tel < tel_of(instance, given):
        require_feasible(verify_schedule(instance, search.best_starts), "order search")
        return search.best_starts
    return given


class _OrderSearch:
    """The state of :func:`order_search`: the list placer, the random stream, the budget counters,
    and the best order of the current run and the best schedule overall."""

    def __init__(self, instance: Instance, given: np.ndarray, *, seed: int, window: int, swap_window: int,
                 seconds: float, max_evals: int | None, stall: int, restarts: bool) -> None:
        self.n = n = instance.n
        self.window, self.swap_window, self.restarts = window, swap_window, restarts
        self.rng = np.random.default_rng(seed)
        self.placer = _ListPlacer(instance, np.lexsort((np.arange(n), given)))
        self.best_tel, self.best_starts = int(self.placer.tel[n]), self.placer.starts.copy()
        self.first_tel, self.first_order = self.best_tel, self.placer.order.copy()
        # the best of the current run (the best overall without restarts)
        self.run_tel, self.run_order = self.best_tel, self.placer.order.copy()
        self.deadline = time.perf_counter() + seconds
        self.max_evals, self.stall = max_evals, stall
        self.evals = self.last_gain = 0

    def stalled(self) -> bool:
        return self.evals - self.last_gain >= self.stall

    def out_of_budget(self) -> bool:
        return (time.perf_counter() >= self.deadline or (self.max_evals is not None and self.evals >= self.max_evals)
                or (self.stalled() and not self.restarts))

    def descend(self) -> None:
        """First-improvement passes over the jobs (in random order) until a pass improves nothing,
        the budget runs out or the run stalls."""
        improved = True
        while improved and not self.out_of_budget() and not self.stalled():
            improved = False
            for a in self.rng.permutation(self.n):
                if self._improve_at(int(a)):
                    improved = True
                if self.out_of_budget() or self.stalled():
                    break

    def _improve_at(self, a: int) -> bool:
        """Try the moves of the job at position ``a`` (insertions within ``window``, swaps within
        ``swap_window``, in random order); apply the first that improves."""
        n, placer = self.n, self.placer
        cur = int(placer.tel[n])
        ins = np.r_[max(0, a - self.window):a, a + 1:min(n, a + self.window + 1)]
        swp = np.r_[max(0, a - self.swap_window):a, a + 1:min(n, a + self.swap_window + 1)] + n  # codes >= n: swaps
        for b in self.rng.permutation(np.r_[ins, swp]):
            if b < n:
                cand = _moved(placer.order, a, b)
            else:
                b -= n
                cand = placer.order.copy()
                cand[a], cand[b] = cand[b], cand[a]
            pos = min(a, int(b))
            self.evals += 1
            if placer.place(cand, pos, store=False, cutoff=cur) < cur:
                placer.place(cand, pos, store=True)
                tel = int(placer.tel[n])
                if tel < self.run_tel:
                    self.run_tel, self.run_order, self.last_gain = tel, placer.order.copy(), self.evals
                if tel < self.best_tel:
                    self.best_tel, self.best_starts = tel, placer.starts.copy()
                return True
        return False

    def next_run(self) -> bool:
        """After a descent: a stalled run restarts from the given order (with ``restarts``; else the
        search ends: ``False``); otherwise the run goes on from its best order after three random
        insertions."""
        if self.stalled():
            if not self.restarts:
                return False
            self.run_tel, self.run_order, self.last_gain = self.first_tel, self.first_order.copy(), self.evals
            self.placer.place(self.run_order, 0, store=True)
            return True
        order = self.run_order.copy()
        for _ in range(3):
            a = int(self.rng.integers(self.n))
            b = int(np.clip(a + self.rng.integers(-self.window, self.window + 1), 0, self.n - 1))
            order = _moved(order, a, b)
        self.placer.place(order, 0, store=True)
        self.evals += 1
        return True


def pilot_schedule(
    instance: Instance,
    order: Sequence[int] | np.ndarray | None = None,
    *,
    seconds: float | None = None,
) -> np.ndarray:
    """Rollout construction of a list order (the *pilot method*, Duin and Voß 1999).

    The order is built position by position. At position ``p`` every job not yet placed is tried
    there, the rest following in the *base order*, the whole order is list-scheduled
    (:func:`list_schedule`), and the job whose completed schedule has the smallest TEL takes the
    position (ties: the job already there). The base order is ``order``, by default shortest
    output first (ties by index): measured against longest first, short and long interleaved,
    arrival-aware keys and random orders, it gave the best rollouts on the paper regime and on
    Jaillet et al.'s instances (docs/research/offline-log.md).

    Each step keeps the current complete order unless a candidate beats it, so the result is never
    worse than the base order's list schedule, and the construction can stop at any step: with
    ``seconds`` it returns the order reached when the time runs out. One step costs up to ``n − p``
    list placements from position ``p`` (those that reach the step's best value stop early), so a
    whole construction is ``O(n^2)`` placements of at most ``n`` jobs: 0.1 / 0.8 / 6.4 / 20.9 s at
    n = 25 / 50 / 100 / 150 (``benchmarks/bench_order_search.py``).

    Parameters
    ----------
    instance : Instance
    order : sequence of job indices, optional
        The base order (a permutation); default shortest output first.
    seconds : float, optional
        Time budget (default: none, the construction runs to the end).

    Returns
    -------
    numpy.ndarray
        Starts of a feasible schedule (instance order).
    """
    n = instance.n
    base = np.lexsort((np.arange(n), instance.output)) if order is None else np.asarray(order, dtype=np.int64)
    if base.shape != (n,) or not np.array_equal(np.sort(base), np.arange(n)):
        raise OptionError(f"pilot_schedule: order must be a permutation of the {n} job indices")
    deadline = math.inf if seconds is None else time.perf_counter() + seconds
    placer = _ListPlacer(instance, base)
    for p in range(n - 1):
        if time.perf_counter() >= deadline:
            break
        cur = placer.order
        step_tel, step_order = int(placer.tel[n]), None
        for q in range(p + 1, n):
            cand = _moved(cur, q, p)
            tel = placer.place(cand, p, store=False, cutoff=step_tel)
            if tel < step_tel:
                step_tel, step_order = tel, cand
        if step_order is not None:
            placer.place(step_order, p, store=True)
    starts = placer.starts.copy()
    require_feasible(verify_schedule(instance, starts), "pilot schedule")
    return starts


def online_schedules(instance: Instance) -> dict[str, np.ndarray]:
    """H-SF and SVF schedules from :mod:`lpsched.online`.

    A policy that fails is left out; each returned schedule is verified before use.
    """
    out: dict[str, np.ndarray] = {}
    for name in ("hsf", "svf"):
        try:
            res = simulate(instance, name)
            k = np.array([int(res.starts[jid]) for jid in instance.ids], dtype=np.int64)
        except Exception:  # a policy that fails on this instance is left out, quietly
            continue
        if verify_schedule(instance, k).feasible:
            out[name] = k
    return out


#: From this many jobs on, :func:`best_schedule` spends half its budget on the pace tuning.
TUNE_MIN_JOBS = 200
#: Up to this many jobs, :func:`best_schedule` gives half its search budget to :func:`order_search`:
#: it gains 1–3 % up to n = 150 on the paper regime; above, the fluid-paced starts that win are far
#: from any list schedule (``benchmarks/bench_order_search.py``; docs/research/offline-log.md).
ORDER_SEARCH_MAX_JOBS = 150
#: Up to this many jobs, and only with a budget, :func:`best_schedule` runs :func:`pilot_schedule`
#: with at most :data:`PILOT_SHARE` of the budget: its time grows about as ``n^3``, and it beats every
#: cheap candidate on Jaillet et al.'s instances, while from n = 100 the fluid-paced schedules win
#: (``benchmarks/bench_order_search.py``; docs/research/offline-log.md).
PILOT_MAX_JOBS = 80
PILOT_SHARE = 0.25


def _candidates(instance: Instance, seconds: float, extra: dict[str, np.ndarray] | None,
                tune_seconds: float | None) -> dict[str, np.ndarray]:
    """The candidate schedules of :func:`best_schedule` by name: serial, H-SF / SVF, the list
    schedules, the fluid grid, the tuned pace and the pilot (when their rules ask), and the feasible
    ones of ``extra``."""
    cands: dict[str, np.ndarray] = {"serial": serial_schedule(instance)}
    cands.update(online_schedules(instance))
    for name, order in _orders(instance).items():
        cands[f"list_{name}"] = list_schedule(instance, order)
    fluid = _fluid_grid(instance)
    cands.update({f"fluid_{th:g}_{off:g}": k for (th, off), k in fluid.items()})
    if tune_seconds is None:
        tune_seconds = seconds / 2 if instance.n >= TUNE_MIN_JOBS else 0.0
    if tune_seconds > 0 and instance.n > 1:
        th, b = min(fluid, key=lambda key: tel_of(instance, fluid[key]))
        cands["fluid_tuned"], _ = tuned_fluid_schedule(instance, theta=th, beta=b, seconds=tune_seconds)
    if seconds > 0 and 2 < instance.n <= PILOT_MAX_JOBS:
        cands["pilot"] = pilot_schedule(instance, seconds=PILOT_SHARE * seconds)
    for name, k in (extra or {}).items():
        k = np.asarray(k, dtype=np.int64)
        if k.shape == (instance.n,) and verify_schedule(instance, k).feasible:
            cands[name] = k
    return cands


def best_schedule(
    instance: Instance,
    *,
    seconds: float = 1.0,
    seed: int = 0,
    extra: dict[str, np.ndarray] | None = None,
    tune_seconds: float | None = None,
    orders: bool | None = None,
) -> tuple[np.ndarray, str, dict[str, int]]:
    """The best schedule of every heuristic here, improved by :func:`improve` and :func:`order_search`.

    Parameters
    ----------
    instance : Instance
    seconds : float
        Total budget: the pace tuning and the local search share what building the candidate
        schedules leaves of it.
    seed : int
    extra : dict name -> starts, optional
        Further candidate schedules (e.g. a user's hint); infeasible ones are ignored.
    tune_seconds : float, optional
        Cap of :func:`tuned_fluid_schedule`, started from the best fixed pace; 0 skips it. By
        default ``seconds / 2`` from :data:`TUNE_MIN_JOBS` jobs on, 0 below (measured with a 4 s
        budget: on paper-regime and Jaillet instances with n <= 100 the time is better spent on
        local search; at n = 1000, α = 1/32 the tuned pace is 5.7 % better than any fixed one). The
        local search gets what is left of ``seconds``: :func:`improve` from the two best starting
        points, and with ``orders``, half of it to :func:`order_search` from the best schedule so
        far.
    orders : bool, optional
        Spend half of the search on :func:`order_search`; by default up to
        :data:`ORDER_SEARCH_MAX_JOBS` jobs. (:func:`~lpsched.offline.pipeline.solve_hindsight` turns
        it off and runs the order search only when the LP shows a proof out of reach: its time is
        the solver's otherwise.)

    Returns
    -------
    (starts, name, tels)
        The best starts, the name of the heuristic it came from (``+ls`` when :func:`improve`
        improved it, ``+orders`` when :func:`order_search` did) and the TEL of every candidate.

    Raises
    ------
    ScheduleVerificationError
        If the chosen schedule fails verification (a bug).
    """
    t0 = time.perf_counter()
    cands = _candidates(instance, seconds, extra, tune_seconds)
    tels = {name: tel_of(instance, k) for name, k in cands.items()}
    ranked = sorted(tels, key=lambda nm: tels[nm])
    best_name = ranked[0]
    best = cands[best_name]
    ls = max(0.0, seconds - (time.perf_counter() - t0)) if seconds > 0 else 0.0
    orders = ls > 0 and (instance.n <= ORDER_SEARCH_MAX_JOBS if orders is None else orders)
    # the pilot's list order is a poor start for the time-window moves of improve (measured on
    # Jaillet et al.'s instances): it competes as it is
    for j, name in enumerate([nm for nm in ranked if nm != "pilot"][:2]):
        k = improve(instance, cands[name], seconds=ls / (4 if orders else 2), seed=seed + j)
        if tel_of(instance, k) < tel_of(instance, best):
            best, best_name = k, f"{name}+ls"
    if orders:
        k = order_search(instance, best, seconds=max(0.0, seconds - (time.perf_counter() - t0)), seed=seed)
        if tel_of(instance, k) < tel_of(instance, best):
            best, best_name = k, f"{best_name}+orders"
    require_feasible(verify_schedule(instance, best), "offline heuristic")
    return best, best_name, tels
