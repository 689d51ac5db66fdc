"""What an online policy sees (docs/model.md §3): a view with no true length of an unfinished job.

The engine owns the truth; a :class:`PolicyView` holds only public columns (``M``, prompts,
intervals, point predictions, join rounds) and the public state of every job (waiting, running with
its start and kept tokens, done), plus two actions, :meth:`PolicyView.start` and
:meth:`PolicyView.evict`. There is no attribute holding ``o_i``: :meth:`PolicyView.output` reveals a
length only once the job is done, and raises :class:`InformationHidingError` otherwise.
Clairvoyant benchmarks (H-SF, SVF) receive the true lengths separately, at binding time.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["PENDING", "WAITING", "RUNNING", "DONE", "PolicyView", "InformationHidingError"]

PENDING, WAITING, RUNNING, DONE = 0, 1, 2, 3


class InformationHidingError(RuntimeError):
    """A policy asked for the true length of an unfinished job."""


class PolicyView:
    """A policy's window on the simulation.

    Public lists (index = job): ``prompt``, ``lower``, ``upper``, ``predicted`` (0 = none),
    ``arrival`` (the round a job joined; -1 before), ``rank`` (position of the id in the tie-break
    order), ``status`` (PENDING/WAITING/RUNNING/DONE), ``start`` (start of the current or last run),
    ``kept`` (generated tokens a job keeps under resume; 0 under restart), ``evicted_at`` (time of
    the last eviction, -1 if none) and ``evicted_max`` (most tokens generated in an evicted run).
    ``t`` is the current decision time. The lists are read-only by convention; only the engine
    writes them.
    """

    __slots__ = (
        "M",
        "_evict",
        "_nr",
        "_revealed",
        "_start",
        "arrival",
        "evicted_at",
        "evicted_max",
        "kept",
        "lower",
        "min_prompt",
        "n",
        "predicted",
        "prompt",
        "rank",
        "semantics",
        "start",
        "status",
        "t",
        "upper",
    )

    def __init__(self, M: int, prompt: list[int], lower: list[int], upper: list[int],
                 predicted: list[int], rank: list[int], semantics: str,
                 start_fn: Callable[[int], None], evict_fn: Callable[[int], None],
                 nr_fn: Callable[[], int]) -> None:
        n = len(prompt)
        self.M = M
        self.n = n
        self.prompt = prompt
        self.lower = lower
        self.upper = upper
        self.predicted = predicted
        self.rank = rank
        self.semantics = semantics
        self.arrival = [-1] * n
        self.status = [PENDING] * n
        self.start = [-1] * n
        self.kept = [0] * n
        self.evicted_at = [-1] * n
        self.evicted_max = [0] * n
        self.t = 0
        self.min_prompt = min(prompt) if n else 0
        self._start = start_fn
        self._evict = evict_fn
        self._nr = nr_fn
        self._revealed: dict[int, int] = {}

    # ----------------------------------------------------------------- queries
    def generated(self, j: int) -> int:
        """Tokens job ``j`` has generated so far (kept + current run); 0 when not running."""
        if self.status[j] != RUNNING:
            return self.kept[j]
        return self.kept[j] + self.t - self.start[j]

    def next_round_memory(self) -> int:
        """``Σ_running (b_j + g_j + 1)``: the memory of round ``t + 1`` as things stand."""
        return self._nr()

    def output(self, j: int) -> int:
        """The true length of a finished job; raises for a job that is not done."""
        if self.status[j] != DONE:
            raise InformationHidingError(f"job index {j} is not done: its output length is hidden")
        return self._revealed[j]

    # ----------------------------------------------------------------- actions
    def start_job(self, j: int) -> None:
        """Start (or restart/resume) waiting job ``j`` now."""
        self._start(j)

    def evict_job(self, j: int) -> None:
        """Evict running job ``j`` now (restart: it loses its progress; resume: it keeps it)."""
        self._evict(j)
