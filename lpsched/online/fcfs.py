"""FCFS, vLLM-like (docs/model.md §4): arrival order, a watermark instead of the peak check, and on
overflow the last admitted job is evicted (vLLM's recompute preemption).

Admission: in arrival order (ties: smaller id), a job is started while the next-round memory of the
running jobs plus ``s_i + kept + 1`` stays ``<= (1 - w)·M`` (``w`` = ``watermark``, default 0.01);
with nothing running the head is started whenever ``s_i + kept + 1 <= M``. The scan stops at the
first job that does not fit (default) or skips it. Overflow: while ``Σ (b_j + g_j + 1) > M`` evict
the latest start, then the latest arrival, then the largest id.

Round ``t + 1``'s memory only grows while nothing completes or arrives, so a job that does not fit
now cannot fit later without an event: FCFS never needs a wake-up (except with ``same_round=forbid``).
"""

from __future__ import annotations

import heapq
from typing import Any, ClassVar

from .base import Policy, register_policy
from .view import RUNNING, PolicyView

__all__ = ["FCFS"]


@register_policy
class FCFS(Policy):
    """First come, first served with a KV watermark; evicts the last admitted job on overflow."""

    name = "fcfs"
    description = "FCFS vLLM-like: arrival order, watermark w, evict last admitted"
    OPTIONS: ClassVar[dict[str, Any]] = {"watermark": float, "scan": ("stop", "skip"),
                               "same_round": ("allow", "forbid")}
    DEFAULTS: ClassVar[dict[str, Any]] = {"watermark": 0.01, "scan": "stop", "same_round": "allow"}

    def bind(self, view: PolicyView, truth: list[int] | None, fast: bool) -> None:
        w = self.options["watermark"]
        if not 0.0 <= w < 1.0:
            from ..errors import OptionError

            raise OptionError(f"policy 'fcfs': watermark must be in [0, 1), got {w}")
        self.v = view
        self.fast = fast
        self.limit = (1.0 - w) * view.M
        self.waiting: list[tuple[int, int, int]] = []
        self.running: list[tuple[int, int, int, int, int]] = []  # (-k, -a, -rank, j, k)
        self._stop = self.options["scan"] == "stop"
        self._forbid = self.options["same_round"] == "forbid"

    def arrive(self, j: int) -> None:
        v = self.v
        heapq.heappush(self.waiting, (v.arrival[j], v.rank[j], j))

    def complete(self, j: int) -> None:
        pass  # its entry in the running heap becomes stale

    def _victim(self) -> int:
        v = self.v
        heap = self.running
        while True:
            _, _, _, j, k = heapq.heappop(heap)
            if v.status[j] == RUNNING and v.start[j] == k:
                return j

    def decide(self, t: int) -> int | None:
        v = self.v
        M = v.M
        evicted = False
        while v.next_round_memory() > M:
            j = self._victim()
            v.evict_job(j)
            heapq.heappush(self.waiting, (v.arrival[j], v.rank[j], j))
            evicted = True
        put_back = []
        waiting = self.waiting
        nr = v.next_round_memory()
        while waiting:
            j = waiting[0][2]
            if self._forbid and v.evicted_at[j] == t:
                put_back.append(heapq.heappop(waiting))
                continue
            b = v.prompt[j] + v.kept[j]
            idle = nr == 0
            if (idle and b + 1 <= M) or (not idle and nr + b + 1 <= self.limit):
                heapq.heappop(waiting)
                v.start_job(j)
                heapq.heappush(self.running, (-t, -v.arrival[j], -v.rank[j], j, t))
                nr = v.next_round_memory()
            elif self._stop:
                break
            else:
                put_back.append(heapq.heappop(waiting))
        for item in put_back:
            heapq.heappush(waiting, item)
        return t + 1 if (self._forbid and evicted) else None
