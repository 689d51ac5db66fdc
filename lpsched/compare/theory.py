"""Theoretical competitive-ratio curves (docs/model.md §5) and the fits that test them against data.

Curves are plain functions of α = l/u (and β or M where they enter):

* :func:`amax_upper`, :func:`amax_lower` – A_max's bounds as reconstructed from third-party summaries
  (hypotheses the toolkit tests, not established results);
* :func:`amin_log_curve` – the shape ``a + b·log2(1/α)`` of A_min's ``O(log 1/α)`` theorem, whose
  constant is not public: :func:`fit_growth` estimates ``b`` from the worst ratios found;
* :func:`svf_bound` and :data:`MCSF_CONSTANT` – SVF's ``1 + 2/(1 − β)`` and MC-SF's 9216.

:func:`fit_growth` fits the logarithmic model and the polynomial alternatives to (α, ratio) data,
with bootstrap confidence intervals, and says in one sentence whether the data are consistent with
logarithmic growth; given a ``scope`` (family, n range, c, reading) the sentence names it, and given
a certified counterexample from the adversarial library it points to it instead of calling the
growth logarithmic. :func:`fit_log_vs_power` is the small-sample version for the A_min map: least
squares with Student-t intervals (few α values, one point each).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats

__all__ = [
    "amax_upper",
    "amax_lower",
    "amin_log_curve",
    "svf_bound",
    "MCSF_CONSTANT",
    "GrowthFit",
    "fit_growth",
    "LogPowerFit",
    "fit_log_vs_power",
    "Counterexample",
    "THEORY_CURVES",
]

#: MC-SF's proven constant (Jaillet et al.; all jobs at time 0, identical prompts, M ≥ 2·max peak).
MCSF_CONSTANT = 9216.0


def amax_upper(alpha: np.ndarray | float, M: float | None = None) -> np.ndarray | float:
    """A_max's reconstructed upper bound ``α⁻¹(1 + α⁻¹)/2 + O(1/M)``.

    The ``O(1/M)`` term's constant is unknown; it is omitted (``M`` is accepted for the signature's
    sake and ignored), so the curve is the bound's leading part. Equals 1 at α = 1.
    """
    a = np.asarray(alpha, dtype=float)
    return (1 / a) * (1 + 1 / a) / 2


def amax_lower(alpha: np.ndarray | float) -> np.ndarray | float:
    """A_max's reconstructed lower bound ``α⁻¹(1 + α^{-1/2})/2`` (some instance forces at least this)."""
    a = np.asarray(alpha, dtype=float)
    return (1 / a) * (1 + a**-0.5) / 2


def amin_log_curve(alpha: np.ndarray | float, a: float = 1.0, b: float = 1.0) -> np.ndarray | float:
    """The shape of A_min's ``O(log(1/α))`` bound: ``a + b·log2(1/α)`` (constants from a fit)."""
    return a + b * np.log2(1 / np.asarray(alpha, dtype=float))


def svf_bound(beta: float) -> float:
    """SVF's ratio ``1 + 2/(1 − β)`` when every peak ``s_i + o_i ≤ βM`` (all jobs at time 0)."""
    if not 0 <= beta < 1:
        raise ValueError(f"beta must be in [0, 1), got {beta}")
    return 1 + 2 / (1 - beta)


#: Named curves for plots: name -> (function of α, description).
THEORY_CURVES: dict[str, tuple[Any, str]] = {
    "amax_upper": (amax_upper, "A_max upper bound α⁻¹(1+α⁻¹)/2 (reconstructed)"),
    "amax_lower": (amax_lower, "A_max lower bound α⁻¹(1+α^-1/2)/2 (reconstructed)"),
}


@dataclass(frozen=True)
class GrowthFit:
    """Result of :func:`fit_growth`.

    ``log_a + log_b·log2(1/α)`` is the logarithmic fit, with ``log_b_ci`` a 95 % bootstrap interval;
    ``power_c·(1/α)^power_p`` the polynomial alternative with ``power_p_ci``; ``linear_*`` the model
    ``a + b/α``. ``aic`` compares the three (lower is better; same number of parameters, so this is
    the residual sum of squares on a log scale). ``verdict`` says it in words.
    """

    n_points: int
    log_a: float
    log_b: float
    log_b_ci: tuple[float, float]
    power_c: float
    power_p: float
    power_p_ci: tuple[float, float]
    linear_a: float
    linear_b: float
    aic: dict[str, float]
    best_model: str
    verdict: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


def _lstsq(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    A = np.c_[np.ones_like(x), x]
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    return float(coef[0]), float(coef[1])


def _aic(resid: np.ndarray, k: int = 2) -> float:
    n = resid.size
    rss = float(np.sum(resid**2))
    return n * np.log(max(rss, 1e-300) / n) + 2 * k


@dataclass(frozen=True)
class Counterexample:
    """A certified bad case from the adversarial library that a growth verdict must point to.

    ``ratio_at_least`` is certified (TEL / a verified schedule); ``c`` is ``M/(s + u)``; ``reading``
    names the policy options it was measured with.
    """

    file: str
    alpha: float
    n: int
    c: float
    ratio_at_least: float
    reading: str


def fit_growth(alpha: np.ndarray, ratio: np.ndarray, seed: int = 0, n_boot: int = 2000, *,
               scope: str | None = None, counterexample: Counterexample | None = None) -> GrowthFit:
    """Fit worst ratios against α with a logarithmic and two polynomial models.

    Parameters
    ----------
    alpha, ratio : arrays of equal length (one point per instance or per α; at least 3 distinct α).
    seed : bootstrap seed (same data and seed, same intervals).
    n_boot : bootstrap resamples.

    scope : str, optional
        What the points cover (family, n range, c, reading); the verdict starts with it, so it is
        never read as a statement about A_min in general.
    counterexample : Counterexample, optional
        A certified instance from the adversarial library for the same ``c`` whose ratio lies above
        this fit's logarithmic curve (upper end of the slope's interval) at its α. The verdict then
        points to it instead of calling the growth logarithmic.

    Returns
    -------
    GrowthFit
        The data are called *consistent with logarithmic growth* when the log model's AIC is within
        2 of the best model's, or the fitted power ``p`` has a 95 % interval reaching 0.15 or less
        (``(1/α)^0.15`` is within 1.5× of ``log`` growth over α ∈ [1/1024, 1/2]). Otherwise the
        verdict names the better model.

    Notes
    -----
    All three models are compared on ``log(ratio)`` residuals so that large ratios do not dominate.
    """
    a = np.asarray(alpha, dtype=float)
    r = np.asarray(ratio, dtype=float)
    if a.size != r.size or np.unique(a).size < 3:
        raise ValueError("fit_growth needs matching arrays with at least 3 distinct alpha values")
    x_log = np.log2(1 / a)
    la, lb = _lstsq(x_log, r)
    lc, lp = _lstsq(np.log(1 / a), np.log(r))
    na, nb = _lstsq(1 / a, r)

    def log_resid(pred: np.ndarray) -> np.ndarray:
        return np.log(r) - np.log(np.maximum(pred, 1e-9))

    aic = {
        "log": _aic(log_resid(la + lb * x_log)),
        "power": _aic(log_resid(np.exp(lc) * (1 / a) ** lp)),
        "linear": _aic(log_resid(na + nb / a)),
    }
    rng = np.random.default_rng(seed)
    bs_b, bs_p = [], []
    for _ in range(n_boot):
        idx = rng.integers(0, a.size, a.size)
        if np.unique(a[idx]).size < 2:
            continue
        bs_b.append(_lstsq(x_log[idx], r[idx])[1])
        bs_p.append(_lstsq(np.log(1 / a[idx]), np.log(r[idx]))[1])
    b_ci = (float(np.quantile(bs_b, 0.025)), float(np.quantile(bs_b, 0.975)))
    p_ci = (float(np.quantile(bs_p, 0.025)), float(np.quantile(bs_p, 0.975)))
    best = min(aic, key=lambda k: aic[k])
    consistent = aic["log"] <= aic[best] + 2 or p_ci[0] <= 0.15
    if consistent and b_ci[0] <= 0 <= b_ci[1]:
        verdict = (f"no significant growth with 1/α over this range (log slope b = {lb:.3g}, 95% CI "
                   f"[{b_ci[0]:.3g}, {b_ci[1]:.3g}] includes 0): consistent with O(log 1/α), and with a constant")
    elif consistent:
        verdict = (f"consistent with logarithmic growth: ratio ≈ {la:.3g} + {lb:.3g}·log2(1/α) "
                   f"(b 95% CI [{b_ci[0]:.3g}, {b_ci[1]:.3g}]); best-fitting model: {best}")
    else:
        verdict = (f"NOT consistent with logarithmic growth: the {best} model fits better "
                   f"(power p = {lp:.3g}, 95% CI [{p_ci[0]:.3g}, {p_ci[1]:.3g}])")
    if counterexample is not None:
        ce = counterexample
        predicted = la + max(b_ci[1], 0.0) * float(np.log2(1 / ce.alpha))
        if ce.ratio_at_least > predicted:
            verdict = (f"these points fit ≈ {la:.3g} + {lb:.3g}·log2(1/α), but they are not A_min's worst "
                       f"case: the adversarial library holds a certified counterexample to this fit at c = {ce.c:g} "
                       f"({ce.file}: ratio ≥ {ce.ratio_at_least:.3g} at α = 1/{round(1 / ce.alpha)}, n = {ce.n}, "
                       f"reading {ce.reading}; this fit predicts at most {predicted:.3g} there)")
    if scope:
        verdict = f"on {scope}: {verdict}"
    return GrowthFit(
        n_points=int(a.size), log_a=la, log_b=lb, log_b_ci=b_ci, power_c=float(np.exp(lc)),
        power_p=lp, power_p_ci=p_ci, linear_a=na, linear_b=nb, aic=aic, best_model=best,
        verdict=verdict,
    )


@dataclass(frozen=True)
class LogPowerFit:
    """Result of :func:`fit_log_vs_power`: the two growth models with Student-t intervals.

    ``log``: ``ratio = a + b·log2(1/α)``, ``b_ci`` the interval of ``b``. ``power``:
    ``log ratio = log C + p·log(1/α)``, ``p_ci`` the interval of ``p``. ``rss_log`` and
    ``rss_power`` are residual sums of squares of the ratio itself under each fitted model (same
    number of parameters, so directly comparable; on the ratio scale, so a log fit that goes
    negative at large α is not penalised without bound); ``better`` names the smaller. ``p`` bounded away from 0
    (``p_ci[0] > 0``) together with ``better == "power"`` is the evidence of polynomial growth.
    """

    n_points: int
    level: float
    a: float
    b: float
    b_ci: tuple[float, float]
    C: float
    p: float
    p_ci: tuple[float, float]
    rss_log: float
    rss_power: float
    better: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


def _ols_slope_ci(x: np.ndarray, y: np.ndarray, level: float) -> tuple[float, float, tuple[float, float]]:
    a, b = _lstsq(x, y)
    n = x.size
    resid = y - (a + b * x)
    sxx = float(np.sum((x - x.mean()) ** 2))
    if n <= 2 or sxx == 0:
        return a, b, (float("-inf"), float("inf"))
    se = float(np.sqrt(np.sum(resid**2) / (n - 2) / sxx))
    h = float(stats.t.ppf(0.5 + level / 2, n - 2)) * se
    return a, b, (b - h, b + h)


def fit_log_vs_power(alpha: np.ndarray, ratio: np.ndarray, level: float = 0.95) -> LogPowerFit:
    """Least squares of ``ratio`` on ``log2(1/α)`` and of ``log(ratio)`` on ``log(1/α)``, t intervals.

    Parameters
    ----------
    alpha, ratio : arrays of equal length, at least 3 distinct α (with 3 points the t interval has
        one degree of freedom and is wide; it says so by its width).
    level : confidence level of the intervals.

    Returns
    -------
    LogPowerFit
    """
    a_ = np.asarray(alpha, dtype=float)
    r = np.asarray(ratio, dtype=float)
    if a_.size != r.size or np.unique(a_).size < 3 or (r <= 0).any():
        raise ValueError("fit_log_vs_power needs matching arrays, positive ratios and at least 3 distinct alpha")
    x2 = np.log2(1 / a_)
    la, lb, b_ci = _ols_slope_ci(x2, r, level)
    lc, lp, p_ci = _ols_slope_ci(np.log(1 / a_), np.log(r), level)
    rss_log = float(np.sum((r - (la + lb * x2)) ** 2))
    rss_power = float(np.sum((r - np.exp(lc) * (1 / a_) ** lp) ** 2))
    return LogPowerFit(
        n_points=int(a_.size), level=level, a=la, b=lb, b_ci=b_ci, C=float(np.exp(lc)), p=lp, p_ci=p_ci,
        rss_log=rss_log, rss_power=rss_power, better="log" if rss_log <= rss_power else "power",
    )
