"""Helpers every ``lpsched`` command shares: the ``--json`` flag, printing, writing an instance."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import numpy as np

from ..instance import Instance, save_instance

__all__ = ["emit", "json_option", "write_or_print_instance"]


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


def write_or_print_instance(inst: Instance, output: str | None, as_json: bool) -> None:
    """Write a generated instance to ``output`` (and summarise it), or print its JSON."""
    if output is None:
        click.echo(json.dumps(inst.to_dict()))
        return
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    save_instance(inst, output)
    d = {"path": output, "n": inst.n, "M": inst.M, "hash": inst.content_hash(), "meta": inst.meta}
    emit(d, f"wrote {output}: n={inst.n}, M={inst.M}, "
            f"output total {int(np.sum(inst.output))}", as_json)
