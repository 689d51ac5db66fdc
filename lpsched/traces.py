"""Streaming readers for the request traces in ../shared/data, and seeded row sampling.

Formats (``fmt``):

* ``azure`` – Azure LLM inference trace 2023 CSV: ``TIMESTAMP, ContextTokens, GeneratedTokens``;
* ``mooncake`` – Mooncake JSONL: ``timestamp`` (ms), ``input_length``, ``output_length``;
* ``lengths`` – length tables (ShareGPT, arXiv): ``num_prefill_tokens, num_decode_tokens`` (no times);
* ``llmservingsim`` – measured vLLM requests JSONL: ``input_toks, output_toks, arrival_time`` (s).

:func:`iter_trace` yields one :class:`TraceRow` at a time (a million-row file never needs a million
objects at once); a malformed row raises :class:`TraceError` naming file and line.
:func:`sample_trace` takes ``n`` consecutive rows from an offset, or a uniform random sample
(reservoir sampling, seeded), and returns columns.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from .errors import LpschedInputError, OptionError
from .fileio import parse_json
from .limits import MAX_TOKENS

__all__ = ["TraceRow", "TraceError", "TRACE_FORMATS", "iter_trace", "sample_trace", "TraceSample", "shared_data_dir"]

TRACE_FORMATS = ("azure", "mooncake", "lengths", "llmservingsim")


#: Timestamps (seconds) beyond this are malformed: far past any real trace, and exact in float64.
_MAX_TIMESTAMP_S = 2.0**52 / 1000


class TraceError(LpschedInputError):
    """A trace file is missing or has a malformed row (the message names file and line)."""


@dataclass(frozen=True, slots=True)
class TraceRow:
    """One request of a trace: ``arrival_s`` in seconds (``None`` for length-only tables)."""

    line: int
    arrival_s: float | None
    prompt: int
    output: int


def _parse_azure_time(text: str) -> float:
    date, _, frac = text.strip().partition(".")
    base = datetime.strptime(date, "%Y-%m-%d %H:%M:%S").timestamp()
    return base + (float("0." + frac) if frac else 0.0)


def _as_count(value: object, name: str) -> int:
    """A token count: a CSV cell's digits, or a JSON integer (a JSON string is not a count)."""
    if isinstance(value, bool):
        raise ValueError(f"'{name}' is not an integer")
    if isinstance(value, str):  # a CSV cell
        value = value.strip()
        digits = value.lstrip("-")
        if not (digits.isascii() and digits.isdigit()) or len(digits) > 12:
            raise ValueError(f"'{name}' is not an integer below the limit: {value[:40]!r}")
        v = int(value)
    elif isinstance(value, int):
        v = value
    elif isinstance(value, float) and value.is_integer():
        v = int(value)
    else:
        raise ValueError(f"'{name}' is not an integer: {value!r}")
    if v < 0:
        raise ValueError(f"'{name}' is negative: {v}")
    if v > MAX_TOKENS:
        raise ValueError(f"'{name}' = {v} is above the limit {MAX_TOKENS} (docs/formats.md)")
    return v


def _json_count(obj: dict, name: str) -> int:
    value = obj[name]
    if isinstance(value, str):
        raise ValueError(f"'{name}' must be a JSON number, got the string {value[:40]!r}")
    return _as_count(value, name)


def iter_trace(path: str | Path, fmt: str) -> Iterator[TraceRow]:
    """Yield the rows of a trace file one at a time.

    Raises
    ------
    OptionError
        For an unknown format.
    TraceError
        If the file cannot be read or a row is malformed (file and line named).
    """
    if fmt not in TRACE_FORMATS:
        raise OptionError(f"unknown trace format '{fmt}' (known: {', '.join(TRACE_FORMATS)})")
    p = Path(path)
    try:
        fh = p.open(newline="", encoding="utf-8-sig")  # a byte-order mark is not part of the header
    except OSError as exc:
        raise TraceError(f"{p}: cannot read trace file ({exc.strerror})") from None
    try:
        with fh:
            yield from _rows(p, fh, fmt)
    except UnicodeDecodeError as exc:
        raise TraceError(f"{p}: not a UTF-8 text trace (undecodable byte at offset {exc.start} of a block)") from None
    except csv.Error as exc:
        raise TraceError(f"{p}: not a readable CSV trace ({exc})") from None


def _rows(p: Path, fh: Any, fmt: str) -> Iterator[TraceRow]:
    """The rows of an open trace file (:func:`iter_trace` turns decoding errors into one line)."""
    if fmt in ("azure", "lengths"):
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            return
        cols = [h.strip() for h in header]
        need = (("TIMESTAMP", "ContextTokens", "GeneratedTokens") if fmt == "azure"
                else ("num_prefill_tokens", "num_decode_tokens"))
        missing = [c for c in need if c not in cols]
        if missing:
            raise TraceError(f"{p}:1: missing column '{missing[0]}' for format '{fmt}'")
        idx = [cols.index(c) for c in need]
        for row in reader:
            line = reader.line_num
            if not row or all(not c.strip() for c in row):
                continue
            try:
                if len(row) < len(cols):
                    raise ValueError(f"expected {len(cols)} columns, got {len(row)}")
                if fmt == "azure":
                    yield TraceRow(line, _parse_azure_time(row[idx[0]]),
                                   _as_count(row[idx[1]], "ContextTokens"),
                                   _as_count(row[idx[2]], "GeneratedTokens"))
                else:
                    yield TraceRow(line, None, _as_count(row[idx[0]], "num_prefill_tokens"),
                                   _as_count(row[idx[1]], "num_decode_tokens"))
            except ValueError as exc:
                raise TraceError(f"{p}:{line}: malformed row: {exc}") from None
    else:
        keys = (("timestamp", "input_length", "output_length") if fmt == "mooncake"
                else ("arrival_time", "input_toks", "output_toks"))
        for line, text in enumerate(fh, start=1):
            if not text.strip():
                continue
            obj = parse_json(text, f"{p}:{line}", TraceError)
            try:
                if not isinstance(obj, dict):
                    raise ValueError("not a JSON object")
                for k in keys:
                    if k not in obj:
                        raise ValueError(f"missing key '{k}'")
                t = obj[keys[0]]
                if isinstance(t, bool) or not isinstance(t, (int, float)):
                    raise ValueError(f"'{keys[0]}' is not a number")
                arrival = t / 1000.0 if fmt == "mooncake" else float(t)
                if not math.isfinite(arrival) or abs(arrival) > _MAX_TIMESTAMP_S:
                    raise ValueError(f"'{keys[0]}' = {t} is out of range")
                yield TraceRow(line, arrival, _json_count(obj, keys[1]), _json_count(obj, keys[2]))
            except ValueError as exc:
                raise TraceError(f"{p}:{line}: malformed row: {exc}") from None


@dataclass(frozen=True)
class TraceSample:
    """Columns of sampled rows, in trace order; ``arrival_s`` relative to the first sampled row."""

    prompt: np.ndarray
    output: np.ndarray
    arrival_s: np.ndarray | None
    lines: np.ndarray


def sample_trace(
    path: str | Path,
    fmt: str,
    n: int,
    *,
    mode: str = "consecutive",
    offset: int = 0,
    seed: int = 0,
    window: tuple[float, float] | None = None,
) -> TraceSample:
    """Take ``n`` rows of a trace: consecutive from row ``offset``, or a uniform random sample.

    ``window=(start_s, end_s)`` keeps only rows that arrive in that interval of seconds after the
    trace's first request (traces with timestamps only); ``offset`` then counts within the window.

    Random sampling streams the file once (reservoir sampling, Algorithm R) with
    ``numpy.random.default_rng(seed)``, keeping only ``n`` rows in memory; the sample is returned in
    trace order. Raises :class:`OptionError` if the trace has fewer than ``n`` rows (after ``offset``).
    """
    if n < 1:
        raise OptionError(f"sample size n must be >= 1, got {n}")
    if offset < 0:
        raise OptionError(f"offset must be >= 0, got {offset}")
    if window is not None and not (math.isfinite(window[0]) and math.isfinite(window[1])
                                   and 0 <= window[0] < window[1]):
        raise OptionError(f"window must be two numbers 0 <= START < END, got {list(window)}")
    if mode not in ("consecutive", "random"):
        raise OptionError(f"unknown sampling mode '{mode}' (known: consecutive, random)")
    rows: list[TraceRow] = []
    seen = 0
    rng = np.random.default_rng(seed)
    t_first: float | None = None
    k = -1
    for row in iter_trace(path, fmt):
        if window is not None:
            if row.arrival_s is None:
                raise OptionError(f"format '{fmt}' has no timestamps: a time window cannot be applied")
            if t_first is None:
                t_first = row.arrival_s
            rel = row.arrival_s - t_first
            if rel < window[0]:
                continue
            if rel >= window[1]:
                if mode == "consecutive":
                    break
                continue
        k += 1
        if mode == "consecutive":
            if k < offset:
                continue
            rows.append(row)
            if len(rows) == n:
                break
        else:
            seen += 1
            if len(rows) < n:
                rows.append(row)
            else:
                j = int(rng.integers(0, seen))
                if j < n:
                    rows[j] = row
    if len(rows) < n:
        raise OptionError(f"{path}: trace has only {len(rows)} rows to sample, asked for n = {n}")
    rows.sort(key=lambda r: r.line)
    times = None
    if rows[0].arrival_s is not None:
        t = np.array([r.arrival_s for r in rows], dtype=np.float64)
        times = t - t.min()
    return TraceSample(
        prompt=np.array([r.prompt for r in rows], dtype=np.int64),
        output=np.array([r.output for r in rows], dtype=np.int64),
        arrival_s=times,
        lines=np.array([r.line for r in rows], dtype=np.int64),
    )


def shared_data_dir() -> Path | None:
    """Where the bundled traces live: ``$LPSCHED_DATA``, else ``../shared/data`` next to the checkout
    (or the working directory). ``None`` if none exists."""
    import os

    env = os.environ.get("LPSCHED_DATA")
    candidates = [Path(env)] if env else []
    here = Path(__file__).resolve().parents[1]
    candidates += [here.parent / "shared" / "data", Path.cwd().parent / "shared" / "data",
                   Path.cwd() / "shared" / "data"]
    for c in candidates:
        if c.is_dir():
            return c
    return None
