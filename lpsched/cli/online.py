"""CLI command ``simulate``: run an online policy (or all of them) on an instance file."""

from __future__ import annotations

import math
from typing import Any

import click

from ..errors import OptionError
from ..instance import load_instance
from ..verify import save_schedule
from .common import emit, json_option, output_path

__all__ = ["register", "simulate_cmd", "parse_options"]


def parse_options(pairs: tuple[str, ...]) -> dict[str, Any]:
    """``("k=v", ...)`` -> dict; values ``true``/``false`` and numbers are converted."""
    out: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise OptionError(f"--option expects k=v, got '{pair}'")
        k, v = pair.split("=", 1)
        k = k.strip()
        val: Any = v.strip()
        if k in ("watermark",):
            try:
                val = float(val)
            except ValueError:
                raise OptionError(f"option {k} must be a number, got '{v}'") from None
            if not math.isfinite(val):
                raise OptionError(f"option {k} must be a finite number, got '{v}'")
        out[k] = val
    return out


def _row(r: Any, ref: int | None) -> str:
    ratio = f"{r.tel / ref:.4f}" if ref else "-"
    return (f"{r.policy:<6} {r.tel:>14} {ratio:>8} {r.evictions:>9} {r.wasted_tokens:>12} "
            f"{r.peak_memory:>9} {r.seconds:>8.3f}")


@click.command("simulate")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--policy", "policy", default="amin", show_default=True,
              help="Policy name (amin, amax, hsf, mcsf, svf, fcfs) or 'all'.")
@click.option("--option", "opts", multiple=True, metavar="K=V",
              help="Policy or engine option (engine=round, semantics=resume, timing=PRESET, "
                   "scan=skip, eviction=fewest, ...); repeatable.")
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False), default=None,
              help="Write the final starts as a schedule file (one policy only).")
@json_option
def simulate_cmd(file: str, policy: str, opts: tuple[str, ...], out: str | None, as_json: bool) -> None:
    """Simulate an online policy on FILE: TEL, evictions, wasted tokens, peak memory (verified)."""
    from ..online import POLICIES, simulate  # lazy: heavy, loaded by this command only

    output_path(out, [file])
    inst = load_instance(file)
    options = parse_options(opts)
    if policy == "all":
        if out is not None:
            raise OptionError("-o/--output needs a single --policy")
        results = [simulate(inst, name, **dict(options)) for name in POLICIES]
        ref = next((r.tel for r in results if r.policy == "hsf"), None)
        rows = []
        for r in results:
            d = r.to_dict()
            d.pop("starts")
            d["ratio_to_hsf"] = r.tel / ref if ref else None
            rows.append(d)
        head = f"{'policy':<6} {'TEL':>14} {'/H-SF':>8} {'evictions':>9} {'wasted':>12} {'peak':>9} {'seconds':>8}"
        text = "\n".join([head] + [_row(r, ref) for r in results])
        emit({"n": inst.n, "M": inst.M, "policies": rows}, text, as_json)
        return
    if out is not None and options.get("engine") == "vllm":
        raise OptionError("-o/--output writes a round-model schedule; engine vllm has engine steps, not one")
    res = simulate(inst, policy, **options)
    if out is not None:
        save_schedule(out, res.starts, inputs=[file], policy=res.policy, tel=res.tel)
    d = res.to_dict()
    text = (f"{res.policy}: TEL {res.tel}, makespan {res.makespan}, evictions {res.evictions} "
            f"(max {res.max_job_evictions} of one job), wasted tokens {res.wasted_tokens}, "
            f"peak memory {res.peak_memory}/{inst.M}, {res.seconds:.3f} s "
            + ("(step engine: block accounting checked)" if res.engine == "vllm" else "(verified)"))
    if res.timed:
        t = res.timed
        text += (f"\ntimed ({t['model']['name']}): mean latency {t['mean_latency_s']:.3f} s, "
                 f"mean TTFT {t['mean_ttft_s']:.3f} s, throughput {t['throughput_tokens_s']:.1f} tokens/s")
    emit(d, text, as_json)


def register(group: click.Group) -> None:
    """Add ``simulate`` to the ``lpsched`` group."""
    group.add_command(simulate_cmd)
