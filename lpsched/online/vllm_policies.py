"""lpsched's estimate-based policies (docs/model.md §4) on the vLLM step engine.

vLLM v1 schedules by priority when asked to (``--scheduling-policy priority``): its waiting queue is
a heap on the priority key, and when a running request cannot get a block it preempts the running
request with the largest key, even one already scheduled in this step (whose tokens and blocks are
given back). :class:`StepPolicy` puts an :class:`~lpsched.online.family.EstimatePolicy` (A_min,
A_max, H-SF, MC-SF, SVF) in those two places and adds the policy's own admission test; the engine
keeps every other mechanism (token budget and chunked prefill, ``max_num_seqs``, blocks, watermark,
full-sequence check, preemption by recompute, prefix cache):

* **order** – the waiting queue is the policy's heap ``(order key of the estimate, arrival, rank)``;
  a preempted request goes back into it with the estimate refined by the policy's
  ``after_eviction`` rule (vLLM's FCFS puts it at the head instead);
* **admission** – the head is admitted only if the policy's future-peak check over estimates
  (:mod:`lpsched.memory`) passes, time counted in engine steps: each running request is a run
  started at its admission step with base ``prompt + kept + block_size − 1`` tokens (a request
  holding ``c`` tokens holds ``⌈c / block_size⌉`` blocks, at most ``c + block_size − 1`` tokens of
  cache) and estimate ``max(e − kept, 1)``, against ``kv_blocks · block_size`` tokens. With nothing
  running the check is waived (the engine's own checks decide), so the slack never blocks an empty
  engine. When the check fails the scan stops (``scan=stop``) or skips to the next request
  (``scan=skip``); then the engine's checks run as for FCFS;
* **victim** – on a block shortage the running request first in the policy's eviction order
  (:meth:`EstimatePolicy.victim_key` with ``G`` = tokens generated so far) is preempted.

The estimates come from the policy object itself (``capped_estimate``, ``initial_estimate``,
``order_key``, ``estimate_after_eviction``, ``victim_key``) bound to a :class:`StepView` that
answers its questions from the engine's state; no estimate rule is written here. The reference
engine checks admission with :func:`~lpsched.memory.fits_future_peak` over the running set, the
fast one with :class:`~lpsched.memory.PeakIndex` (also asked when the blocked head would next fit,
to bound a stretch of decode-only steps); the tests require both to agree.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable

from ..errors import OptionError
from ..memory import PeakIndex, fits_future_peak
from .base import Policy
from .family import EstimatePolicy

__all__ = ["StepPolicy", "StepView"]


class StepView:
    """What an estimate policy reads, answered from the step engine (the policy's ``self.v``).

    ``arrival`` holds arrival times (ns), ``start`` each request's last admission step;
    :meth:`generated` asks the engine (tokens generated so far, kept ones included under resume).
    """

    def __init__(self, M: int, prompt: list[int], lower: list[int], upper: list[int],
                 predicted: list[int], arrival: list[int], rank: list[int]) -> None:
        self.M = M
        self.n = len(prompt)
        self.prompt = prompt
        self.lower = lower
        self.upper = upper
        self.predicted = predicted
        self.arrival = arrival
        self.rank = rank
        self.start = [-1] * self.n
        self.generated_fn: Callable[[int], int] = lambda j: 0

    def generated(self, j: int) -> int:
        return self.generated_fn(j)


class StepPolicy:
    """An estimate policy's waiting queue, admission test and victim on the step engine.

    The queue answers the engine's deque calls (``append`` on arrival, ``appendleft`` after a
    preemption, ``[0]``, ``popleft``, truth value); the engine calls :meth:`admits`,
    :meth:`started`, :meth:`finished`, :meth:`preempted`, :meth:`victim` and :meth:`wake`.
    """

    def __init__(self, policy: Policy, view: StepView, truth: list[int] | None, block_size: int,
                 fast: bool) -> None:
        if not isinstance(policy, EstimatePolicy):
            raise OptionError(f"engine vllm runs vLLM's FCFS and the estimate-based policies (amin, amax, "
                              f"hsf, mcsf, svf); '{policy.name}' has no step-engine version")
        policy.bind(view, truth if policy.clairvoyant else None, fast=False)
        self.p = policy
        self.v = view
        self.M = view.M
        self.slack = block_size - 1
        self.skip = policy.options["scan"] == "skip"
        self.fast = fast
        self.heap: list[tuple[int, int, int, int]] = []
        self.put_back: list[tuple[int, int, int, int]] = []
        self.run: dict[int, tuple[int, int, int]] = {}  # j -> (base, start, estimate) of its run
        self.index = PeakIndex() if fast else None

    # --------------------------------------------------------------- the waiting queue
    def _push(self, j: int) -> None:
        v = self.v
        heapq.heappush(self.heap, (self.p.order_key(j, self.p.est[j]), v.arrival[j], v.rank[j], j))

    def append(self, j: int) -> None:
        """``j`` arrives: its initial estimate, then its place in the policy's order."""
        p = self.p
        p.est[j] = p.capped_estimate(j, p.initial_estimate(j))
        self._push(j)

    def appendleft(self, j: int) -> None:
        """``j`` was preempted (after :meth:`preempted`): back in the queue at its refined estimate."""
        self._push(j)

    def arrival_key(self, j: int) -> tuple[int, int, int]:
        """Where ``j`` would stand in the queue if it arrived now (without adding it)."""
        p, v = self.p, self.v
        return p.order_key(j, p.capped_estimate(j, p.initial_estimate(j))), v.arrival[j], v.rank[j]

    def head_key(self) -> tuple[int, int, int]:
        return self.heap[0][:3]

    def __getitem__(self, i: int) -> int:
        if i != 0:
            raise IndexError("only the head of the policy queue is visible")
        return self.heap[0][3]

    def popleft(self) -> int:
        return heapq.heappop(self.heap)[3]

    def __bool__(self) -> bool:
        return bool(self.heap)

    def __len__(self) -> int:
        return len(self.heap)

    def skip_head(self) -> None:
        """``scan=skip``: set the head aside until :meth:`end_scan`."""
        self.put_back.append(heapq.heappop(self.heap))

    def end_scan(self) -> None:
        for item in self.put_back:
            heapq.heappush(self.heap, item)
        self.put_back.clear()

    # --------------------------------------------------------------- admission
    def _candidate(self, j: int, kept: int) -> tuple[int, int]:
        return self.v.prompt[j] + kept + self.slack, max(self.p.est[j] - kept, 1)

    def admits(self, j: int, step: int, kept: int) -> bool:
        """The policy's future-peak check for the head ``j`` (``kept`` generated tokens) at ``step``."""
        if not self.run:
            return True
        b, L = self._candidate(j, kept)
        if self.index is not None:
            return self.index.fits(step, self.M, b, L)
        runs = list(self.run.values())
        return fits_future_peak(step, self.M, [r[0] for r in runs] + [b], [r[1] for r in runs] + [step],
                                [r[2] for r in runs] + [L])

    def wake(self, step: int, kept: int) -> int | None:
        """The earliest step after ``step`` at which the head could pass :meth:`admits` with the
        running set unchanged (``None``: never); ``step + 1`` under ``scan=skip``."""
        if self.skip:
            return step + 1
        if self.index is None or not self.run:
            return step + 1
        b, L = self._candidate(self.heap[0][3], kept)
        return self.index.earliest_fit(step, self.M, b, L)

    def started(self, j: int, step: int, kept: int) -> None:
        """``j`` was admitted at ``step``: its run enters the future-peak set."""
        b, L = self._candidate(j, kept)
        self.p.e_run[j] = self.p.est[j]
        self.v.start[j] = step
        self.run[j] = (b, step, L)
        if self.index is not None:
            self.index.add(b, step, L)

    def finished(self, j: int) -> None:
        b, k, L = self.run.pop(j)
        if self.index is not None:
            self.index.remove(b, k, L)

    def preempted(self, j: int, generated: int) -> None:
        """``j`` was preempted after generating ``generated`` tokens: leave the set, refine."""
        self.finished(j)
        self.p.est[j] = self.p.estimate_after_eviction(j, generated)

    # --------------------------------------------------------------- eviction
    def victim(self, running: list[int], step: int) -> int:
        """The running request first in the policy's eviction order."""
        return min(running, key=lambda j: self.p.victim_key(j, step))
