"""The SQLite results store of a sweep: one row per instance × policy, written as cells finish.

Two tables (schema in :data:`SCHEMA`):

* ``cells`` – one row per instance (sweep cell): parameters, seed, instance hash, the optimum or
  bound and its status, the cell's status (``ok`` or ``error`` with the message), seconds, version;
* ``results`` – one row per instance × policy (label): TEL, evictions, wasted tokens, peak memory,
  seconds, and the three ratios kept apart: ``ratio_opt`` (only when the optimum is proven),
  ``ratio_lb`` (against the best certified lower bound: an *upper bound* on the true ratio) and
  ``ratio_hsf`` (against H-SF, the paper's benchmark); ``starts`` keeps the final starts (JSON, for
  instances of at most :data:`STARTS_MAX_JOBS` jobs) so plots can be redrawn from the database.

A cell and its result rows are written in one transaction, so a sweep killed at any point (even
``kill -9``) leaves only whole cells behind and :func:`done_cells` tells a restart what to skip.

A third table, ``lpsched_store``, marks the file as ours (``format = lpsched-sweep``, ``version``).
:func:`open_store` checks the marker, read-only, before anything else touches the file: it never
writes to a database lpsched did not create (a foreign SQLite file, a text file), and a reader
(``report``) never writes into an empty or missing file. Databases written before the marker
existed are recognised by their exact ``cells``/``results`` columns and get the marker.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..errors import OptionError

__all__ = ["SCHEMA", "open_store", "done_cells", "write_cell", "read_results", "read_cells",
           "RESULT_COLUMNS", "CELL_COLUMNS", "STARTS_MAX_JOBS"]

#: Final starts are stored for instances up to this size.
STARTS_MAX_JOBS = 2000

CELL_COLUMNS = (
    "cell_key", "sweep", "generator", "params", "seed", "instance_hash", "instance_name", "n", "M",
    "alpha", "opt_method", "opt_status", "opt_value", "opt_bound", "opt_gap", "opt_seconds",
    "lb_best", "lb_name", "hsf_tel", "status", "error", "seconds", "version", "finished_at",
)
RESULT_COLUMNS = (
    "cell_key", "sweep", "generator", "params", "seed", "instance_hash", "n", "M", "alpha",
    "policy", "label", "options", "tel", "evictions", "wasted_tokens", "recomputed_tokens",
    "peak_memory", "misses", "max_job_evictions", "seconds", "opt_status", "opt_value",
    "lower_bound", "solver_gap", "ratio_opt", "ratio_lb", "ratio_hsf", "version", "starts",
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS cells (
    cell_key TEXT PRIMARY KEY, sweep TEXT, generator TEXT, params TEXT, seed INTEGER,
    instance_hash TEXT, instance_name TEXT, n INTEGER, M INTEGER, alpha REAL,
    opt_method TEXT, opt_status TEXT, opt_value INTEGER, opt_bound REAL, opt_gap REAL,
    opt_seconds REAL, lb_best INTEGER, lb_name TEXT, hsf_tel INTEGER,
    status TEXT NOT NULL, error TEXT, seconds REAL, version TEXT, finished_at TEXT
);
CREATE TABLE IF NOT EXISTS results (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    cell_key TEXT NOT NULL REFERENCES cells(cell_key), sweep TEXT, generator TEXT, params TEXT,
    seed INTEGER, instance_hash TEXT, n INTEGER, M INTEGER, alpha REAL,
    policy TEXT NOT NULL, label TEXT NOT NULL, options TEXT, tel INTEGER, evictions INTEGER,
    wasted_tokens INTEGER, recomputed_tokens INTEGER, peak_memory INTEGER, misses INTEGER,
    max_job_evictions INTEGER, seconds REAL, opt_status TEXT, opt_value INTEGER,
    lower_bound REAL, solver_gap REAL, ratio_opt REAL, ratio_lb REAL, ratio_hsf REAL,
    version TEXT, starts TEXT, UNIQUE (cell_key, label)
);
CREATE INDEX IF NOT EXISTS results_label_alpha ON results(label, alpha);
CREATE TABLE IF NOT EXISTS lpsched_store (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

#: The marker row of ``lpsched_store`` and the version of this schema.
STORE_FORMAT = "lpsched-sweep"
STORE_VERSION = "1"

_SQLITE_MAGIC = b"SQLite format 3\x00"


def _columns(con: sqlite3.Connection, table: str) -> tuple[str, ...]:
    return tuple(r[1] for r in con.execute(f"PRAGMA table_info({table})"))


def _check_ours(p: Path) -> bool:
    """Read-only check of an existing non-empty file: ``True`` if it carries our marker, ``False`` if
    it is an lpsched database from before the marker; else :class:`OptionError`."""
    try:
        with p.open("rb") as fh:
            head = fh.read(len(_SQLITE_MAGIC))
    except OSError as exc:
        raise OptionError(f"{p}: cannot read results database ({exc.strerror})") from None
    if head != _SQLITE_MAGIC:
        raise OptionError(f"{p}: not an SQLite database (not a results database of lpsched); left untouched")
    try:
        con = sqlite3.connect(f"{p.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    except sqlite3.Error as exc:
        raise OptionError(f"{p}: cannot open results database ({exc})") from None
    try:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "lpsched_store" in tables:
            marks = dict(con.execute("SELECT key, value FROM lpsched_store").fetchall())
            if marks.get("format") != STORE_FORMAT:
                raise OptionError(f"{p}: not a results database of lpsched (marker {marks.get('format')!r}); "
                                  "left untouched")
            if marks.get("version") != STORE_VERSION:
                raise OptionError(f"{p}: results database of version {marks.get('version')}, this lpsched "
                                  f"reads version {STORE_VERSION}; left untouched")
            return True
        legacy = ({"cells", "results"} <= tables and _columns(con, "cells") == CELL_COLUMNS
                  and _columns(con, "results")[1:] == RESULT_COLUMNS)
    except sqlite3.Error as exc:
        raise OptionError(f"{p}: not a readable results database ({exc}); left untouched") from None
    finally:
        con.close()
    if not legacy:
        raise OptionError(f"{p}: an SQLite database lpsched did not create (no lpsched_store marker); "
                          "left untouched")
    return False


def open_store(path: str | Path, create: bool = True) -> sqlite3.Connection:
    """Open a results database; WAL journal, so readers never block the sweep.

    With ``create`` (a sweep) a missing or empty file becomes a new database; without it (a report)
    it is an error. An existing file must be one of ours (module text).

    Raises
    ------
    OptionError
        For a file that is not a results database of lpsched, or a missing one when not ``create``.
    """
    p = Path(path)
    exists = p.exists()
    if exists and not p.is_file():
        raise OptionError(f"{p}: not a file (a results database is one file)")
    empty = not exists or p.stat().st_size == 0
    if empty and not create:
        raise OptionError(f"{p}: {'an empty file, not a results database' if exists else 'no such results database'}")
    if not empty:
        _check_ours(p)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(p, timeout=30)
    except (OSError, sqlite3.Error) as exc:
        raise OptionError(f"{p}: cannot open results database ({exc})") from None
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.executescript(SCHEMA)
    with con:
        con.executemany("INSERT OR IGNORE INTO lpsched_store (key, value) VALUES (?, ?)",
                        [("format", STORE_FORMAT), ("version", STORE_VERSION)])
    con.row_factory = sqlite3.Row
    return con


def done_cells(con: sqlite3.Connection, include_errors: bool = True) -> set[str]:
    """Keys of the cells already written (``include_errors=False`` lets failed cells run again)."""
    q = "SELECT cell_key FROM cells" + ("" if include_errors else " WHERE status = 'ok'")
    return {r[0] for r in con.execute(q)}


def _encode(v: Any) -> Any:
    if isinstance(v, (dict, list, tuple)):
        return json.dumps(v, sort_keys=True)
    return v


def write_cell(con: sqlite3.Connection, cell: Mapping[str, Any], rows: Iterable[Mapping[str, Any]]) -> None:
    """Write one cell and its result rows atomically (replacing an earlier failed attempt)."""
    with con:
        con.execute("DELETE FROM results WHERE cell_key = ?", (cell["cell_key"],))
        con.execute(
            f"INSERT OR REPLACE INTO cells ({', '.join(CELL_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in CELL_COLUMNS)})",
            [_encode(cell.get(c)) for c in CELL_COLUMNS],
        )
        con.executemany(
            f"INSERT INTO results ({', '.join(RESULT_COLUMNS)}) VALUES ({', '.join('?' for _ in RESULT_COLUMNS)})",
            [[_encode(r.get(c)) for c in RESULT_COLUMNS] for r in rows],
        )


def read_results(con: sqlite3.Connection, where: str = "", params: tuple = ()) -> list[dict[str, Any]]:
    """All result rows (optionally filtered by an SQL ``where`` clause) as dicts, ordered by id."""
    q = "SELECT * FROM results" + (f" WHERE {where}" if where else "") + " ORDER BY id"
    return [dict(r) for r in con.execute(q, params)]


def read_cells(con: sqlite3.Connection) -> list[dict[str, Any]]:
    """All cell rows as dicts."""
    return [dict(r) for r in con.execute("SELECT * FROM cells ORDER BY cell_key")]
