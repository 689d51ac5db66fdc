"""The map of A_min's certified ratio over (reading, c, α, family, n): issue 33's evidence.

A **cell** is one instance of a family of :data:`~.constructions.THEOREM_FAMILIES` in the
theorem's setting (all jobs at time 0, common prompt ``s``, common interval ``[l, u]`` with
``u = l/α``, ``M = c·(s + u)``), attacked with one **reading** of A_min (:data:`READINGS`: the
default and its options) or another online policy (:data:`OTHER_POLICIES`). Its value is
:func:`~.certify.certified_ratio`: the interval ``[TEL/UB, TEL/LB]``, labelled ``exact`` or
``lower bound``.

Running a map (:func:`run_map`) appends one JSON line per finished cell to a rows file; a rerun
reads the file and skips the cells already there, so a map killed at any point resumes where it
stopped (a line cut short by the kill is skipped with a note on stderr, and that cell runs again).
Each cell runs in a child process with a hard time limit (twice the search budget plus a margin:
the simulation itself cannot be interrupted); a cell that exceeds it is recorded with status
``timeout`` and no ratio.

 ``benchmarks/amin_map.py`` is the command line and turns the rows into the map (best bound per
(reading, c, α), its growth with n, the log-vs-power fit in ``1/α``).
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..instance import Instance
from .certify import CertifiedRatio, certified_ratio
from .constructions import THEOREM_FAMILIES
from .outside import leave_setting

__all__ = ["READINGS", "OTHER_POLICIES", "reading_policy", "MapCell", "map_cells", "cell_instance", "search_split",
           "measure_cell", "run_cell", "run_map",
           "load_rows", "append_row", "LARGE_U"]

#: Reading name -> options of :func:`lpsched.online.simulate` for A_min. ``default`` is the documented
#: reading (docs/online.md); the others are its options (restart vs resume, eviction order,
#: estimate after eviction, the doubling refinement).
READINGS: dict[str, dict[str, Any]] = {
    "default": {},
    "resume": {"semantics": "resume"},
    "evict_fewest": {"eviction": "fewest"},
    "evict_last": {"eviction": "last"},
    "max_prev_g": {"after_eviction": "max_prev_g"},
    "double": {"after_eviction": "double"},
    "forbid": {"same_round": "forbid"},
}

#: The other online policies on the same cells (name -> (policy, options)), for the question whether a
#: family hurts every online policy: A_max, MC-SF with the interval's upper or lower end as its point
#: prediction, FCFS. (SVF on the interval's bounds needs no entry: with one common prompt and
#: interval its volume order is its estimate's order, so it is A_max on ``u`` and A_min on ``l``.)
OTHER_POLICIES: dict[str, tuple[str, dict[str, Any]]] = {
    "amax": ("amax", {}),
    "mcsf_upper": ("mcsf", {"missing": "upper"}),
    "mcsf_lower": ("mcsf", {"missing": "lower"}),
    "fcfs": ("fcfs", {}),
}


def reading_policy(reading: str) -> tuple[str, dict[str, Any]]:
    """``(policy, options)`` of a cell's reading: an A_min reading of :data:`READINGS` or an entry of
    :data:`OTHER_POLICIES`."""
    if reading in READINGS:
        return "amin", dict(READINGS[reading])
    if reading in OTHER_POLICIES:
        policy, options = OTHER_POLICIES[reading]
        return policy, dict(options)
    raise ValueError(f"unknown reading '{reading}' (known: {', '.join([*READINGS, *OTHER_POLICIES])})")


@dataclass(frozen=True)
class MapCell:
    """One point of the map (``alpha = 1/inv_alpha``).

    ``arrival_rate`` and ``prompt_spread`` (0: the theorem's setting) take the cell outside it with
    :func:`~.outside.leave_setting` (Poisson arrivals, prompts in a range; ``seed`` then draws them).
    """

    reading: str
    c: float
    inv_alpha: int
    family: str
    n: int
    seed: int = 0
    lower: int = 4
    prompt: int = 4
    arrival_rate: float = 0.0
    prompt_spread: float = 0.0

    @property
    def key(self) -> str:
        """Stable identity of the cell in a rows file (the outside-setting parts only when set)."""
        out = "".join(f"|{tag}{v:g}" for tag, v in (("ar", self.arrival_rate), ("ps", self.prompt_spread)) if v)
        return (f"{self.reading}|c{self.c:g}|a1_{self.inv_alpha}|{self.family}|n{self.n}|s{self.seed}"
                f"|l{self.lower}|p{self.prompt}{out}")

    @property
    def in_setting(self) -> bool:
        """Whether the cell keeps the theorem's setting (all at time 0, common prompt)."""
        return not (self.arrival_rate or self.prompt_spread)

    @property
    def alpha(self) -> float:
        return 1.0 / self.inv_alpha


def map_cells(readings: Iterable[str], cs: Iterable[float], inv_alphas: Iterable[int], families: Iterable[str],
              ns: Iterable[int], *, seed: int = 0, lower: int = 4, prompt: int = 4, arrival_rate: float = 0.0,
              prompt_spread: float = 0.0) -> list[MapCell]:
    """Every combination, in the order run: reading, c, α, family, then n ascending."""
    readings, families = list(readings), list(families)
    for r in readings:
        reading_policy(r)
    for f in families:
        if f not in THEOREM_FAMILIES:
            raise ValueError(f"unknown family '{f}' (known: {', '.join(THEOREM_FAMILIES)})")
    return [MapCell(r, float(c), int(a), f, int(n), seed, lower, prompt, float(arrival_rate), float(prompt_spread))
            for r in readings for c in cs for a in inv_alphas for f in families for n in sorted(ns)]


def cell_instance(cell: MapCell) -> Instance:
    """The cell's instance (deterministic: the family's generator with the cell's seed, then
    :func:`~.outside.leave_setting` when the cell is outside the theorem's setting)."""
    inst = THEOREM_FAMILIES[cell.family](cell.seed, alpha=cell.alpha, lower=cell.lower, prompt=cell.prompt,
                                         n=cell.n, c=cell.c)
    if cell.in_setting:
        return inst
    return leave_setting(inst, c=cell.c, arrival_rate=cell.arrival_rate, prompt_spread=cell.prompt_spread,
                         seed=cell.seed)


#: Above this ``u`` a cell uses the heuristics' schedules without their local search, window search
#: or IP: the horizon (tens of thousands of rounds) makes one list placement or one time-indexed
#: model cost more than a cell's budget (measured: ``u = 16384``, n = 16–1024 went over 42 s).
LARGE_U = 1024


def search_split(seconds: float, inst: Instance) -> dict[str, float | int]:
    """How a cell's search budget is spent (the arguments of :func:`~.certify.certified_ratio`):
    heuristics with local search, then window search (n > 16), the IP (n ≤ 16), all only while
    ``u ≤`` :data:`LARGE_U`; above it the heuristics alone (H-SF, list and fluid schedules)."""
    if int(inst.upper.max()) > LARGE_U:
        return {"seconds": 0.0, "window_seconds": 0.0, "ip_max_n": 0}
    window = 0.4 * seconds if inst.n > 16 else 0.0
    ip = 0.5 * seconds if inst.n <= 16 else 0.0
    return {"seconds": max(0.0, seconds - window - ip), "window_seconds": window, "ip_max_n": 16,
            "ip_time_limit": max(ip, 1.0)}


def measure_cell(cell: MapCell, seconds: float) -> tuple[Instance, CertifiedRatio]:
    """The cell's instance and its certified ratio under the cell's reading (``seconds`` of search)."""
    inst = cell_instance(cell)
    policy, options = reading_policy(cell.reading)
    cr = certified_ratio(inst, policy, options, seed=cell.seed, **search_split(seconds, inst))
    return inst, cr


def _row(cell: MapCell, inst: Instance | None, cr: CertifiedRatio | None, status: str, seconds: float,
         budget: float) -> dict[str, Any]:
    row: dict[str, Any] = {"key": cell.key, **asdict(cell), "alpha": cell.alpha,
                           "options": reading_policy(cell.reading)[1],
                           "status": status, "budget": budget, "seconds": round(seconds, 3)}
    if inst is not None:
        row.update({"upper": int(inst.upper.max()), "M": inst.M, "search": search_split(budget, inst)})
    if cr is not None:
        row.update(cr.to_dict())
        row.pop("policy_options")
        row["seconds"] = round(seconds, 3)
    return row


def _child(cell: MapCell, budget: float, queue: Any) -> None:
    t0 = time.perf_counter()
    try:
        inst, cr = measure_cell(cell, budget)
        queue.put(_row(cell, inst, cr, "ok", time.perf_counter() - t0, budget))
    except Exception as exc:  # reported as the cell's row; the map goes on
        queue.put({**_row(cell, None, None, "error", time.perf_counter() - t0, budget), "error": repr(exc)})


def run_cell(cell: MapCell, budget: float, *, hard_limit: float | None = None) -> dict[str, Any]:
    """Measure one cell in a child process; a row with status ``ok``, ``error`` or ``timeout``."""
    limit = 2 * budget + 30 if hard_limit is None else hard_limit
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(cell, budget, queue), daemon=True)
    t0 = time.perf_counter()
    proc.start()
    try:
        row = queue.get(timeout=limit)
    except Exception:  # queue.Empty: the cell ran out of time
        row = _row(cell, None, None, "timeout", time.perf_counter() - t0, budget)
        row["hard_limit"] = limit
    proc.join(timeout=5)
    if proc.is_alive():
        proc.kill()
        proc.join()
    return row


def load_rows(path: str | Path) -> list[dict[str, Any]]:
    """The rows of a map file; lines cut short by a kill are skipped (noted on stderr)."""
    p = Path(path)
    if not p.exists():
        return []
    rows = []
    for i, line in enumerate(p.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            print(f"{p}: line {i} is incomplete (a run was killed while writing it); skipped", file=sys.stderr)
            continue
        if isinstance(row, dict) and "key" in row:
            rows.append(row)
    return rows


def append_row(path: str | Path, row: dict[str, Any]) -> None:
    """Append one row as one line (strict JSON), flushed and fsynced; a torn last line is closed first."""
    p = Path(path)
    line = json.dumps(row, allow_nan=False, sort_keys=True) + "\n"
    with p.open("a+b") as fh:
        fh.seek(0, os.SEEK_END)
        if fh.tell() > 0:
            fh.seek(-1, os.SEEK_END)
            if fh.read(1) != b"\n":
                fh.write(b"\n")
        fh.write(line.encode())
        fh.flush()
        os.fsync(fh.fileno())


Progress = Callable[[int, int, MapCell, dict[str, Any] | None], None]


def run_map(cells: list[MapCell], rows_path: str | Path, *, budget: float, retry: tuple[str, ...] = ("error",),
            progress: Progress | None = None, hard_limit: float | None = None) -> list[dict[str, Any]]:
    """Run the cells not yet in ``rows_path`` (rows with a status in ``retry`` run again).

    Returns the rows written now. ``progress(i, total, cell, row)`` is called before each cell
    (``row=None``) and after it.
    """
    done = {r["key"]: r for r in load_rows(rows_path)}
    todo = [c for c in cells if c.key not in done or done[c.key].get("status") in retry]
    out = []
    for i, cell in enumerate(todo):
        if progress is not None:
            progress(i, len(todo), cell, None)
        row = run_cell(cell, budget, hard_limit=hard_limit)
        append_row(rows_path, row)
        out.append(row)
        if progress is not None:
            progress(i + 1, len(todo), cell, row)
    return out
