"""Interval predictors: turn true output lengths into prediction intervals ``[l_i, u_i]``, seeded.

Predictors: ``exact``; ``common`` (one crude interval); ``spread`` (a multiplicative spread around the
truth); ``bins`` (a length classifier over equal-width or geometric bins with a target accuracy);
any of them with ``miss_rate`` (intervals that exclude the truth at a chosen rate).

Each predictor is a plain function ``f(output, rng, **params) -> (lower, upper)`` over int arrays;
:data:`PREDICTORS` looks them up by name and :func:`make_intervals` dispatches with a clear error
for unknown names or parameters. :func:`interval_report` gives the empirical α distribution and the
miss rate of any set of intervals.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .errors import OptionError, check_keywords

__all__ = [
    "exact_intervals",
    "common_interval",
    "spread_intervals",
    "bin_edges",
    "binned_intervals",
    "with_misses",
    "PREDICTORS",
    "make_intervals",
    "interval_report",
]

Intervals = tuple[np.ndarray, np.ndarray]


def exact_intervals(output: np.ndarray, rng: np.random.Generator | None = None) -> Intervals:
    """``l_i = u_i = o_i``: a perfect predictor (α = 1)."""
    o = np.asarray(output, dtype=np.int64)
    return o.copy(), o.copy()


def common_interval(output: np.ndarray, rng: np.random.Generator | None = None, *,
                    lower: int, upper: int) -> Intervals:
    """One crude interval ``[lower, upper]`` for every job (the paper's setting).

    Jobs whose true length falls outside are misses (allowed, counted; docs/model.md §1).
    """
    if lower < 1 or upper < lower:
        raise OptionError(f"common interval needs 1 <= lower <= upper, got [{lower}, {upper}]")
    n = np.asarray(output).shape[0]
    return np.full(n, lower, dtype=np.int64), np.full(n, upper, dtype=np.int64)


def spread_intervals(output: np.ndarray, rng: np.random.Generator, *, alpha: float) -> Intervals:
    """A per-job interval of ratio about ``α`` placed at a random position around the truth.

    ``l_i = max(1, ⌊o_i·α^θ⌋)`` and ``u_i = max(o_i, ⌈l_i/α⌉)`` with ``θ ~ U[0, 1]``: the truth lies
    inside, log-uniformly placed (a multiplicative spread, as a per-prompt sampler would give).
    """
    if not 0 < alpha <= 1:
        raise OptionError(f"spread predictor needs 0 < alpha <= 1, got {alpha}")
    o = np.asarray(output, dtype=np.int64)
    theta = rng.random(o.shape[0])
    lower = np.maximum(1, np.floor(o * alpha**theta)).astype(np.int64)
    lower = np.minimum(lower, o)
    upper = np.maximum(o, np.ceil(lower / alpha - 1e-9)).astype(np.int64)
    return lower, upper


def bin_edges(n_bins: int, max_len: int, scale: str = "linear") -> np.ndarray:
    """Bin edges ``e_0 < e_1 < … < e_k`` over ``[1, max_len]``; bin ``j`` is ``[e_j, e_{j+1} − 1]``.

    ``linear``: equal widths (TRAIL: 10 bins over 0–512); ``geometric``: widths doubling-like,
    equal in ``log`` scale, so relative precision is the same in every bin.
    """
    if n_bins < 1 or max_len < n_bins:
        raise OptionError(f"bins need 1 <= n_bins <= max_len, got n_bins={n_bins}, max_len={max_len}")
    if scale == "linear":
        edges = np.round(np.linspace(1, max_len + 1, n_bins + 1)).astype(np.int64)
    elif scale == "geometric":
        edges = np.round(np.geomspace(1, max_len + 1, n_bins + 1)).astype(np.int64)
    else:
        raise OptionError(f"unknown bin scale '{scale}' (known: linear, geometric)")
    edges = np.unique(edges)
    if edges.size < 2:
        raise OptionError("bins collapsed: use fewer bins or a larger max_len")
    return edges


def binned_intervals(output: np.ndarray, rng: np.random.Generator, *, n_bins: int = 10, max_len: int = 512,
                     scale: str = "linear", accuracy: float = 1.0) -> Intervals:
    """A length classifier: the interval is a bin, the right one with probability ``accuracy``.

    With probability ``1 − accuracy`` the predictor answers a neighbouring bin (left or right with
    equal probability; the only neighbour at either end), so the interval misses the truth, as real
    bucket predictors do (S³: 65–77 % right). Lengths above ``max_len`` fall in the last bin,
    whose interval ends at ``max_len``: they are misses whatever the accuracy.
    """
    if not 0 <= accuracy <= 1:
        raise OptionError(f"accuracy must be in [0, 1], got {accuracy}")
    edges = bin_edges(n_bins, max_len, scale)
    k = edges.size - 1
    o = np.asarray(output, dtype=np.int64)
    true_bin = np.clip(np.searchsorted(edges, o, side="right") - 1, 0, k - 1)
    wrong = rng.random(o.size) >= accuracy
    step = np.where(rng.random(o.size) < 0.5, -1, 1)
    step = np.where(true_bin == 0, 1, np.where(true_bin == k - 1, -1, step)) if k > 1 else np.zeros_like(step)
    b = np.where(wrong, true_bin + step, true_bin)
    return edges[b].astype(np.int64), (edges[b + 1] - 1).astype(np.int64)


def with_misses(lower: np.ndarray, upper: np.ndarray, output: np.ndarray, rng: np.random.Generator,
                rate: float) -> Intervals:
    """Make a fraction ``rate`` of intervals exclude the truth, keeping their ratio ``l/u``.

    Each chosen interval is moved entirely above the truth (``l = o + 1``) or, when ``o > 1`` and a
    fair coin says so, entirely below it (``u = o − 1``). Intervals that already miss are counted
    among the chosen ones only if picked; the empirical rate is in :func:`interval_report`.
    """
    if not 0 <= rate <= 1:
        raise OptionError(f"miss rate must be in [0, 1], got {rate}")
    lo = np.array(lower, dtype=np.int64)
    up = np.array(upper, dtype=np.int64)
    o = np.asarray(output, dtype=np.int64)
    pick = rng.random(o.size) < rate
    below = (rng.random(o.size) < 0.5) & (o > 1)
    ratio = lo / up
    new_lo_above = o + 1
    new_up_above = np.ceil(new_lo_above / ratio).astype(np.int64)
    new_up_below = o - 1
    new_lo_below = np.maximum(1, np.floor(new_up_below * ratio)).astype(np.int64)
    lo = np.where(pick & below, new_lo_below, np.where(pick, new_lo_above, lo))
    up = np.where(pick & below, new_up_below, np.where(pick, new_up_above, up))
    return lo, up


PREDICTORS: dict[str, Callable[..., Intervals]] = {
    "exact": exact_intervals,
    "common": common_interval,
    "spread": spread_intervals,
    "bins": binned_intervals,
}


def make_intervals(kind: str, output: np.ndarray, rng: np.random.Generator, **params: Any) -> Intervals:
    """Apply the predictor named ``kind`` (see :data:`PREDICTORS`) with its parameters.

    The extra parameter ``miss_rate`` (any predictor) then moves that fraction of the intervals off
    the truth (:func:`with_misses`).

    Raises
    ------
    OptionError
        For an unknown predictor or parameter.
    """
    fn = PREDICTORS.get(kind)
    if fn is None:
        raise OptionError(f"unknown interval model '{kind}' (known: {', '.join(PREDICTORS)})")
    miss_rate = params.pop("miss_rate", 0.0)
    check_keywords(fn, {k: v for k, v in params.items() if k not in ("output", "rng")}, f"interval model '{kind}'")
    try:
        lo, up = fn(output, rng, **params)
    except TypeError as exc:
        raise OptionError(f"interval model '{kind}': {exc}") from None
    if miss_rate:
        lo, up = with_misses(lo, up, output, rng, float(miss_rate))
    return lo, up


def interval_report(output: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> dict[str, Any]:
    """Empirical α = l/u distribution (min, quartiles, max) and miss rate of a set of intervals."""
    o = np.asarray(output)
    lo = np.asarray(lower)
    up = np.asarray(upper)
    alpha = lo / up
    miss = (o < lo) | (o > up)
    q = np.quantile(alpha, [0.0, 0.25, 0.5, 0.75, 1.0]) if alpha.size else [math.nan] * 5
    return {
        "n": int(o.size),
        "alpha_min": float(q[0]), "alpha_p25": float(q[1]), "alpha_median": float(q[2]),
        "alpha_p75": float(q[3]), "alpha_max": float(q[4]),
        "misses": int(miss.sum()), "miss_rate": float(miss.mean()) if o.size else 0.0,
        "misses_below": int((o < lo).sum()), "misses_above": int((o > up).sum()),
    }
