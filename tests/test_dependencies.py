"""Dependency drift (issue 32, defect 14): the CBC backend's PuLP code raises no DeprecationWarning
(PuLP's migrate-to-v4 guide), and pyproject pins PuLP below 4."""

from __future__ import annotations

import tomllib
import warnings
from pathlib import Path

from lpsched.generate import paper
from lpsched.offline import solve_hindsight

ROOT = Path(__file__).resolve().parents[1]


def test_cbc_backend_is_warning_free_and_agrees_with_cpsat(monkeypatch) -> None:
    import pulp  # after OR-Tools (imported by lpsched.offline above)

    def removed_in_pulp_4(*args, **kwargs):
        raise AssertionError("an API PuLP 4 removes was called")

    monkeypatch.setattr(pulp, "PULP_CBC_CMD", removed_in_pulp_4)  # the old code used both
    monkeypatch.setattr(pulp, "LpVariable", removed_in_pulp_4)
    inst = paper(3, n=6, concurrency=2)
    ref = solve_hindsight(inst, backend="cpsat", time_limit=20)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        res = solve_hindsight(inst, backend="pulp", time_limit=20, formulation="plain")
    assert res.n_variables > 0  # CBC really ran a model
    assert res.status == ref.status == "OPTIMAL" and res.objective == ref.objective


def test_pulp_is_pinned_below_4() -> None:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert "pulp>=2.8,<4" in deps
