"""Reading user files with one clear error each: the file, and what is wrong with it.

Every loader of user input (instances, schedules, sweep specs, traces' side files) reads through
these, so a missing file, bad JSON or bad TOML is reported the same way everywhere: one line naming
the file (and line and column for syntax errors), raised as the caller's
:class:`~lpsched.errors.LpschedInputError` subclass.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from .errors import LpschedInputError

__all__ = ["read_text", "read_json", "read_toml"]


def read_text(path: str | Path, what: str, error: type[LpschedInputError]) -> str:
    """The file's text; ``error("<path>: cannot read <what> (<reason>)")`` if it cannot be read."""
    p = Path(path)
    try:
        return p.read_text()
    except OSError as exc:
        raise error(f"{p}: cannot read {what} ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise error(f"{p}: cannot read {what} (not UTF-8 text)") from None


def read_json(path: str | Path, what: str, error: type[LpschedInputError]) -> Any:
    """The file's decoded JSON; syntax errors name line and column."""
    text = read_text(path, what, error)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None


def read_toml(path: str | Path, what: str, error: type[LpschedInputError]) -> dict[str, Any]:
    """The file's decoded TOML."""
    text = read_text(path, what, error)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML ({exc})") from None
