"""CLI commands of timed replay: ``replay``, ``validate-vllm``, ``fit-profile`` and ``replay-study``."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import OptionError
from ..fileio import write_text_atomic
from ..instance import load_instance
from .common import emit, json_option, output_path
from .online import parse_options

__all__ = ["register", "replay_cmd", "validate_cmd", "fit_profile_cmd", "study_cmd"]


@click.command("replay")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--policy", "policies", multiple=True, default=("all",), show_default=True,
              help="Policy name (repeatable) or 'all'.")
@click.option("--timing", default="llama2-70b-a100", show_default=True,
              help="Batch-time preset (llama2-70b-a100, llama31-8b-h100, llama31-8b-rtx4090, unit) or a "
                   "kernel-profile folder.")
@click.option("--option", "opts", multiple=True, metavar="K=V",
              help="Engine or policy option (semantics=resume, watermark=0.02, ...); repeatable.")
@json_option
def replay_cmd(file: str, policies: tuple[str, ...], timing: str, opts: tuple[str, ...], as_json: bool) -> None:
    """Replay FILE (an instance with arrival times in seconds) in the timed model: mean and
    p50/p90/p99 latency and TTFT, makespan, throughput, evictions and recomputed tokens per policy."""
    from ..online import POLICIES  # lazy: heavy, loaded by this command only
    from ..replay import format_table, replay  # lazy: heavy, loaded by this command only

    inst = load_instance(file)
    names = list(POLICIES) if "all" in policies else list(policies)
    rows = replay(inst, names, timing=timing, **parse_options(opts))
    emit({"n": inst.n, "M": inst.M, "timing": timing, "policies": rows}, format_table(rows), as_json)


@click.command("validate-vllm")
@click.option("--requests", "requests_path", type=click.Path(dir_okay=False),
              help="Measured requests.jsonl (default: the RTX 4090 run in the shared data).")
@click.option("--profile", "profile", type=click.Path(file_okay=False),
              help="Kernel-profile folder for the step times (default: profile_bf16_tp1 next to the run).")
@click.option("--engine", type=click.Choice(["vllm", "event", "round"]), default="vllm", show_default=True,
              help="vllm: the step engine with vLLM's scheduler; event/round: the round model.")
@click.option("--timing", default=None,
              help="Timing preset or profile folder instead of --profile (round model default: llama31-8b-rtx4090).")
@click.option("--max-num-seqs", type=int, default=None, help="Default: the run's meta.json, else 256.")
@click.option("--max-batched-tokens", type=int, default=None, help="Default: the run's meta.json, else 2048.")
@click.option("--block-size", type=int, default=None, help="Default: the run's meta.json, else 16.")
@click.option("--kv-tokens", "--M", "kv_tokens", type=int, default=None,
              help="KV cache in tokens (default: vLLM's num_gpu_blocks from meta.json, else the deployment).")
@click.option("--gpu-memory-gb", type=float, default=None, help="GPU memory (1e9 bytes) for the KV formula.")
@click.option("--gpu-memory-utilization", type=float, default=None, help="vLLM's setting (default 0.9).")
@click.option("--model", default=None, help="Model name for the KV formula (default: the run's meta.json).")
@click.option("--policy", default="fcfs", show_default=True)
@click.option("--option", "opts", multiple=True, metavar="K=V", help="Engine or policy option; repeatable.")
@json_option
def validate_cmd(requests_path: str | None, profile: str | None, engine: str, timing: str | None,
                 max_num_seqs: int | None, max_batched_tokens: int | None, block_size: int | None,
                 kv_tokens: int | None, gpu_memory_gb: float | None, gpu_memory_utilization: float | None,
                 model: str | None, policy: str, opts: tuple[str, ...], as_json: bool) -> None:
    """Replay a measured vLLM run and print measured vs simulated TTFT, E2E latency, TPOT (mean,
    p50, p90, p99) and makespan. Deployment settings come from the options, else the run's meta.json."""
    from ..replay.validate import load_measured, measured_dir, resolve_deployment, validate  # lazy: heavy

    req = Path(requests_path) if requests_path else measured_dir() / "vllm_measured" / "requests.jsonl"
    dep = resolve_deployment(req, kv_tokens=kv_tokens, max_num_seqs=max_num_seqs,
                             max_num_batched_tokens=max_batched_tokens, block_size=block_size,
                             gpu_memory_bytes=None if gpu_memory_gb is None else int(gpu_memory_gb * 1e9),
                             gpu_memory_utilization=gpu_memory_utilization, model=model)
    options = parse_options(opts)
    if engine == "vllm":
        if timing is None:
            prof = Path(profile) if profile else req.parent.parent / "profile_bf16_tp1"
            if not prof.is_dir():
                raise OptionError(f"{prof}: no kernel-profile folder; give --profile FOLDER or --timing PRESET")
            timing = str(prof)
        options = {"engine": "vllm", "max_num_seqs": dep["max_num_seqs"],
                   "max_num_batched_tokens": dep["max_num_batched_tokens"], "block_size": dep["block_size"],
                   **options}
    else:
        timing = timing or (profile if profile else "llama31-8b-rtx4090")
        options = {"engine": engine, **options}
    v = validate(load_measured(req, dep["kv_tokens"]), timing=timing, policy=policy, **options)
    lines = ["| metric | measured | simulated | error |", "|---|---|---|---|"]
    lines += [f"| {r['label']} | {r['measured']:.4g} | {r['simulated']:.4g} | {100 * r['error']:+.1f}% |"
              for r in v["rows"]]
    s = v["summary"]
    lines.append(f"\n{policy} on engine {engine}, timing {s['timing']}, KV {dep['kv_tokens']} tokens "
                 f"({dep['kv_source']}): {s['evictions']} preemptions, {s['recomputed_tokens']} recomputed tokens")
    rows = [{k: r[k] for k in ("metric", "label", "measured", "simulated", "error")} for r in v["rows"]]
    dep_out = {k: val for k, val in dep.items() if k != "run_settings"}
    emit({"rows": rows, "summary": s, "options": v["options"], "deployment": dep_out, "requests": str(req)},
         "\n".join(lines), as_json)


@click.command("fit-profile")
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--kv-tokens", type=int, default=41_408, show_default=True, help="KV cache of the deployment.")
@click.option("--max-batched-tokens", type=int, default=2048, show_default=True)
@click.option("--max-seqs", type=int, default=256, show_default=True)
@json_option
def fit_profile_cmd(folder: str, kv_tokens: int, max_batched_tokens: int, max_seqs: int, as_json: bool) -> None:
    """Least-squares fit of c0 + c_prefill·P + c_decode·N + c_kv·K to an LLMServingSim profile FOLDER."""
    from ..replay.profile_fit import fit_profile  # lazy: heavy, loaded by this command only

    f = fit_profile(folder, kv_tokens=kv_tokens, max_batched_tokens=max_batched_tokens, max_seqs=max_seqs)
    tm = f.timing("fitted")
    text = (f"{f.source}\nstep ≈ {f.c0_ms:.4f} + {f.c_prefill_ms:.6f}·P + {f.c_decode_ms:.6f}·N "
            f"+ {f.c_kv_ms:.7f}·K ms over {f.points} profile points\n"
            f"R² {f.r2:.3f}; relative error median {100 * f.median_rel_error:.1f}%, p90 "
            f"{100 * f.p90_rel_error:.1f}%, max {100 * f.max_rel_error:.1f}%; median by regime "
            + ", ".join(f"{k} {100 * v:.1f}%" for k, v in f.median_rel_error_by_regime.items())
            + f"\nTimingModel(c0={tm.c0}, c_prefill={tm.c_prefill}, c_decode={tm.c_decode}, c_kv={tm.c_kv}) ns")
    emit({**f.to_dict(), "timing_ns": tm.to_dict()}, text, as_json)


@click.command("replay-study")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False),
              help="Write the report (Markdown) here as well.")
@json_option
def study_cmd(spec: str, out: str | None, as_json: bool) -> None:
    """Run a timed replay study SPEC (TOML, docs/replay.md): every policy on every seed, table of means."""
    from ..replay.study import load_study, run_study  # lazy: heavy, loaded by this command only

    output_path(out, [spec])
    st = load_study(spec)
    res = run_study(st)
    if out:
        write_text_atomic(out, res["markdown"] + "\n", [spec])
    emit(res, res["markdown"], as_json)


def register(group: click.Group) -> None:
    """Add this module's commands to the ``lpsched`` group."""
    for cmd in (replay_cmd, validate_cmd, fit_profile_cmd, study_cmd):
        group.add_command(cmd)
