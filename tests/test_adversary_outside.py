"""Leaving the theorem's setting: Poisson arrivals and prompts in a range, seeded, kept apart in the map."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from lpsched.adversary.constructions import amin_epochs, amin_harmonic
from lpsched.adversary.library import memory_factor
from lpsched.adversary.outside import dropped_assumptions, leave_setting
from lpsched.adversary.ratio_map import MapCell, cell_instance, map_cells
from lpsched.errors import OptionError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import amin_map


def _rank(inst) -> np.ndarray:  # type: ignore[no-untyped-def]
    return np.array([int(i[1:]) for i in inst.ids])


def test_poisson_arrivals_follow_the_tie_break_order() -> None:
    base = amin_harmonic(3, alpha=1 / 64, n=40, c=1)
    out = leave_setting(base, c=1, arrival_rate=0.5, seed=7)
    order = np.argsort(_rank(out))
    arr = out.arrival[order]
    assert arr[0] == 0 and np.all(np.diff(arr) >= 0) and arr[-1] > 0
    # mean gap about 1/λ = 2 rounds (39 gaps)
    assert 1.0 < arr[-1] / 39 < 3.5
    assert np.array_equal(out.output, base.output) and np.array_equal(out.prompt, base.prompt) and out.M == base.M
    assert out.meta["outside_setting"]["drops"] == ["common arrival"]
    assert dropped_assumptions(out) == ["common arrival"] and dropped_assumptions(base) == []
    assert leave_setting(base, c=1, arrival_rate=0.5, seed=7) == out
    assert leave_setting(base, c=1, arrival_rate=0.5, seed=8) != out


def test_prompts_in_a_range_keep_c() -> None:
    base = amin_epochs(0, alpha=1 / 64, n=64, c=2)
    u = int(base.upper.max())
    out = leave_setting(base, c=2, prompt_spread=0.25, seed=1)
    assert out.prompt.min() >= base.prompt.min() and out.prompt.max() <= base.prompt.max() + u // 4
    assert out.prompt.min() < out.prompt.max()
    assert out.M == round(2 * (int(out.prompt.max()) + u))
    assert memory_factor(out) == pytest.approx(2, abs=0.01)
    assert np.array_equal(out.arrival, base.arrival)
    assert dropped_assumptions(out) == ["common prompt"]
    both = leave_setting(base, c=2, arrival_rate=1.0, prompt_spread=0.25, seed=1)
    assert both.meta["outside_setting"]["drops"] == ["common arrival", "common prompt"]
    same = leave_setting(base, c=2)
    assert np.array_equal(same.prompt, base.prompt) and same.M == base.M and same.meta["outside_setting"]["drops"] == []
    with pytest.raises(OptionError):
        leave_setting(base, c=2, arrival_rate=-1)


def test_cells_outside_the_setting_have_their_own_keys() -> None:
    inside = MapCell("default", 1.0, 8, "harmonic", 16)
    # keys of cells in the setting are unchanged (rows files from before resume)
    assert inside.key == "default|c1|a1_8|harmonic|n16|s0|l4|p4" and inside.in_setting
    out = map_cells(["default"], [1], [8], ["harmonic"], [16], seed=2, arrival_rate=1, prompt_spread=0.25)[0]
    assert out.key == "default|c1|a1_8|harmonic|n16|s2|l4|p4|ar1|ps0.25" and not out.in_setting
    assert dropped_assumptions(cell_instance(out)) == ["common arrival", "common prompt"]
    assert dropped_assumptions(cell_instance(inside)) == []


def test_map_summary_keeps_outside_rows_apart() -> None:
    def row(ratio: float, rate: float = 0.0, seed: int = 0) -> dict:
        return {"key": f"k{ratio}{rate}{seed}", "status": "ok", "reading": "default", "c": 1.0, "inv_alpha": 64,
                "n": 256, "family": "harmonic", "seed": seed, "ratio_lower": ratio, "ratio_upper": ratio + 1,
                "kind": "lower bound", "arrival_rate": rate, "prompt_spread": 0.0}

    rows = [row(5.0), row(9.0, 1.0, 0), row(7.0, 1.0, 1)]
    s = amin_map.summarise(rows)
    assert s.best[("default", 1.0, 64)]["ratio_lower"] == 5.0  # the outside rows do not enter the map
    (o,) = amin_map.outside_summary(rows)
    assert (o["best"], o["mean"], o["in_setting"], o["seeds"]) == (9.0, 8.0, 5.0, [0, 1])
    assert "Outside the theorem's setting" in amin_map.markdown_summary(rows)


def test_library_lookups_read_only_the_setting(tmp_path: Path) -> None:
    from lpsched.adversary.library import counterexample_for, worst_found, write_library_instance

    base = amin_harmonic(0, alpha=1 / 16, n=8, c=1)
    out = leave_setting(base, c=1, arrival_rate=1.0, seed=0)
    for inst, ratio, name in ((base, 2.0, "in.json"), (out, 9.0, "out.json")):
        meta = {**inst.meta, "adversary": {"policy": "amin", "alpha": 1 / 16, "ratio": None, "ratio_at_least": ratio}}
        write_library_instance(inst.replace(meta=meta), tmp_path / name)
    alphas, worst = worst_found("amin", tmp_path)
    assert list(worst) == [2.0] and list(alphas) == [1 / 16]
    found = counterexample_for(1.0, directory=tmp_path)
    assert found is not None and found[0] == "in.json"
