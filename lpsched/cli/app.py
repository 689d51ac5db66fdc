"""The ``lpsched`` command group and its entry point ``main``, which maps errors to exit codes.

Each command-group module exposes ``register(group)``; the order below is the order of
``lpsched --help``.
"""

from __future__ import annotations

import sys

import click

from ..errors import LpschedInputError
from . import adversary, compare, instance, offline, online, replay

__all__ = ["cli", "main"]


class _Group(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)  # registration order, not alphabetical


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="lpsched")
def cli() -> None:
    """lpsched: schedule LLM inference under KV-cache limits, and measure how good a schedule is.

    Exit codes: 0 success, 1 a negative verdict (e.g. infeasible schedule), 2 bad input.
    """


for _module in (instance, offline, online, compare, replay, adversary):
    _module.register(cli)


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
