"""Sweep specifications (TOML): a grid over generators, parameters, seeds, policies and options.

A spec (full reference in docs/comparator.md)::

    name = "paper-alpha"
    seeds = [0, 1, 2]                 # or an integer k for seeds 0..k-1
    policies = ["hsf", "amin", "amax"]

    [optimum]
    method = "ip"                     # ip (solve, fall back to bounds) | bounds | none
    time_limit = 20.0
    workers = 1
    backend = "cpsat"

    [[instances]]                     # one or more blocks; every list is a grid axis
    generator = "paper"
    n = 20
    alpha = [1.0, 0.5, 0.25]

    [[variants]]                      # optional: extra rows for policy options
    policy = "amin"
    label = "amin-fewest"
    options = {eviction = "fewest_generated"}

:func:`load_spec` validates it (clear errors naming the key) and :func:`expand_cells` turns it into
the list of :class:`Cell` objects a sweep runs, each with a stable key derived from its content.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import OptionError
from ..fileio import read_toml
from ..generate import GENERATORS

__all__ = ["SweepSpec", "Cell", "PolicyRun", "load_spec", "spec_from_dict", "expand_cells", "resolve_params"]

_TOP_KEYS = {"name", "description", "seeds", "policies", "optimum", "instances", "variants", "lp_bound"}
_OPT_KEYS = {"method", "time_limit", "workers", "backend"}


@dataclass(frozen=True)
class PolicyRun:
    """One row per instance: ``policy`` run with ``options``, reported under ``label``."""

    policy: str
    label: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Cell:
    """One instance of a sweep and everything to run on it."""

    key: str
    sweep: str
    generator: str
    params: dict[str, Any]
    seed: int
    runs: tuple[PolicyRun, ...]
    optimum: dict[str, Any]
    lp_bound: bool = False


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep specification."""

    name: str
    seeds: tuple[int, ...]
    runs: tuple[PolicyRun, ...]
    optimum: dict[str, Any]
    instances: tuple[dict[str, Any], ...]
    description: str = ""
    lp_bound: bool = False
    base_dir: str = "."


def _fail(msg: str) -> OptionError:
    return OptionError(f"sweep spec: {msg}")


def spec_from_dict(d: Mapping[str, Any], base_dir: str | Path = ".") -> SweepSpec:
    """Validate a decoded spec; raises :class:`OptionError` naming the offending key."""
    from ..online import POLICIES  # the registry of policy names

    bad = set(d) - _TOP_KEYS
    if bad:
        raise _fail(f"unknown key '{sorted(bad)[0]}' (known: {', '.join(sorted(_TOP_KEYS))})")
    name = d.get("name")
    if not isinstance(name, str) or not name:
        raise _fail("'name' must be a non-empty string")
    seeds = d.get("seeds", 1)
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        seeds = list(range(seeds))
    if not isinstance(seeds, list) or not seeds or not all(isinstance(s, int) for s in seeds):
        raise _fail("'seeds' must be a positive integer or a list of integers")
    policies = d.get("policies", ["hsf", "amin", "amax"])
    if not isinstance(policies, list) or not all(isinstance(p, str) for p in policies):
        raise _fail("'policies' must be a list of policy names")
    runs: list[PolicyRun] = []
    for p in policies:
        if p not in POLICIES:
            raise _fail(f"unknown policy '{p}' (known: {', '.join(POLICIES)})")
        runs.append(PolicyRun(p, p))
    for i, v in enumerate(d.get("variants", [])):
        if not isinstance(v, Mapping) or "policy" not in v or "label" not in v:
            raise _fail(f"variants[{i}] needs 'policy' and 'label'")
        if v["policy"] not in POLICIES:
            raise _fail(f"variants[{i}]: unknown policy '{v['policy']}' (known: {', '.join(POLICIES)})")
        runs.append(PolicyRun(v["policy"], str(v["label"]), dict(v.get("options", {}))))
        _check_options(runs[-1], i)
    labels = [r.label for r in runs]
    if len(set(labels)) != len(labels):
        raise _fail("policy labels must be unique (give variants their own 'label')")
    if "hsf" not in labels:
        runs.insert(0, PolicyRun("hsf", "hsf"))  # every ratio_hsf needs H-SF on the same instance
    opt = dict(d.get("optimum", {}))
    if set(opt) - _OPT_KEYS:
        raise _fail(f"[optimum]: unknown key '{sorted(set(opt) - _OPT_KEYS)[0]}'")
    opt.setdefault("method", "ip")
    opt.setdefault("time_limit", 10.0)
    opt.setdefault("workers", 1)
    opt.setdefault("backend", "cpsat")
    if opt["method"] not in ("ip", "bounds", "none"):
        raise _fail(f"[optimum] method must be ip, bounds or none, got '{opt['method']}'")
    blocks = d.get("instances")
    if not isinstance(blocks, list) or not blocks:
        raise _fail("at least one [[instances]] block is required")
    for i, b in enumerate(blocks):
        if not isinstance(b, Mapping) or b.get("generator") not in GENERATORS:
            raise _fail(f"instances[{i}]: 'generator' must be one of {', '.join(GENERATORS)}")
    return SweepSpec(
        name=name, seeds=tuple(seeds), runs=tuple(runs), optimum=opt,
        instances=tuple(dict(b) for b in blocks), description=str(d.get("description", "")),
        lp_bound=bool(d.get("lp_bound", False)), base_dir=str(base_dir),
    )


def _check_options(run: PolicyRun, i: int) -> None:
    """Fail at load time, not in every cell, if a variant's options are invalid."""
    from ..instance import Instance
    from ..online import simulate

    probe = Instance.from_arrays(M=4, prompt=[1], output=[2], arrival_time=[0.0])
    try:
        simulate(probe, run.policy, **run.options)
    except OptionError as exc:
        raise _fail(f"variants[{i}] ('{run.label}'): {exc}") from None


def load_spec(path: str | Path) -> SweepSpec:
    """Read and validate a TOML sweep spec."""
    p = Path(path)
    return spec_from_dict(read_toml(p, "sweep spec", OptionError), base_dir=p.parent)


def _key(payload: Mapping[str, Any]) -> str:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def expand_cells(spec: SweepSpec) -> list[Cell]:
    """All cells of the grid, in a deterministic order (block, grid point, seed)."""
    cells: list[Cell] = []
    for block in spec.instances:
        gen = block["generator"]
        fixed = {k: v for k, v in block.items() if k != "generator" and not isinstance(v, list)}
        axes = {k: v for k, v in block.items() if isinstance(v, list)}
        names = sorted(axes)
        for values in itertools.product(*(axes[k] for k in names)):
            params = {**fixed, **dict(zip(names, values, strict=True))}
            for seed in spec.seeds:
                payload = {"generator": gen, "params": params, "seed": seed,
                           "runs": [(r.policy, r.label, r.options) for r in spec.runs],
                           "optimum": spec.optimum, "lp": spec.lp_bound}
                cells.append(Cell(_key(payload), spec.name, gen, params, seed, spec.runs,
                                  spec.optimum, spec.lp_bound))
    return cells


def resolve_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Generator parameters with ``{data}`` in a ``path`` replaced by the shared data folder.

    Done when a cell runs, not when it is keyed, so cell keys do not depend on the machine.
    """
    out = dict(params)
    path = out.get("path")
    if isinstance(path, str) and "{data}" in path:
        from ..traces import shared_data_dir

        data = shared_data_dir()
        if data is None:
            raise OptionError("sweep spec: '{data}' used but ../shared/data was not found (set LPSCHED_DATA)")
        out["path"] = path.replace("{data}", str(data))
    return out
