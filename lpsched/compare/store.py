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
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

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
"""


def open_store(path: str | Path) -> sqlite3.Connection:
    """Open (creating if needed) a results database; WAL journal, so readers never block the sweep."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(p, timeout=30)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.executescript(SCHEMA)
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
