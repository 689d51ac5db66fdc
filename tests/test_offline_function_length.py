"""No function in lpsched/offline is longer than 80 lines (docstring included), so that each one can
be read at once; the ten longest are listed when it fails."""

from __future__ import annotations

import ast
from pathlib import Path

import lpsched.offline

LIMIT = 80


def function_lengths() -> list[tuple[int, str]]:
    """``(lines, "path:line name")`` of every function and method in lpsched/offline, longest first."""
    root = Path(lpsched.offline.__file__).parent
    out = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                out.append((node.end_lineno - node.lineno + 1, f"{path.relative_to(root)}:{node.lineno} {node.name}"))
    return sorted(out, reverse=True)


def test_no_offline_function_is_longer_than_80_lines() -> None:
    lengths = function_lengths()
    assert len(lengths) > 100
    longest = "\n".join(f"{n:4d}  {where}" for n, where in lengths[:10])
    assert lengths[0][0] <= LIMIT, f"functions longer than {LIMIT} lines:\n{longest}"
