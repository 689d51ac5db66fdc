"""The independent schedule verifier, and the schedule file format.

A *schedule* maps every job id to its final start round (file: ``{"starts": {"j0": 0, "j1": 4}}``).
:func:`verify_schedule` checks it against the instance alone, knowing nothing of what produced it:
every job starts at or after its arrival, and memory (docs/model.md §2, computed by
:func:`lpsched.memory.memory_summary`) is ``<= M`` in every round. It returns TEL, makespan and
peak memory, and on failure names the first violation.

:func:`verify_runs` checks an online simulator's full history (every run, including runs later
evicted, under restart or resume semantics), which is stronger than checking final starts alone.

Every schedule lpsched outputs passes through here; callers use :func:`require_feasible` to turn a
failed verification into an exception in their own code path.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ScheduleError
from .fileio import read_json, write_text_atomic
from .instance import Instance
from .limits import MAX_ROUND, check_int
from .memory import memory_summary

__all__ = [
    "VerifyResult",
    "Run",
    "verify_schedule",
    "verify_runs",
    "require_feasible",
    "starts_array",
    "load_schedule",
    "save_schedule",
    "ScheduleVerificationError",
]


class ScheduleVerificationError(AssertionError):
    """A schedule produced by lpsched itself failed verification: a bug, never a user error."""


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of a verification.

    ``tel`` is ``Σ (C_i - a_i)`` with ``C_i = k_i + o_i`` (from the final starts), ``makespan`` is
    ``max C_i``, ``peak_memory`` the largest memory of any round and ``peak_round`` the first round
    that attains it. When infeasible, ``reason`` says why in one line; for a memory violation
    ``first_overflow_round`` is the first round above ``M`` and ``overflow`` by how many tokens.
    """

    feasible: bool
    tel: int
    makespan: int
    peak_memory: int
    peak_round: int
    reason: str | None = None
    first_overflow_round: int | None = None
    overflow: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``reason`` and overflow fields only when infeasible)."""
        d = asdict(self)
        if self.feasible:
            for k in ("reason", "first_overflow_round", "overflow"):
                d.pop(k)
        return d


def starts_array(instance: Instance, starts: Mapping[str, Any], source: str = "schedule") -> np.ndarray:
    """Final starts as an int array in the instance's job order.

    ``source`` (the schedule's file name) starts every error message.

    Raises
    ------
    ScheduleError
        If a job has no start, an id is not in the instance, or a start is not an integer in
        ``0..MAX_ROUND`` (:mod:`lpsched.limits`).
    """
    if not isinstance(starts, Mapping):
        raise ScheduleError(f"{source}: 'starts' must map job ids to start rounds")
    index = instance.index_of
    out = np.full(instance.n, -1, dtype=np.int64)
    for jid, k in starts.items():
        i = index.get(str(jid))
        if i is None:
            raise ScheduleError(f"{source}: job '{jid}' is not in the instance")
        problem = check_int(int(k) if isinstance(k, np.integer) else k, 0, MAX_ROUND)
        if problem is not None:
            raise ScheduleError(f"{source}: job '{jid}': start {problem}")
        out[i] = int(k)
    missing = np.flatnonzero(out < 0)
    if missing.size:
        raise ScheduleError(
            f"{source}: job '{instance.ids[missing[0]]}' has no start "
            f"({missing.size} of {instance.n} jobs missing)"
        )
    return out


def _overflow_reason(round_: int, excess: int, M: int) -> str:
    return f"round {round_} uses {M + excess} tokens > M = {M} (over by {excess})"


def verify_schedule(instance: Instance, starts: Mapping[str, Any] | np.ndarray,
                    source: str = "schedule") -> VerifyResult:
    """Check a schedule of final starts against the instance (docs/model.md §2).

    Parameters
    ----------
    instance : Instance
    starts : mapping id -> start round, or an int array in job order
    source : str
        The schedule's name (its file) in error messages.

    Returns
    -------
    VerifyResult
        Feasible iff every ``k_i >= a_i`` and memory ``<= M`` in every round. The first violation in
        time is reported: an early start, or the first overflowing round with its excess.

    Raises
    ------
    ScheduleError
        If the schedule is malformed (unknown or missing job, non-integer or negative start).

    Examples
    --------
    >>> from lpsched import Instance
    >>> inst = Instance.from_arrays(M=10, prompt=[2, 2], output=[3, 2])
    >>> verify_schedule(inst, {"0": 0, "1": 3}).tel
    8
    """
    if isinstance(starts, np.ndarray):
        k = np.asarray(starts, dtype=np.int64)
        if k.shape != (instance.n,) or np.any(k < 0) or np.any(k > MAX_ROUND):
            raise ScheduleError(f"{source}: starts array must hold one start in 0..{MAX_ROUND} per job")
    else:
        k = starts_array(instance, starts, source)
    completion = k + instance.output
    tel = int((completion - instance.arrival).sum())
    makespan = int(completion.max()) if instance.n else 0
    peak, peak_round, over_round, excess = memory_summary(instance.prompt, k, instance.output, instance.M)
    early = np.flatnonzero(k < instance.arrival)
    reasons: list[tuple[int, str]] = []
    if early.size:
        i = int(early[np.argmin(k[early])])
        reasons.append((int(k[i]), f"job '{instance.ids[i]}' starts at {int(k[i])} before its "
                                    f"arrival {int(instance.arrival[i])}"))
    if over_round is not None:
        reasons.append((over_round - 1, _overflow_reason(over_round, excess, instance.M)))
    if reasons:
        reasons.sort(key=lambda r: r[0])
        return VerifyResult(False, tel, makespan, peak, peak_round, reasons[0][1], over_round, excess)
    return VerifyResult(True, tel, makespan, peak, peak_round)


@dataclass(frozen=True, slots=True)
class Run:
    """One run of a job in an online history: it started at ``start`` holding ``kept`` generated
    tokens (0 under restart) on top of its prompt, and generated ``length`` tokens until it was
    evicted or completed."""

    job: int
    start: int
    kept: int
    length: int


def verify_runs(instance: Instance, runs: Iterable[Run], semantics: str = "restart") -> VerifyResult:
    """Check an online history: every run, evicted or final, against memory and arrivals.

    The runs of a job must not overlap in time, the first must start at or after arrival, each
    run must start from what the job kept (``kept = 0`` under ``restart``; under ``resume`` the
    tokens generated so far), and the last run must complete the job. Memory counts every run,
    so runs that were later evicted are checked too. TEL and makespan come from completions.

    Raises
    ------
    ScheduleError
        If ``semantics`` is unknown, a run names no job of the instance, or a job has no run.
    """
    if semantics not in ("restart", "resume"):
        raise ScheduleError(f"unknown eviction semantics '{semantics}' (known: restart, resume)")
    runs = list(runs)
    by_job: list[list[Run]] = [[] for _ in range(instance.n)]
    for r in runs:
        if not 0 <= r.job < instance.n:
            raise ScheduleError(f"history: run of unknown job index {r.job}")
        by_job[r.job].append(r)
    problems: list[tuple[int, str]] = []
    completion = np.zeros(instance.n, dtype=np.int64)
    for i, jr in enumerate(by_job):
        jid = instance.ids[i]
        if not jr:
            raise ScheduleError(f"history: job '{jid}' never ran")
        jr.sort(key=lambda r: r.start)
        if jr[0].start < int(instance.arrival[i]):
            problems.append((jr[0].start, f"job '{jid}' starts at {jr[0].start} before its arrival "
                                          f"{int(instance.arrival[i])}"))
        kept = 0
        prev_end = -1
        for r in jr:
            if r.start < prev_end:
                problems.append((r.start, f"job '{jid}' runs twice at once (run at {r.start})"))
            if r.kept != kept:
                problems.append((r.start, f"job '{jid}' run at {r.start} starts with {r.kept} kept "
                                          f"tokens, expected {kept}"))
            prev_end = r.start + r.length
            kept = r.kept + r.length if semantics == "resume" else 0
        last = jr[-1]
        if last.kept + last.length != int(instance.output[i]):
            problems.append((last.start, f"job '{jid}' last run ends with {last.kept + last.length} "
                                         f"tokens, not its output {int(instance.output[i])}"))
        completion[i] = last.start + last.length
    idx = np.array([r.job for r in runs], dtype=np.int64)
    peak, peak_round, over_round, excess = memory_summary(
        instance.prompt[idx] + np.array([r.kept for r in runs], dtype=np.int64),
        np.array([r.start for r in runs], dtype=np.int64),
        np.array([r.length for r in runs], dtype=np.int64),
        instance.M,
    )
    if over_round is not None:
        problems.append((over_round - 1, _overflow_reason(over_round, excess, instance.M)))
    tel = int((completion - instance.arrival).sum())
    makespan = int(completion.max()) if instance.n else 0
    if problems:
        problems.sort(key=lambda p: p[0])
        return VerifyResult(False, tel, makespan, peak, peak_round, problems[0][1], over_round, excess)
    return VerifyResult(True, tel, makespan, peak, peak_round)


def require_feasible(result: VerifyResult, producer: str) -> VerifyResult:
    """Raise :class:`ScheduleVerificationError` if a schedule lpsched produced is infeasible."""
    if not result.feasible:
        raise ScheduleVerificationError(f"{producer} produced an infeasible schedule: {result.reason}")
    return result


def load_schedule(path: str | Path) -> dict[str, int]:
    """Read a schedule file ``{"starts": {id: start, ...}, ...}`` (other keys are ignored).

    Raises
    ------
    ScheduleError
        If the file is unreadable, not JSON, or has no ``starts`` object.
    """
    p = Path(path)
    data = read_json(p, "schedule file", ScheduleError)
    if not isinstance(data, dict) or not isinstance(data.get("starts"), dict):
        raise ScheduleError(f"{p}: a schedule file must be an object with a 'starts' object")
    return data["starts"]


def save_schedule(path: str | Path, starts: Mapping[str, int], *, inputs: Iterable[str | Path] = (),
                  option: str = "-o", **extra: Any) -> None:
    """Write ``{"starts": {...}, **extra}`` as strict JSON, never over one of ``inputs``.

    The file is replaced atomically (:func:`lpsched.fileio.write_text_atomic`), so a reader, or a
    run killed while writing, sees either the previous schedule or the new one, never half of one:
    ``lpsched solve -o`` rewrites its file at every better schedule.

    Raises
    ------
    OutputError
        If the path is an input, not a regular file, or cannot be written.
    """
    payload = {"starts": {str(k): int(v) for k, v in starts.items()}, **extra}
    write_text_atomic(path, json.dumps(payload, indent=1, allow_nan=False) + "\n", inputs, option)
