"""The curated set in instances/: every file loads, and rebuilding it from its recipe is identical."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from lpsched import load_instance
from lpsched.traces import shared_data_dir

INSTANCES = Path(__file__).resolve().parents[1] / "instances"
_spec = importlib.util.spec_from_file_location("instances_build", INSTANCES / "build.py")
build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build)  # type: ignore[union-attr]

RECIPES = build.recipes(shared_data_dir())


def test_every_shipped_file_has_a_recipe_and_records_its_generator() -> None:
    files = sorted(p.stem for p in INSTANCES.glob("*.json"))
    assert len(files) >= 10
    all_recipes = build.recipes(Path("/unused")).keys()
    assert set(files) == set(all_recipes)
    for name in files:
        inst = load_instance(INSTANCES / f"{name}.json")
        assert inst.name == name
        assert "generator" in inst.meta and "seed" in inst.meta


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_rebuilding_reproduces_the_file(name: str) -> None:
    shipped = load_instance(INSTANCES / f"{name}.json")
    rebuilt = RECIPES[name]().replace(name=name)
    assert rebuilt == shipped
    assert rebuilt.meta == shipped.meta
