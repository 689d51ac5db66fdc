"""Theory curves and the growth fit: known data must give the known verdict."""

from __future__ import annotations

import numpy as np
import pytest

from lpsched.compare.theory import amax_lower, amax_upper, amin_log_curve, fit_growth, svf_bound

ALPHAS = 2.0 ** -np.arange(1, 11)  # 1/2 .. 1/1024


def test_curves_at_alpha_one_and_ordering() -> None:
    assert amax_upper(1.0) == pytest.approx(1.0)
    assert amax_lower(1.0) == pytest.approx(1.0)
    assert np.all(amax_lower(ALPHAS) <= amax_upper(ALPHAS))
    assert amax_upper(0.5) == pytest.approx(2 * 3 / 2)
    assert amax_lower(0.25) == pytest.approx(4 * (1 + 2) / 2)
    assert amin_log_curve(1 / 8, a=1, b=2) == pytest.approx(7)
    assert svf_bound(0.0) == 3 and svf_bound(0.5) == 5
    with pytest.raises(ValueError):
        svf_bound(1.0)


def test_fit_recognises_logarithmic_data() -> None:
    rng = np.random.default_rng(0)
    ratio = 1.1 + 0.3 * np.log2(1 / ALPHAS) + rng.normal(0, 0.02, ALPHAS.size)
    fit = fit_growth(ALPHAS, ratio, seed=1)
    assert fit.log_b == pytest.approx(0.3, abs=0.03)
    assert fit.log_b_ci[0] < 0.3 < fit.log_b_ci[1]
    assert fit.verdict.startswith("consistent with logarithmic growth")


def test_fit_rejects_polynomial_data() -> None:
    rng = np.random.default_rng(0)
    ratio = 0.8 * (1 / ALPHAS) ** 0.7 * np.exp(rng.normal(0, 0.02, ALPHAS.size))
    fit = fit_growth(ALPHAS, ratio, seed=1)
    assert fit.power_p == pytest.approx(0.7, abs=0.05)
    assert fit.best_model == "power"
    assert fit.verdict.startswith("NOT consistent")


def test_fit_is_deterministic_and_needs_three_alphas() -> None:
    ratio = 1 + np.log2(1 / ALPHAS)
    assert fit_growth(ALPHAS, ratio, seed=3) == fit_growth(ALPHAS, ratio, seed=3)
    with pytest.raises(ValueError):
        fit_growth(np.array([0.5, 0.5, 0.25]), np.array([1.0, 1.1, 1.2]))
