"""The KV-memory model of MODEL.md §2 and §4: the one place where its arithmetic lives.

Clock: decisions at integer times ``t``; round ``τ`` is the interval ``(τ-1, τ]``. A *run* that starts
at time ``k`` holding ``b`` KV tokens beforehand (``b = s_i`` for a fresh start; ``b = s_i + g_i`` for a
resumed one) and generates ``L`` tokens holds ``b + (τ - k)`` tokens in each round ``k < τ <= k + L``
and frees them at ``k + L``. A job's final run under restart semantics is ``b = s_i, L = o_i``.

Functions here:

* :func:`kv_tokens` – one run's tokens in one round;
* :func:`memory_profile` – the memory of a set of runs in every round (``O(n + T)``);
* :func:`next_round_memory` – ``Σ (b_j + g_j + 1)`` over running jobs, the overflow test;
* :func:`future_peak` / :func:`fits_future_peak` – the future-peak admission check of MODEL.md §4;
* :class:`PeakProfile` – the same check kept incrementally, for simulators that admit many jobs.

Simulators, solvers, the verifier and the bounds call these; none of them re-derives the model.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

import numpy as np

__all__ = [
    "kv_tokens",
    "memory_profile",
    "next_round_memory",
    "future_peak",
    "fits_future_peak",
    "PeakProfile",
]


def kv_tokens(base: int, start: int, length: int, round_: int) -> int:
    """KV tokens held in round ``round_`` by a run started at ``start`` with ``base`` tokens.

    ``base + (round_ - start)`` while ``start < round_ <= start + length``, else 0.

    Examples
    --------
    >>> [kv_tokens(3, 0, 2, tau) for tau in range(0, 4)]
    [0, 4, 5, 0]
    """
    if start < round_ <= start + length:
        return base + round_ - start
    return 0


def memory_profile(
    base: Sequence[int] | np.ndarray,
    start: Sequence[int] | np.ndarray,
    length: Sequence[int] | np.ndarray,
    horizon: int | None = None,
) -> np.ndarray:
    """Memory in every round of a set of runs.

    Parameters
    ----------
    base, start, length : int arrays
        Per run: tokens held before the run (the prompt for a fresh start), start time, and tokens
        generated in the run. Runs with ``length == 0`` hold nothing.
    horizon : int, optional
        Last round to report; defaults to the last round any run is active.

    Returns
    -------
    numpy.ndarray
        ``mem`` with ``mem[τ]`` the total KV tokens in round ``τ`` for ``τ = 0..horizon``
        (``mem[0] = 0``: no round ends at time 0).

    Notes
    -----
    Round ``τ`` of a run contributes ``(b - k) + τ``: a constant and a count, each added on the
    run's interval with a difference array, so the cost is ``O(n + T)``.
    """
    b = np.asarray(base, dtype=np.int64)
    k = np.asarray(start, dtype=np.int64)
    L = np.asarray(length, dtype=np.int64)
    if np.any(k < 0):
        raise ValueError("run starts must be >= 0")
    if np.any(L < 0):
        raise ValueError("run lengths must be >= 0")
    end = k + L
    T = int(end.max()) if end.size else 0
    if horizon is None:
        horizon = T
    size = max(T, horizon) + 2
    const = np.zeros(size, dtype=np.int64)
    count = np.zeros(size, dtype=np.int64)
    active = L > 0
    lo = k[active] + 1
    hi = end[active] + 1
    np.add.at(const, lo, b[active] - k[active])
    np.add.at(const, hi, -(b[active] - k[active]))
    np.add.at(count, lo, 1)
    np.add.at(count, hi, -1)
    tau = np.arange(size, dtype=np.int64)
    mem = np.cumsum(const) + tau * np.cumsum(count)
    return mem[: horizon + 1]


def next_round_memory(base: Sequence[int] | np.ndarray, generated: Sequence[int] | np.ndarray) -> int:
    """Memory of the running jobs in the next round: ``Σ (b_j + g_j + 1)`` (MODEL.md §3).

    ``base`` is each running job's tokens before its current run and ``generated`` the tokens that
    run has produced so far.
    """
    b = np.asarray(base, dtype=np.int64)
    g = np.asarray(generated, dtype=np.int64)
    return int((b + g + 1).sum()) if b.size else 0


def future_peak(
    t: int,
    base: Sequence[int] | np.ndarray,
    start: Sequence[int] | np.ndarray,
    estimate: Sequence[int] | np.ndarray,
) -> int:
    """Highest predicted memory over rounds ``τ >= t + 1`` (MODEL.md §4).

    Each job runs from ``start`` (``<= t``) and is predicted to end at ``start + estimate``; a job
    whose predicted end is already past (``start + estimate <= t``) is taken to end at ``t + 1``
    (it is still running, so it needs at least one more round). Memory rises between predicted ends,
    so the peak is attained at ``τ = t + 1`` or at a predicted end.

    Returns 0 for an empty set.
    """
    b = np.asarray(base, dtype=np.int64)
    k = np.asarray(start, dtype=np.int64)
    e = np.asarray(estimate, dtype=np.int64)
    if b.size == 0:
        return 0
    end = np.maximum(k + e, t + 1)
    order = np.argsort(-end, kind="stable")
    end_sorted = end[order]
    # Memory at τ = end_sorted[j] is Σ over jobs with end >= τ of (b - k) + τ·count.
    const = np.cumsum((b - k)[order])
    count = np.arange(1, b.size + 1, dtype=np.int64)
    # Among equal ends, the last one in descending order covers all of them.
    last_of_group = np.r_[end_sorted[1:] != end_sorted[:-1], True]
    vals = const[last_of_group] + end_sorted[last_of_group] * count[last_of_group]
    return int(vals.max())


def fits_future_peak(
    t: int,
    M: int,
    base: Sequence[int] | np.ndarray,
    start: Sequence[int] | np.ndarray,
    estimate: Sequence[int] | np.ndarray,
) -> bool:
    """The admission check of MODEL.md §4: does the set's predicted memory stay ``<= M``?

    Pass the running jobs together with the candidates (candidates start at ``t``).
    """
    return future_peak(t, base, start, estimate) <= M


class PeakProfile:
    """The future-peak check kept incrementally, for a policy that admits jobs one by one.

    Holds a set of runs by predicted end ``E_j = k_j + e_j`` and answers "does adding a run keep
    the predicted memory ``<= M`` in every round ``τ >= t + 1``?" without re-sorting the whole set.

    Memory at ``τ`` is ``C(τ) + τ·N(τ)`` with ``C(τ) = Σ_{E_j >= τ} (b_j - k_j)`` and ``N(τ)`` the number
    of runs with ``E_j >= τ``. Adding a run with end ``E`` raises the memory of every ``τ <= E`` by
    ``b - k + τ``, so only the ends ``<= E`` (and ``E`` itself) need checking. Intended for the
    moderate sets of running jobs of a KV-bound server; :func:`future_peak` is the reference it is
    tested against.
    """

    __slots__ = ("_const", "_count", "_ends", "t")

    def __init__(self, t: int) -> None:
        self.t = t
        self._ends: list[int] = []  # distinct predicted ends, ascending
        self._const: dict[int, int] = {}  # end -> Σ (b - k) of runs ending there
        self._count: dict[int, int] = {}

    def add(self, base: int, start: int, estimate: int) -> None:
        """Add a run (running, or admitted at ``t``)."""
        end = max(start + estimate, self.t + 1)
        if end not in self._const:
            bisect.insort(self._ends, end)
            self._const[end] = 0
            self._count[end] = 0
        self._const[end] += base - start
        self._count[end] += 1

    def peak(self) -> int:
        """The highest predicted memory over ``τ >= t + 1``."""
        best = 0
        c = 0
        m = 0
        for end in reversed(self._ends):
            c += self._const[end]
            m += self._count[end]
            best = max(best, c + end * m)
        return best

    def fits_with(self, M: int, base: int, start: int, estimate: int) -> bool:
        """Would the predicted memory stay ``<= M`` with this run added? (Does not add it.)"""
        end_new = max(start + estimate, self.t + 1)
        add_const = base - start
        c = 0
        m = 0
        # Walk ends from the latest down; the new run contributes to every τ <= end_new.
        ends = self._ends
        i = len(ends) - 1
        while i >= 0 and ends[i] > end_new:
            c += self._const[ends[i]]
            m += self._count[ends[i]]
            if c + ends[i] * m > M:  # rounds after the new run ends: unchanged, but checked
                return False
            i -= 1
        # τ = end_new itself (with every run ending at or after it, plus the new one).
        c_at = c + add_const + (self._const.get(end_new, 0))
        m_at = m + 1 + (self._count.get(end_new, 0))
        if c_at + end_new * m_at > M:
            return False
        c, m = c_at, m_at
        if i >= 0 and ends[i] == end_new:
            i -= 1
        while i >= 0:
            end = ends[i]
            c += self._const[end]
            m += self._count[end]
            if c + end * m > M:
                return False
            i -= 1
        return True
