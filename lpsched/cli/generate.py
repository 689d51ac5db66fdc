"""CLI: ``lpsched generate KIND --seed N ... -o FILE`` for each seeded generator."""

from __future__ import annotations

import click

from .. import generate as gen
from ..errors import OptionError
from ..limits import MAX_JOBS, MAX_ROUND, MAX_TOKENS
from ..predictors import PREDICTORS
from .common import SEED, FiniteFloat, json_option, output_path, write_or_print_instance

_TOKENS = click.IntRange(1, MAX_TOKENS)
_JOBS = click.IntRange(1, MAX_JOBS)


def _out_opt(f):  # type: ignore[no-untyped-def]
    f = click.option("-o", "--output", "output", type=click.Path(dir_okay=False),
                     help="Write the instance here (default: print its JSON).")(f)
    f = click.option("--seed", type=SEED, required=True, help="Random seed (same seed, same instance).")(f)
    return json_option(f)


@click.group()
def generate() -> None:
    """Make a seeded instance: KIND is jaillet, paper or trace."""


@generate.command("jaillet")
@_out_opt
@click.option("--arrivals", type=click.Choice(["zero", "poisson"]), default="zero", show_default=True)
@click.option("--M", "M", type=_TOKENS, help="Fix M (default U{30..50}).")
@click.option("--n", type=_JOBS, help="Fix n for arrivals=zero (default U{40..60}).")
@click.option("--rounds", type=click.IntRange(1, 10**6), help="Fix R for arrivals=poisson (default U{40..60}).")
@click.option("--rate", type=FiniteFloat(0, 1000, low_open=True),
              help="Fix λ for arrivals=poisson (default U[0.5, 1.5]).")
def generate_jaillet(seed: int, output: str | None, as_json: bool, arrivals: str, M: int | None,
                     n: int | None, rounds: int | None, rate: float | None) -> None:
    """Jaillet et al.'s synthetic regime (docs/model.md §7)."""

    output_path(output)
    inst = gen.jaillet(seed, arrivals=arrivals, M=M, n=n, rounds=rounds, rate=rate)
    write_or_print_instance(inst, output, as_json)


@generate.command("paper")
@_out_opt
@click.option("--n", type=_JOBS, default=30, show_default=True)
@click.option("--s", "s", type=click.IntRange(0, MAX_TOKENS), default=4, show_default=True,
              help="Common prompt size.")
@click.option("--lower", type=_TOKENS, default=8, show_default=True, help="Common interval lower end l.")
@click.option("--alpha", type=FiniteFloat(0, 1, low_open=True), default=0.25, show_default=True,
              help="α = l/u; u = round(l/α).")
@click.option("--M", "M", type=_TOKENS, help="Capacity (default concurrency·(s + u)).")
@click.option("--concurrency", type=FiniteFloat(0, low_open=True), default=10.0, show_default=True)
@click.option("--dist", type=click.Choice(list(gen.LENGTH_DISTRIBUTIONS)), default="uniform",
              show_default=True, help="Distribution of true lengths in [l, u].")
def generate_paper(seed: int, output: str | None, as_json: bool, n: int, s: int, lower: int,
                   alpha: float, M: int | None, concurrency: float, dist: str) -> None:
    """Chen, Ye, Zhou's regime: common prompt and interval, all at time 0."""

    output_path(output)
    inst = gen.paper(seed, n=n, s=s, lower=lower, alpha=alpha, M=M, concurrency=concurrency, dist=dist)
    write_or_print_instance(inst, output, as_json)


def _parse_kv(pairs: tuple[str, ...]) -> dict[str, float | int]:
    out: dict[str, float | int] = {}
    for p in pairs:
        k, sep, v = p.partition("=")
        if not sep or not k:
            raise OptionError(f"--interval-param expects key=value, got '{p}'")
        try:
            out[k] = int(v)
        except ValueError:
            try:
                out[k] = float(v)
            except ValueError:
                raise OptionError(f"--interval-param {k}: '{v}' is not a number") from None
    return out


def _trace_options(f):  # type: ignore[no-untyped-def]
    """The options shared by ``generate trace`` and ``trace`` (applied bottom-up)."""
    opts = [
        click.option("--format", "fmt", type=click.Choice(["azure", "mooncake", "lengths", "llmservingsim"]),
                     required=True, help="Trace format (docs/formats.md)."),
        click.option("--n", type=_JOBS, required=True, help="Rows to sample."),
        click.option("--M", "M", default="16492", show_default=True,
                     help=f"Capacity in tokens or a preset ({', '.join(gen.M_PRESETS)})."),
        click.option("--mode", type=click.Choice(["consecutive", "random"]), default="consecutive",
                     show_default=True),
        click.option("--offset", type=click.IntRange(0, MAX_ROUND), default=0, show_default=True,
                     help="First row (consecutive)."),
        click.option("--window", nargs=2, type=FiniteFloat(0), metavar="START END",
                     help="Only requests arriving START..END seconds after the trace's first."),
        click.option("--arrivals", type=click.Choice(["zero", "trace", "poisson", "gamma"]), default="zero",
                     show_default=True),
        click.option("--rate", type=FiniteFloat(0, low_open=True),
                     help="Requests per second (arrivals poisson/gamma)."),
        click.option("--cv", type=FiniteFloat(0, low_open=True), default=1.0, show_default=True,
                     help="Gap CV (arrivals gamma)."),
        click.option("--time-scale", type=FiniteFloat(0, low_open=True), default=1.0, show_default=True,
                     help="Replay speed-up for arrivals=trace (2 = twice as fast)."),
        click.option("--round-seconds", type=FiniteFloat(0, low_open=True), default=0.05, show_default=True,
                     help="Seconds per round when arrivals are timed."),
        click.option("--oversize", type=click.Choice(["drop", "clip", "error"]), default="drop",
                     show_default=True, help="Requests whose peak exceeds M."),
        click.option("--intervals", type=click.Choice(list(PREDICTORS)), default="exact", show_default=True),
        click.option("--interval-param", "interval_params", multiple=True, metavar="KEY=VALUE",
                     help="Interval model parameter, e.g. alpha=0.25, lower=8, accuracy=0.7, miss_rate=0.1."),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def _trace_instance(seed: int, path: str, fmt: str, n: int, M: str, mode: str, offset: int,
                    window: tuple[float, float] | None, arrivals: str, rate: float | None, cv: float,
                    time_scale: float, round_seconds: float, oversize: str, intervals: str,
                    interval_params: tuple[str, ...]):  # type: ignore[no-untyped-def]
    if window is not None and not window[0] < window[1]:
        raise OptionError(f"--window: START must be below END, got {window[0]:g} {window[1]:g}")
    M_val: int | str = int(M) if M.isascii() and M.isdigit() else M
    if isinstance(M_val, int) and not 2 <= M_val <= MAX_TOKENS:
        raise OptionError(f"--M must be in 2..{MAX_TOKENS} or a preset, got {M}")
    return gen.trace_sample(seed, path=path, fmt=fmt, n=n, M=M_val, mode=mode, offset=offset,
                            window=window or None, arrivals=arrivals, rate=rate, cv=cv, time_scale=time_scale,
                            round_seconds=round_seconds, oversize=oversize, intervals=intervals,
                            **_parse_kv(interval_params))


@generate.command("trace")
@_out_opt
@click.option("--path", type=click.Path(dir_okay=False), required=True, help="Trace file.")
@_trace_options
def generate_trace(seed: int, output: str | None, as_json: bool, path: str, **kw) -> None:  # type: ignore[no-untyped-def]
    """A sample of a real trace in ../shared/data with a chosen M and interval model."""

    output_path(output, [path])
    write_or_print_instance(_trace_instance(seed, path, **kw), output, as_json, [path])


@click.command("trace")
@click.argument("file", type=click.Path(dir_okay=False))
@_out_opt
@_trace_options
def trace(file: str, seed: int, output: str | None, as_json: bool, **kw) -> None:  # type: ignore[no-untyped-def]
    """Turn a trace FILE into an instance (same options as `generate trace`, FILE positional)."""

    output_path(output, [file])
    write_or_print_instance(_trace_instance(seed, file, **kw), output, as_json, [file])
