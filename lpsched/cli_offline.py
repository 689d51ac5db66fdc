"""CLI commands of the hindsight side: ``solve`` (the IP) and ``bounds`` (certified lower bounds)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .cli import emit, json_option
from .errors import OptionError
from .instance import Instance, load_instance
from .offline import lower_bounds, solve_hindsight
from .offline.progress import ProgressEvent, format_event
from .verify import load_schedule, require_feasible, save_schedule, starts_array, verify_schedule


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
              help="Write the schedule (final starts) to this file; it is rewritten at every better "
                   "schedule found, so a killed run leaves its best one (resume with --hint).")
@click.option("--hint", "hint_file", type=click.Path(dir_okay=False), default=None,
              help="Warm-start from this schedule file (as written by -o); it must be feasible.")
@click.option("--progress/--no-progress", default=None,
              help="Print each stage (best TEL, bound, gap so far) on stderr. Default: when stderr is a terminal.")
@json_option
def solve(file: str, backend: str, formulation: str, time_limit: float, workers: int, seed: int, log: bool,
          schedule_out: str | None, hint_file: str | None, progress: bool | None, as_json: bool) -> None:
    """Solve the hindsight IP of FILE: status, TEL, best bound, gap, time.

    The status is OPTIMAL only with a proof (solver proof, or bound equal to TEL); otherwise
    FEASIBLE with the certified gap. Every schedule printed or written has been verified.
    With --progress (the default on a terminal) each stage is printed on stderr as it ends.
    With -o the file holds the best schedule so far while the solve runs ("in_progress": true)
    and the result at the end; --hint FILE starts from such a file.
    """
    if time_limit <= 0:
        raise OptionError(f"--time-limit must be > 0, got {time_limit}")
    if workers < 1:
        raise OptionError(f"--workers must be >= 1, got {workers}")
    inst = load_instance(file)
    hint = None if hint_file is None else _load_hint(inst, hint_file)
    if progress is None:
        progress = sys.stderr.isatty()
    out = None if schedule_out is None else _Checkpoint(inst, schedule_out, backend)

    def on_event(event: ProgressEvent) -> None:
        if progress:
            click.echo(format_event(event), err=True)
        if out is not None and event.stage != "done":
            out.offer(event)

    res = solve_hindsight(inst, backend=backend, time_limit=time_limit, workers=workers, seed=seed, log=log,
                          formulation="strong" if backend != "cpsat" and formulation == "auto" else formulation,
                          hint=hint, progress=on_event if progress or out is not None else None)
    d = res.to_dict()
    if out is not None:
        out.write(res.starts, status=res.status, objective=res.objective, bound=res.bound, backend=res.backend)
    emit(d, _solve_text(d), as_json)


def _load_hint(inst: Instance, path: str) -> dict[str, int]:
    """The schedule of ``--hint``: one start per job of the instance, and feasible (else one clear error)."""
    starts = load_schedule(path)
    arr = starts_array(inst, starts)  # names a missing or unknown job
    res = verify_schedule(inst, arr)
    if not res.feasible:
        raise OptionError(f"--hint {path}: the schedule is infeasible for this instance: {res.reason}")
    return {str(k): int(v) for k, v in starts.items()}


class _Checkpoint:
    """The ``-o`` file of ``lpsched solve``: rewritten (atomically) whenever a better schedule or a
    better bound is reported, with ``"in_progress": true``; the final write drops that flag."""

    def __init__(self, inst: Instance, path: str, backend: str) -> None:
        self.inst, self.path, self.backend = inst, path, backend
        self.last: tuple[int | None, int | None] | None = None
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OptionError(f"-o {path}: cannot create its directory: {exc.strerror}") from None

    def offer(self, event: ProgressEvent) -> None:
        if event.starts is None or (event.objective, event.bound) == self.last:
            return
        self.last = (event.objective, event.bound)
        self.write(event.starts, status="FEASIBLE", objective=event.objective, bound=event.bound,
                   backend=self.backend, in_progress=True, stage=event.stage, seconds=round(event.seconds, 1))

    def write(self, starts: dict[str, int], **extra: object) -> None:
        require_feasible(verify_schedule(self.inst, starts_array(self.inst, starts)), "lpsched solve")
        try:
            save_schedule(self.path, starts, **extra)
        except OSError as exc:
            raise OptionError(f"-o {self.path}: cannot write: {exc.strerror}") from None


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
