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
    fit = fit_growth(ALPHAS, ratio)
    assert fit.log_b == pytest.approx(0.3, abs=0.03)
    assert fit.log_b_ci[0] < 0.3 < fit.log_b_ci[1]
    assert fit.verdict.startswith("consistent with logarithmic growth")


def test_fit_rejects_polynomial_data() -> None:
    rng = np.random.default_rng(0)
    ratio = 0.8 * (1 / ALPHAS) ** 0.7 * np.exp(rng.normal(0, 0.02, ALPHAS.size))
    fit = fit_growth(ALPHAS, ratio)
    assert fit.power_p == pytest.approx(0.7, abs=0.05)
    assert fit.best_model == "power"
    assert fit.verdict.startswith("NOT consistent")


def test_fit_needs_three_alphas_and_positive_ratios() -> None:
    with pytest.raises(ValueError):
        fit_growth(np.array([0.5, 0.5, 0.25]), np.array([1.0, 1.1, 1.2]))
    with pytest.raises(ValueError):
        fit_growth(np.array([0.5, 0.25]), np.array([1.0, 2.0]))
    with pytest.raises(ValueError):
        fit_growth(np.array([0.5, 0.25, 0.125]), np.array([1.0, 0.0, 2.0]))


def test_verdict_names_its_scope_and_points_to_a_counterexample() -> None:
    from lpsched.compare.theory import Counterexample

    rng = np.random.default_rng(0)
    alphas = 2.0 ** -np.arange(1, 7)
    ratio = 1.1 + 0.5 * np.log2(1 / alphas) + rng.normal(0, 0.02, alphas.size)
    scope = "this sweep's instances (family paper, n = 16, c = M/(s+u) = 4, A_min reading default)"
    plain = fit_growth(alphas, ratio, scope=scope)
    assert plain.verdict.startswith(f"on {scope}: consistent with logarithmic growth")
    far = Counterexample("instances/adversarial/amin-a1_4096-c4-epochs.json", 1 / 4096, 256, 4.0, 40.0, "default")
    pointed = fit_growth(alphas, ratio, scope=scope, counterexample=far)
    assert "consistent with" not in pointed.verdict
    assert "amin-a1_4096-c4-epochs.json" in pointed.verdict and "ratio ≥ 40" in pointed.verdict
    assert pointed.verdict.startswith(f"on {scope}:")
    # a library case below the fitted curve is no counterexample
    near = Counterexample("instances/adversarial/x.json", 1 / 64, 16, 4.0, 2.0, "default")
    assert fit_growth(alphas, ratio, scope=scope, counterexample=near).verdict == plain.verdict


def test_few_points_t_intervals_and_ratio_scale_residuals() -> None:
    # the A_min map's case: 4 α values, one point each
    inv = 2.0 ** np.array([3, 6, 9, 12])
    power = fit_growth(1 / inv, 1.5 * inv**0.44 * np.array([1.0, 1.02, 0.99, 1.01]))
    assert power.better() == "power" and 0.3 < power.power_p_ci[0] < 0.44 < power.power_p_ci[1]
    assert power.verdict.startswith("NOT consistent")
    log = fit_growth(1 / inv, 1.0 + 0.8 * np.log2(inv) + np.array([0.01, -0.02, 0.015, -0.01]))
    assert log.better() == "log" and log.log_b_ci[0] < 0.8 < log.log_b_ci[1]
    assert log.verdict.startswith("consistent with logarithmic growth")
    # a wider level gives a wider interval around the same slope
    wide = fit_growth(1 / inv, 1.0 + 0.8 * np.log2(inv) + np.array([0.01, -0.02, 0.015, -0.01]), level=0.99)
    assert wide.log_b == log.log_b and wide.log_b_ci[0] < log.log_b_ci[0] and wide.log_b_ci[1] > log.log_b_ci[1]
    # residuals on the ratio scale: the RSS is that of the ratio itself
    assert log.rss["log"] == pytest.approx(float(np.sum((log.log_a + log.log_b * np.log2(inv)
                                                          - (1.0 + 0.8 * np.log2(inv)
                                                             + np.array([0.01, -0.02, 0.015, -0.01]))) ** 2)))
    assert min(log.rss, key=lambda k: log.rss[k]) == log.best_model
