"""Search over the order a list schedule places jobs in: :func:`order_search` (iterated insertion
and swap moves) and :func:`pilot_schedule` (the pilot method: each position takes the job whose
greedy completion is cheapest)."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import numpy as np

from ...errors import OptionError
from ...instance import Instance
from ...verify import require_feasible, verify_schedule
from ..formulation.classes import run_shape
from ..formulation.objective import tel_of
from .placement import place_earliest

__all__ = ["order_search", "pilot_schedule"]


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
            mem, k = place_earliest(mem, inst.M, sh, int(inst.arrival[i]))
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
