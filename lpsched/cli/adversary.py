"""CLI commands ``adversary`` (search for a policy's worst case) and ``construct`` (the known bad cases)."""

from __future__ import annotations

import sys
from typing import Any

import click

from ..errors import OptionError
from ..instance import save_instance
from ..limits import MAX_JOBS, MAX_ROUND, MAX_TOKENS
from .common import SEED, FiniteFloat, emit, json_option, output_path, workers_type
from .online import parse_options

__all__ = ["register", "adversary_cmd", "construct_cmd"]


def _progress(enabled: bool, label: str) -> Any:
    """A rich progress bar (stderr) and a callback ``(done, total, best)``; no-ops when disabled."""
    if not enabled:
        return None, None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    prog = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("best ≥ {task.fields[best]:.4f}"), TimeElapsedColumn(),
                    console=Console(stderr=True), transient=True)
    task = prog.add_task(label, total=1, best=0.0)

    def cb(done: int, total: int, best: float) -> None:
        prog.update(task, completed=done, total=total, best=best)

    return prog, cb


@click.command("adversary")
@click.option("--policy", required=True, help="Policy to attack (amin, amax, hsf, mcsf, svf, fcfs).")
@click.option("--alpha", type=FiniteFloat(0, 1, low_open=True), required=True,
              help="α = l/u of the common interval [l, u].")
@click.option("--n", "n", type=click.IntRange(1, MAX_JOBS), required=True, help="Number of jobs.")
@click.option("--lower", type=click.IntRange(1, MAX_TOKENS), default=1, show_default=True, help="l (u = round(l/α)).")
@click.option("--prompt", type=click.IntRange(0, MAX_TOKENS), default=0, show_default=True, help="Common prompt s.")
@click.option("--M", "M", type=click.IntRange(1, MAX_TOKENS), default=None, help="KV capacity (default 2(s+u)).")
@click.option("--m-range", nargs=2, type=click.IntRange(1, MAX_TOKENS), default=None, help="Also search M in [LO, HI].")
@click.option("--arrivals", type=click.IntRange(0, MAX_ROUND), default=0, show_default=True,
              help="Also search arrivals in 0..A.")
@click.option("--prompts", type=click.IntRange(0, MAX_TOKENS), default=None,
              help="Also search per-job prompts in 0..S.")
@click.option("--budget", type=click.IntRange(1), default=2000, show_default=True,
              help="Proxy evaluations (deterministic).")
@click.option("--seed", type=SEED, default=0, show_default=True)
@click.option("--restarts", type=click.IntRange(1), default=8, show_default=True)
@click.option("--method", type=click.Choice(["local", "random"]), default="local", show_default=True,
              help="Local search, or the random-sampling baseline with the same budget.")
@click.option("--certify-time", type=FiniteFloat(0, low_open=True), default=30.0, show_default=True,
              help="IP time limit (s).")
@click.option("--workers", type=workers_type(), default=1, show_default=True, help="IP threads.")
@click.option("--option", "opts", multiple=True, metavar="K=V", help="Policy option; repeatable.")
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False), required=True,
              help="Write the worst instance found here (meta records search and certificate).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@json_option
def adversary_cmd(policy: str, alpha: float, n: int, lower: int, prompt: int, M: int | None,
                  m_range: tuple[int, int] | None, arrivals: int, prompts: int | None, budget: int, seed: int,
                  restarts: int, method: str, certify_time: float, workers: int, opts: tuple[str, ...],
                  out: str, quiet: bool, as_json: bool) -> None:
    """Search for an instance maximising TEL(POLICY)/OPT; certify it with the hindsight IP.

    The search maximises TEL / (best verified schedule), a certified lower bound on the ratio; the
    result is certified with the IP: "ratio" is exact when OPT is proven, else the ratio lies in
    [ratio_at_least, ratio_at_most].
    """
    from ..adversary import (  # lazy: heavy, loaded by this command only
        SearchSpace,
        certify,
        local_search,
        random_search,
    )
    from ..adversary.library import (  # lazy: heavy, loaded by this command only
        adversary_meta,
        write_library_instance,
    )
    from ..online import POLICIES  # lazy: heavy, loaded by this command only

    if policy not in POLICIES:
        raise OptionError(f"unknown policy '{policy}' (known: {', '.join(POLICIES)})")
    output_path(out)
    if lower / alpha > MAX_TOKENS:
        raise OptionError(f"--alpha {alpha:g} gives u = l/α = {lower / alpha:.4g}, above the limit {MAX_TOKENS}")
    upper = max(lower, round(lower / alpha))
    space = SearchSpace(n=n, lower=lower, upper=upper, prompt=prompt,
                        M=2 * ((prompts if prompts is not None else prompt) + upper) if M is None else M,
                        m_range=tuple(m_range) if m_range else None, arrival_max=arrivals, prompt_max=prompts)
    options = parse_options(opts)
    prog, cb = _progress(not quiet and sys.stderr.isatty(), f"{method} {policy} α={alpha:g}")
    if prog is not None:
        prog.start()
    try:
        if method == "local":
            res = local_search(policy, space, budget=budget, seed=seed, restarts=restarts,
                               policy_options=options, progress=cb)
        else:
            res = random_search(policy, space, budget=budget, seed=seed, dist="uniform",
                                policy_options=options, progress=cb)
    finally:
        if prog is not None:
            prog.stop()
    # Certify the best distinct candidates; keep the one with the largest certified-from-below ratio.
    best = None
    for _, inst in res.top[:3]:
        cert = certify(inst, policy, options, time_limit=certify_time, workers=workers, seed=seed)
        key = cert.ratio if cert.ratio is not None else cert.ratio_at_least
        if best is None or key > best[0]:
            best = (key, inst, cert)
    assert best is not None
    _, inst, cert = best
    meta = {**inst.meta, "adversary": adversary_meta(res, cert, certify_time_limit=certify_time)}
    inst = inst.replace(name=f"adversary-{policy}-a{alpha:g}-n{n}-s{seed}", meta=meta)
    write_library_instance(inst, out)
    m = meta["adversary"]
    if cert.proven:
        verdict = f"ratio {cert.ratio:.4f} (OPT = {cert.best_schedule} proven by {cert.opt_method})"
    else:
        verdict = (f"ratio in [{cert.ratio_at_least:.4f}, {cert.ratio_at_most:.4f}] "
                   f"(OPT not proven: between {cert.lower_bound} and {cert.best_schedule})")
    text = (f"{policy} α={alpha:g} n={n} M={inst.M}: TEL {cert.tel}, {verdict}; "
            f"{res.method}, {res.evaluations} evaluations, seed {seed} -> {out}")
    emit({"output": out, **m}, text, as_json)


@click.command("construct")
@click.argument("name")
@click.option("--seed", type=SEED, default=0, show_default=True)
@click.option("--param", "params", multiple=True, metavar="K=V", help="Construction parameter; repeatable.")
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False), required=True)
@json_option
def construct_cmd(name: str, seed: int, params: tuple[str, ...], out: str, as_json: bool) -> None:
    """Write construction NAME (amax_reservation, amin_harmonic, arrival_trap, prompt_trap)."""
    from ..adversary.constructions import construct  # lazy: heavy, loaded by this command only

    output_path(out)
    kw: dict[str, Any] = {}
    for pair in params:
        if "=" not in pair:
            raise OptionError(f"--param expects k=v, got '{pair}'")
        k, v = pair.split("=", 1)
        val: Any = v.strip()
        for conv in (int, float):
            try:
                val = conv(val)
                break
            except ValueError:
                continue
        kw[k.strip()] = val
    inst = construct(name, seed, **kw)
    save_instance(inst, out)
    c = inst.meta["construction"]
    text = (f"{name}: n={inst.n} M={inst.M}, target ratio {c['target_ratio']} "
            f"(against {c['target_against']}) -> {out}")
    emit({"output": out, "n": inst.n, "M": inst.M, **c}, text, as_json)


def register(group: click.Group) -> None:
    """Add ``adversary`` and ``construct`` to the CLI."""
    group.add_command(adversary_cmd)
    group.add_command(construct_cmd)
