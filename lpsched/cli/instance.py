"""CLI commands on instance files: ``info``, ``verify``, and (from ``generate``) ``generate`` and ``trace``."""

from __future__ import annotations

from typing import Any

import click

from ..instance import Instance, load_instance
from ..offline.bounds.report import lower_bounds
from ..offline.formulation.closed_form import job_volumes
from ..verify import load_schedule, verify_schedule
from .common import emit, json_option
from .generate import generate, trace


def instance_summary(inst: Instance) -> dict[str, Any]:
    """The facts ``lpsched info`` reports, as a JSON-ready dict."""
    alpha = inst.alpha
    bounds = lower_bounds(inst).to_dict()
    return {
        "name": inst.name,
        "n": inst.n,
        "M": inst.M,
        "alpha_min": float(alpha.min()) if inst.n else None,
        "alpha_max": float(alpha.max()) if inst.n else None,
        "interval_misses": inst.n_misses,
        "arrival_min": int(inst.arrival.min()) if inst.n else None,
        "arrival_max": int(inst.arrival.max()) if inst.n else None,
        "all_at_zero": bool(inst.n == 0 or inst.arrival.max() == 0),
        "prompt_range": [int(inst.prompt.min()), int(inst.prompt.max())] if inst.n else None,
        "output_range": [int(inst.output.min()), int(inst.output.max())] if inst.n else None,
        "output_total": int(inst.output.sum()),
        "volume_total": int(job_volumes(inst).sum()),
        "max_peak": int(inst.peak.max()) if inst.n else 0,
        "has_point_predictions": inst.predicted is not None,
        "has_arrival_times": inst.arrival_time is not None,
        "lower_bounds": bounds,
        "meta": inst.meta,
    }


def _info_text(path: str, d: dict[str, Any]) -> str:
    lb = d["lower_bounds"]
    arr = "all at time 0" if d["all_at_zero"] else f"rounds {d['arrival_min']}..{d['arrival_max']}"
    alpha = (f"{d['alpha_min']:.4g}" if d["alpha_min"] == d["alpha_max"]
             else f"{d['alpha_min']:.4g} .. {d['alpha_max']:.4g}") if d["n"] else "-"
    lines = [
        f"instance      {d['name'] or path}",
        f"jobs (n)      {d['n']}",
        f"capacity (M)  {d['M']} tokens",
        f"arrivals      {arr}",
        f"prompt        {d['prompt_range']}    output {d['output_range']}",
        f"alpha = l/u   {alpha}    intervals missing the truth: {d['interval_misses']}",
        f"total output  {d['output_total']} tokens    total volume {d['volume_total']} token-rounds",
        f"largest peak  {d['max_peak']} tokens ({100 * d['max_peak'] / d['M']:.0f}% of M)",
        "lower bounds on the optimal TEL:",
    ]
    for k, v in lb.items():
        if k not in ("best", "best_value"):
            mark = "  <- tightest" if k == lb["best"] else ""
            lines.append(f"  {k:<14}{v}{mark}")
    if d["meta"]:
        gen = d["meta"].get("generator")
        if gen:
            lines.append(f"generator     {gen} (seed {d['meta'].get('seed')})")
    return "\n".join(lines)


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@json_option
def info(file: str, as_json: bool) -> None:
    """Summarise an instance: n, M, α range, arrivals, volume and simple lower bounds."""
    inst = load_instance(file)
    d = instance_summary(inst)
    emit(d, _info_text(file, d), as_json)


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.argument("schedule", type=click.Path(dir_okay=False))
@json_option
@click.pass_context
def verify(ctx: click.Context, file: str, schedule: str, as_json: bool) -> None:
    """Check SCHEDULE (final starts) against FILE. Exit 0 if feasible, 1 if not (with the reason)."""
    inst = load_instance(file)
    starts = load_schedule(schedule)
    res = verify_schedule(inst, starts, source=schedule)
    if res.feasible:
        text = (f"feasible: TEL {res.tel}, makespan {res.makespan}, "
                f"peak memory {res.peak_memory}/{inst.M} (round {res.peak_round})")
    else:
        text = f"infeasible: {res.reason}"
    emit(res.to_dict(), text, as_json)
    ctx.exit(0 if res.feasible else 1)




def register(group: click.Group) -> None:
    """Add this module's commands to the ``lpsched`` group."""
    group.add_command(info)
    group.add_command(verify)
    group.add_command(generate)
    group.add_command(trace)
