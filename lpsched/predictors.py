"""Interval predictors: turn true output lengths into prediction intervals ``[l_i, u_i]``, seeded.

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

from .errors import OptionError

__all__ = [
    "exact_intervals",
    "common_interval",
    "spread_intervals",
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

    Jobs whose true length falls outside are misses (allowed, counted; MODEL.md §1).
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


PREDICTORS: dict[str, Callable[..., Intervals]] = {
    "exact": exact_intervals,
    "common": common_interval,
    "spread": spread_intervals,
}


def make_intervals(kind: str, output: np.ndarray, rng: np.random.Generator, **params: Any) -> Intervals:
    """Apply the predictor named ``kind`` (see :data:`PREDICTORS`) with its parameters.

    Raises
    ------
    OptionError
        For an unknown predictor or parameter.
    """
    fn = PREDICTORS.get(kind)
    if fn is None:
        raise OptionError(f"unknown interval model '{kind}' (known: {', '.join(PREDICTORS)})")
    try:
        return fn(output, rng, **params)
    except TypeError as exc:
        raise OptionError(f"interval model '{kind}': {exc}") from None


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
