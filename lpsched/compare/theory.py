"""Theoretical competitive-ratio curves (docs/model.md §5) and the fits that test them against data.

Curves are plain functions of α = l/u (and β or M where they enter):

* :func:`amax_upper`, :func:`amax_lower` – A_max's bounds as reconstructed from third-party summaries
  (hypotheses the toolkit tests, not established results);
* :func:`amin_log_curve` – the shape ``a + b·log2(1/α)`` of A_min's ``O(log 1/α)`` theorem, whose
  constant is not public: :func:`fit_growth` estimates ``b`` from the worst ratios found;
* :func:`svf_bound` and :data:`MCSF_CONSTANT` – SVF's ``1 + 2/(1 − β)`` and MC-SF's 9216.

:func:`fit_growth` is the one growth fit (the comparator's verdict, the demo, the A_min map): it fits
the logarithmic model and the power and linear alternatives to (α, ratio) data by least squares,
with Student-t intervals (few α values, often one point each), compares them by residuals on the
ratio scale, and says in one sentence whether the data are consistent with logarithmic growth;
given a ``scope`` (family, n range, c, reading) the sentence names it, and given a certified
counterexample from the adversarial library it points to it instead of calling the growth
logarithmic.
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


@dataclass(frozen=True)
class GrowthFit:
    """Result of :func:`fit_growth`: three growth models of the ratio in ``1/α``, with t intervals.

    * log: ``log_a + log_b·log2(1/α)`` (least squares of the ratio), ``log_b_ci`` the interval of
      ``log_b``;
    * power: ``power_c·(1/α)^power_p`` (least squares of ``log ratio`` on ``log(1/α)``), ``power_p_ci``
      the interval of ``power_p``;
    * linear: ``linear_a + linear_b/α``.

    Intervals are Student-t at ``level`` (``n_points − 2`` degrees of freedom; with 3 points one degree,
    and they say so by their width). ``rss`` holds each fitted model's residual sum of squares of the
    ratio itself and ``aic`` the same on the AIC scale (``n·log(RSS/n) + 4``; every model has two
    parameters, so they rank alike). The residuals are on the ratio scale, so a log fit that goes
    negative at large α is not penalised without bound. ``best_model`` has the smallest RSS of the
    three; :meth:`better` compares any subset. ``verdict`` says it in words.
    """

    n_points: int
    level: float
    log_a: float
    log_b: float
    log_b_ci: tuple[float, float]
    power_c: float
    power_p: float
    power_p_ci: tuple[float, float]
    linear_a: float
    linear_b: float
    rss: dict[str, float]
    aic: dict[str, float]
    best_model: str
    verdict: str

    def better(self, models: tuple[str, ...] = ("log", "power")) -> str:
        """The model of ``models`` with the smallest RSS (ties go to the first named)."""
        return min(models, key=lambda m: self.rss[m])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


def _lstsq(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    A = np.c_[np.ones_like(x), x]
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    return float(coef[0]), float(coef[1])


def _ols_slope_ci(x: np.ndarray, y: np.ndarray, level: float) -> tuple[float, float, tuple[float, float]]:
    """Intercept, slope and the slope's Student-t interval (needs at least 3 points, 2 distinct x)."""
    a, b = _lstsq(x, y)
    resid = y - (a + b * x)
    sxx = float(np.sum((x - x.mean()) ** 2))
    se = float(np.sqrt(np.sum(resid**2) / (x.size - 2) / sxx))
    h = float(stats.t.ppf(0.5 + level / 2, x.size - 2)) * se
    return a, b, (b - h, b + h)


def fit_growth(alpha: np.ndarray, ratio: np.ndarray, level: float = 0.95, *, scope: str | None = None,
               counterexample: Counterexample | None = None) -> GrowthFit:
    """Fit ratios against α with a logarithmic, a power and a linear model, and give a verdict.

    The one growth fit of the toolkit: the comparator's A_min verdict (``lpsched demo``, ``lpsched
    sweep``, ``lpsched report``), its plot and the A_min map (``benchmarks/amin_map.py``) all use it.

    Parameters
    ----------
    alpha, ratio : arrays of equal length, positive ratios, at least 3 distinct α (one point per α,
        e.g. the worst ratio found there, or several).
    level : confidence level of the t intervals.
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
        2 of the best model's, or the fitted power ``p`` has an interval reaching 0.15 or less
        (``(1/α)^0.15`` is within 1.5× of ``log`` growth over α ∈ [1/1024, 1/2]). Otherwise the
        verdict names the better model. ``p`` bounded away from 0 (``power_p_ci[0] > 0``) together
        with ``better() == "power"`` is the evidence of polynomial growth.
    """
    a = np.asarray(alpha, dtype=float)
    r = np.asarray(ratio, dtype=float)
    if a.size != r.size or np.unique(a).size < 3 or (r <= 0).any():
        raise ValueError("fit_growth needs matching arrays, positive ratios and at least 3 distinct alpha values")
    x_log = np.log2(1 / a)
    la, lb, b_ci = _ols_slope_ci(x_log, r, level)
    lc, lp, p_ci = _ols_slope_ci(np.log(1 / a), np.log(r), level)
    na, nb = _lstsq(1 / a, r)
    pred = {"log": la + lb * x_log, "power": np.exp(lc) * (1 / a) ** lp, "linear": na + nb / a}
    rss = {k: float(np.sum((r - v) ** 2)) for k, v in pred.items()}
    aic = {k: float(a.size * np.log(max(v, 1e-300) / a.size) + 4) for k, v in rss.items()}
    best = min(rss, key=lambda k: rss[k])
    consistent = aic["log"] <= aic[best] + 2 or p_ci[0] <= 0.15
    ci = f"{level:.0%}"
    if consistent and b_ci[0] <= 0 <= b_ci[1]:
        verdict = (f"no significant growth with 1/α over this range (log slope b = {lb:.3g}, {ci} CI "
                   f"[{b_ci[0]:.3g}, {b_ci[1]:.3g}] includes 0): consistent with O(log 1/α), and with a constant")
    elif consistent:
        verdict = (f"consistent with logarithmic growth: ratio ≈ {la:.3g} + {lb:.3g}·log2(1/α) "
                   f"(b {ci} CI [{b_ci[0]:.3g}, {b_ci[1]:.3g}]); best-fitting model: {best}")
    else:
        verdict = (f"NOT consistent with logarithmic growth: the {best} model fits better "
                   f"(power p = {lp:.3g}, {ci} CI [{p_ci[0]:.3g}, {p_ci[1]:.3g}])")
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
        n_points=int(a.size), level=level, log_a=la, log_b=lb, log_b_ci=b_ci, power_c=float(np.exp(lc)),
        power_p=lp, power_p_ci=p_ci, linear_a=na, linear_b=nb, rss=rss, aic=aic, best_model=best,
        verdict=verdict,
    )
