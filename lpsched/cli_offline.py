"""CLI commands of the hindsight side: ``solve`` (the IP) and ``bounds`` (certified lower bounds)."""

from __future__ import annotations

import sys

import click

from .cli import emit, json_option
from .errors import OptionError
from .instance import load_instance
from .offline import lower_bounds, solve_hindsight
from .offline.progress import ProgressEvent, format_event
from .verify import save_schedule


def _solve_text(d: dict) -> str:
    status = d["status"]
    head = "proven optimal" if status == "OPTIMAL" else status.lower()
    gap = "-" if d["gap"] is None else f"{100 * d['gap']:.2f}%"
    info = d.get("info") or {}
    ran = info.get("backend_ran")
    backend = d["backend"] if ran in (None, d["backend"]) else f"{d['backend']}: {ran}"
    if info.get("path") == "large":
        how = (f"large-instance path, no IP solved: the model would have {d['n_variables']} variables; "
               f"bound from {info.get('bound_name')}")
    else:
        how = f"backend {backend}, {d['n_variables']} variables, {d['n_constraints']} constraints"
        if info.get("path") == "large+integer":
            how = f"large-instance path, then the IP on the model rebuilt at its schedule: {how}"
    return "\n".join([
        f"status   {status} ({head})",
        f"TEL      {d['objective']}",
        f"bound    {d['bound']}",
        f"gap      {gap}",
        f"time     {d['seconds']:.2f} s  ({how}, horizon {d['horizon']}, schedule from {d['incumbent']})",
    ])


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--backend", type=click.Choice(["cpsat", "highs", "pulp"]), default="cpsat", show_default=True,
              help="OR-Tools CP-SAT (with OR-Tools' HiGHS MIP alongside on instances that are not tight), "
                   "HiGHS alone, or CBC through PuLP.")
@click.option("--formulation", type=click.Choice(["auto", "cumulative", "strong", "hybrid", "plain"]),
              default="auto", show_default=True,
              help="Model: auto = time-indexed, then the interval/cumulative model on tight instances.")
@click.option("--time-limit", type=float, default=60.0, show_default=True, help="Seconds.")
@click.option("--workers", type=int, default=2, show_default=True, help="Solver threads.")
@click.option("--seed", type=int, default=0, show_default=True, help="Solver and local-search seed.")
@click.option("--log", is_flag=True, help="Show the solver's log (on stdout).")
@click.option("-o", "--output", "schedule_out", type=click.Path(dir_okay=False), default=None,
              help="Write the schedule (final starts) to this file.")
@click.option("--progress/--no-progress", default=None,
              help="Print each stage (best TEL, bound, gap so far) on stderr. Default: when stderr is a terminal.")
@json_option
def solve(file: str, backend: str, formulation: str, time_limit: float, workers: int, seed: int, log: bool,
          schedule_out: str | None, progress: bool | None, as_json: bool) -> None:
    """Solve the hindsight IP of FILE: status, TEL, best bound, gap, time.

    The status is OPTIMAL only with a proof (solver proof, or bound equal to TEL); otherwise
    FEASIBLE with the certified gap. Every schedule printed or written has been verified.
    With --progress (the default on a terminal) each stage is printed on stderr as it ends.
    """
    if time_limit <= 0:
        raise OptionError(f"--time-limit must be > 0, got {time_limit}")
    if workers < 1:
        raise OptionError(f"--workers must be >= 1, got {workers}")
    inst = load_instance(file)
    if progress is None:
        progress = sys.stderr.isatty()

    def show(event: ProgressEvent) -> None:
        click.echo(format_event(event), err=True)

    res = solve_hindsight(inst, backend=backend, time_limit=time_limit, workers=workers, seed=seed, log=log,
                          formulation="strong" if backend != "cpsat" and formulation == "auto" else formulation,
                          progress=show if progress else None)
    d = res.to_dict()
    if schedule_out is not None:
        save_schedule(schedule_out, res.starts, status=res.status, objective=res.objective,
                      bound=res.bound, backend=res.backend)
    emit(d, _solve_text(d), as_json)


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--lp", is_flag=True,
              help="Also solve the LP relaxation (GLOP) and, when two jobs peak above M/2, the chain LP.")
@json_option
def bounds(file: str, lp: bool, as_json: bool) -> None:
    """Certified lower bounds on the optimal TEL of FILE, and which is tightest."""
    inst = load_instance(file)
    d = lower_bounds(inst, lp=lp)
    lines = ["lower bounds on the optimal TEL:"]
    for k, v in d.items():
        if k not in ("best", "best_value"):
            lines.append(f"  {k:<14}{v}{'  <- tightest' if k == d['best'] else ''}")
    emit(d, "\n".join(lines), as_json)


def register(group: click.Group) -> None:
    """Add ``solve`` and ``bounds`` to the ``lpsched`` group."""
    group.add_command(solve)
    group.add_command(bounds)
