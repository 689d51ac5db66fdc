"""Running one sweep cell: make the instance, get the optimum or bounds, run every policy, form ratios.

:func:`run_cell` is a plain, picklable function of a :class:`~lpsched.compare.spec.Cell`, so any
``concurrent.futures`` executor (local processes or a Dask cluster) can run it. It returns the
``cells`` row and the ``results`` rows of :mod:`lpsched.compare.store`; a failure inside a cell is
recorded as an ``error`` cell with its message rather than stopping the sweep.

:func:`ratios` is the single place the three kinds of ratio are formed (docs/model.md §5): against the
proven optimum, against the best certified lower bound (an upper bound on the true ratio), and
against H-SF. They are never mixed in one column.
"""

from __future__ import annotations

import math
import statistics
import time
from datetime import UTC, datetime
from typing import Any

from .. import __version__
from ..generate import GENERATORS
from ..instance import Instance
from ..offline import lower_bounds
from .spec import Cell, resolve_params
from .store import STARTS_MAX_JOBS

__all__ = ["run_cell", "ratios", "make_instance", "OPT_LABEL"]

#: Label of the row that records the hindsight solver's best schedule.
OPT_LABEL = "opt"


def make_instance(cell: Cell) -> Instance:
    """The cell's instance (deterministic: generator, parameters and seed)."""
    return GENERATORS[cell.generator](cell.seed, **resolve_params(cell.params))


def ratios(
    tel: float, opt_value: float | None, lower_bound: float | None, hsf_tel: float | None
) -> dict[str, float | None]:
    """The three ratios of a TEL, each ``None`` when its denominator is unknown.

    ``ratio_opt``: TEL / proven optimum (``opt_value`` must only be given when proven).
    ``ratio_lb``: TEL / best certified lower bound, an upper bound on the true ratio.
    ``ratio_hsf``: TEL / TEL(H-SF), the paper's benchmark (may be below 1).
    """
    return {
        "ratio_opt": tel / opt_value if opt_value else None,
        "ratio_lb": tel / lower_bound if lower_bound else None,
        "ratio_hsf": tel / hsf_tel if hsf_tel else None,
    }


def _optimum(inst: Instance, cell: Cell) -> dict[str, Any]:
    """Optimum (when proven), best bound and the solver's best schedule, per ``cell.optimum``."""
    lb = lower_bounds(inst, lp=cell.lp_bound) if cell.lp_bound else lower_bounds(inst)
    out: dict[str, Any] = {
        "opt_method": cell.optimum["method"],
        "opt_status": None,
        "opt_value": None,
        "opt_bound": None,
        "opt_gap": None,
        "opt_seconds": None,
        "lb_best": lb.bound,
        "lb_name": lb.name,
        "ip": None,
    }
    if cell.optimum["method"] != "ip":
        return out
    from ..offline import solve_hindsight  # lazy: heavy (OR-Tools), loaded by the ip optimum method only

    res = solve_hindsight(
        inst,
        backend=cell.optimum["backend"],
        time_limit=float(cell.optimum["time_limit"]),
        workers=int(cell.optimum["workers"]),
        seed=cell.seed,
    )
    out.update(opt_status=res.status, opt_bound=res.bound, opt_gap=res.gap, opt_seconds=res.seconds, ip=res)
    if res.status == "OPTIMAL":
        out["opt_value"] = int(res.objective)
    if res.bound is not None and math.ceil(res.bound - 1e-6) > out["lb_best"]:
        out["lb_best"] = math.ceil(res.bound - 1e-6)
        out["lb_name"] = f"ip_bound({res.backend})"
    return out


def run_cell(cell: Cell) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run one cell; returns ``(cell_row, result_rows)`` for :func:`lpsched.compare.store.write_cell`."""
    from ..online import simulate

    t0 = time.perf_counter()
    base: dict[str, Any] = {
        "cell_key": cell.key,
        "sweep": cell.sweep,
        "generator": cell.generator,
        "params": cell.params,
        "seed": cell.seed,
        "version": __version__,
    }
    try:
        inst = make_instance(cell)
        alpha = statistics.median((inst.lower / inst.upper).tolist()) if inst.n else None
        base.update(instance_hash=inst.content_hash(), n=inst.n, M=inst.M, alpha=alpha)
        opt = _optimum(inst, cell)
        sims = {}
        for run in cell.runs:
            sims[run.label] = simulate(inst, run.policy, **run.options)
        hsf_tel = sims["hsf"].tel
        rows: list[dict[str, Any]] = []
        common = {
            k: base[k]
            for k in ("cell_key", "sweep", "generator", "params", "seed", "instance_hash", "n", "M", "alpha", "version")
        }
        solver = {
            "opt_status": opt["opt_status"],
            "opt_value": opt["opt_value"],
            "lower_bound": opt["lb_best"],
            "solver_gap": opt["opt_gap"],
        }
        for run in cell.runs:
            r = sims[run.label]
            d = r.to_dict()
            rows.append(
                {
                    **common,
                    **solver,
                    "policy": run.policy,
                    "label": run.label,
                    "options": run.options,
                    "tel": r.tel,
                    "evictions": d.get("evictions"),
                    "wasted_tokens": d.get("wasted_tokens"),
                    "recomputed_tokens": d.get("recomputed_tokens"),
                    "peak_memory": d.get("peak_memory"),
                    "misses": d.get("misses"),
                    "max_job_evictions": d.get("max_job_evictions"),
                    "seconds": d.get("seconds"),
                    "starts": r.starts if inst.n <= STARTS_MAX_JOBS else None,
                    **ratios(r.tel, opt["opt_value"], opt["lb_best"], hsf_tel),
                }
            )
        ip = opt["ip"]
        if ip is not None and ip.objective is not None:
            rows.append(
                {
                    **common,
                    **solver,
                    "policy": "ip",
                    "label": OPT_LABEL,
                    "options": {"backend": ip.backend, "status": ip.status},
                    "tel": int(ip.objective),
                    "evictions": 0,
                    "wasted_tokens": 0,
                    "recomputed_tokens": 0,
                    "seconds": ip.seconds,
                    "starts": ip.starts if inst.n <= STARTS_MAX_JOBS else None,
                    **ratios(int(ip.objective), opt["opt_value"], opt["lb_best"], hsf_tel),
                }
            )
        cell_row = {
            **base,
            **{k: v for k, v in opt.items() if k != "ip"},
            "instance_name": inst.name,
            "hsf_tel": hsf_tel,
            "status": "ok",
            "error": None,
            "seconds": time.perf_counter() - t0,
            "finished_at": datetime.now(UTC).isoformat(),
        }
        return cell_row, rows
    except Exception as exc:  # a failed cell is recorded, not fatal to the sweep
        return (
            {
                **base,
                "status": "error",
                "error": f"{type(exc).__name__}: {exc}",
                "seconds": time.perf_counter() - t0,
                "finished_at": datetime.now(UTC).isoformat(),
            },
            [],
        )
