"""CLI commands of the hindsight side: ``solve`` (the IP), ``bounds`` (certified lower bounds), and
``export-ip`` / ``read-solution`` (the IP as MPS for other solvers, their solution back as a schedule)."""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from .. import offline  # offline.solve_hindsight loads OR-Tools on first use (PEP 562)
from ..errors import OptionError, OutputError
from ..fileio import check_output, parse_json, write_text_atomic
from ..instance import Instance, load_instance
from ..offline import lower_bounds
from ..offline.progress import ProgressEvent, format_event
from ..verify import load_schedule, require_feasible, save_schedule, starts_array, verify_schedule
from .common import SOLVER_SEED, FiniteFloat, emit, json_option, output_path, workers_type


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
@click.option("--time-limit", type=FiniteFloat(0, low_open=True), default=60.0, show_default=True, help="Seconds.")
@click.option("--workers", type=workers_type(), default=2, show_default=True, help="Solver threads.")
@click.option("--seed", type=SOLVER_SEED, default=0, show_default=True, help="Solver and local-search seed.")
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
    output_path(schedule_out, [file])  # -o may be the --hint file: resuming replaces it by a better one
    inst = load_instance(file)
    hint = None if hint_file is None else _load_hint(inst, hint_file)
    if progress is None:
        progress = sys.stderr.isatty()
    out = None if schedule_out is None else _Checkpoint(inst, schedule_out, backend, [file])

    def on_event(event: ProgressEvent) -> None:
        if progress:
            click.echo(format_event(event), err=True)
        if out is not None and event.stage != "done":
            out.offer(event)

    res = offline.solve_hindsight(inst, backend=backend, time_limit=time_limit, workers=workers, seed=seed, log=log,
                          formulation="strong" if backend != "cpsat" and formulation == "auto" else formulation,
                          hint=hint, progress=on_event if progress or out is not None else None)
    d = res.to_dict()
    if out is not None:
        out.write(res.starts, status=res.status, objective=res.objective, bound=res.bound, backend=res.backend)
    emit(d, _solve_text(d), as_json)


def _load_hint(inst: Instance, path: str) -> dict[str, int]:
    """The schedule of ``--hint``: one start per job of the instance, and feasible (else one clear error)."""
    starts = load_schedule(path)
    arr = starts_array(inst, starts, source=path)  # names a missing or unknown job
    res = verify_schedule(inst, arr, source=path)
    if not res.feasible:
        raise OptionError(f"--hint {path}: the schedule is infeasible for this instance: {res.reason}")
    return {str(k): int(v) for k, v in starts.items()}


class _Checkpoint:
    """The ``-o`` file of ``lpsched solve``: rewritten (atomically) whenever a better schedule or a
    better bound is reported, with ``"in_progress": true``; the final write drops that flag."""

    def __init__(self, inst: Instance, path: str, backend: str, inputs: list[str]) -> None:
        self.inst, self.path, self.backend, self.inputs = inst, path, backend, inputs
        self.last: tuple[int | None, int | None] | None = None

    def offer(self, event: ProgressEvent) -> None:
        if event.starts is None or (event.objective, event.bound) == self.last:
            return
        self.last = (event.objective, event.bound)
        self.write(event.starts, status="FEASIBLE", objective=event.objective, bound=event.bound,
                   backend=self.backend, in_progress=True, stage=event.stage, seconds=round(event.seconds, 1))

    def write(self, starts: dict[str, int], **extra: object) -> None:
        require_feasible(verify_schedule(self.inst, starts_array(self.inst, starts)), "lpsched solve")
        save_schedule(self.path, starts, inputs=self.inputs, **extra)


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--lp", is_flag=True,
              help="Also solve the LP relaxation (GLOP) and, when two jobs peak above M/2, the chain LP.")
@json_option
def bounds(file: str, lp: bool, as_json: bool) -> None:
    """Certified lower bounds on the optimal TEL of FILE, and which is tightest."""
    inst = load_instance(file)
    report = lower_bounds(inst, lp=lp)
    lines = ["lower bounds on the optimal TEL:"]
    for k, v in report.values.items():
        lines.append(f"  {k:<14}{v}{'  <- tightest' if k == report.name else ''}")
    emit(report.to_dict(), "\n".join(lines), as_json)


@click.command("export-ip")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "model_out", type=click.Path(dir_okay=False), required=True,
              help="The MPS file to write (its manifest goes to OUTPUT.json, the MIP start to .mst).")
@click.option("--rows", type=click.Choice(["explicit", "compact"]), default="explicit", show_default=True,
              help="One memory row per round, or the compact form with N_t / Q_t variables.")
@click.option("--fixing", is_flag=True,
              help="Remove the variables the LP proves are in no schedule better than the heuristic one.")
@click.option("--time-limit", type=FiniteFloat(0, low_open=True), default=30.0, show_default=True,
              help="Seconds for heuristics and LP.")
@click.option("--seed", type=SOLVER_SEED, default=0, show_default=True, help="Local-search seed.")
@click.option("--hint", "hint_file", type=click.Path(dir_okay=False), default=None,
              help="A schedule file to use as the incumbent (it must be feasible).")
@json_option
def export_ip_cmd(file: str, model_out: str, rows: str, fixing: bool, time_limit: float, seed: int,
                  hint_file: str | None, as_json: bool) -> None:
    """Write the hindsight IP of FILE as an MPS file for any MIP solver (Gurobi, CPLEX, SCIP, ...)."""
    from ..offline.export import export_ip  # lazy: heavy, loaded by this command only

    inputs = [file, hint_file]
    targets = _export_targets(model_out, inputs)
    inst = load_instance(file)
    hint = None if hint_file is None else starts_array(inst, _load_hint(inst, hint_file), source=hint_file)
    out = _export_staged(lambda p: export_ip(inst, p, rows=rows, fixing=fixing, time_limit=time_limit, hint=hint,
                                             seed=seed), model_out, targets, inputs)
    d = out.to_dict()
    lines = [f"wrote {out.path}: {out.n_variables} integer variables, {out.n_constraints} rows ({rows} memory rows), "
             f"horizon {out.horizon}",
             f"manifest {out.manifest}" + (f", MIP start {out.start_file}" if out.start_file else ""),
             f"heuristic TEL {out.incumbent_tel}, certified bound {out.lower_bound} ({out.lower_bound_name})",
             *out.notes[1:],
             f"read a solver's solution back: lpsched read-solution {file} SOLUTION --manifest {out.manifest}"]
    emit(d, "\n".join(lines), as_json)


@click.command("read-solution")
@click.argument("file", type=click.Path(dir_okay=False))
@click.argument("solution", type=click.Path(dir_okay=False))
@click.option("--manifest", type=click.Path(dir_okay=False), default=None,
              help="The model's manifest (from export-ip): checked to belong to FILE.")
@click.option("-o", "--output", "schedule_out", type=click.Path(dir_okay=False), default=None,
              help="Write the verified schedule (usable with verify, solve --hint).")
@json_option
def read_solution_cmd(file: str, solution: str, manifest: str | None, schedule_out: str | None,
                      as_json: bool) -> None:
    """Turn a MIP solver's SOLUTION of an exported model of FILE into a verified schedule."""
    from ..offline.export import read_solution  # lazy: heavy, loaded by this command only

    output_path(schedule_out, [file, solution, manifest])
    inst = load_instance(file)
    starts = read_solution(inst, solution, manifest)
    res = verify_schedule(inst, starts)
    d = {"objective": res.tel, "makespan": res.makespan, "starts": {inst.ids[i]: int(k) for i, k in enumerate(starts)}}
    if schedule_out is not None:
        save_schedule(schedule_out, d["starts"], inputs=[p for p in (file, solution, manifest) if p], objective=res.tel,
                      source=f"read-solution {solution}")
    emit(d, f"feasible schedule: TEL {res.tel}, makespan {res.makespan} (verified; optimality is the solver's "
            "claim, not checked here)", as_json)


def _export_targets(model_out: str, inputs: list[str | None]) -> list[Path]:
    """The three files ``export-ip`` writes (model, MIP start, manifest), checked before any work."""
    known = [p for p in inputs if p is not None]
    model = check_output(model_out, known)
    return [model, check_output(model.with_suffix(".mst"), known, "-o (its .mst)"),
            check_output(Path(f"{model}.json"), known, "-o (its .json manifest)")]


def _export_staged(export: Callable[[Path], Any], model_out: str, targets: list[Path],
                   inputs: list[str | None]) -> Any:
    """Run ``export(path)`` into a private folder next to the targets, then install each file whole
    (:func:`lpsched.fileio.write_text_atomic`), the manifest last, so a failure leaves the previous
    files as they were. The manifest's own paths are rewritten to the final names."""
    model, start, manifest = targets
    known = [p for p in inputs if p is not None]
    try:
        model.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{model.name}.", dir=model.parent))
    except OSError as exc:
        raise OutputError(f"-o {model_out}: cannot write ({exc.strerror})") from None
    try:
        try:
            out = export(stage / model.name)
            text = {"model": (stage / model.name).read_text(),
                    "manifest": parse_json(Path(out.manifest).read_text(), out.manifest, OutputError)}
            if out.start_file is not None:
                text["start"] = Path(out.start_file).read_text()
        except OSError as exc:
            raise OutputError(f"-o {model_out}: cannot write ({exc.strerror or exc})") from None
        out = replace(out, path=str(model_out), manifest=f"{model_out}.json",
                      start_file=None if out.start_file is None else str(Path(model_out).with_suffix(".mst")))
        text["manifest"].update(path=out.path, manifest=out.manifest, start_file=out.start_file)
        write_text_atomic(model, text["model"], known)
        if "start" in text:
            write_text_atomic(start, text["start"], known, "-o (its .mst)")
        else:
            start.unlink(missing_ok=True)  # a stale MIP start of an earlier model would mislead
        write_text_atomic(manifest, json.dumps(text["manifest"], indent=1) + "\n", known, "-o (its .json manifest)")
        return out
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def register(group: click.Group) -> None:
    """Add ``solve``, ``bounds``, ``export-ip`` and ``read-solution`` to the ``lpsched`` group."""
    group.add_command(solve)
    group.add_command(bounds)
    group.add_command(export_ip_cmd)
    group.add_command(read_solution_cmd)
