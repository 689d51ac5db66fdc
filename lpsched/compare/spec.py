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
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import LpschedInputError, OptionError
from ..fileio import read_toml
from ..generate import GENERATORS, LENGTH_DISTRIBUTIONS, M_PRESETS
from ..limits import MAX_JOBS, MAX_ROUND, MAX_SEED, MAX_TOKENS, MAX_WORKERS, check_int
from ..predictors import PREDICTORS
from ..traces import TRACE_FORMATS

__all__ = ["SweepSpec", "Cell", "PolicyRun", "load_spec", "spec_from_dict", "expand_cells", "resolve_params"]

_TOP_KEYS = {"name", "description", "seeds", "policies", "optimum", "instances", "variants", "lp_bound"}
_OPT_KEYS = {"method", "time_limit", "workers", "backend"}
_VARIANT_KEYS = {"policy", "label", "options"}
#: Backends of ``[optimum]`` (lpsched.offline.pipeline.BACKENDS; kept here so a spec loads without OR-Tools).
_BACKENDS = ("cpsat", "highs", "pulp")
#: ``seeds = k`` runs seeds ``0..k-1``; larger ``k`` is surely a mistake.
_MAX_SEED_COUNT = 1_000_000


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


# ------------------------------------------------------------------ value checks
# Each returns None when the value is fine, else what is wrong with it (the caller names file and key).
Check = Callable[[Any], "str | None"]


def _int(low: int, high: int) -> Check:
    return lambda v: check_int(v, low, high)


def _num(low: float, high: float = math.inf, low_open: bool = False) -> Check:
    def check(v: Any) -> str | None:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            return f"must be a finite number, got {v!r}"
        if v < low or (low_open and v == low) or v > high:
            lo = "(" if low_open else "["
            return f"must be in {lo}{low:g}, {high:g}], got {v!r}"
        return None
    return check


def _choice(*names: str) -> Check:
    return lambda v: None if isinstance(v, str) and v in names else f"must be one of {', '.join(names)}, got {v!r}"


def _text(v: Any) -> str | None:
    return None if isinstance(v, str) and v else f"must be a non-empty string, got {v!r}"


def _window(v: Any) -> str | None:
    ok = (isinstance(v, list) and len(v) == 2 and all(_num(0)(x) is None for x in v) and v[0] < v[1])
    return None if ok else f"must be [START, END] in seconds with 0 <= START < END, got {v!r}"


def _trace_M(v: Any) -> str | None:
    if isinstance(v, str):
        return _choice(*M_PRESETS)(v)
    return check_int(v, 2, MAX_TOKENS)


_POSITIVE = _num(0, low_open=True)
_FRACTION = _num(0, 1)
#: Interval-model parameters a trace block may carry (lpsched.predictors), and their checks.
_INTERVAL_PARAMS: dict[str, Check] = {
    "lower": _int(1, MAX_TOKENS), "upper": _int(1, MAX_TOKENS), "alpha": _num(0, 1, low_open=True),
    "n_bins": _int(1, 100_000), "max_len": _int(1, MAX_TOKENS), "scale": _choice("linear", "geometric"),
    "accuracy": _FRACTION, "miss_rate": _FRACTION,
}
#: Per generator: its parameters with their checks, and the required ones.
_GENERATOR_PARAMS: dict[str, tuple[dict[str, Check], tuple[str, ...]]] = {
    "jaillet": ({"arrivals": _choice("zero", "poisson"), "M": _int(6, MAX_TOKENS), "n": _int(1, MAX_JOBS),
                 "rounds": _int(1, 1_000_000), "rate": _num(0, 1000, low_open=True)}, ()),
    "paper": ({"n": _int(1, MAX_JOBS), "s": _int(0, MAX_TOKENS), "lower": _int(1, MAX_TOKENS),
               "alpha": _num(0, 1, low_open=True), "M": _int(1, MAX_TOKENS), "concurrency": _POSITIVE,
               "dist": _choice(*LENGTH_DISTRIBUTIONS)}, ()),
    "trace": ({"path": _text, "fmt": _choice(*TRACE_FORMATS), "n": _int(1, MAX_JOBS), "M": _trace_M,
               "mode": _choice("consecutive", "random"), "offset": _int(0, MAX_ROUND),
               "arrivals": _choice("zero", "trace", "poisson", "gamma"), "round_seconds": _POSITIVE,
               "rate": _POSITIVE, "cv": _POSITIVE, "time_scale": _POSITIVE, "window": _window,
               "oversize": _choice("drop", "clip", "error"), "intervals": _choice(*PREDICTORS),
               **_INTERVAL_PARAMS}, ("path", "fmt", "n")),
}


class _Spec:
    """Error messages that name the spec (its file) and the key."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, msg: str) -> OptionError:
        return OptionError(f"{self.source}: {msg}")

    def check(self, where: str, value: Any, check: Check) -> None:
        problem = check(value)
        if problem is not None:
            raise self.fail(f"{where} {problem}")

    def unknown(self, where: str, keys: Any, known: Any) -> None:
        bad = sorted(set(keys) - set(known))
        if bad:
            raise self.fail(f"{where}unknown key '{bad[0]}' (known: {', '.join(sorted(known))})")


def _seeds(sp: _Spec, seeds: Any) -> list[int]:
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        sp.check("'seeds'", seeds, _int(1, _MAX_SEED_COUNT))
        return list(range(seeds))
    if not isinstance(seeds, list) or not seeds:
        raise sp.fail(f"'seeds' must be a positive integer or a non-empty list of seeds, got {seeds!r}")
    for x in seeds:
        sp.check("'seeds' entry", x, _int(0, MAX_SEED))
    dup = next((x for i, x in enumerate(seeds) if x in seeds[:i]), None)
    if dup is not None:
        raise sp.fail(f"'seeds' lists seed {dup} twice")
    return list(seeds)


def _optimum(sp: _Spec, raw: Any) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise sp.fail(f"'optimum' must be a table ([optimum] with method = ...), got {raw!r}")
    sp.unknown("[optimum]: ", raw, _OPT_KEYS)
    opt = {"method": "ip", "time_limit": 10.0, "workers": 1, "backend": "cpsat", **raw}
    if opt["method"] not in ("ip", "bounds", "none"):
        raise sp.fail(f"[optimum] method must be ip, bounds or none, got {opt['method']!r}")
    sp.check("[optimum] time_limit", opt["time_limit"], _num(0, 7 * 86400, low_open=True))
    sp.check("[optimum] workers", opt["workers"], _int(1, MAX_WORKERS))
    sp.check("[optimum] backend", opt["backend"], _choice(*_BACKENDS))
    return opt


def _instances(sp: _Spec, blocks: Any, seed: int) -> list[dict[str, Any]]:
    if not isinstance(blocks, list) or not blocks:
        raise sp.fail("at least one [[instances]] block is required")
    for i, b in enumerate(blocks):
        where = f"instances[{i}]"
        if not isinstance(b, Mapping) or not isinstance(b.get("generator"), str) or b["generator"] not in GENERATORS:
            raise sp.fail(f"{where}: 'generator' must be one of {', '.join(GENERATORS)}")
        params, required = _GENERATOR_PARAMS[b["generator"]]
        sp.unknown(f"{where} ({b['generator']}): ", b, {"generator", *params})
        for k in required:
            if k not in b:
                raise sp.fail(f"{where} ({b['generator']}): '{k}' is required")
        for k, v in b.items():
            if k == "generator":
                continue
            if (isinstance(v, list) and k != "window") or (k == "window" and v and isinstance(v[0], list)):
                if not v:
                    raise sp.fail(f"{where}: '{k}' is an empty list (a grid axis needs at least one value)")
                for x in v:
                    if isinstance(x, list) and k != "window":
                        raise sp.fail(f"{where}: '{k}' entry {x!r}: a grid axis holds values, not lists")
                    sp.check(f"{where}: '{k}' entry", x, params[k])
                dup = next((x for j, x in enumerate(v) if x in v[:j]), None)
                if dup is not None:
                    raise sp.fail(f"{where}: '{k}' lists {dup!r} twice")
            else:
                sp.check(f"{where}: '{k}'", v, params[k])
        if b["generator"] in _CHEAP_GENERATORS:
            _try_grid(sp, where, dict(b), seed)
    return [dict(b) for b in blocks]


#: Generators fast enough to run once per grid point at load time (catching combinations of values
#: that are each valid but not together, e.g. ``M`` below ``s + u``); ``trace`` reads a file.
_CHEAP_GENERATORS = ("paper", "jaillet")


def _try_grid(sp: _Spec, where: str, block: dict[str, Any], seed: int) -> None:
    """Build every grid point's instance once (with the first seed)."""
    gen = block.pop("generator")
    axes = {k: v for k, v in block.items() if isinstance(v, list)}
    fixed = {k: v for k, v in block.items() if not isinstance(v, list)}
    for values in itertools.product(*axes.values()):
        params = {**fixed, **dict(zip(axes, values, strict=True))}
        try:
            GENERATORS[gen](seed, **params)
        except LpschedInputError as exc:
            raise sp.fail(f"{where} ({gen}) with {params}: {exc}") from None


def _variants(sp: _Spec, raw: Any, policies: Any) -> list[PolicyRun]:
    if not isinstance(raw, list):
        raise sp.fail("'variants' must be a list of [[variants]] tables")
    runs: list[PolicyRun] = []
    for i, v in enumerate(raw):
        if not isinstance(v, Mapping) or "policy" not in v or "label" not in v:
            raise sp.fail(f"variants[{i}] needs 'policy' and 'label'")
        sp.unknown(f"variants[{i}]: ", v, _VARIANT_KEYS)
        if not isinstance(v["policy"], str) or v["policy"] not in policies:
            raise sp.fail(f"variants[{i}]: unknown policy {v['policy']!r} (known: {', '.join(policies)})")
        sp.check(f"variants[{i}]: 'label'", v["label"], _text)
        options = v.get("options", {})
        if not isinstance(options, Mapping):
            raise sp.fail(f"variants[{i}]: 'options' must be a table, got {options!r}")
        runs.append(PolicyRun(v["policy"], v["label"], dict(options)))
        _check_options(sp, runs[-1], i)
    return runs


def spec_from_dict(d: Mapping[str, Any], base_dir: str | Path = ".", source: str = "sweep spec") -> SweepSpec:
    """Validate a decoded spec entirely; raises :class:`OptionError` naming ``source``, the key and
    the value (unknown keys anywhere, types, ranges, duplicate seeds or axis values)."""
    from ..online import POLICIES  # the registry of policy names

    sp = _Spec(source)
    if not isinstance(d, Mapping):
        raise sp.fail("a sweep spec must be a table")
    sp.unknown("", d, _TOP_KEYS)
    name = d.get("name")
    if not isinstance(name, str) or not name:
        raise sp.fail("'name' must be a non-empty string")
    description = d.get("description", "")
    if not isinstance(description, str):
        raise sp.fail(f"'description' must be a string, got {description!r}")
    lp_bound = d.get("lp_bound", False)
    if not isinstance(lp_bound, bool):
        raise sp.fail(f"'lp_bound' must be true or false, got {lp_bound!r}")
    seeds = _seeds(sp, d.get("seeds", 1))
    policies = d.get("policies", ["hsf", "amin", "amax"])
    if not isinstance(policies, list) or not policies or not all(isinstance(p, str) for p in policies):
        raise sp.fail(f"'policies' must be a non-empty list of policy names, got {policies!r}")
    runs: list[PolicyRun] = []
    for p in policies:
        if p not in POLICIES:
            raise sp.fail(f"unknown policy '{p}' (known: {', '.join(POLICIES)})")
        runs.append(PolicyRun(p, p))
    runs += _variants(sp, d.get("variants", []), POLICIES)
    labels = [r.label for r in runs]
    if len(set(labels)) != len(labels):
        raise sp.fail("policy labels must be unique (give variants their own 'label')")
    if "hsf" not in labels:
        runs.insert(0, PolicyRun("hsf", "hsf"))  # every ratio_hsf needs H-SF on the same instance
    opt = _optimum(sp, d.get("optimum", {}))
    blocks = _instances(sp, d.get("instances"), seeds[0])
    return SweepSpec(
        name=name, seeds=tuple(seeds), runs=tuple(runs), optimum=opt,
        instances=tuple(blocks), description=description, lp_bound=lp_bound, base_dir=str(base_dir),
    )


def _check_options(sp: _Spec, run: PolicyRun, i: int) -> None:
    """Fail at load time, not in every cell, if a variant's options are invalid."""
    from ..instance import Instance
    from ..online import simulate

    probe = Instance.from_arrays(M=4, prompt=[1], output=[2], arrival_time=[0.0])
    try:
        simulate(probe, run.policy, **run.options)
    except OptionError as exc:
        raise sp.fail(f"variants[{i}] ('{run.label}'): {exc}") from None
    except TypeError as exc:  # an option the policy does not take at all
        raise sp.fail(f"variants[{i}] ('{run.label}'): invalid options {run.options!r} ({exc})") from None


def load_spec(path: str | Path) -> SweepSpec:
    """Read and validate a TOML sweep spec."""
    p = Path(path)
    return spec_from_dict(read_toml(p, "sweep spec", OptionError), base_dir=p.parent, source=str(p))


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
