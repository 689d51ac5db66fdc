"""lpsched's import graph: no cycles, no hidden imports, and no OR-Tools for `import lpsched`.

Every module of the package is parsed with ``ast``; module-level and function-level imports of
lpsched modules (relative ones resolved) are the edges of a networkx DiGraph. A function-local
import of an lpsched module must carry a ``# lazy`` comment saying why (an optional heavy
dependency loaded on first use).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import networkx as nx

import lpsched

ROOT = Path(lpsched.__file__).parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _targets(node: ast.Import | ast.ImportFrom, module: str, is_package: bool, known: set[str]) -> list[str]:
    """The lpsched modules an import statement loads (the module itself, or its package)."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        if node.level:
            base = module.split(".") if is_package else module.split(".")[:-1]
            base = base[: len(base) - (node.level - 1)]
            prefix = ".".join(base + ([node.module] if node.module else []))
        else:
            prefix = node.module or ""
        names = [prefix] + [f"{prefix}.{a.name}" for a in node.names]
    out = []
    for name in names:
        while name and name not in known:
            name = name.rpartition(".")[0]
        if name.startswith("lpsched") and name not in out:
            out.append(name)
    return out


def _graph() -> tuple[nx.DiGraph, list[str]]:
    files = sorted(ROOT.rglob("*.py"))
    known = {_module_name(f) for f in files}
    g = nx.DiGraph()
    unmarked: list[str] = []
    for f in files:
        module = _module_name(f)
        g.add_node(module)
        text = f.read_text()
        lines = text.splitlines()
        tree = ast.parse(text)
        local = {id(n) for fn in ast.walk(tree) if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef)
                 for n in ast.walk(fn) if isinstance(n, ast.Import | ast.ImportFrom)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            targets = [t for t in _targets(node, module, f.name == "__init__.py", known) if t != module]
            for t in targets:
                g.add_edge(module, t)
            span = "\n".join(lines[node.lineno - 1: node.end_lineno])
            if id(node) in local and targets and "# lazy" not in span:
                unmarked.append(f"{module}:{node.lineno}: {span.strip()}")
    return g, unmarked


def test_no_import_cycle_in_lpsched() -> None:
    g, _ = _graph()
    assert g.number_of_nodes() > 50 and g.has_edge("lpsched.offline.pipeline", "lpsched.offline.state")
    # a package's __init__ importing its own submodules is how Python packages are built, not a cycle
    # between modules: the edge submodule -> package stands for "the package is loaded first"
    h = nx.DiGraph((a, b) for a, b in g.edges if not a.startswith(b + "."))
    cycles = list(nx.simple_cycles(h))
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join([*c, c[0]]) for c in cycles[:10])


#: Packages held to the rule. The online, replay, compare and adversary packages still have
#: function-local imports without a reason (their owners change them; see docs/architecture.md).
CHECKED = ("lpsched.offline", "lpsched.cli", "lpsched:")


def test_function_local_imports_of_lpsched_say_why() -> None:
    _, unmarked = _graph()
    unmarked = [u for u in unmarked if u.startswith(CHECKED)]
    assert not unmarked, "function-local imports without a '# lazy' comment:\n" + "\n".join(unmarked)


def test_the_offline_layers_import_downward_only() -> None:
    """params < formulation < schedules < bounds, backends < primal < pipeline (docs/architecture.md):
    ``offline.params`` (the defaults every layer's keyword arguments take) imports no lpsched module."""
    g, _ = _graph()
    assert not list(g.successors("lpsched.offline.params"))
    rank = {"formulation": 0, "schedules": 1, "bounds": 2, "backends": 2, "primal": 3}
    for a, b in g.edges:
        la, lb = (m.split(".")[2] if m.startswith("lpsched.offline.") and m.count(".") >= 3 else None for m in (a, b))
        if la in rank and lb in rank and la != lb:
            assert rank[lb] < rank[la], f"{a} imports {b}: a layer may only import the layers below it"


def test_import_lpsched_and_online_without_ortools() -> None:
    code = "import lpsched, lpsched.online, sys; assert 'ortools' not in sys.modules"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT.parent)
    assert r.returncode == 0, r.stderr
    # the closed-form bounds need no solver either
    code = ("import lpsched, sys; lpsched.lower_bounds(lpsched.paper(0, n=8)); "
            "assert 'ortools' not in sys.modules")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT.parent)
    assert r.returncode == 0, r.stderr


def test_simulate_command_loads_no_solver_stack() -> None:
    """``lpsched simulate`` loads the command line and the online package: neither pulls in
    OR-Tools, PuLP, SciPy, pandas or matplotlib (they cost about half a second of start-up)."""
    heavy = ("ortools", "pulp", "scipy", "pandas", "matplotlib")
    code = ("import sys, lpsched.cli.app, lpsched.online; "
            f"loaded = sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r})); "
            "assert not loaded, loaded")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT.parent)
    assert r.returncode == 0, r.stderr
