"""Instances: the KV capacity ``M`` and the jobs, their validation, and the JSON file format.

An :class:`Instance` stores its jobs column-wise (one read-only NumPy array per field), so an
instance of a million requests costs a few arrays, not a million objects. :class:`Job` is the
per-job view for code that wants one job at a time.

The file format (docs/model.md §1; docs/formats.md)::

    {"M": 50,
     "jobs": [{"id": "j0", "arrival": 0, "prompt": 3, "output": 12, "lower": 6, "upper": 20},
              {"id": "j1", "prompt": 2, "output": 5}]}

``arrival`` defaults to 0, ``lower``/``upper`` to ``output``, ``id`` to the job's position; a job may
carry a point prediction ``predicted`` and, for timed replay, an arrival time in seconds
``arrival_time``. The top level may carry ``name`` and ``meta`` (free-form provenance), which are kept
on round trips. Every violation raises :class:`~lpsched.errors.InstanceError` naming job and field.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InstanceError
from .fileio import read_json, write_text_atomic
from .limits import MAX_ARRIVAL_SECONDS, MAX_JOBS, MAX_ROUND, MAX_TOKENS, check_int

__all__ = ["Job", "Instance", "load_instance", "save_instance", "instance_from_dict"]

_JOB_FIELDS = ("id", "arrival", "prompt", "output", "lower", "upper", "predicted", "arrival_time")
_TOP_FIELDS = ("M", "jobs", "name", "meta")


@dataclass(frozen=True, slots=True)
class Job:
    """One request. ``predicted`` and ``arrival_time`` are ``None`` when absent."""

    id: str
    prompt: int
    output: int
    arrival: int = 0
    lower: int | None = None
    upper: int | None = None
    predicted: int | None = None
    arrival_time: float | None = None

    @property
    def peak(self) -> int:
        """KV tokens the job holds in its last round: ``prompt + output``."""
        return self.prompt + self.output


def _int_column(values: Any, name: str) -> np.ndarray:
    try:
        arr = np.asarray(values)
    except (OverflowError, ValueError):
        arr = np.asarray(values, dtype=object)
    if arr.dtype == object:  # Python integers beyond 64 bits, or mixed values
        for i, v in enumerate(arr.ravel().tolist()):
            problem = check_int(v, -MAX_ROUND, MAX_ROUND)
            if problem is not None:
                raise InstanceError(f"job at index {i}: field '{name}' {problem}")
        arr = arr.astype(np.int64)
    if arr.ndim != 1:
        raise InstanceError(f"field '{name}' must be a one-dimensional sequence")
    if arr.size and arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise InstanceError(f"field '{name}' must hold integers")
    out = np.array(arr, dtype=np.int64, copy=True)
    out.setflags(write=False)
    return out


@dataclass(frozen=True, eq=False)
class Instance:
    """A scheduling instance (docs/model.md §1), stored column-wise.

    Parameters
    ----------
    M : int
        KV-cache capacity in tokens.
    ids : sequence of str
        Unique job ids.
    arrival, prompt, output, lower, upper : int arrays
        Arrival round ``a_i``, prompt ``s_i``, true output ``o_i``, prediction interval ``[l_i, u_i]``.
    predicted : int array or None
        Point predictions; ``0`` marks a job without one. ``None`` when no job has one.
    arrival_time : float array or None
        Arrival times in seconds for the timed model; ``None`` when absent.
    name, meta
        Free-form name and provenance, kept on round trips.

    Raises
    ------
    InstanceError
        On the first invalid job, naming it and the field.
    """

    M: int
    ids: tuple[str, ...]
    arrival: np.ndarray
    prompt: np.ndarray
    output: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    predicted: np.ndarray | None = None
    arrival_time: np.ndarray | None = None
    name: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.M, bool) or not isinstance(self.M, (int, np.integer)):
            raise InstanceError(f"field 'M' must be an integer >= 1, got {self.M!r}")
        if not 1 <= self.M <= MAX_TOKENS:
            raise InstanceError(f"field 'M' must be an integer in 1..{MAX_TOKENS}, got {self.M}")
        object.__setattr__(self, "M", int(self.M))
        ids = tuple(str(i) for i in self.ids)
        object.__setattr__(self, "ids", ids)
        n = len(ids)
        if n > MAX_JOBS:
            raise InstanceError(f"{n} jobs: at most {MAX_JOBS} (the limit, docs/formats.md)")
        for name in ("arrival", "prompt", "output", "lower", "upper"):
            col = _int_column(getattr(self, name), name)
            if col.shape[0] != n:
                raise InstanceError(f"field '{name}' has {col.shape[0]} entries for {n} jobs")
            object.__setattr__(self, name, col)
        if self.predicted is not None:
            col = _int_column(self.predicted, "predicted")
            if col.shape[0] != n:
                raise InstanceError(f"field 'predicted' has {col.shape[0]} entries for {n} jobs")
            object.__setattr__(self, "predicted", col)
        if self.arrival_time is not None:
            at = np.array(self.arrival_time, dtype=np.float64, copy=True)
            if at.shape != (n,):
                raise InstanceError(f"field 'arrival_time' has {at.shape[0]} entries for {n} jobs")
            at.setflags(write=False)
            object.__setattr__(self, "arrival_time", at)
        object.__setattr__(self, "meta", dict(self.meta or {}))
        self._validate()

    # ---------------------------------------------------------------- validation
    def _fail(self, i: int, fld: str, msg: str) -> InstanceError:
        return InstanceError(f"job '{self.ids[i]}' (index {i}): field '{fld}' {msg}")

    def _validate(self) -> None:
        limit = "(the limit, docs/formats.md)"
        checks: list[tuple[np.ndarray, str, str]] = [
            (self.arrival < 0, "arrival", "must be >= 0"),
            (self.arrival > MAX_ROUND, "arrival", f"must be <= {MAX_ROUND} {limit}"),
            (self.prompt < 0, "prompt", "must be >= 0"),
            (self.prompt > MAX_TOKENS, "prompt", f"must be <= {MAX_TOKENS} {limit}"),
            (self.output < 1, "output", "must be >= 1"),
            (self.output > MAX_TOKENS, "output", f"must be <= {MAX_TOKENS} {limit}"),
            (self.lower < 1, "lower", "must be >= 1"),
            (self.lower > MAX_TOKENS, "lower", f"must be <= {MAX_TOKENS} {limit}"),
            (self.upper < self.lower, "upper", "must be >= lower"),
            (self.upper > MAX_TOKENS, "upper", f"must be <= {MAX_TOKENS} {limit}"),
            (self.prompt > self.M - self.output, "output",
             f"gives peak prompt + output above M = {self.M}: no schedule exists"),
        ]
        if self.predicted is not None:
            checks.append((self.predicted < 0, "predicted", "must be >= 1 (or absent)"))
            checks.append((self.predicted > MAX_TOKENS, "predicted", f"must be <= {MAX_TOKENS} {limit}"))
        if self.arrival_time is not None:
            bad = ~np.isfinite(self.arrival_time) | (self.arrival_time < 0)
            checks.append((bad, "arrival_time", "must be a finite number >= 0"))
            checks.append((self.arrival_time > MAX_ARRIVAL_SECONDS, "arrival_time",
                           f"must be <= {MAX_ARRIVAL_SECONDS:.0f} seconds {limit}"))
        first: tuple[int, str, str] | None = None
        for mask, fld, msg in checks:
            if mask.any():
                i = int(np.argmax(mask))
                if first is None or i < first[0]:
                    first = (i, fld, msg)
        if first is not None:
            i, fld, msg = first
            value = self.arrival_time[i] if fld == "arrival_time" else getattr(self, fld)[i]
            raise self._fail(i, fld, f"{msg}, got {value}")
        self._check_horizon()
        if len(set(self.ids)) != len(self.ids):
            seen: set[str] = set()
            for i, jid in enumerate(self.ids):
                if jid in seen:
                    raise InstanceError(f"job '{jid}' (index {i}): field 'id' duplicates an earlier job")
                seen.add(jid)

    def _check_horizon(self) -> None:
        """The derived limit: the serial horizon ``max a + Σ o`` (limits module)."""
        if not self.n:
            return
        horizon = int(self.arrival.max()) + int(self.output.sum())  # <= 2^38 + 2^22·2^21: no overflow
        if horizon > MAX_ROUND:
            raise InstanceError(f"the serial horizon max arrival + total output = {horizon} exceeds "
                                f"{MAX_ROUND} (the limit, docs/formats.md)")

    # ---------------------------------------------------------------- construction
    @classmethod
    def from_jobs(
        cls,
        M: int,
        jobs: Iterable[Job],
        name: str | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> Instance:
        """Build an instance from :class:`Job` objects (``lower``/``upper`` default to ``output``)."""
        jobs = list(jobs)
        has_pred = any(j.predicted is not None for j in jobs)
        has_time = any(j.arrival_time is not None for j in jobs)
        if has_time and not all(j.arrival_time is not None for j in jobs):
            i = next(k for k, j in enumerate(jobs) if j.arrival_time is None)
            raise InstanceError(
                f"job '{jobs[i].id}' (index {i}): field 'arrival_time' is missing "
                "(give it for every job or for none)"
            )
        return cls(
            M=M,
            ids=tuple(j.id for j in jobs),
            arrival=[j.arrival for j in jobs],
            prompt=[j.prompt for j in jobs],
            output=[j.output for j in jobs],
            lower=[j.output if j.lower is None else j.lower for j in jobs],
            upper=[j.output if j.upper is None else j.upper for j in jobs],
            predicted=[j.predicted or 0 for j in jobs] if has_pred else None,
            arrival_time=[j.arrival_time for j in jobs] if has_time else None,
            name=name,
            meta=dict(meta or {}),
        )

    @classmethod
    def from_arrays(
        cls,
        M: int,
        prompt: Sequence[int] | np.ndarray,
        output: Sequence[int] | np.ndarray,
        *,
        arrival: Sequence[int] | np.ndarray | None = None,
        lower: Sequence[int] | np.ndarray | None = None,
        upper: Sequence[int] | np.ndarray | None = None,
        predicted: Sequence[int] | np.ndarray | None = None,
        arrival_time: Sequence[float] | np.ndarray | None = None,
        ids: Sequence[str] | None = None,
        name: str | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> Instance:
        """Build an instance from columns; omitted columns take the file format's defaults."""
        output = np.asarray(output)
        n = output.shape[0]
        return cls(
            M=M,
            ids=tuple(str(i) for i in range(n)) if ids is None else tuple(ids),
            arrival=np.zeros(n, dtype=np.int64) if arrival is None else arrival,
            prompt=prompt,
            output=output,
            lower=output if lower is None else lower,
            upper=output if upper is None else upper,
            predicted=predicted,
            arrival_time=arrival_time,
            name=name,
            meta=dict(meta or {}),
        )

    def replace(self, **changes: Any) -> Instance:
        """A copy with some fields changed (validated again)."""
        fields = {
            "M": self.M, "ids": self.ids, "arrival": self.arrival, "prompt": self.prompt,
            "output": self.output, "lower": self.lower, "upper": self.upper,
            "predicted": self.predicted, "arrival_time": self.arrival_time,
            "name": self.name, "meta": self.meta,
        }
        fields.update(changes)
        return Instance(**fields)

    def subset(self, indices: Sequence[int] | np.ndarray) -> Instance:
        """The instance restricted to the jobs at ``indices`` (in that order)."""
        idx = np.asarray(indices, dtype=np.int64)
        return self.replace(
            ids=tuple(self.ids[i] for i in idx),
            arrival=self.arrival[idx], prompt=self.prompt[idx], output=self.output[idx],
            lower=self.lower[idx], upper=self.upper[idx],
            predicted=None if self.predicted is None else self.predicted[idx],
            arrival_time=None if self.arrival_time is None else self.arrival_time[idx],
        )

    # ---------------------------------------------------------------- views
    @property
    def n(self) -> int:
        """Number of jobs."""
        return len(self.ids)

    def __len__(self) -> int:
        return len(self.ids)

    def job(self, i: int) -> Job:
        """The ``i``-th job as a :class:`Job`."""
        pred = None
        if self.predicted is not None and self.predicted[i] > 0:
            pred = int(self.predicted[i])
        return Job(
            id=self.ids[i], prompt=int(self.prompt[i]), output=int(self.output[i]),
            arrival=int(self.arrival[i]), lower=int(self.lower[i]), upper=int(self.upper[i]),
            predicted=pred,
            arrival_time=None if self.arrival_time is None else float(self.arrival_time[i]),
        )

    @property
    def jobs(self) -> list[Job]:
        """All jobs as :class:`Job` objects (built on each call; prefer the columns for speed)."""
        return [self.job(i) for i in range(self.n)]

    @cached_property
    def index_of(self) -> dict[str, int]:
        """Map from job id to its position."""
        return {jid: i for i, jid in enumerate(self.ids)}

    @property
    def peak(self) -> np.ndarray:
        """Each job's peak KV tokens ``s_i + o_i``."""
        return self.prompt + self.output

    @property
    def misses(self) -> np.ndarray:
        """Boolean mask of jobs whose interval excludes the true length (docs/model.md §1)."""
        return (self.output < self.lower) | (self.output > self.upper)

    @property
    def n_misses(self) -> int:
        """How many intervals miss the true length."""
        return int(self.misses.sum())

    @property
    def alpha(self) -> np.ndarray:
        """Each job's ``α_i = l_i / u_i``."""
        return self.lower / self.upper

    # ---------------------------------------------------------------- serialisation
    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready dict of the file format (every field explicit)."""
        out: dict[str, Any] = {}
        if self.name is not None:
            out["name"] = self.name
        out["M"] = self.M
        jobs = []
        for i in range(self.n):
            d: dict[str, Any] = {
                "id": self.ids[i], "arrival": int(self.arrival[i]), "prompt": int(self.prompt[i]),
                "output": int(self.output[i]), "lower": int(self.lower[i]),
                "upper": int(self.upper[i]),
            }
            if self.predicted is not None and self.predicted[i] > 0:
                d["predicted"] = int(self.predicted[i])
            if self.arrival_time is not None:
                d["arrival_time"] = float(self.arrival_time[i])
            jobs.append(d)
        out["jobs"] = jobs
        if self.meta:
            out["meta"] = self.meta
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Instance):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def content_hash(self) -> str:
        """SHA-256 of the scheduling content (``M`` and the jobs; not ``name`` nor ``meta``)."""
        d = self.to_dict()
        payload = json.dumps({"M": d["M"], "jobs": d["jobs"]}, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(payload.encode()).hexdigest()

    def __repr__(self) -> str:
        label = f" {self.name!r}" if self.name else ""
        return f"<Instance{label} n={self.n} M={self.M}>"


# -------------------------------------------------------------------- parsing
#: Accepted range of each integer field of a job (docs/formats.md, "Limits").
_RANGES = {"arrival": (0, MAX_ROUND), "prompt": (0, MAX_TOKENS), "output": (1, MAX_TOKENS),
           "lower": (1, MAX_TOKENS), "upper": (1, MAX_TOKENS), "predicted": (1, MAX_TOKENS)}


def _get_int(raw: Mapping[str, Any], key: str, where: str, default: int | None = None) -> int:
    if key not in raw:
        if default is None:
            raise InstanceError(f"{where}: field '{key}' is missing")
        return default
    v = raw[key]
    problem = check_int(v, *_RANGES[key])
    if problem is not None:
        raise InstanceError(f"{where}: field '{key}' {problem}")
    return v


def _plain_int_column(values: list[Any], low: int, high: int) -> np.ndarray | None:
    """``values`` as int64 if every one is an ``int`` (not a bool) in ``[low, high]``, else ``None``."""
    if not all(type(v) is int for v in values):
        return None
    if values and (min(values) < low or max(values) > high):
        return None
    return np.array(values, dtype=np.int64)


def _instance_from_columns(M: int, raw_jobs: list[Any], name: str | None,
                           meta: Mapping[str, Any]) -> Instance | None:
    """The whole file checked column by column (fast); ``None`` when any job is not plainly valid,
    and the job-by-job path then finds and names the first problem."""
    if not all(type(r) is dict for r in raw_jobs):
        return None
    keys = set().union(*raw_jobs) if raw_jobs else set()
    if not keys <= set(_JOB_FIELDS) or not {"prompt", "output"} <= keys:
        return None
    try:
        output = _plain_int_column([r["output"] for r in raw_jobs], *_RANGES["output"])
        prompt = _plain_int_column([r["prompt"] for r in raw_jobs], *_RANGES["prompt"])
    except KeyError:
        return None
    if output is None or prompt is None:
        return None
    out = output.tolist()
    cols = {k: _plain_int_column([r.get(k, o) for r, o in zip(raw_jobs, out, strict=True)], *_RANGES[k])
            for k in ("lower", "upper")}
    cols["arrival"] = _plain_int_column([r.get("arrival", 0) for r in raw_jobs], *_RANGES["arrival"])
    if any(c is None for c in cols.values()):
        return None
    ids = [r.get("id", str(pos)) for pos, r in enumerate(raw_jobs)]
    if not all(type(i) is str or type(i) is int for i in ids):
        return None
    predicted = arrival_time = None
    if "predicted" in keys:
        predicted = _plain_int_column([r.get("predicted") for r in raw_jobs], *_RANGES["predicted"])
        if predicted is None:
            return None
    if "arrival_time" in keys:
        times = [r.get("arrival_time") for r in raw_jobs]
        if not all(type(t) is int or type(t) is float for t in times):
            return None
        arrival_time = np.array(times, dtype=np.float64)
        if not (np.isfinite(arrival_time).all() and (arrival_time >= 0).all()
                and (arrival_time <= MAX_ARRIVAL_SECONDS).all()):
            return None
    return Instance.from_arrays(M, prompt, output, arrival=cols["arrival"], lower=cols["lower"],
                                upper=cols["upper"], predicted=predicted, arrival_time=arrival_time,
                                ids=[str(i) for i in ids], name=name, meta=meta)


def instance_from_dict(data: Any, source: str = "instance") -> Instance:
    """Parse the JSON file format (already decoded) into an :class:`Instance`.

    Raises
    ------
    InstanceError
        For the first problem found, naming the job (id and index) and the field.
    """
    if not isinstance(data, Mapping):
        raise InstanceError(f"{source}: top level must be a JSON object with 'M' and 'jobs'")
    unknown = [k for k in data if k not in _TOP_FIELDS]
    if unknown:
        raise InstanceError(f"{source}: unknown top-level field '{unknown[0]}' "
                            f"(allowed: {', '.join(_TOP_FIELDS)})")
    if "M" not in data:
        raise InstanceError(f"{source}: field 'M' is missing")
    M = data["M"]
    problem = check_int(M, 1, MAX_TOKENS)
    if problem is not None:
        raise InstanceError(f"{source}: field 'M' {problem}")
    raw_jobs = data.get("jobs")
    if not isinstance(raw_jobs, list):
        raise InstanceError(f"{source}: field 'jobs' must be a list of job objects")
    if len(raw_jobs) > MAX_JOBS:
        raise InstanceError(f"{source}: {len(raw_jobs)} jobs, at most {MAX_JOBS} (the limit, docs/formats.md)")
    name = data.get("name")
    if name is not None and not isinstance(name, str):
        raise InstanceError(f"{source}: field 'name' must be a string")
    meta = data.get("meta", {})
    if not isinstance(meta, Mapping):
        raise InstanceError(f"{source}: field 'meta' must be an object")
    fast = _instance_from_columns(M, raw_jobs, name, meta)
    if fast is not None:
        return fast
    jobs: list[Job] = []  # the job-by-job path: slower, and names the first problem it finds
    for pos, raw in enumerate(raw_jobs):
        if not isinstance(raw, Mapping):
            raise InstanceError(f"job at index {pos}: must be a JSON object")
        jid_raw = raw.get("id", str(pos))
        if isinstance(jid_raw, bool) or not isinstance(jid_raw, (str, int)):
            raise InstanceError(f"job at index {pos}: field 'id' must be a string or integer")
        jid = str(jid_raw)
        where = f"job '{jid}' (index {pos})"
        bad = [k for k in raw if k not in _JOB_FIELDS]
        if bad:
            raise InstanceError(f"{where}: unknown field '{bad[0]}' (allowed: {', '.join(_JOB_FIELDS)})")
        output = _get_int(raw, "output", where)
        pred = raw.get("predicted")
        if pred is not None:
            pred = _get_int(raw, "predicted", where)
        at = raw.get("arrival_time")
        if at is not None and (isinstance(at, bool) or not isinstance(at, (int, float))
                               or not math.isfinite(at) or not 0 <= at <= MAX_ARRIVAL_SECONDS):
            raise InstanceError(f"{where}: field 'arrival_time' must be a number in 0..{MAX_ARRIVAL_SECONDS:.0f} "
                                f"(seconds), got {at!r}")
        jobs.append(Job(
            id=jid,
            prompt=_get_int(raw, "prompt", where),
            output=output,
            arrival=_get_int(raw, "arrival", where, 0),
            lower=_get_int(raw, "lower", where, output),
            upper=_get_int(raw, "upper", where, output),
            predicted=pred,
            arrival_time=None if at is None else float(at),
        ))
    return Instance.from_jobs(M, jobs, name=name, meta=meta)


def load_instance(path: str | Path) -> Instance:
    """Read an instance JSON file.

    Raises
    ------
    InstanceError
        If the file is missing, is not JSON, or any job is invalid (the message names file, job
        and field).
    """
    p = Path(path)
    data = read_json(p, "instance file", InstanceError)
    try:
        return instance_from_dict(data, source=str(p))
    except InstanceError as exc:
        msg = str(exc)
        raise InstanceError(msg if msg.startswith(str(p)) else f"{p}: {msg}") from None


def save_instance(instance: Instance, path: str | Path, inputs: Iterable[str | Path] = (),
                  option: str = "-o") -> None:
    """Write an instance as JSON, one job per line (readable and diff-friendly).

    Written whole or not at all, never over one of ``inputs``
    (:func:`lpsched.fileio.write_text_atomic`; :class:`~lpsched.errors.OutputError` on failure).
    """
    d = instance.to_dict()
    head = {k: v for k, v in d.items() if k not in ("jobs", "meta")}
    lines = ["{"]
    for k, v in head.items():
        lines.append(f"  {json.dumps(k)}: {json.dumps(v)},")
    if "meta" in d:
        try:
            lines.append(f'  "meta": {json.dumps(d["meta"], sort_keys=True, allow_nan=False)},')
        except ValueError:
            raise InstanceError("field 'meta' holds NaN or Infinity, which a JSON file cannot store") from None
    lines.append('  "jobs": [')
    body = [f"    {json.dumps(j)}" for j in d["jobs"]]
    lines.append(",\n".join(body))
    lines.append("  ]")
    lines.append("}")
    write_text_atomic(path, "\n".join(lines) + "\n", inputs, option)
