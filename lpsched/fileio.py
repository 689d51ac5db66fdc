"""Reading user files and writing ours, with one clear error each and nothing ever half-written.

Reading: every loader of user input (instances, schedules, sweep specs, manifests, JSONL trace
rows) decodes through :func:`parse_json` / :func:`read_json` / :func:`read_toml`, so a missing file,
bad JSON or bad TOML is reported the same way everywhere: one line naming the file (and line and
column for syntax errors), raised as the caller's :class:`~lpsched.errors.LpschedInputError`
subclass. The JSON reader is strict: a duplicate key, ``NaN``/``Infinity``, nesting deeper than
:data:`MAX_JSON_DEPTH` is an error (integer literals are bounded by Python's own limit of 4300
digits, and every integer field by its own limit: docs/formats.md).

Writing: every file lpsched writes for the user (instances, schedules, exported models, reports)
goes through :func:`check_output` and :func:`write_text_atomic` / :func:`atomic_output`: the target
must not be one of the command's input files nor an existing non-regular file (a device, a
folder); missing parent folders are created; the data goes to a temporary file in the target's
folder, is flushed to disk (fsync) and renamed over the target, so a reader sees the old file or the
new one, never part of one. Any failure is an :class:`~lpsched.errors.OutputError` naming the
option and the path (exit 2 in the CLI), and leaves no temporary file behind.
"""

from __future__ import annotations

import json
import math
import os
import stat
import sys
import tomllib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import numpy as np

from .errors import LpschedInputError, OutputError

__all__ = [
    "MAX_JSON_DEPTH",
    "read_text",
    "read_json",
    "parse_json",
    "read_toml",
    "check_output",
    "write_text_atomic",
    "atomic_output",
]

#: Deepest nesting of arrays/objects accepted in a JSON input (an instance needs 3).
MAX_JSON_DEPTH = 64

_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'"[]{}')


class _JsonProblem(ValueError):
    """Raised inside the decoder's hooks; turned into the caller's error with the file name."""


def read_text(path: str | Path, what: str, error: type[LpschedInputError]) -> str:
    """The file's text; ``error("<path>: cannot read <what> (<reason>)")`` if it cannot be read.

    A UTF-8 byte-order mark at the start is dropped.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise error(f"{p}: cannot read {what} ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise error(f"{p}: cannot read {what} (not UTF-8 text)") from None
    return text.removeprefix("\ufeff")


def _json_depth(text: str) -> int:
    """Deepest nesting of ``[``/``{`` in ``text``; brackets inside strings do not count.

    Vectorised (about a second for a million-job instance): escaped backslashes and escaped
    quotes are dropped first, so every remaining ``"`` opens or closes a string; then only quotes
    and brackets are kept, and brackets after an odd number of quotes are inside a string.
    """
    data = text.encode("utf-8", "surrogatepass").replace(b"\\\\", b"").replace(b'\\"', b"")
    data = data.translate(None, _NOT_STRUCTURE)
    if not data:
        return 0
    arr = np.frombuffer(data, dtype=np.uint8)
    quote = arr == ord('"')
    outside = ~quote & ((np.cumsum(quote, dtype=np.int32) & 1) == 0)
    brackets = arr[outside]
    if not brackets.size:
        return 0
    step = np.where((brackets == ord("[")) | (brackets == ord("{")), 1, -1).astype(np.int32)
    return int(np.cumsum(step).max())


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):  # rare: find the key given twice
        seen: set[str] = set()
        for k, _ in pairs:
            if k in seen:
                raise _JsonProblem(f"duplicate key '{k}'")
            seen.add(k)
    return out


def _constant(name: str) -> Any:
    raise _JsonProblem(f"{name} is not a number JSON allows")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _JsonProblem(f"number {text} is out of range")
    return value


def parse_json(text: str, where: str, error: type[LpschedInputError]) -> Any:
    """Decode ``text`` strictly (module text); errors read ``"<where>: <what is wrong>"``."""
    depth = _json_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise error(f"{where}: JSON nested {depth} levels deep (at most {MAX_JSON_DEPTH})")
    try:
        return json.loads(text, object_pairs_hook=_pairs, parse_constant=_constant, parse_float=_float)
    except json.JSONDecodeError as exc:
        raise error(f"{where}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except _JsonProblem as exc:
        raise error(f"{where}: {exc}") from None
    except ValueError as exc:
        if "digits" in str(exc):  # Python refuses integer literals of more than 4300 digits
            raise error(f"{where}: an integer literal of more than {sys.get_int_max_str_digits()} digits") from None
        raise error(f"{where}: not valid JSON ({exc})") from None
    except RecursionError:
        raise error(f"{where}: JSON nested too deeply") from None


def read_json(path: str | Path, what: str, error: type[LpschedInputError]) -> Any:
    """The file's decoded JSON (strict, see :func:`parse_json`); syntax errors name line and column."""
    return parse_json(read_text(path, what, error), str(path), error)


def read_toml(path: str | Path, what: str, error: type[LpschedInputError]) -> dict[str, Any]:
    """The file's decoded TOML."""
    text = read_text(path, what, error)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML ({exc})") from None
    except RecursionError:
        raise error(f"{path}: not valid TOML (nested too deeply)") from None


# ------------------------------------------------------------------ writing
def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def check_output(path: str | Path, inputs: Iterable[str | Path] = (), option: str = "-o") -> Path:
    """The path to write, after the checks every writer shares (module text); nothing is created.

    Returns the target with symbolic links resolved (the link is kept, the file it names replaced).

    Raises
    ------
    OutputError
        If ``path`` is one of ``inputs``, or exists and is not a regular file.
    """
    p = Path(path)
    if str(path) == "":
        raise OutputError(f"{option}: empty path")
    for src in inputs:
        if src is not None and _same_file(p, Path(src)):
            raise OutputError(f"{option} {p}: is an input file of this command; refusing to overwrite it")
    target = Path(os.path.realpath(p))
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        return target
    except OSError as exc:
        raise OutputError(f"{option} {p}: cannot write ({exc.strerror})") from None
    if not stat.S_ISREG(mode):
        kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file"
        raise OutputError(f"{option} {p}: is {kind}; refusing to write there")
    return target


@contextmanager
def atomic_output(path: str | Path, inputs: Iterable[str | Path] = (), option: str = "-o",
                  suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on a clean exit it is fsynced and renamed onto
    ``path``, on any error it is removed. For writers that need a path (a library writing a file
    itself); ``suffix`` keeps an extension some writers look at."""
    target = check_output(path, inputs, option)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{option} {path}: cannot create its folder ({exc.strerror})") from None
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp{suffix}")
    try:
        yield tmp
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
        with suppress(OSError):  # make the rename itself durable where the platform allows
            dfd = os.open(target.parent, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
    except OSError as exc:
        raise OutputError(f"{option} {path}: cannot write ({exc.strerror or exc})") from None
    finally:
        with suppress(OSError):
            tmp.unlink(missing_ok=True)


def write_text_atomic(path: str | Path, text: str, inputs: Iterable[str | Path] = (), option: str = "-o") -> None:
    """Write ``text`` (UTF-8) to ``path`` whole or not at all (module text)."""
    with atomic_output(path, inputs, option) as tmp, tmp.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
