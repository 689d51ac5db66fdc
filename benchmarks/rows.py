"""Benchmark rows as JSON lines: a row is appended (and flushed) as soon as it is measured, so a
run killed at any point loses nothing, and a rerun can take the rows already measured."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path


def load_rows(paths: Iterable[str | Path]) -> list[dict]:
    """Rows of earlier runs: ``--json`` files (one JSON list) or JSON-lines files (``--rows``). A
    last line cut short by a crash is skipped; any other unreadable line raises ``ValueError``
    naming the file and line."""
    rows: list[dict] = []
    for p in map(Path, paths):
        text = p.read_text()
        if text.lstrip().startswith("["):
            rows += [r for r in json.loads(text) if isinstance(r, dict)]
            continue
        lines = text.splitlines()
        for i, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                if i == len(lines):  # the line being written when the run was killed
                    break
                raise ValueError(f"{p}: line {i} is not JSON ({e.msg})") from None
    return rows


class RowLog:
    """A JSON-lines row file (``None``: rows are only printed): the rows measured earlier, by their
    ``key``, and new rows appended as they come."""

    def __init__(self, path: str | None) -> None:
        self.path = Path(path) if path else None
        self.done: dict[str, dict] = {}
        if self.path is not None and self.path.exists():
            for r in load_rows([self.path]):
                if "key" in r:
                    self.done[r["key"]] = r

    def add(self, row: dict) -> None:
        """Append ``row`` to the file (if any); a row with a ``key`` counts as measured."""
        if self.path is not None:
            with self.path.open("a") as fh:
                fh.write(json.dumps(row) + "\n")
                fh.flush()
        if "key" in row:
            self.done[row["key"]] = row

    def emit(self, row: dict) -> None:
        """Print ``row`` as one JSON line and :meth:`add` it."""
        print(json.dumps(row), flush=True)
        self.add(row)
