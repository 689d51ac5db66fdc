"""Running a sweep: cells on an executor, results into SQLite as they finish, resumable.

:func:`run_sweep` expands a spec into cells, skips the cells the database already holds, runs the
rest on a ``concurrent.futures`` executor — inline (``workers=0``), local processes (default), or a
Dask cluster (``dask="local"`` starts a ``LocalCluster``; ``dask="tcp://host:8786"`` connects) — and
writes each finished cell in one transaction from this process. Killing the sweep at any point
loses at most the cells still running; running it again resumes.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import OptionError
from .cell import run_cell
from .spec import Cell, SweepSpec, expand_cells
from .store import done_cells, open_store, write_cell

__all__ = ["run_sweep", "SweepSummary"]


@dataclass(frozen=True)
class SweepSummary:
    """What a sweep run did: cells in the spec, skipped as already done, run now, failed."""

    db: str
    total: int
    skipped: int
    ran: int
    errors: int
    seconds: float
    error_messages: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "db": self.db,
            "total": self.total,
            "skipped": self.skipped,
            "ran": self.ran,
            "errors": self.errors,
            "seconds": self.seconds,
            "error_messages": list(self.error_messages),
        }


@contextmanager
def _executor(workers: int | None, dask: str | None) -> Iterator[cf.Executor | None]:
    if dask:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise OptionError("--dask needs dask.distributed: pip install 'lpsched[dask]'") from None
        if dask == "local":
            n = workers or os.cpu_count() or 1
            with (
                LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
                Client(cluster) as client,
            ):
                yield client.get_executor()
        else:
            try:
                client = Client(dask, timeout="20s")
            except OSError as exc:
                raise OptionError(f"cannot reach the Dask scheduler at {dask}: {exc}") from None
            with client:
                yield client.get_executor()
        return
    if workers == 0:
        yield None  # inline: cells run one by one in this process
        return
    ctx = multiprocessing.get_context("spawn")  # solvers use threads: never fork them
    with cf.ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 1, mp_context=ctx) as ex:
        yield ex


def run_sweep(
    spec: SweepSpec,
    db: str | Path,
    *,
    workers: int | None = None,
    dask: str | None = None,
    progress: bool = True,
    retry_errors: bool = False,
    cell_fn: Callable[[Cell], tuple[dict[str, Any], list[dict[str, Any]]]] = run_cell,
) -> SweepSummary:
    """Run every cell of ``spec`` not yet in ``db``; write results as they finish.

    Parameters
    ----------
    spec : SweepSpec
    db : path of the SQLite database (created if needed; shared by re-runs of the same sweep).
    workers : processes (default: all cores); ``0`` runs inline in this process.
    dask : ``"local"`` or a scheduler address such as ``"tcp://scheduler:8786"``.
    progress : show a progress bar with ETA on stderr.
    retry_errors : run cells that failed before again.
    cell_fn : the function run per cell (tests substitute slow or failing ones).
    """
    t0 = time.perf_counter()
    con = open_store(db)
    cells = expand_cells(spec)
    done = done_cells(con, include_errors=not retry_errors)
    pending = [c for c in cells if c.key not in done]
    errors: list[str] = []
    bar = _progress(progress, len(pending), spec.name)
    try:
        if pending:
            with _executor(workers, dask) as ex:
                for cell, outcome in _outcomes(ex, cell_fn, pending):
                    if isinstance(outcome, BaseException):  # the worker itself died: record, go on
                        cell_row = {"cell_key": cell.key, "sweep": cell.sweep, "generator": cell.generator,
                                    "params": cell.params, "seed": cell.seed, "status": "error",
                                    "error": f"{type(outcome).__name__}: {outcome}"}
                        rows: list[dict[str, Any]] = []
                    else:
                        cell_row, rows = outcome
                    write_cell(con, cell_row, rows)
                    if cell_row["status"] != "ok":
                        errors.append(f"{cell.generator} {cell.params} seed {cell.seed}: {cell_row['error']}")
                    bar(1)
    finally:
        bar(None)
        con.close()
    return SweepSummary(
        str(db),
        len(cells),
        len(cells) - len(pending),
        len(pending),
        len(errors),
        time.perf_counter() - t0,
        tuple(errors),
    )


def _outcomes(ex: cf.Executor | None, cell_fn: Callable[[Cell], Any], pending: list[Cell],
              ) -> Iterator[tuple[Cell, Any]]:
    """Yield ``(cell, result or exception)`` as cells finish: lazily one by one inline, else as the
    executor completes them (so every finished cell can be written before the next one ends)."""
    if ex is None:
        for cell in pending:
            try:
                yield cell, cell_fn(cell)
            except Exception as exc:
                yield cell, exc
        return
    futures = {ex.submit(cell_fn, c): c for c in pending}
    for fut in cf.as_completed(futures):
        exc = fut.exception()
        yield futures[fut], exc if exc is not None else fut.result()


def _progress(enabled: bool, total: int, name: str) -> Callable[[int | None], None]:
    """A progress callback: ``bar(k)`` advances by k, ``bar(None)`` closes."""
    if not enabled or total == 0:
        return lambda k: None
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    prog = Progress(
        TextColumn(f"sweep {name}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=Console(file=sys.stderr),
        transient=False,
    )
    task = prog.add_task("cells", total=total)
    prog.start()

    def bar(k: int | None) -> None:
        if k is None:
            prog.stop()
        else:
            prog.advance(task, k)

    return bar
