"""The ``lpsched`` command line: a thin layer that parses, calls the Python API and prints.

Conventions every command follows:

* ``--json`` prints one JSON object (the stable keys are documented in docs/cli.md);
* bad input (malformed file, bad option, unknown name) prints one line ``lpsched: error: …`` on
  stderr and exits with code 2, never a traceback;
* other exit codes are the command's own verdict (``verify``: 0 feasible, 1 infeasible).

Commands live in small modules (this one holds the foundation's: ``info``, ``verify``,
``generate``); each module exposes ``register(group)`` and is listed in ``COMMAND_MODULES``.
"""

from __future__ import annotations

import importlib
import json
import sys
from typing import Any

import click

from .errors import LpschedInputError

__all__ = ["main", "cli", "emit", "json_option"]

# Modules whose ``register(cli)`` adds commands; order is the order of ``lpsched --help``.
COMMAND_MODULES: list[str] = [
    "lpsched.cli_foundation",
    "lpsched.cli_offline",
    "lpsched.cli_online",
    "lpsched.cli_compare",
    "lpsched.cli_replay",
    "lpsched.cli_adversary",
]


class _Group(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)  # registration order, not alphabetical


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="lpsched")
def cli() -> None:
    """lpsched: schedule LLM inference under KV-cache limits, and measure how good a schedule is.

    Exit codes: 0 success, 1 a negative verdict (e.g. infeasible schedule), 2 bad input.
    """


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
    import numpy as np

    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(cli)


def _fail(message: str) -> int:
    message = " ".join(str(message).split())
    click.echo(f"lpsched: error: {message}", err=True)
    return 2


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script; maps errors to one line on stderr and exit code 2."""
    try:
        rv = cli.main(args=argv, prog_name="lpsched", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else str(exc))
        sys.exit(2)
    except click.UsageError as exc:
        where = f"{exc.ctx.command_path}: " if exc.ctx else ""
        sys.exit(_fail(f"{where}{exc.format_message()}"))
    except click.ClickException as exc:
        sys.exit(_fail(exc.format_message()))
    except click.Abort:
        click.echo("lpsched: aborted", err=True)
        sys.exit(130)
    except LpschedInputError as exc:
        sys.exit(_fail(str(exc)))
    except KeyboardInterrupt:
        click.echo("lpsched: interrupted", err=True)
        sys.exit(130)
    sys.exit(rv if isinstance(rv, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
