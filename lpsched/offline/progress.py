"""Progress of a hindsight solve: the events :func:`~lpsched.offline.solve_hindsight` reports as it goes.

A solve runs in stages (heuristic incumbent, certified bounds, the LP or chain LP, incumbent
searches, the integer solver, and on large instances the large-instance search). With a
``progress`` callback, :func:`~lpsched.offline.solve_hindsight` calls it once per stage it enters or
finishes, with a :class:`ProgressEvent` holding the best schedule (its TEL and its starts) and the
best certified bound known at that moment. Both are running extremes over the whole solve: the
objective never rises and the bound never falls from one event to the next, and the last event
(stage ``"done"``) carries the returned result's objective, bound, status and schedule. Nothing in
the events is provisional: every objective is the TEL of a verified schedule and every bound is
certified.

The command line prints them on stderr (``lpsched solve --progress``, :func:`format_event`), and with
``-o`` writes each better schedule to the output file as it is found (a checkpoint that
``lpsched solve --hint`` resumes from).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = ["ProgressEvent", "Reporter", "format_event"]


@dataclass(frozen=True)
class ProgressEvent:
    """One step of a solve.

    Attributes
    ----------
    seconds : float
        Wall-clock seconds since the solve started.
    stage : str
        What just started or finished: ``incumbent`` (heuristics), ``bounds`` (the closed-form
        bounds), ``chain LP``, ``LP``, ``fixing`` (reduced-cost fixing, after any incumbent search),
        ``search`` (incumbent search without fixing), ``solver`` / ``solver done`` (the integer
        backend), ``solution`` (a better schedule the integer backend found while it runs: HiGHS and
        CP-SAT report them), ``interval model`` / ``interval model done`` (CP-SAT's interval model),
        ``large search`` / ``large search done`` (large instances), ``done`` (the result).
    objective : int or None
        TEL of the best verified schedule so far (``None`` before the first).
    bound : int or None
        Best certified lower bound so far (``None`` before the first).
    detail : str
        A short note: the schedule's source, the bound's name, the solver and its budget, the status.
    starts : dict or None
        The schedule whose TEL is ``objective``, as job id -> start (``None`` before the first, or
        when the reporter was not given the job ids). At stage ``done`` it is the returned result's.
    """

    seconds: float
    stage: str
    objective: int | None
    bound: int | None
    detail: str = ""
    starts: dict[str, int] | None = field(default=None, repr=False, compare=False)

    def __str__(self) -> str:
        return format_event(self)

    @property
    def gap(self) -> float | None:
        """``(objective − bound) / objective``, or ``None`` while either is unknown."""
        if self.objective is None or self.bound is None:
            return None
        return (self.objective - min(self.bound, self.objective)) / self.objective if self.objective else 0.0


class Reporter:
    """Keeps the running best objective, its schedule and the best bound of a solve, and passes
    events to ``callback``.

    ``callback=None`` makes every call a no-op, so the solve path calls :meth:`note` unconditionally.
    ``ids`` (the instance's job ids, in order) lets :meth:`note` take a schedule as a start array.
    """

    def __init__(self, callback: Callable[[ProgressEvent], None] | None, t0: float | None = None,
                 ids: Sequence[str] | None = None) -> None:
        self.callback = callback
        self.t0 = time.perf_counter() if t0 is None else t0
        self.ids = None if ids is None else [str(i) for i in ids]
        self.objective: int | None = None
        self.bound: int | None = None
        self.starts: dict[str, int] | None = None
        self._lock = threading.Lock()  # solvers report from their own threads

    def note(self, stage: str, *, objective: float | None = None, bound: float | None = None,
             detail: str = "", starts: Mapping[str, int] | np.ndarray | None = None) -> None:
        """Record a stage; ``objective`` / ``bound`` update the running extremes when better.

        ``starts`` is the schedule whose TEL is ``objective``; it becomes the running schedule when
        ``objective`` is at least as good as the best so far (a tie takes the newer one, so the
        ``done`` event shows the result's schedule).
        """
        if self.callback is None:
            return
        with self._lock:
            if objective is not None and (self.objective is None or objective <= self.objective):
                self.objective = int(objective)
                if starts is not None:
                    self.starts = self._as_mapping(starts)
            if bound is not None and (self.bound is None or bound > self.bound):
                self.bound = int(bound)
            shown = self.bound if self.bound is None or self.objective is None else min(self.bound, self.objective)
            self.callback(ProgressEvent(time.perf_counter() - self.t0, stage, self.objective, shown, detail,
                                        self.starts))

    def _as_mapping(self, starts: Mapping[str, int] | np.ndarray) -> dict[str, int] | None:
        if isinstance(starts, Mapping):
            return {str(k): int(v) for k, v in starts.items()}
        if self.ids is None:
            return None
        return {i: int(k) for i, k in zip(self.ids, np.asarray(starts).tolist(), strict=True)}


def format_event(event: ProgressEvent) -> str:
    """One line for a terminal: time, stage, best TEL, best bound, gap and the note."""
    obj = "-" if event.objective is None else f"{event.objective:,}"
    bound = "-" if event.bound is None else f"{event.bound:,}"
    gap = "-" if event.gap is None else f"{100 * event.gap:.2f}%"
    note = f"  {event.detail}" if event.detail else ""
    return f"[{event.seconds:7.1f} s] {event.stage:<20} TEL {obj:>9}  bound {bound:>9}  gap {gap:>7}{note}"
