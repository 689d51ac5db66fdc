"""The solver's tuning parameters: every one is a documented field of ``SolverParams``, and the
pipeline passes the caller's values down to the layers that use them."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

import pytest

import lpsched.offline
from lpsched.generate import paper
from lpsched.offline import SolverParams, solve_hindsight
from lpsched.offline import pipeline as P
from lpsched.offline.primal.large import LargeBudget

OFFLINE = Path(lpsched.offline.__file__).parent
LOG = OFFLINE.parents[1] / "docs" / "research" / "offline-log.md"

#: The module-level numeric constants of lpsched/offline that are not tuning: each is named, with
#: why, in the module text of ``lpsched/offline/params.py``. Any other one fails
#: :func:`test_no_tuning_constant_at_module_level`: make it a field of ``SolverParams`` instead.
IMPLEMENTATION_CONSTANTS = {
    ("formulation/model.py", "MAX_MODEL_VARIABLES"),
    ("export.py", "EXPLICIT_MAX_ENTRIES"),
    ("backends/highs.py", "CHILD_GRACE"),
    ("backends/highs.py", "KILL_AFTER"),
    ("backends/highs.py", "WATCH_SECONDS"),
    ("backends/highs.py", "IMPROVING_FILE_ALWAYS"),
    ("backends/cpsat.py", "SOLUTION_REPORT_SECONDS"),
    ("bounds/conflict.py", "MAX_CLIQUES_PER_STEP"),
    ("bounds/conflict.py", "MAX_WEIGHT_CLIQUE_JOBS"),
    ("bounds/conflict.py", "MAX_CANDIDATES"),
    ("bounds/conflict.py", "MAX_EDGES"),
}
UPPER = re.compile(r"^_?[A-Z][A-Z0-9_]*$")


def _numeric(node: ast.expr) -> bool:
    """A number (or bool) written in the code: a literal, a signed or computed one, or a tuple/list of them."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, int | float)
    if isinstance(node, ast.UnaryOp):
        return _numeric(node.operand)
    if isinstance(node, ast.BinOp):
        return _numeric(node.left) and _numeric(node.right)
    if isinstance(node, ast.Tuple | ast.List):
        return bool(node.elts) and all(_numeric(e) for e in node.elts)
    return False


def _module_constants() -> set[tuple[str, str]]:
    found = set()
    for f in sorted(OFFLINE.rglob("*.py")):
        for node in ast.parse(f.read_text()).body:
            if isinstance(node, ast.Assign):
                targets, value = node.targets, node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                targets, value = [node.target], node.value
            else:
                continue
            for t in targets:
                if isinstance(t, ast.Name) and UPPER.match(t.id) and _numeric(value):
                    found.add((f.relative_to(OFFLINE).as_posix(), t.id))
    return found


def test_the_scanner_sees_a_constant() -> None:
    assert _numeric(ast.parse("(0.9, -1, 2 * 10**6)", mode="eval").body)
    assert not _numeric(ast.parse("('a', 1)", mode="eval").body)
    assert ("formulation/model.py", "MAX_MODEL_VARIABLES") in _module_constants()


def test_no_tuning_constant_at_module_level() -> None:
    found = _module_constants()
    extra = sorted(found - IMPLEMENTATION_CONSTANTS)
    assert not extra, ("module-level numeric constants in lpsched/offline (make them SolverParams fields, or "
                       f"document them in params.py and list them here): {extra}")
    assert not IMPLEMENTATION_CONSTANTS - found, "listed constants that no longer exist"


def test_the_implementation_constants_are_documented_in_params() -> None:
    text = ast.get_docstring(ast.parse((OFFLINE / "params.py").read_text())) or ""
    for _, name in IMPLEMENTATION_CONSTANTS:
        assert name in text, name


def test_every_field_has_a_rationale_pointing_to_the_research_log() -> None:
    doc = SolverParams.__doc__ or ""
    entries = re.split(r"\n    (?=[a-z_, ]+ : )", doc.split("----------", 1)[1])
    documented: dict[str, str] = {}
    for entry in entries:
        head, _, body = entry.partition(" : ")
        for name in head.strip().split(", "):
            documented[name] = body
    headings = [line[3:].lower() for line in LOG.read_text().splitlines() if line.startswith("## ")]
    for f in dataclasses.fields(SolverParams):
        assert f.name in documented, f"SolverParams.{f.name} is not documented"
        pointers = re.findall(r"\[([^\]]+)\]", documented[f.name])
        assert pointers, f"SolverParams.{f.name}: no [research log entry]"
        idea = pointers[-1].split(";")[0].lower()
        assert any(idea in h for h in headings), f"SolverParams.{f.name}: no log entry '{idea}'"


def test_params_are_frozen_and_json_ready() -> None:
    p = SolverParams()
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.growth_rounds = 0  # type: ignore[misc]
    assert all(isinstance(v, int | float | tuple) for v in dataclasses.asdict(p).values())


def _spy(monkeypatch: pytest.MonkeyPatch, name: str, calls: list[dict]) -> None:
    real = getattr(P, name)

    def spy(*args, **kw):
        calls.append(kw)
        return real(*args, **kw)

    monkeypatch.setattr(P, name, spy)


def test_the_pipeline_passes_the_callers_params_down(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: dict[str, list[dict]] = {name: [] for name in ("best_schedule", "solve_lp", "lp_guided_schedules")}
    for name, seen in calls.items():
        _spy(monkeypatch, name, seen)
    inst = paper(1, n=20, s=50, lower=8, alpha=1 / 4, concurrency=10)  # the LP runs, and LP-guided schedules
    custom = SolverParams(tune_min_jobs=7, pilot_max_jobs=2, pilot_share=0.1, order_search_max_jobs=9,
                          lp_colgen_min_variables=11, growth_rounds=1, lp_guided_fractions=(0.97,))
    res = solve_hindsight(inst, time_limit=20, workers=1, params=custom)
    assert "pilot" not in res.info["heuristics"]  # n = 20 > pilot_max_jobs
    assert "pilot" in solve_hindsight(inst, time_limit=20, workers=1).info["heuristics"]
    assert calls["best_schedule"] and all(
        (kw["tune_min_jobs"], kw["pilot_max_jobs"], kw["pilot_share"], kw["order_search_max_jobs"]) == (7, 2, 0.1, 9)
        for kw in calls["best_schedule"][:1])
    assert (calls["solve_lp"][0]["colgen_min_variables"], calls["solve_lp"][0]["growth_rounds"]) == (11, 1)
    assert calls["lp_guided_schedules"][0]["fractions"] == (0.97,)
    assert calls["lp_guided_schedules"][0]["colgen_min_variables"] == 11


def test_the_large_path_gets_the_callers_params(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[dict] = []

    def spy(instance, budget, **kw):
        seen.append({"budget": budget, **kw})
        return real(instance, budget, **kw)

    real = P.large_search
    monkeypatch.setattr(P, "large_search", spy)
    inst = paper(0, n=12, s=4, lower=8, alpha=1 / 4, concurrency=10)
    custom = SolverParams(large_probe_jobs=1, large_model_variables=0, large_lp_variables_per_second=0,
                          large_lp_resume_share=0.01, lp_colgen_min_variables=5, pilot_max_jobs=3,
                          large_lp_share=0.2, large_window_jobs=7, large_guided_fractions=(0.9,))
    res = solve_hindsight(inst, time_limit=4, workers=1, params=custom)
    assert res.info["path"] == "large" and len(seen) == 1
    budget = seen[0]["budget"]
    assert (budget.lp_variables_per_second, budget.lp_resume_share) == (0, 0.01)
    assert (budget.window_jobs, budget.fractions) == (7, (0.9,)) and budget.lp == pytest.approx(0.2 * budget.total)
    assert res.info["large"]["lp_columns"] == 0  # 0 variables per second: the LP is skipped
    assert (seen[0]["colgen_min_variables"], seen[0]["pilot_max_jobs"]) == (5, 3)


def test_the_default_split_of_the_large_path_is_the_measured_one() -> None:
    """``LargeBudget.split`` with the default params: the split measured at n = 1000 (docs/research/
    offline-log.md, "large-instance path"), as it was before it became params."""
    t = 60.0
    assert LargeBudget.split(t) == LargeBudget(
        lp=0.12 * t, guided=0.13 * t, tune=0.15 * t, local_search=0.10 * t, window=0.45 * t, fractions=(0.95, 0.94),
        total=t, window_jobs=30, window_seconds=1.0, tune_without_lp=0.25 * t, lp_variables_per_second=20_000,
        lp_resume_share=0.06)
