"""The two simulation engines: a per-round reference and an event-driven engine, one answer.

Both drive the same :class:`Core` (job bookkeeping: starts, evictions, completions, counters,
history, timed clock) and call the policy at decision times; they differ only in which times they
visit:

* :func:`run_rounds` visits every time ``t = 0, 1, 2, …``, finds completions by scanning the running
  jobs and recomputes the next-round memory by summation: obviously correct, slow.
* :func:`run_events` visits only the times at which something can change: a completion, an arrival,
  an overflow of round ``t + 1`` (with a fixed running set the next-round memory
  ``Σ(b_j + g_j + 1)`` grows by the number of running jobs per round, so the first overflow time is
  ``t + ⌊(M − NR)/N⌋ + 1``), and the wake-ups the policy asks for. Between them nothing changes, so
  memory statistics and the timed clock are summed in closed form.

Order at every decision time (docs/model.md §3): jobs completing at ``t`` leave, jobs arriving at ``t``
join, the policy evicts and starts, then the engine requires round ``t + 1`` to fit in ``M``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from heapq import heappop, heappush

import numpy as np

from ..verify import Run
from .base import Policy
from .profile import ProfileTiming
from .timing import TimingModel
from .view import DONE, PENDING, RUNNING, WAITING, PolicyView

__all__ = ["Core", "SimulationError", "run_rounds", "run_events", "EngineInput"]


class SimulationError(RuntimeError):
    """A policy broke the model (overflowed round t+1, deadlocked, or acted illegally): a bug."""


@dataclass
class EngineInput:
    """Plain columns the engine needs (the truth stays here, never in the view)."""

    M: int
    prompt: list[int]
    output: list[int]
    lower: list[int]
    upper: list[int]
    predicted: list[int]
    rank: list[int]
    arrival: list[int]  # arrival rounds (round model)
    arrival_ns: list[int] | None = None  # arrival times (timed model)
    semantics: str = "restart"
    timing: TimingModel | ProfileTiming | None = None
    record_memory: bool = False
    record_history: bool = False
    n: int = field(init=False)

    def __post_init__(self) -> None:
        self.n = len(self.prompt)


class Core:
    """Job bookkeeping shared by both engines."""

    def __init__(self, inp: EngineInput, policy: Policy, fast: bool) -> None:
        self.inp = inp
        self.M = inp.M
        self.policy = policy
        self.fast = fast
        n = inp.n
        self._out = inp.output  # truth: never handed to the view
        self.resume = inp.semantics == "resume"
        self.view = PolicyView(inp.M, inp.prompt, inp.lower, inp.upper, inp.predicted, inp.rank,
                               inp.semantics, self.start, self.evict, self.next_round)
        v = self.view
        self.status, self.kstart, self.kept = v.status, v.start, v.kept
        self.t = 0
        self.n_running = 0
        self.sb = 0  # Σ (b_j - k_j) over running jobs
        self.running: set[int] = set()  # the per-round engine's running set (fast: not kept)
        self.prompt = inp.prompt
        self.base = [0] * n
        self.done = 0
        self.completion = [0] * n
        self.evict_count = [0] * n
        self.first_start = [-1] * n
        self.evictions = 0
        self.wasted = 0
        self.recomputed = 0
        self.same_round = 0
        self.evicted_now = False
        self.cheap: list[tuple[int, int, int]] = []  # (completion time, j, k)
        self.history: list[Run] | None = [] if (inp.record_history or self.resume) else None
        self.prefill_now = 0
        self.fresh: list[int] = []  # jobs started for the first time at the current time
        # timed model
        self.clock = 0
        self.first_token_ns = [0] * n if inp.timing else None
        self.completion_ns = [0] * n if inp.timing else None
        truth = list(inp.output) if policy.clairvoyant else None
        policy.bind(v, truth, fast)

    # ----------------------------------------------------------------- state
    def next_round(self) -> int:
        """``Σ_running (b_j + g_j + 1)`` at the current time."""
        if self.fast:
            return self.sb + self.n_running * (self.t + 1)
        t = self.t
        return sum(self.base[j] + (t - self.kstart[j]) + 1 for j in self.running)

    # ----------------------------------------------------------------- actions
    def start(self, j: int) -> None:
        t = self.t
        status = self.status
        if status[j] != WAITING:
            raise SimulationError(f"policy '{self.policy.name}' started job index {j} at time {t}, "
                                  "which is not waiting")
        kept = self.kept[j]
        b = self.prompt[j] + kept
        status[j] = RUNNING
        self.kstart[j] = t
        self.base[j] = b
        self.sb += b - t
        self.n_running += 1
        self.prefill_now += b
        if self.evict_count[j]:
            self.recomputed += b
            if self.view.evicted_at[j] == t:
                self.same_round += 1
        if self.first_start[j] < 0:
            self.first_start[j] = t
            self.fresh.append(j)
        if self.fast:
            heappush(self.cheap, (t + self._out[j] - kept, j, t))
        else:
            self.running.add(j)

    def evict(self, j: int) -> None:
        t = self.t
        if self.status[j] != RUNNING:
            raise SimulationError(f"policy '{self.policy.name}' evicted job index {j} at time {t}, "
                                  "which is not running")
        k = self.kstart[j]
        g = t - k
        self._leave(j)
        if self.history is not None:
            self.history.append(Run(j, k, self.kept[j], g))
        if self.resume:
            self.kept[j] += g
        else:
            self.wasted += g
        self.view.evicted_max[j] = max(self.view.evicted_max[j], self.kept[j] if self.resume else g)
        self.status[j] = WAITING
        self.view.evicted_at[j] = t
        self.evict_count[j] += 1
        self.evictions += 1
        self.evicted_now = True

    def _leave(self, j: int) -> None:
        self.sb -= self.base[j] - self.kstart[j]
        self.n_running -= 1
        if not self.fast:
            self.running.discard(j)

    def complete(self, j: int) -> None:
        t = self.t
        k = self.kstart[j]
        self._leave(j)
        if self.history is not None:
            self.history.append(Run(j, k, self.kept[j], t - k))
        self.status[j] = DONE
        self.view._revealed[j] = self._out[j]
        self.completion[j] = t
        if self.completion_ns is not None:
            self.completion_ns[j] = self.clock
        self.done += 1
        self.policy.complete(j)

    def join(self, j: int) -> None:
        self.status[j] = WAITING
        self.view.arrival[j] = self.t
        self.policy.arrive(j)

    def decide(self) -> int | None:
        """Run the policy at the current time and check round ``t + 1``."""
        t = self.t
        self.view.t = t
        self.evicted_now = False
        self.prefill_now = 0
        self.fresh.clear()
        wake = self.policy.decide(t)
        nr = self.next_round()
        if nr > self.M:
            raise SimulationError(f"policy '{self.policy.name}' leaves round {t + 1} at {nr} tokens "
                                  f"> M = {self.M} (decision time {t})")
        if wake is not None and wake <= t:
            raise SimulationError(f"policy '{self.policy.name}' asked to be woken at {wake} <= {t}")
        if self.first_token_ns is not None and self.fresh:
            d = self.inp.timing.duration(self.prefill_now, self.n_running, nr)
            for j in self.fresh:
                self.first_token_ns[j] = self.clock + d
        return wake

    def deadlocked(self, pending: bool) -> bool:
        return (self.n_running == 0 and not pending and not self.evicted_now
                and self.done < self.inp.n)

    def deadlock_error(self) -> SimulationError:
        waiting = sum(1 for s in self.status if s == WAITING)
        return SimulationError(f"policy '{self.policy.name}' deadlocked at time {self.t}: nothing runs, "
                               f"{waiting} jobs wait and no arrival is pending")


class _Arrivals:
    """Pending arrivals in order: by round (round model) or by nanosecond (timed model)."""

    def __init__(self, inp: EngineInput) -> None:
        key = inp.arrival_ns if inp.timing is not None else inp.arrival
        assert key is not None
        self.key = key
        self.order = np.lexsort((np.asarray(inp.rank), np.asarray(key, dtype=np.int64))).tolist()
        self.p = 0

    def pending(self) -> bool:
        return self.p < len(self.order)

    def next_key(self) -> int:
        return self.key[self.order[self.p]]

    def pop_until(self, bound: int) -> list[int]:
        out = []
        order, key = self.order, self.key
        while self.p < len(order) and key[order[self.p]] <= bound:
            out.append(order[self.p])
            self.p += 1
        return out


@dataclass
class Trace:
    """Memory statistics gathered by an engine."""

    peak: int = 0
    total: int = 0
    segments: list[tuple[int, int, int, int]] = field(default_factory=list)  # (t, nr, N, rounds)

    def add(self, t: int, nr: int, N: int, rounds: int, record: bool) -> None:
        if rounds <= 0:
            return
        self.peak = max(self.peak, nr + N * (rounds - 1))
        self.total += rounds * nr + N * rounds * (rounds - 1) // 2
        if record:
            self.segments.append((t, nr, N, rounds))

    def per_round(self, makespan: int) -> np.ndarray:
        mem = np.zeros(makespan + 1, dtype=np.int64)
        for t, nr, N, r in self.segments:
            mem[t + 1:t + 1 + r] = nr + N * np.arange(r, dtype=np.int64)
        return mem


def run_rounds(core: Core) -> Trace:
    """The per-round reference engine: every time step, everything recomputed."""
    inp = core.inp
    arr = _Arrivals(inp)
    trace = Trace()
    timing = inp.timing
    while True:
        t = core.t
        for j in sorted(core.running):
            if core.kstart[j] + core._out[j] - core.kept[j] == t:
                core.complete(j)
        if core.done == inp.n:
            break
        for j in arr.pop_until(core.clock if timing else t):
            core.join(j)
        core.decide()
        nr = core.next_round()
        if core.deadlocked(arr.pending()):
            raise core.deadlock_error()
        trace.add(t, nr, core.n_running, 1, inp.record_memory)
        if timing:
            core.clock += timing.duration(core.prefill_now, core.n_running, nr)
        core.t = t + 1
    return trace


def _first_round_at(timing: TimingModel | ProfileTiming, prefill: int, N: int, nr: int, gap: int) -> int:
    """Smallest ``i >= 1`` with ``span(i) >= gap`` (rounds until the clock reaches an arrival)."""
    if timing.span(prefill, N, nr, 1) >= gap:
        return 1
    lo, hi = 1, 2
    while timing.span(prefill, N, nr, hi) < gap:
        lo, hi = hi, hi * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if timing.span(prefill, N, nr, mid) >= gap:
            hi = mid
        else:
            lo = mid
    return hi


def run_events(core: Core) -> Trace:
    """The event-driven engine: visits only completions, arrivals, overflows and wake-ups."""
    inp = core.inp
    M = inp.M
    n = inp.n
    arr = _Arrivals(inp)
    order, key = arr.order, arr.key
    trace = Trace()
    timing = inp.timing
    cheap = core.cheap
    status, kstart = core.status, core.kstart
    record = inp.record_memory
    complete, join, decide = core.complete, core.join, core.decide
    while True:
        t = core.t
        while cheap and cheap[0][0] == t:
            _, j, k = heappop(cheap)
            if status[j] == RUNNING and kstart[j] == k:
                complete(j)
        if core.done == n:
            break
        if arr.p < n:
            for j in arr.pop_until(core.clock if timing else t):
                join(j)
        wake = decide()
        N = core.n_running
        nr = core.sb + N * (t + 1)
        while cheap:
            _, j, k = cheap[0]
            if status[j] == RUNNING and kstart[j] == k:
                break
            heappop(cheap)
        nxt = cheap[0][0] if cheap else None
        if N:
            over = t + (M - nr) // N + 1
            nxt = over if nxt is None or over < nxt else nxt
        if wake is not None and (nxt is None or wake < nxt):
            nxt = wake
        if arr.p < n:
            if timing:
                gap = key[order[arr.p]] - core.clock
                ta = t + (1 if gap <= 0 else _first_round_at(timing, core.prefill_now, N, nr, gap))
            else:
                ta = key[order[arr.p]]
            if nxt is None or ta < nxt:
                nxt = ta
        elif core.deadlocked(False) and wake is None:
            raise core.deadlock_error()
        if nxt is None:
            raise core.deadlock_error()
        rounds = nxt - t
        trace.add(t, nr, N, rounds, record)
        if timing:
            core.clock += timing.span(core.prefill_now, N, nr, rounds)
        core.t = nxt
    return trace


__all__ += ["Trace", "PENDING"]
