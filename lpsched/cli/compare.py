"""CLI commands of the comparator: ``sweep``, ``report`` and ``demo``."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path
from typing import Any

import click

from ..errors import OptionError
from .common import emit, json_option, workers_type


def library_counterexample(c: float) -> Any:
    """The adversarial library's worst certified A_min case at memory factor ``c``, as the growth
    verdict's :class:`~lpsched.compare.theory.Counterexample` (``None`` when the library has none)."""
    from ..adversary.library import counterexample_for, memory_factor, reading_of  # lazy: heavy, this command only
    from ..compare.theory import Counterexample  # lazy: heavy, loaded by this command only

    found = counterexample_for(c)
    if found is None:
        return None
    name, m, inst = found
    ratio = m.get("ratio") if m.get("ratio") is not None else m["ratio_at_least"]
    return Counterexample(file=f"instances/adversarial/{name}", alpha=float(m["alpha"]), n=inst.n,
                          c=memory_factor(inst), ratio_at_least=float(ratio),
                          reading=reading_of(m.get("policy_options") or {}))


def _run_and_report(spec_path: Path, db: Path, plots: Path | None, workers: int | None, dask: str | None,
                    progress: bool, as_json: bool, retry_errors: bool = False) -> None:
    from ..compare import load_spec, run_sweep  # lazy: heavy, loaded by this command only
    from ..compare.plots import plot_database  # lazy: heavy, loaded by this command only
    from ..compare.report import markdown_report  # lazy: heavy, loaded by this command only

    spec = load_spec(spec_path)
    summary = run_sweep(spec, db, workers=workers, dask=dask, progress=progress and not as_json,
                        retry_errors=retry_errors)
    report = markdown_report(db, counterexample_for=library_counterexample)
    paths = [str(p) for p in plot_database(db, plots)] if plots is not None else []
    text = [f"sweep {spec.name}: {summary.total} instances, {summary.skipped} already in {db}, "
            f"{summary.ran} run now ({summary.errors} failed) in {summary.seconds:.1f} s", "", report]
    if paths:
        text += ["Plots:", *[f"  {p}" for p in paths]]
    emit({**summary.to_dict(), "plots": paths, "report": report}, "\n".join(text), as_json)


@click.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--db", type=click.Path(dir_okay=False), help="Results database (default: SPEC with .db).")
@click.option("--workers", type=workers_type(0), help="Worker processes (default: all cores; 0 = inline).")
@click.option("--dask", help="Run on Dask: 'local' (a LocalCluster) or a scheduler address tcp://host:8786.")
@click.option("--plots", type=click.Path(file_okay=False), help="Also write the plots into this folder.")
@click.option("--retry-errors", is_flag=True, help="Run cells that failed before again.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@json_option
def sweep(spec: str, db: str | None, workers: int | None, dask: str | None, plots: str | None,
          retry_errors: bool, no_progress: bool, as_json: bool) -> None:
    """Run a sweep SPEC (TOML) into a SQLite database, resuming where it stopped; print the report."""
    db_path = Path(db) if db else Path(spec).with_suffix(".db")
    _run_and_report(Path(spec), db_path, Path(plots) if plots else None, workers, dask, not no_progress,
                    as_json, retry_errors)


@click.command()
@click.argument("db", type=click.Path(dir_okay=False))
@click.option("--plots", type=click.Path(file_okay=False), help="Write the plots into this folder.")
@json_option
def report(db: str, plots: str | None, as_json: bool) -> None:
    """Print the Markdown report of a sweep database (and write plots with --plots)."""
    from ..compare.plots import plot_database  # lazy: heavy, loaded by this command only
    from ..compare.report import markdown_report  # lazy: heavy, loaded by this command only

    text = markdown_report(db, counterexample_for=library_counterexample)
    paths = [str(p) for p in plot_database(db, plots)] if plots else []
    emit({"report": text, "plots": paths}, text + ("\nPlots:\n" + "\n".join(f"  {p}" for p in paths) if paths else ""),
         as_json)


@click.command()
@click.option("--out", type=click.Path(file_okay=False), default="lpsched-demo", show_default=True,
              help="Folder for the spec, database and plots.")
@click.option("--workers", type=workers_type(0), help="Worker processes (default: all cores; 0 = inline).")
@json_option
def demo(out: str, workers: int | None, as_json: bool) -> None:
    """The first result: a small built-in sweep (exact optimum, every policy), its table and plots."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    spec_path = folder / "demo.toml"
    with resources.as_file(resources.files("lpsched") / "data" / "demo.toml") as src:
        shutil.copyfile(src, spec_path)
    _run_and_report(spec_path, folder / "demo.db", folder / "plots", workers, None, True, as_json)
    if not as_json:
        click.echo(f"\nThe spec is {spec_path}; edit it and run `lpsched sweep {spec_path}` to go further.")


#: name -> (spec file in experiments/, function making the comparison table from the database)
REPRODUCTIONS = {"jaillet": "jaillet_table.toml", "paper": "paper_real_lengths.toml"}


@click.command()
@click.argument("name", type=click.Choice(sorted(REPRODUCTIONS)))
@click.option("--experiments", "folder", type=click.Path(file_okay=False),
              help="Folder holding the specs (default: experiments/ of the lpsched source tree).")
@click.option("--workers", type=workers_type(0), default=1, show_default=True, help="Worker processes.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
def reproduce(name: str, folder: str | None, workers: int, no_progress: bool) -> None:
    """Run a reproduction's sweep (resuming) and print our table beside the published one.

    NAME: jaillet (Jaillet et al.'s synthetic table) or paper (Chen, Ye, Zhou's setting on real
    lengths). The third reproduction is `lpsched replay-study experiments/azure_conv_replay.toml`.
    """
    from ..compare import load_spec, run_sweep  # lazy: heavy, loaded by this command only
    from ..repro import jaillet_table, paper_table  # lazy: heavy, loaded by this command only

    base = Path(folder) if folder else Path(__file__).resolve().parents[1] / "experiments"
    spec_path = base / REPRODUCTIONS[name]
    if not spec_path.exists():
        raise OptionError(f"{spec_path}: spec not found (give --experiments FOLDER)")
    db = spec_path.with_suffix(".db")
    summary = run_sweep(load_spec(spec_path), db, workers=workers, progress=not no_progress)
    click.echo(f"{summary.total} instances ({summary.skipped} already in {db}, {summary.ran} run now, "
               f"{summary.errors} failed) in {summary.seconds:.0f} s\n")
    click.echo((jaillet_table if name == "jaillet" else paper_table)(db))


def register(group: click.Group) -> None:
    """Add this module's commands to the ``lpsched`` group."""
    group.add_command(sweep)
    group.add_command(report)
    group.add_command(demo)
    group.add_command(reproduce)


__all__ = ["register", "sweep", "report", "demo", "reproduce"]
