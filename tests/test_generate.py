"""Generators, predictors and trace readers: seeded, valid, and faithful to docs/model.md §7."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lpsched import OptionError, save_instance
from lpsched.generate import jaillet, paper, trace_sample
from lpsched.predictors import interval_report, make_intervals
from lpsched.traces import TraceError, iter_trace, sample_trace, shared_data_dir

DATA = shared_data_dir() or Path("/nonexistent")
AZURE_CONV = DATA / "azure_llm_2023" / "AzureLLMInferenceTrace_conv.csv"
needs_data = pytest.mark.skipif(not AZURE_CONV.exists(), reason="../shared/data not present")


@pytest.mark.parametrize("make", [
    lambda s: jaillet(s), lambda s: jaillet(s, arrivals="poisson"),
    lambda s: paper(s, alpha=1 / 16, dist="geometric"),
])
def test_same_seed_same_instance_different_seed_different(make) -> None:
    a, b, c = make(5), make(5), make(6)
    assert a == b and a.meta == b.meta
    assert a.content_hash() != c.content_hash()
    assert a.meta["seed"] == 5


def test_jaillet_regime_ranges() -> None:
    for seed in range(30):
        inst = jaillet(seed)
        assert 30 <= inst.M <= 50 and 40 <= inst.n <= 60
        assert inst.prompt.min() >= 1 and inst.prompt.max() <= 5
        assert inst.output.min() >= 1 and np.all(inst.output <= inst.M - inst.prompt)
        assert np.all(inst.lower == inst.output) and np.all(inst.upper == inst.output)
        assert inst.arrival.max() == 0


def test_jaillet_poisson_arrivals() -> None:
    inst = jaillet(3, arrivals="poisson")
    R = inst.meta["params"]["rounds"]
    lam = inst.meta["params"]["rate"]
    assert 40 <= R <= 60 and 0.5 <= lam <= 1.5
    assert inst.arrival.max() < R and np.all(np.diff(inst.arrival) >= 0)
    # the number of jobs is Poisson(λR): within a generous band of its mean
    assert abs(inst.n - lam * R) < 6 * np.sqrt(lam * R) + 1


def test_paper_regime() -> None:
    inst = paper(1, n=200, s=4, lower=8, alpha=1 / 8, concurrency=12)
    assert np.all(inst.lower == 8) and np.all(inst.upper == 64)
    assert np.all((inst.output >= 8) & (inst.output <= 64))
    assert inst.M == 12 * (4 + 64) and np.all(inst.prompt == 4)
    assert inst.n_misses == 0
    ext = paper(1, n=100, alpha=1 / 4, dist="extremes")
    assert set(ext.output.tolist()) <= {8, 32}
    with pytest.raises(OptionError, match="alpha"):
        paper(1, alpha=0)
    with pytest.raises(OptionError, match="unknown length distribution"):
        paper(1, dist="bogus")


def test_predictors() -> None:
    rng = np.random.default_rng(0)
    out = rng.integers(1, 500, 2000)
    lo, up = make_intervals("spread", out, rng, alpha=0.25)
    assert np.all(lo <= out) and np.all(out <= up) and np.all(lo >= 1)
    rep = interval_report(out, lo, up)
    assert rep["misses"] == 0 and 0.2 < rep["alpha_median"] <= 0.3
    lo, up = make_intervals("common", out, rng, lower=50, upper=200)
    rep = interval_report(out, lo, up)
    assert rep["misses"] == int(((out < 50) | (out > 200)).sum()) > 0
    with pytest.raises(OptionError, match="unknown interval model"):
        make_intervals("oracle", out, rng)
    with pytest.raises(OptionError, match="'spread'"):
        make_intervals("spread", out, rng, width=3)


def test_trace_reader_reports_file_and_line(tmp_path) -> None:
    f = tmp_path / "t.csv"
    f.write_text("TIMESTAMP,ContextTokens,GeneratedTokens\n"
                 "2023-11-16 18:15:46.6805900,374,44\n"
                 "2023-11-16 18:15:47.0000000,12,x\n")
    rows = iter_trace(f, "azure")
    first = next(rows)
    assert (first.prompt, first.output, first.line) == (374, 44, 2)
    with pytest.raises(TraceError, match=r"t.csv:3: malformed row"):
        next(rows)
    j = tmp_path / "m.jsonl"
    j.write_text('{"timestamp": 0, "input_length": 5, "output_length": 3}\n{"timestamp": 1000}\n')
    with pytest.raises(TraceError, match=r"m.jsonl:2: .*missing key 'input_length'"):
        list(iter_trace(j, "mooncake"))
    with pytest.raises(OptionError, match="unknown trace format"):
        list(iter_trace(j, "parquet"))


@needs_data
def test_trace_sample_real_azure(tmp_path) -> None:
    a = trace_sample(4, path=AZURE_CONV, fmt="azure", n=200, mode="random", arrivals="trace",
                     intervals="spread", alpha=0.5)
    b = trace_sample(4, path=AZURE_CONV, fmt="azure", n=200, mode="random", arrivals="trace",
                     intervals="spread", alpha=0.5)
    assert a == b
    assert a.arrival_time is not None and a.arrival.min() == 0
    assert np.all(a.peak <= a.M)
    assert a.meta["interval_report"]["misses"] == 0
    save_instance(a, tmp_path / "a.json")
    small = trace_sample(0, path=AZURE_CONV, fmt="azure", n=50, M=2000)
    assert small.n + small.meta["dropped_oversize"] == 50 and np.all(small.peak <= 2000)
    s1 = sample_trace(AZURE_CONV, "azure", 10, offset=5)
    assert s1.lines.tolist() == list(range(7, 17))  # header is line 1, first data row line 2
