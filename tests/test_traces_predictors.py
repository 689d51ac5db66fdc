"""Interval predictors (bins, misses) and trace sampling options (windows, rate scaling, arrivals)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lpsched import OptionError
from lpsched.generate import trace_sample
from lpsched.predictors import bin_edges, interval_report, make_intervals
from lpsched.traces import sample_trace, shared_data_dir

DATA = shared_data_dir() or Path("/nonexistent")
CONV = DATA / "azure_llm_2023" / "AzureLLMInferenceTrace_conv.csv"
SHAREGPT = DATA / "sharegpt_sarathi" / "sharegpt_8k_filtered_stats_llama2_tokenizer.csv"
needs_data = pytest.mark.skipif(not CONV.exists(), reason="../shared/data not present")


def test_bin_edges() -> None:
    e = bin_edges(10, 512)
    assert e[0] == 1 and e[-1] == 513 and e.size == 11
    g = bin_edges(10, 512, "geometric")
    assert g[0] == 1 and g[-1] == 513 and np.all(np.diff(g) > 0)
    with pytest.raises(OptionError, match="scale"):
        bin_edges(4, 100, "cubic")


@pytest.mark.parametrize("accuracy", [1.0, 0.7])
def test_bins_hit_with_target_accuracy(accuracy: float) -> None:
    rng = np.random.default_rng(1)
    o = rng.integers(1, 513, 20000)
    lo, up = make_intervals("bins", o, rng, n_bins=10, max_len=512, accuracy=accuracy)
    rep = interval_report(o, lo, up)
    assert rep["miss_rate"] == pytest.approx(1 - accuracy, abs=0.015)
    # every interval is one of the bins
    e = bin_edges(10, 512)
    assert set(zip(lo.tolist(), up.tolist(), strict=True)) <= {(int(e[j]), int(e[j + 1] - 1)) for j in range(10)}


def test_lengths_beyond_last_bin_are_misses() -> None:
    rng = np.random.default_rng(0)
    lo, up = make_intervals("bins", np.array([600, 700]), rng, max_len=512)
    assert np.all(up == 512) and interval_report(np.array([600, 700]), lo, up)["misses"] == 2


def test_miss_rate_is_applied_and_keeps_ratio() -> None:
    rng = np.random.default_rng(2)
    o = rng.integers(1, 1000, 20000)
    lo, up = make_intervals("spread", o, rng, alpha=0.25, miss_rate=0.2)
    rep = interval_report(o, lo, up)
    assert rep["miss_rate"] == pytest.approx(0.2, abs=0.015)
    assert rep["misses_below"] > 0 and rep["misses_above"] > 0
    assert np.all(lo >= 1) and np.all(lo <= up)
    with pytest.raises(OptionError, match="miss rate"):
        make_intervals("exact", o, rng, miss_rate=1.5)


@needs_data
def test_window_and_time_scale() -> None:
    s = sample_trace(CONV, "azure", 50, window=(600.0, 900.0))
    assert s.arrival_s is not None and s.arrival_s.max() < 300.0
    full = trace_sample(0, path=CONV, fmt="azure", n=100, arrivals="trace", round_seconds=0.1)
    fast = trace_sample(0, path=CONV, fmt="azure", n=100, arrivals="trace", round_seconds=0.1, time_scale=2.0)
    assert np.allclose(fast.arrival_time * 2, full.arrival_time)
    with pytest.raises(OptionError, match="no timestamps"):
        sample_trace(SHAREGPT, "lengths", 5, window=(0, 10))


@needs_data
@pytest.mark.parametrize("kind, cv", [("poisson", 1.0), ("gamma", 3.0)])
def test_synthetic_arrivals_for_length_tables(kind: str, cv: float) -> None:
    inst = trace_sample(5, path=SHAREGPT, fmt="lengths", n=3000, mode="random", arrivals=kind, rate=4.0, cv=cv,
                        round_seconds=0.05)
    gaps = np.diff(inst.arrival_time)
    assert gaps.mean() == pytest.approx(0.25, rel=0.15)
    assert gaps.std() / gaps.mean() == pytest.approx(cv, rel=0.2)
    assert np.all(inst.arrival == np.floor(inst.arrival_time / 0.05 + 1e-9))
    with pytest.raises(OptionError, match="needs rate"):
        trace_sample(5, path=SHAREGPT, fmt="lengths", n=10, arrivals=kind)
