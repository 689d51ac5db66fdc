"""The KV-memory model of docs/model.md §2 and §4: the one place where its arithmetic lives.

Clock: decisions at integer times ``t``; round ``τ`` is the interval ``(τ-1, τ]``. A *run* that starts
at time ``k`` holding ``b`` KV tokens beforehand (``b = s_i`` for a fresh start; ``b = s_i + g_i`` for a
resumed one) and generates ``L`` tokens holds ``b + (τ - k)`` tokens in each round ``k < τ <= k + L``
and frees them at ``k + L``. A job's final run under restart semantics is ``b = s_i, L = o_i``.

Functions here:

* :func:`kv_tokens` – one run's tokens in one round;
* :func:`memory_profile` – the memory of a set of runs in every round (``O(n + T)``);
* :func:`next_round_memory` – ``Σ (b_j + g_j + 1)`` over running jobs, the overflow test;
* :func:`future_peak` / :func:`fits_future_peak` – the future-peak admission check of docs/model.md §4;
* :class:`PeakProfile` – the same check kept incrementally, for simulators that admit many jobs;
* :class:`PeakIndex` – the same check for a running set that changes rarely while time advances
  (event-driven simulators): sorted lists of predicted ends, and able to say when a blocked candidate will next fit.

Simulators, solvers, the verifier and the bounds call these; none of them re-derives the model.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

__all__ = [
    "kv_tokens",
    "memory_profile",
    "next_round_memory",
    "future_peak",
    "fits_future_peak",
    "memory_summary",
    "MemorySummary",
    "PeakIndex",
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


class MemorySummary(NamedTuple):
    """Peak memory, the first round attaining it, and the first round above ``M`` with its excess
    (``None`` when memory never exceeds ``M``)."""

    peak: int
    peak_round: int
    first_overflow_round: int | None
    overflow: int | None


def memory_summary(
    base: Sequence[int] | np.ndarray,
    start: Sequence[int] | np.ndarray,
    length: Sequence[int] | np.ndarray,
    M: int,
) -> MemorySummary:
    """Peak and first overflow of a set of runs, exactly as :func:`memory_profile` would give them.

    Memory is piecewise linear in ``τ``: between consecutive breakpoints (a run's first round
    ``k + 1`` or the round after its last, ``k + L + 1``) it is ``C + N·τ`` with ``N >= 0`` runs active,
    so within a segment it is largest at the segment's last round and first exceeds ``M`` at
    ``max(first round, ⌊(M − C)/N⌋ + 1)``. Cost ``O(n log n)``, memory ``O(n)``.
    """
    b = np.asarray(base, dtype=np.int64)
    k = np.asarray(start, dtype=np.int64)
    L = np.asarray(length, dtype=np.int64)
    act = L > 0
    b, k, L = b[act], k[act], L[act]
    if b.size == 0:
        return MemorySummary(0, 0, None, None)
    pts = np.concatenate([k + 1, k + L + 1])
    dc = np.concatenate([b - k, -(b - k)])
    dn = np.concatenate([np.ones_like(k), -np.ones_like(k)])
    order = np.argsort(pts, kind="stable")
    pts, dc, dn = pts[order], dc[order], dn[order]
    last_of = np.r_[pts[1:] != pts[:-1], True]
    seg_start = pts[last_of]
    C = np.cumsum(dc)[last_of]
    N = np.cumsum(dn)[last_of]
    seg_end = np.r_[seg_start[1:] - 1, seg_start[-1]]  # the final segment is empty (N = 0, C = 0)
    top = C + N * seg_end  # largest value in each segment (N >= 0)
    peak = int(top.max())
    i = int(np.argmax(top == peak))
    peak_round = int(seg_end[i]) if N[i] > 0 else int(seg_start[i])
    if peak <= M:
        return MemorySummary(peak, peak_round, None, None)
    j = int(np.argmax(top > M))
    if N[j] == 0:
        r = int(seg_start[j])
    else:
        r = max(int(seg_start[j]), (M - int(C[j])) // int(N[j]) + 1)
    return MemorySummary(peak, peak_round, r, int(C[j] + N[j] * r - M))


def next_round_memory(base: Sequence[int] | np.ndarray, generated: Sequence[int] | np.ndarray) -> int:
    """Memory of the running jobs in the next round: ``Σ (b_j + g_j + 1)`` (docs/model.md §3).

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
    """Highest predicted memory over rounds ``τ >= t + 1`` (docs/model.md §4).

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
    """The admission check of docs/model.md §4: does the set's predicted memory stay ``<= M``?

    Pass the running jobs together with the candidates (candidates start at ``t``).
    """
    return future_peak(t, base, start, estimate) <= M


#: Most predicted ends ahead that :class:`PeakIndex` walks in plain Python; beyond, cached NumPy arrays.
SCAN_MAX = 256


class PeakIndex:
    """The future-peak check of docs/model.md §4 over a changing set of runs, at any decision time.

    Runs are kept by predicted end ``E_j = k_j + e_j`` with ``d_j = b_j - k_j`` (the run's memory in
    round ``τ`` is ``d_j + τ``). The index is not tied to one time: at a
    time ``t`` every run whose predicted end is ``<= t + 1`` counts as ending at ``t + 1`` (the clamp
    of :func:`future_peak`), so a run past its estimate needs no update as time advances.

    With ``f(τ) = Σ_{E_j >= τ} (d_j + τ)`` the predicted memory of rounds ``τ >= t + 2`` and
    ``NR(t) = Σ_j (d_j + t + 1)`` the memory of round ``t + 1``, a candidate with base ``b`` and
    estimate ``L`` started at ``t`` (end ``E_c = t + L``) fits iff

    * ``NR(t) + b + 1 <= M`` (round ``t + 1``);
    * ``f(E) + b + E - t <= M`` for every end ``E`` in ``[t + 2, E_c]`` (memory rises between ends);
    * ``f(E_c) + b + L <= M`` if ``E_c >= t + 2``;
    * ``f(E) <= M`` for every end ``E >= t + 2`` beyond ``E_c``.

    The distinct ends are a sorted list with, per end, ``Σ d_j`` and the number of runs. A check
    walks the ends ``>= t + 2`` from the last, summing suffixes as it goes, when there are at most
    ``scan_max`` (default :data:`SCAN_MAX`) of them (Azure conv at M = 16,492 has about 10, at
    M = 467k about 140); beyond that the per-end values ``F = f(E)``, ``V = F + E`` and the suffix
    maximum of ``F`` are NumPy arrays rebuilt lazily after a change, and a check costs a few
    bisections and one slice maximum. Both give the same answers. :func:`future_peak` is the
    reference they are tested against.
    """

    __slots__ = (
        "_C",
        "_Csuf",
        "_F",
        "_N",
        "_Nsuf",
        "_SMF",
        "_V",
        "_count",
        "_csum",
        "_dirty",
        "_ends",
        "scan_max",
    )

    def __init__(self, scan_max: int | None = None) -> None:
        self._ends: list[int] = []  # distinct predicted ends, ascending
        self._C: list[int] = []  # Σ d_j of the runs ending there
        self._N: list[int] = []  # number of runs ending there
        self._csum = 0  # Σ d_j over all runs
        self._count = 0
        self.scan_max = SCAN_MAX if scan_max is None else scan_max
        self._dirty = True
        empty = np.zeros(0, dtype=np.int64)
        self._Csuf = self._Nsuf = self._F = self._V = self._SMF = empty

    def __len__(self) -> int:
        return self._count

    def next_round(self, t: int) -> int:
        """``NR(t) = Σ_j (b_j + g_j + 1)``, the memory of round ``t + 1``."""
        return self._csum + self._count * (t + 1)

    def add(self, base: int, start: int, length: int) -> None:
        """Add a run started at ``start`` with ``base`` tokens and estimate ``length``."""
        end = start + length
        d = base - start
        ends = self._ends
        i = bisect.bisect_left(ends, end)
        if i < len(ends) and ends[i] == end:
            self._C[i] += d
            self._N[i] += 1
        else:
            ends.insert(i, end)
            self._C.insert(i, d)
            self._N.insert(i, 1)
        self._csum += d
        self._count += 1
        self._dirty = True

    def remove(self, base: int, start: int, length: int) -> None:
        """Remove a run previously added with the same arguments."""
        end = start + length
        d = base - start
        ends = self._ends
        i = bisect.bisect_left(ends, end)
        if i == len(ends) or ends[i] != end:
            raise KeyError(f"no run ends at {end}")
        n = self._N[i] - 1
        if n == 0:
            del ends[i], self._C[i], self._N[i]
        else:
            self._C[i] -= d
            self._N[i] = n
        self._csum -= d
        self._count -= 1
        self._dirty = True

    def _rebuild(self) -> None:
        E, C, N = np.array((self._ends, self._C, self._N), dtype=np.int64)
        self._Csuf = np.cumsum(C[::-1])[::-1]
        self._Nsuf = np.cumsum(N[::-1])[::-1]
        self._F = self._Csuf + E * self._Nsuf
        self._V = self._F + E
        self._SMF = np.maximum.accumulate(self._F[::-1])[::-1]
        self._dirty = False

    def peak(self, t: int) -> int:
        """Highest predicted memory over rounds ``τ >= t + 1`` (equals :func:`future_peak`)."""
        if self._count == 0:
            return 0
        ends, C, N = self._ends, self._C, self._N
        lo = bisect.bisect_left(ends, t + 2)
        best = self.next_round(t)
        cs = ns = 0
        for i in range(len(ends) - 1, lo - 1, -1):
            cs += C[i]
            ns += N[i]
            best = max(best, cs + ends[i] * ns)
        return best

    def fits(self, t: int, M: int, base: int, length: int) -> bool:
        """Would a run of ``base`` tokens and estimate ``length >= 1`` started at ``t`` fit?"""
        if self._count == 0:
            return base + length <= M
        if self._csum + self._count * (t + 1) + base + 1 > M:
            return False
        return self._fits_rest(t, M, base, length) is None

    def _fits_rest(self, t: int, M: int, base: int, length: int) -> int | None:
        """``None`` if the conditions beyond round ``t + 1`` hold, else the earliest time after
        ``t`` at which the violated one can stop being violated (the set left unchanged), or -1
        if it never can (the candidate alone exceeds ``M``)."""
        ends = self._ends
        D = len(ends)
        lo = bisect.bisect_left(ends, t + 2)
        if D - lo > self.scan_max:
            return self._fits_rest_arrays(t, M, base, length, lo)
        C, N = self._C, self._N
        ec = t + length
        cs = ns = 0
        i = D - 1
        over = -1  # the last end beyond E_c with f(E) > M
        while i >= lo and ends[i] > ec:
            cs += C[i]
            ns += N[i]
            if over < 0 and cs + ends[i] * ns > M:
                over = i
            i -= 1
        if ec >= t + 2:
            # f(E_c) from the suffix of the ends >= E_c
            above, cs_a, ns_a = i + 1, cs, ns  # the first end >= E_c (D: none)
            if i >= lo and ends[i] == ec:
                above, cs_a, ns_a = i, cs + C[i], ns + N[i]
            # ends in [t + 2, E_c]: the largest V = f(E) + E, the first such end among equals
            vbest = kbest = -1
            while i >= lo:
                e = ends[i]
                cs += C[i]
                ns += N[i]
                v = cs + e * ns + e
                if kbest < 0 or v >= vbest:
                    vbest, kbest = v, i
                i -= 1
            if kbest >= 0 and vbest + base - t > M:
                return min(vbest + base - M, ends[kbest] - 1)
            if cs_a + ec * ns_a + base + length > M:
                # f rises with τ up to the next end: violated until E_c passes it (or for ever)
                return ends[above] - length + 1 if above < D else -1
        if over >= 0:
            return ends[over] - 1
        return None

    def _fits_rest_arrays(self, t: int, M: int, base: int, length: int, lo: int) -> int | None:
        """:meth:`_fits_rest` on the cached per-end arrays (many ends)."""
        if self._dirty:
            self._rebuild()
        ends = self._ends
        D = len(ends)
        ec = t + length
        if ec >= t + 2:
            hi = bisect.bisect_right(ends, ec)
            if hi > lo:
                seg = self._V[lo:hi]
                k = int(seg.argmax())
                v = int(seg[k])
                if v + base - t > M:
                    return min(v + base - M, ends[lo + k] - 1)
            i = bisect.bisect_left(ends, ec)
            fc = int(self._Csuf[i]) + ec * int(self._Nsuf[i]) if i < D else 0
            if fc + base + length > M:
                return ends[i] - length + 1 if i < D else -1
            j = hi
        else:
            j = lo
        if j < D and int(self._SMF[j]) > M:
            over = np.flatnonzero(self._F[j:] > M)
            return ends[j + int(over[-1])] - 1
        return None

    def earliest_fit(self, t: int, M: int, base: int, length: int, max_steps: int = 16) -> int | None:
        """The earliest time ``t' > t`` at which the candidate would fit if the set stayed as it is.

        ``None`` when it never will (round ``t' + 1`` alone is too full, and that only grows). After
        ``max_steps`` jumps the current time is returned: an early answer is always safe for a
        caller that checks again then.
        """
        if base + length > M:
            return None
        if self._count == 0:
            return t + 1
        tt = t + 1
        for _ in range(max_steps):
            if self._csum + self._count * (tt + 1) + base + 1 > M:
                return None
            nxt = self._fits_rest(tt, M, base, length)
            if nxt is None:
                return tt
            if nxt < 0:
                return None
            tt = max(nxt, tt + 1)
        return tt
