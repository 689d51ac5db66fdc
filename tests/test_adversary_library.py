"""instances/adversarial/: every stored case is strict JSON, named by convention, and re-verifies from
its certificate (schedule feasible with the recorded TEL; the policy re-simulated gives policy_tel)."""

from __future__ import annotations

import json
import re

import pytest

from lpsched.adversary import certify
from lpsched.adversary.library import (
    DEFAULT_DIR,
    library_name,
    load_library,
    memory_factor,
    worst_found,
    worst_found_series,
)
from lpsched.adversary.outside import dropped_assumptions
from lpsched.offline import lower_bounds
from lpsched.online import simulate
from lpsched.verify import verify_schedule

LIB = load_library()
IDS = [p.name for p, _ in LIB]
#: files whose policy run has this many evictions take tens of seconds to re-simulate: slow tests
SLOW_EVICTIONS = 100_000
CASES = [pytest.param(p, i, id=p.name, marks=[pytest.mark.slow] if i.meta["adversary"].get("evictions", 0)
                      > SLOW_EVICTIONS else []) for p, i in LIB]
NAME = re.compile(r"^(amin|amax)-a1_(\d+)-c([0-9.]+)-([a-z_]+)\.json$")
#: the (c, 1/α) cells of the A_min map the library must hold
MAP_CELLS = [(c, inv) for c in (1, 2, 4) for inv in (64, 512, 4096)]


def _no_constant(name: str) -> None:
    raise AssertionError(f"non-strict JSON constant {name}")


def test_every_file_is_strict_json() -> None:
    files = sorted(DEFAULT_DIR.glob("*.json"))
    assert len(files) == len(LIB) >= 24
    for p in files:
        json.loads(p.read_text(), parse_constant=_no_constant)


@pytest.mark.parametrize("path,inst", LIB, ids=IDS)
def test_name_follows_convention(path, inst) -> None:
    m = NAME.match(path.name)
    assert m is not None, path.name
    meta = inst.meta["adversary"]
    assert path.name == library_name(meta["policy"], meta["alpha"], memory_factor(inst), m.group(4))


@pytest.mark.parametrize("path,inst", LIB, ids=IDS)
def test_outside_setting_is_named_and_recorded(path, inst) -> None:
    drops = dropped_assumptions(inst)
    assert ("_outside_" in path.name) == bool(drops)
    assert inst.meta["adversary"].get("drops", []) == drops


@pytest.mark.parametrize("path,inst", CASES)
def test_certificate_reverifies(path, inst) -> None:
    m = inst.meta["adversary"]
    cert = m["certificate"]
    assert set(cert) == {"starts", "tel"} and set(cert["starts"]) == set(inst.ids)
    res = verify_schedule(inst, cert["starts"])
    assert res.feasible, f"{path.name}: {res.reason}"
    assert res.tel == cert["tel"] == m["best_schedule"]
    assert simulate(inst, m["policy"], **m["policy_options"]).tel == m["policy_tel"] == m["tel"]
    assert m["ratio_at_least"] == pytest.approx(m["policy_tel"] / cert["tel"])
    assert m["lower_bound"] <= cert["tel"]
    assert m["ratio_at_most"] == pytest.approx(m["policy_tel"] / m["lower_bound"])
    assert m["ratio_kind"] in ("exact", "lower bound")
    if m["ratio_kind"] == "exact":
        assert m["lower_bound"] == cert["tel"] and m["ratio"] == pytest.approx(m["ratio_at_least"])
    else:
        assert m["ratio"] is None
    assert lower_bounds(inst).bound <= m["lower_bound"]


@pytest.mark.slow
@pytest.mark.parametrize("path,inst", [(p, i) for p, i in LIB if i.n <= 16], ids=[p.name for p, i in LIB if i.n <= 16])
def test_exact_ratio_reproves(path, inst) -> None:
    m = inst.meta["adversary"]
    c = certify(inst, m["policy"], m["policy_options"], time_limit=60, workers=1)
    assert c.tel == m["policy_tel"]
    if m["ratio_kind"] == "exact":
        assert c.proven and c.ratio == pytest.approx(m["ratio"])
    else:
        assert c.ratio_at_least >= m["ratio_at_least"] - 1e-12


def test_map_cells_are_in_the_library() -> None:
    for c, inv in MAP_CELLS:
        a, _ = worst_found("amin", c=c)
        assert any(round(1 / x) == inv for x in a), f"no amin instance at c = {c}, α = 1/{inv}"


def test_series_for_plot(tmp_path) -> None:
    s = worst_found_series(["amin", "amax", "svf"])
    assert {f"amin worst found (c in [{k}, {2 * k}))" for k in (1, 2, 4)} <= set(s)
    assert not any(k.startswith("svf") for k in s)
    assert worst_found("amin", tmp_path)[0].size == 0  # empty directory: no series
    assert DEFAULT_DIR.name == "adversarial"
