"""The exceptions lpsched raises for bad input, one class per kind of mistake.

Every error a user can cause by handing lpsched a bad file, a bad schedule or a bad option is an
``LpschedInputError``: the CLI prints its message on one line and exits with code 2, with no
traceback. Anything else that escapes is a bug in lpsched.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any


class LpschedInputError(ValueError):
    """Base class of every error caused by the user's input (exit code 2 in the CLI)."""


class InstanceError(LpschedInputError):
    """An instance file or object is malformed; the message names the job and the field."""


class ScheduleError(LpschedInputError):
    """A schedule file or mapping is malformed (unknown or missing job, non-integer start)."""


class OptionError(LpschedInputError):
    """An option, generator parameter or policy name is invalid; the message names it."""


class OutputError(LpschedInputError):
    """An output path cannot be written (an input file, a device, a folder, no permission, disk full)."""


def check_keywords(fn: Callable[..., Any], params: Mapping[str, Any], what: str) -> None:
    """Raise :class:`OptionError` naming ``what`` if ``params`` holds a keyword ``fn`` does not take
    (instead of Python's ``TypeError``, which names the internal function)."""
    sig = inspect.signature(fn)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values()):
        return
    known = [n for n, p in sig.parameters.items()
             if p.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    for k in params:
        if k not in known:
            raise OptionError(f"{what}: unknown parameter '{k}' (known: {', '.join(known) or 'none'})")
