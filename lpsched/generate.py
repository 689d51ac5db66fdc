"""Seeded instance generators (docs/model.md §7): the same seed always gives the same instance.

* :func:`jaillet` – the synthetic regime of Jaillet et al.: all at time 0, or Poisson arrivals;
* :func:`paper` – Chen, Ye, Zhou's regime: common prompt ``s``, common interval ``[l, u]``,
  ``α = l/u``, true lengths drawn in ``[l, u]``;
* :func:`trace_sample` – rows of a real trace (../shared/data) with a chosen ``M`` and interval model.

Each records ``generator``, ``seed`` and its parameters in ``Instance.meta``. All randomness comes
from ``numpy.random.default_rng(seed)``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from .errors import OptionError
from .instance import Instance
from .limits import MAX_ARRIVAL_SECONDS, MAX_ROUND, MAX_TOKENS
from .predictors import interval_report, make_intervals
from .traces import sample_trace

__all__ = ["jaillet", "paper", "trace_sample", "GENERATORS", "LENGTH_DISTRIBUTIONS", "M_PRESETS"]

LENGTH_DISTRIBUTIONS = ("uniform", "extremes", "geometric", "lower", "upper")

#: Realistic KV capacities in tokens (BACKGROUND.md).
M_PRESETS: dict[str, int] = {
    "llama2-70b-a100": 16_492,
    "llama31-8b-rtx4090": 41_408,
    "llama3-8b-h100": 467_000,
}


def _positive(x: float) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


def _check(cond: bool, msg: str) -> None:
    if not cond:
        raise OptionError(msg)


def jaillet(
    seed: int,
    *,
    arrivals: str = "zero",
    M: int | None = None,
    n: int | None = None,
    rounds: int | None = None,
    rate: float | None = None,
    M_range: tuple[int, int] = (30, 50),
    n_range: tuple[int, int] = (40, 60),
    prompt_range: tuple[int, int] = (1, 5),
) -> Instance:
    """The synthetic regime of Jaillet et al. (docs/model.md §7).

    ``M ~ U{30..50}``, ``s_i ~ U{1..5}``, ``o_i ~ U{1..M - s_i}``, exact intervals. With
    ``arrivals="zero"``, ``n ~ U{40..60}`` jobs at time 0. With ``arrivals="poisson"``,
    ``R ~ U{40..60}`` rounds and ``λ ~ U[0.5, 1.5]``; Poisson(λ) jobs arrive at each round
    ``0..R-1``. ``M``, ``n``, ``rounds`` and ``rate`` fix the corresponding draw.
    """
    _check(arrivals in ("zero", "poisson"), f"unknown arrivals '{arrivals}' (known: zero, poisson)")
    rng = np.random.default_rng(seed)
    M_val = int(rng.integers(M_range[0], M_range[1] + 1)) if M is None else int(M)
    _check(M_val >= prompt_range[1] + 1, f"M = {M_val} leaves no room for outputs")
    params: dict[str, Any] = {"arrivals": arrivals, "M": M_val}
    if arrivals == "zero":
        n_val = int(rng.integers(n_range[0], n_range[1] + 1)) if n is None else int(n)
        _check(n_val >= 1, f"n must be >= 1, got {n_val}")
        arrival = np.zeros(n_val, dtype=np.int64)
        params["n"] = n_val
    else:
        R = int(rng.integers(40, 61)) if rounds is None else int(rounds)
        lam = float(rng.uniform(0.5, 1.5)) if rate is None else float(rate)
        _check(R >= 1 and lam > 0, "rounds must be >= 1 and rate > 0")
        counts = rng.poisson(lam, size=R)
        if counts.sum() == 0:
            counts[0] = 1
        arrival = np.repeat(np.arange(R, dtype=np.int64), counts)
        n_val = int(arrival.size)
        params.update(rounds=R, rate=lam, n=n_val)
    prompt = rng.integers(prompt_range[0], prompt_range[1] + 1, size=n_val)
    output = np.array([rng.integers(1, M_val - s + 1) for s in prompt], dtype=np.int64)
    return Instance.from_arrays(
        M=M_val, prompt=prompt, output=output, arrival=arrival,
        name=f"jaillet-{arrivals}-s{seed}",
        meta={"generator": "jaillet", "seed": seed, "params": params},
    )


def _draw_lengths(rng: np.random.Generator, dist: str, n: int, lo: int, hi: int) -> np.ndarray:
    if dist == "uniform":
        return rng.integers(lo, hi + 1, size=n)
    if dist == "extremes":
        return np.where(rng.random(n) < 0.5, lo, hi)
    if dist == "geometric":
        # Most jobs near l, a long tail up to u: truncated geometric with mean about (u - l)/4.
        p = min(1.0, 4.0 / max(1, hi - lo + 1))
        x = lo + rng.geometric(p, size=n) - 1
        return np.minimum(x, hi)
    if dist == "lower":
        return np.full(n, lo)
    if dist == "upper":
        return np.full(n, hi)
    raise OptionError(f"unknown length distribution '{dist}' (known: {', '.join(LENGTH_DISTRIBUTIONS)})")


def paper(
    seed: int,
    *,
    n: int = 30,
    s: int = 4,
    lower: int = 8,
    alpha: float = 0.25,
    M: int | None = None,
    concurrency: float = 10.0,
    dist: str = "uniform",
) -> Instance:
    """The paper's regime (docs/model.md §7): all at time 0, common prompt and interval.

    ``u = round(l / α)``; true lengths i.i.d. in ``[l, u]`` from ``dist`` (``uniform`` by default;
    ``extremes`` puts each at ``l`` or ``u``; ``geometric`` concentrates near ``l``; ``lower``/``upper``
    put all at one end). ``M`` defaults to ``round(concurrency·(s + u))``: about ``concurrency`` jobs
    fit at their predicted peak.
    """
    _check(n >= 1, f"n must be >= 1, got {n}")
    _check(s >= 0, f"prompt s must be >= 0, got {s}")
    _check(lower >= 1, f"lower must be >= 1, got {lower}")
    _check(math.isfinite(alpha) and 0 < alpha <= 1, f"alpha must be in (0, 1], got {alpha}")
    _check(lower / alpha <= MAX_TOKENS, f"alpha = {alpha:g} gives u = l/alpha = {lower / alpha:.4g} tokens, "
                                        f"above the limit {MAX_TOKENS} (docs/formats.md)")
    upper = max(lower, round(lower / alpha))
    _check(math.isfinite(concurrency) and concurrency > 0, f"concurrency must be a number > 0, got {concurrency}")
    if M is None:
        _check(concurrency * (s + upper) <= MAX_TOKENS,
               f"concurrency = {concurrency:g} gives M = concurrency·(s + u) = {concurrency * (s + upper):.4g}, "
               f"above the limit {MAX_TOKENS} (docs/formats.md)")
    M_val = round(concurrency * (s + upper)) if M is None else int(M)
    _check(M_val >= s + upper, f"M = {M_val} is below the peak s + u = {s + upper}")
    rng = np.random.default_rng(seed)
    output = _draw_lengths(rng, dist, n, lower, upper).astype(np.int64)
    return Instance.from_arrays(
        M=M_val, prompt=np.full(n, s), output=output,
        lower=np.full(n, lower), upper=np.full(n, upper),
        name=f"paper-a{alpha:g}-n{n}-s{seed}",
        meta={"generator": "paper", "seed": seed,
              "params": {"n": n, "s": s, "lower": lower, "upper": upper, "alpha": alpha,
                         "M": M_val, "concurrency": concurrency if M is None else None,
                         "dist": dist}},
    )


def trace_sample(
    seed: int,
    *,
    path: str | Path,
    fmt: str,
    n: int,
    M: int | str = 16_492,
    mode: str = "consecutive",
    offset: int = 0,
    arrivals: str = "zero",
    round_seconds: float = 0.05,
    rate: float | None = None,
    cv: float = 1.0,
    time_scale: float = 1.0,
    window: tuple[float, float] | list[float] | None = None,
    oversize: str = "drop",
    intervals: str = "exact",
    **interval_params: Any,
) -> Instance:
    """A sample of a real trace with a chosen ``M`` and interval model (docs/model.md §7).

    Parameters
    ----------
    path, fmt : trace file and format (see :mod:`lpsched.traces`).
    n : number of rows to sample (``mode``: ``consecutive`` from ``offset`` or ``random``).
    M : capacity in tokens, or a preset name from :data:`M_PRESETS`.
    arrivals : ``zero`` (all at time 0); ``trace`` (the trace's timestamps, relative to the first
        sampled row, divided by ``time_scale``: 2 replays twice as fast); ``poisson`` (exponential
        gaps at ``rate`` requests per second, for length-only tables); ``gamma`` (gamma gaps with mean
        ``1/rate`` and coefficient of variation ``cv``: bursty for ``cv > 1``). Times in seconds are kept
        in ``arrival_time`` and converted to rounds of ``round_seconds``.
    window : ``(start_s, end_s)``: only requests arriving in that window of the trace.
    oversize : what to do with a request whose peak exceeds ``M``: ``drop`` it, ``clip`` its prompt
        to ``M - output`` (then its output to ``M - 1`` if needed), or ``error``.
    intervals : interval model name from :data:`lpsched.predictors.PREDICTORS`, with its parameters.

    Zero-length outputs (present in some traces) are raised to 1 token; both adjustments are
    counted in ``meta``.
    """
    if isinstance(M, str):
        if M not in M_PRESETS:
            raise OptionError(f"unknown M preset '{M}' (known: {', '.join(M_PRESETS)})")
        M = M_PRESETS[M]
    _check(M >= 2, f"M must be >= 2, got {M}")
    _check(arrivals in ("zero", "trace", "poisson", "gamma"),
           f"unknown arrivals '{arrivals}' (known: zero, trace, poisson, gamma)")
    _check(_positive(time_scale), f"time_scale must be a number > 0, got {time_scale}")
    if arrivals in ("poisson", "gamma"):
        _check(rate is not None and _positive(rate), f"arrivals={arrivals} needs rate > 0 (requests per second)")
        _check(_positive(cv), f"cv must be a number > 0, got {cv}")
    _check(oversize in ("drop", "clip", "error"), f"unknown oversize '{oversize}' (known: drop, clip, error)")
    _check(_positive(round_seconds), f"round_seconds must be a number > 0, got {round_seconds}")
    _check(offset >= 0, f"offset must be >= 0, got {offset}")
    if window is not None:
        _check(len(window) == 2 and all(math.isfinite(w) for w in window) and 0 <= window[0] < window[1],
               f"window must be two numbers 0 <= START < END, got {list(window)}")
    sample = sample_trace(path, fmt, n, mode=mode, offset=offset, seed=seed,
                          window=None if window is None else (float(window[0]), float(window[1])))
    prompt = sample.prompt.copy()
    output = sample.output.copy()
    zero_out = int((output < 1).sum())
    output = np.maximum(output, 1)
    keep = np.ones(n, dtype=bool)
    over = prompt + output > M
    if over.any():
        if oversize == "error":
            i = int(np.argmax(over))
            raise OptionError(f"{path}:{int(sample.lines[i])}: request peak {int(prompt[i] + output[i])} "
                              f"exceeds M = {M} (use oversize=drop or clip)")
        if oversize == "drop":
            keep = ~over
        else:
            output = np.minimum(output, M - 1)
            prompt = np.minimum(prompt, M - output)
    if not keep.any():
        raise OptionError(f"every sampled request exceeds M = {M}")
    prompt, output, lines = prompt[keep], output[keep], sample.lines[keep]
    arrival = np.zeros(prompt.size, dtype=np.int64)
    arrival_time = None
    if arrivals == "trace" and sample.arrival_s is None:
        raise OptionError(f"format '{fmt}' has no timestamps: use arrivals=zero, poisson or gamma")
    with np.errstate(over="ignore", invalid="ignore"):  # extreme options: checked against the limits below
        if arrivals == "trace":
            arrival_time = sample.arrival_s[keep]
            arrival_time = (arrival_time - arrival_time.min()) / time_scale
        elif arrivals in ("poisson", "gamma"):
            arng = np.random.default_rng([seed, 2])
            m = int(keep.sum())
            if arrivals == "poisson":
                gaps = arng.exponential(1.0 / rate, size=m)
            else:
                shape = 1.0 / cv**2
                gaps = arng.gamma(shape, 1.0 / (rate * shape), size=m)
            arrival_time = np.cumsum(gaps) - gaps[0]
    if arrival_time is not None:
        last = float(arrival_time.max()) if arrival_time.size else 0.0
        culprit = "time_scale" if arrivals == "trace" else "rate"
        _check(math.isfinite(last) and last <= MAX_ARRIVAL_SECONDS,
               f"{culprit} = {time_scale if arrivals == 'trace' else rate:g} puts the last arrival at {last:.4g} s, "
               f"above the limit {MAX_ARRIVAL_SECONDS:.0f} s (docs/formats.md)")
        _check(last / round_seconds <= MAX_ROUND,
               f"round_seconds = {round_seconds:g} puts the last arrival at round {last / round_seconds:.4g}, "
               f"above the limit {MAX_ROUND} (docs/formats.md)")
        arrival = np.floor(arrival_time / round_seconds + 1e-9).astype(np.int64)
    rng = np.random.default_rng([seed, 1])
    lower, upper = make_intervals(intervals, output, rng, **interval_params)
    return Instance.from_arrays(
        M=int(M), prompt=prompt, output=output, arrival=arrival, lower=lower, upper=upper,
        arrival_time=arrival_time,
        ids=[f"L{int(x)}" for x in lines],
        name=f"{Path(path).stem}-{mode}-n{n}-s{seed}",
        meta={"generator": "trace_sample", "seed": seed,
              "params": {"path": Path(path).name, "fmt": fmt, "n": n, "M": int(M), "mode": mode,
                         "offset": offset, "arrivals": arrivals, "round_seconds": round_seconds,
                         "rate": rate, "cv": cv, "time_scale": time_scale,
                         "window": None if window is None else list(window),
                         "oversize": oversize, "intervals": intervals, **interval_params},
              "dropped_oversize": int((~keep).sum()), "raised_zero_outputs": zero_out,
              "interval_report": interval_report(output, lower, upper)},
    )


GENERATORS = {"jaillet": jaillet, "paper": paper, "trace": trace_sample}
