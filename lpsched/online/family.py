"""The estimate-based family of docs/model.md §4 (A_min, A_max, H-SF, MC-SF, SVF) as one small class.

Every member keeps an estimate ``e_i`` of each job's output (capped at ``M - s_i``) and shares:

* **refinement** – a running job that has generated ``G >= e`` tokens has ``o >= G + 1``: its
  estimate is ``max(e_run, G + 1)`` where ``e_run`` is the estimate it was started with. The rule is
  applied lazily (evaluated when needed), which gives the same value as refining every round;
* **overflow** – while ``Σ_running (b_j + g_j + 1) > M``, evict the first running job in the
  eviction order (default ascending ``(e, G)``, then latest arrival, then largest id);
* **admission** – waiting jobs in the policy's order (default ascending ``e``, then earlier arrival,
  then smaller id), each started if the shared future-peak check of :mod:`lpsched.memory` passes;
  the scan stops at the first that does not fit (default) or skips it.

Only the initial estimate and the order differ between members. For A_min refinement is the design;
for the others it is the misprediction fallback of docs/model.md §4 (counted as ``refinements``).

Two implementations of the same rules: the reference (``fast=False``: :func:`fits_future_peak`
over the running set, minimum over the running set for the victim) and the fast one
(:class:`lpsched.memory.PeakIndex`, heaps, and wake-ups computed with
:meth:`PeakIndex.earliest_fit`).
"""

from __future__ import annotations

from heapq import heappop, heappush
from typing import Any, ClassVar

from ..memory import PeakIndex, fits_future_peak
from .base import Policy, register_policy
from .view import RUNNING, PolicyView

__all__ = ["EstimatePolicy", "AMin", "AMax", "HSF", "MCSF", "SVF"]


class EstimatePolicy(Policy):
    """Shared machinery; subclasses define :meth:`initial_estimate` (and possibly :meth:`order_key`).

    Options: ``scan`` stop|skip; ``same_round`` allow|forbid (restarting a job at the time it was
    evicted); ``eviction`` estimate|fewest|last (ascending ``(e, G)`` / fewest generated tokens /
    last admitted); ``after_eviction`` g+1|max_prev_g|double (the evicted job's estimate becomes
    ``max(e, G + 1)``, the largest lower bound known, or ``max(estimate before the run, G)``, or
    ``max(2e, G + 1)``: at least doubled, so a job's estimate reaches its cap ``M − s`` after at most
    ``log2((M − s)/l)`` restarts — a reading of "refine the estimate" that bounds restarts).
    """

    OPTIONS: ClassVar[dict[str, Any]] = {
        "scan": ("stop", "skip"),
        "same_round": ("allow", "forbid"),
        "eviction": ("estimate", "fewest", "last"),
        "after_eviction": ("g+1", "max_prev_g", "double"),
    }
    DEFAULTS: ClassVar[dict[str, Any]] = {"scan": "stop", "same_round": "allow", "eviction": "estimate",
                                "after_eviction": "g+1"}

    # --------------------------------------------------------------- subclass hooks
    def initial_estimate(self, j: int) -> int:
        raise NotImplementedError

    def order_key(self, j: int, e: int) -> int:
        """Primary key of the admission order (ties: earlier arrival, then smaller id)."""
        return e

    # --------------------------------------------------------------- engine interface
    def bind(self, view: PolicyView, truth: list[int] | None, fast: bool) -> None:
        self.v = view
        self.truth = truth
        self.fast = fast
        n = view.n
        self.est = [0] * n       # current estimate (of the total output) of a job not running
        self.e_run = [0] * n     # estimate a running job was started with
        self.run_len = [0] * n   # its run estimate max(e_run - kept, 1) (predicted end = k + run_len)
        self.run_base = [0] * n  # its base s + kept
        self.waiting: list[tuple[int, int, int, int]] = []
        self.refinements = 0
        self.evicted_estimates = 0
        self._stop = self.options["scan"] == "stop"
        self._forbid = self.options["same_round"] == "forbid"
        self._eviction = self.options["eviction"]
        self._after = self.options["after_eviction"]
        if fast:
            self.index = PeakIndex()
            self._vheap: list[tuple[int, ...]] = []  # main victim heap
            self._expiry: list[tuple[int, int, int]] = []  # (predicted end, j, k) for 'estimate'
            self._past: list[tuple[int, ...]] = []  # runs past their estimate, for 'estimate'
            self._past_run = [-1] * n
        else:
            self.running: set[int] = set()

    def capped_estimate(self, j: int, e: int) -> int:
        """``e`` clamped to ``[1, M − s_j]`` (every estimate the policy keeps)."""
        return max(1, min(e, self.v.M - self.v.prompt[j]))

    def estimate_after_eviction(self, j: int, G: int) -> int:
        """The estimate of job ``j`` evicted after generating ``G`` tokens (option ``after_eviction``),
        from ``e_run[j]``, the estimate its run was started with."""
        e_before = self.e_run[j]
        if self._after == "g+1":
            e = max(e_before, G + 1)
        elif self._after == "double":
            e = max(2 * e_before, G + 1)
        else:
            e = max(e_before, G)
        return self.capped_estimate(j, e)

    def arrive(self, j: int) -> None:
        v = self.v
        e = self.capped_estimate(j, self.initial_estimate(j))
        self.est[j] = e
        heappush(self.waiting, (self.order_key(j, e), v.arrival[j], v.rank[j], j))

    def complete(self, j: int) -> None:
        self._drop(j)
        if self.v.output(j) > self.e_run[j]:
            self.refinements += 1

    def stats(self) -> dict[str, Any]:
        return {"refinements": self.refinements}

    # --------------------------------------------------------------- running set
    def _add(self, j: int, t: int) -> None:
        v = self.v
        kept = v.kept[j]
        e = self.est[j]
        b = v.prompt[j] + kept
        L = e - kept if e - kept > 1 else 1
        self.e_run[j] = e
        self.run_len[j] = L
        self.run_base[j] = b
        if not self.fast:
            self.running.add(j)
            return
        self.index.add(b, t, L)
        q = kept - t  # generated tokens G = t' + q at any later time t'
        eviction = self._eviction
        if eviction == "estimate":
            heappush(self._vheap, (e, q, -v.arrival[j], -v.rank[j], j, t))
            heappush(self._expiry, (t + e - kept, j, t))
        elif eviction == "fewest":
            heappush(self._vheap, (q, -v.arrival[j], -v.rank[j], j, t))
        else:
            heappush(self._vheap, (-t, -v.arrival[j], -v.rank[j], j, t))

    def _drop(self, j: int) -> None:
        if self.fast:
            self.index.remove(self.run_base[j], self.v.start[j], self.run_len[j])
        else:
            self.running.discard(j)

    def _fits(self, t: int, M: int, b: int, L: int) -> bool:
        """The reference check: :func:`fits_future_peak` over the running set and the candidate."""
        v = self.v
        run = sorted(self.running)
        bases = [self.run_base[i] for i in run] + [b]
        starts = [v.start[i] for i in run] + [t]
        ests = [self.run_len[i] for i in run] + [L]
        return fits_future_peak(t, M, bases, starts, ests)

    # --------------------------------------------------------------- eviction
    def victim_key(self, j: int, t: int) -> tuple[int, ...]:
        """The eviction order as defined (reference)."""
        v = self.v
        G = v.generated(j)
        a, r = v.arrival[j], v.rank[j]
        if self._eviction == "estimate":
            return (max(self.e_run[j], G + 1), G, -a, -r)
        if self._eviction == "fewest":
            return (G, -a, -r)
        return (-v.start[j], -a, -r)

    def _valid(self, j: int, k: int) -> bool:
        return self.v.status[j] == RUNNING and self.v.start[j] == k

    def _victim(self, t: int) -> int:
        if not self.fast:
            return min(self.running, key=lambda j: self.victim_key(j, t))
        heap = self._vheap
        if self._eviction != "estimate":
            while not self._valid(heap[0][-2], heap[0][-1]):
                heappop(heap)
            return heappop(heap)[-2]
        v = self.v
        exp, past, prun = self._expiry, self._past, self._past_run
        while exp and exp[0][0] <= t:  # runs now past their estimate: key (G + 1, G)
            _, j, k = heappop(exp)
            if self._valid(j, k):
                prun[j] = k
                heappush(past, (v.kept[j] - k, -v.arrival[j], -v.rank[j], j, k))
        while heap and (not self._valid(heap[0][-2], heap[0][-1]) or prun[heap[0][-2]] == heap[0][-1]):
            heappop(heap)
        while past and not self._valid(past[0][-2], past[0][-1]):
            heappop(past)
        if not past:
            return heappop(heap)[-2]
        if not heap:
            return heappop(past)[-2]
        e0, q0, na0, nr0, _, _ = heap[0]
        q1, na1, nr1, _, _ = past[0]
        if (e0, t + q0, na0, nr0) < (t + q1 + 1, t + q1, na1, nr1):
            return heappop(heap)[-2]
        return heappop(past)[-2]

    def _evict(self, j: int, t: int) -> None:
        v = self.v
        G = v.generated(j)
        e_before = self.e_run[j]
        self._drop(j)
        v.evict_job(j)
        if G >= e_before:
            self.refinements += 1
        e = self.estimate_after_eviction(j, G)
        self.est[j] = e
        heappush(self.waiting, (self.order_key(j, e), v.arrival[j], v.rank[j], j))

    # --------------------------------------------------------------- decision
    def decide(self, t: int) -> int | None:
        v = self.v
        M = v.M
        evicted = False
        while v.next_round_memory() > M:
            self._evict(self._victim(t), t)
            evicted = True
        waiting = self.waiting
        prompt, kept, est = v.prompt, v.kept, self.est
        fast = self.fast
        fits = self.index.fits if fast else self._fits
        forbid, stop = self._forbid, self._stop
        evicted_at = v.evicted_at
        put_back = []
        blocked = -1
        while waiting:
            j = waiting[0][3]
            if forbid and evicted_at[j] == t:
                put_back.append(heappop(waiting))
                continue
            b = prompt[j] + kept[j]
            L = est[j] - kept[j]
            if fits(t, M, b, L if L > 1 else 1):
                heappop(waiting)
                v.start_job(j)
                self._add(j, t)
            elif stop:
                blocked = j
                break
            else:
                put_back.append(heappop(waiting))
        for item in put_back:
            heappush(waiting, item)
        if forbid and evicted:
            return t + 1
        if not fast or not waiting:
            return None
        if not stop:
            # Any waiting job might fit later; a conservative wake-up while round t+1 has room.
            return t + 1 if v.next_round_memory() + v.min_prompt + 1 <= M else None
        if blocked < 0:
            return None
        b = prompt[blocked] + kept[blocked]
        return self.index.earliest_fit(t, M, b, max(est[blocked] - kept[blocked], 1))


@register_policy
class AMin(EstimatePolicy):
    """A_min (Chen, Ye, Zhou): start from the lower end ``l_i``, refine, evict on overflow."""

    name = "amin"
    description = "A_min: estimate l_i, refined to g+1; evicts smallest estimate on overflow"

    def initial_estimate(self, j: int) -> int:
        return self.v.lower[j]


@register_policy
class AMax(EstimatePolicy):
    """A_max (Chen, Ye, Zhou): schedule as if every job had its upper end ``u_i``."""

    name = "amax"
    description = "A_max: estimate u_i (never evicts while o_i <= u_i)"

    def initial_estimate(self, j: int) -> int:
        return self.v.upper[j]


@register_policy
class HSF(EstimatePolicy):
    """Hindsight shortest first: the paper's clairvoyant benchmark (not the optimum)."""

    name = "hsf"
    description = "H-SF: clairvoyant shortest first (benchmark, not optimal)"
    clairvoyant = True

    def initial_estimate(self, j: int) -> int:
        assert self.truth is not None
        return self.truth[j]


@register_policy
class MCSF(EstimatePolicy):
    """MC-SF (Jaillet et al.) with point predictions; ``missing`` says what a job without one uses."""

    name = "mcsf"
    description = "MC-SF: point prediction, shortest first with the future-peak check"
    OPTIONS: ClassVar[dict[str, Any]] = {**EstimatePolicy.OPTIONS, "missing": ("upper", "lower", "mid")}
    DEFAULTS: ClassVar[dict[str, Any]] = {**EstimatePolicy.DEFAULTS, "missing": "upper"}

    def initial_estimate(self, j: int) -> int:
        v = self.v
        p = v.predicted[j]
        if p > 0:
            return p
        how = self.options["missing"]
        if how == "upper":
            return v.upper[j]
        if how == "lower":
            return v.lower[j]
        return (v.lower[j] + v.upper[j] + 1) // 2


@register_policy
class SVF(EstimatePolicy):
    """Smallest volume first (Kong et al.): clairvoyant, ordered by ``s·e + e(e+1)/2``."""

    name = "svf"
    description = "SVF: clairvoyant smallest volume first"
    clairvoyant = True

    def initial_estimate(self, j: int) -> int:
        assert self.truth is not None
        return self.truth[j]

    def order_key(self, j: int, e: int) -> int:
        return self.v.prompt[j] * e + e * (e + 1) // 2
