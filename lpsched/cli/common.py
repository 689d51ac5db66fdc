"""Helpers every ``lpsched`` command shares: the ``--json`` flag, printing, option types, outputs.

Outputs follow one rule (docs/cli.md, "Output files"): a command checks its ``-o`` path before it
does any work (:func:`output_path`: not one of its inputs, not an existing non-regular file), and
writes it whole through :mod:`lpsched.fileio` (temporary file, fsync, rename; missing parent
folders are created).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click
import numpy as np

from ..fileio import check_output
from ..instance import Instance, save_instance
from ..limits import MAX_SEED, MAX_SOLVER_SEED, MAX_WORKERS

__all__ = ["emit", "json_option", "write_or_print_instance", "output_path", "FiniteFloat", "SEED", "SOLVER_SEED",
           "workers_type"]

#: ``--seed`` of generators and searches; ``SOLVER_SEED`` of commands that pass it to a solver.
SEED = click.IntRange(0, MAX_SEED)
SOLVER_SEED = click.IntRange(0, MAX_SOLVER_SEED)


def workers_type(low: int = 1) -> click.IntRange:
    """``--workers``: ``low .. MAX_WORKERS``."""
    return click.IntRange(low, MAX_WORKERS)


class FiniteFloat(click.ParamType):
    """A finite float (no nan, no inf) in an optional range; ``low_open`` excludes ``low`` itself."""

    name = "float"

    def __init__(self, low: float | None = None, high: float | None = None, low_open: bool = False) -> None:
        self.low, self.high, self.low_open = low, high, low_open

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, float) and math.isfinite(value):
            x = value
        else:
            try:
                x = float(value)
            except (TypeError, ValueError):
                self.fail(f"{value!r} is not a number", param, ctx)
            if not math.isfinite(x):
                self.fail(f"{value!r} is not a finite number", param, ctx)
        too_low = self.low is not None and (x < self.low or (self.low_open and x == self.low))
        if too_low or (self.high is not None and x > self.high):
            lo = "-inf" if self.low is None else f"{self.low:g}"
            hi = "inf)" if self.high is None else f"{self.high:g}]"
            self.fail(f"{x:g} is not in {'(' if self.low_open or self.low is None else '['}{lo}, {hi}", param, ctx)
        return x


def json_option(f: Any) -> Any:
    """The ``--json`` flag every result-printing command has."""
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")(f)


def emit(payload: dict[str, Any], text: str, as_json: bool) -> None:
    """Print ``payload`` as JSON or ``text`` as it is."""
    if as_json:
        click.echo(json.dumps(payload, indent=None, default=_json_default))
    else:
        click.echo(text)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def output_path(path: str | None, inputs: Iterable[str | Path | None] = (), option: str = "-o") -> str | None:
    """Check an output path before any work (:func:`lpsched.fileio.check_output`); ``None`` passes."""
    if path is not None:
        check_output(path, [p for p in inputs if p is not None], option)
    return path


def write_or_print_instance(inst: Instance, output: str | None, as_json: bool,
                            inputs: Iterable[str | Path] = ()) -> None:
    """Write a generated instance to ``output`` (and summarise it), or print its JSON."""
    if output is None:
        click.echo(json.dumps(inst.to_dict()))
        return
    save_instance(inst, output, inputs)
    d = {"path": output, "n": inst.n, "M": inst.M, "hash": inst.content_hash(), "meta": inst.meta}
    emit(d, f"wrote {output}: n={inst.n}, M={inst.M}, "
            f"output total {int(np.sum(inst.output))}", as_json)
