"""The exceptions lpsched raises for bad input, one class per kind of mistake.

Every error a user can cause by handing lpsched a bad file, a bad schedule or a bad option is an
``LpschedInputError``: the CLI prints its message on one line and exits with code 2, with no
traceback. Anything else that escapes is a bug in lpsched.
"""

from __future__ import annotations


class LpschedInputError(ValueError):
    """Base class of every error caused by the user's input (exit code 2 in the CLI)."""


class InstanceError(LpschedInputError):
    """An instance file or object is malformed; the message names the job and the field."""


class ScheduleError(LpschedInputError):
    """A schedule file or mapping is malformed (unknown or missing job, non-integer start)."""


class OptionError(LpschedInputError):
    """An option, generator parameter or policy name is invalid; the message names it."""
