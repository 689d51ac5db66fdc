"""Timed replay: the RTX 4090 profile fit, latency reports, the vLLM validation, replay studies,
reproduction tables, and the loaders over every shared dataset with per-request lengths."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from lpsched import OptionError
from lpsched.cli import cli
from lpsched.generate import trace_sample
from lpsched.instance import Instance
from lpsched.online import simulate
from lpsched.online.timing import TIMING_PRESETS
from lpsched.replay import compose_step_us, fit_profile, latency_summary, load_profile, replay
from lpsched.traces import iter_trace, shared_data_dir

DATA = shared_data_dir() or Path("/nonexistent")
RTX = DATA / "llmservingsim_llama31_8b" / "RTX4090"
PROFILE = RTX / "profile_bf16_tp1"
needs_data = pytest.mark.skipif(not PROFILE.exists(), reason="../shared/data not present")


@needs_data
def test_preset_is_the_least_squares_fit_of_the_profile() -> None:
    f = fit_profile(PROFILE, kv_tokens=41_408)
    assert f.timing("llama31-8b-rtx4090") == TIMING_PRESETS["llama31-8b-rtx4090"]
    assert f.points > 1000 and f.r2 > 0.8 and f.median_rel_error < 0.15


@needs_data
def test_composed_steps_match_the_readme_figures() -> None:
    p = load_profile(PROFILE)
    a = p.attention

    def step(chunk: int, n: int, kv: int) -> float:
        row = a[(a[:, 0] == chunk) & (a[:, 1] == 0) & (a[:, 2] == n) & (a[:, 3] == kv)][0]
        return float(compose_step_us(p, np.array([chunk]), np.array([0]), np.array([n]), np.array([kv]),
                                     np.array([row[4]]))[0]) / 1000

    # data README: decode at kv=512, b1 16.8 / b64 24.8 / b256 45.7 ms; 2,048-token prefill 193 ms
    for (chunk, n, kv), ms in {(0, 1, 512): 16.8, (0, 64, 512): 24.8, (0, 256, 512): 45.7,
                               (2048, 0, 0): 193.0}.items():
        assert step(chunk, n, kv) == pytest.approx(ms, rel=0.01)


def _timed_instance() -> Instance:
    rng = np.random.default_rng(3)
    n = 40
    return Instance.from_arrays(M=2000, prompt=rng.integers(10, 200, n), output=rng.integers(5, 300, n),
                                arrival=np.zeros(n, dtype=np.int64), arrival_time=np.sort(rng.uniform(0, 5, n)))


def test_latency_summary_percentiles_and_errors() -> None:
    inst = _timed_instance()
    res = simulate(inst, "fcfs", timing="llama31-8b-rtx4090")
    s = latency_summary(res)
    lat = res.timed["latency_s"]
    assert s["p90_latency_s"] == pytest.approx(np.percentile(lat, 90))
    assert s["p50_ttft_s"] <= s["p90_ttft_s"] <= s["p99_ttft_s"]
    assert s["mean_ttft_s"] <= s["mean_latency_s"]
    assert s["throughput_tokens_s"] == pytest.approx(inst.output.sum() / s["makespan_s"])
    with pytest.raises(ValueError, match="timed"):
        latency_summary(simulate(inst, "fcfs"))
    rows = replay(inst, ["fcfs", "hsf", "amin"], timing="llama2-70b-a100")
    assert [r["policy"] for r in rows] == ["fcfs", "hsf", "amin"]
    assert rows[1]["evictions"] == 0


@needs_data
def test_validation_against_the_measured_run() -> None:
    from lpsched.replay.validate import decode_recost, load_measured, validate

    m = load_measured()
    meas = m.summary()
    # the README's measured means and makespan, recomputed from requests.jsonl
    assert meas["mean_ttft_s"] == pytest.approx(65.5, abs=0.05)
    assert meas["mean_latency_s"] == pytest.approx(86.6, abs=0.05)
    assert meas["makespan_s"] == pytest.approx(183.6, abs=0.05)
    v = validate(m, record_history=True)
    errs = {r["metric"]: r["error"] for r in v["rows"]}
    assert {"mean_ttft_s", "p90_ttft_s", "mean_latency_s", "p90_latency_s", "mean_tpot_s", "makespan_s"} <= set(errs)
    assert all(abs(e) < 0.5 for e in errs.values())
    rc = decode_recost(m.instance, v["result"], PROFILE, "llama31-8b-rtx4090")
    assert 0 < rc["composed_s"] < rc["linear_s"] < v["summary"]["makespan_s"]


DATASETS = [  # (path, format, rows per the data READMEs)
    ("azure_llm_2023/AzureLLMInferenceTrace_code.csv", "azure", 8819),
    ("azure_llm_2023/AzureLLMInferenceTrace_conv.csv", "azure", 19366),
    ("mooncake_fast25/conversation_trace.jsonl", "mooncake", 12031),
    ("mooncake_fast25/synthetic_trace.jsonl", "mooncake", 3993),
    ("sharegpt_sarathi/sharegpt_8k_filtered_stats_llama2_tokenizer.csv", "lengths", 30731),
    ("arxiv_summarization_vidur/arxiv_summarization_stats_llama2_tokenizer_filtered_v2.csv", "lengths", 28257),
    ("llmservingsim_llama31_8b/RTX4090/vllm_measured/requests.jsonl", "llmservingsim", 300),
]


@needs_data
@pytest.mark.parametrize("rel, fmt, rows", DATASETS)
def test_every_dataset_with_lengths_loads(rel: str, fmt: str, rows: int) -> None:
    count = 0
    timed = fmt != "lengths"
    for r in iter_trace(DATA / rel, fmt):
        count += 1
        assert r.prompt >= 0 and r.output >= 0 and (r.arrival_s is not None) == timed
    assert count == rows
    inst = trace_sample(1, path=DATA / rel, fmt=fmt, n=20, mode="random", M=500_000,
                        arrivals="trace" if timed else "poisson", rate=None if timed else 2.0,
                        intervals="bins", n_bins=8, max_len=1024, scale="geometric", accuracy=0.7)
    assert inst.n == 20 and inst.arrival_time is not None
    assert "miss_rate" in inst.meta["interval_report"]


def _study(tmp_path: Path) -> Path:
    spec = tmp_path / "study.toml"
    spec.write_text(
        'name = "t"\nseeds = [0, 1]\ntiming = "llama2-70b-a100"\npolicies = ["fcfs", "hsf"]\n'
        '[[variants]]\npolicy = "mcsf"\nlabel = "mcsf(mid)"\noptions = { missing = "mid" }\n'
        '[[instances]]\nlabel = "b"\npath = "{data}/azure_llm_2023/AzureLLMInferenceTrace_conv.csv"\n'
        'fmt = "azure"\nn = 60\nM = 16492\narrivals = "trace"\ntime_scale = 5.0\n'
        'intervals = "spread"\nalpha = 0.25\n')
    return spec


@needs_data
def test_replay_study_runs_and_validates(tmp_path: Path) -> None:
    from lpsched.replay.study import load_study, run_study

    res = run_study(load_study(_study(tmp_path)))
    assert len(res["rows"]) == 2 * 3
    assert "| mcsf(mid) |" in res["markdown"]
    bad = tmp_path / "bad.toml"
    bad.write_text('policies = ["nope"]\n[[instances]]\nn = 1\n')
    with pytest.raises(OptionError, match="unknown policy"):
        load_study(bad)


@needs_data
def test_cli_replay_validate_fit(tmp_path: Path) -> None:
    runner = CliRunner()
    inst_file = tmp_path / "i.json"
    r = runner.invoke(cli, ["trace", str(DATA / "azure_llm_2023/AzureLLMInferenceTrace_conv.csv"), "--format",
                            "azure", "--n", "50", "--arrivals", "trace", "--seed", "0", "-o", str(inst_file)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli, ["replay", str(inst_file), "--policy", "fcfs", "--policy", "amin", "--json"])
    assert r.exit_code == 0, r.output
    assert [p["policy"] for p in json.loads(r.output)["policies"]] == ["fcfs", "amin"]
    r = runner.invoke(cli, ["validate-vllm", "--engine", "event", "--json"])
    assert r.exit_code == 0, r.output
    assert len(json.loads(r.output)["rows"]) == 13  # mean, p50, p90, p99 of TTFT, E2E, TPOT; makespan
    r = runner.invoke(cli, ["fit-profile", str(PROFILE), "--json"])
    assert r.exit_code == 0 and json.loads(r.output)["timing_ns"]["c_kv_ns"] == 289


def test_repro_tables_from_small_sweeps(tmp_path: Path) -> None:
    from lpsched.compare import run_sweep
    from lpsched.compare.spec import spec_from_dict
    from lpsched.repro import jaillet_table, main

    spec = spec_from_dict({"name": "j", "seeds": 2, "policies": ["mcsf"],
                           "optimum": {"method": "ip", "time_limit": 2.0},
                           "instances": [{"generator": "jaillet", "arrivals": ["zero", "poisson"], "n": 6, "M": 20,
                                          "rounds": 4}]})
    db = tmp_path / "j.db"
    run_sweep(spec, db, workers=0, progress=False)
    table = jaillet_table(db)
    assert "| zero | 2 |" in table and "| poisson | 2 |" in table
    assert main(["jaillet", str(db)]) == 0
    assert main(["nope"]) == 2


@pytest.mark.parametrize("policy", ["fcfs", "amin", "hsf"])
@pytest.mark.parametrize("semantics", ["restart", "resume"])
def test_engines_agree_with_a_kv_term(policy: str, semantics: str) -> None:
    """The RTX 4090 preset is the only one with c_kv > 0: the event engine's closed-form clock
    must add up exactly like the per-round reference."""
    for seed in range(3):
        rng = np.random.default_rng(seed)
        n = 25
        inst = Instance.from_arrays(M=900, prompt=rng.integers(1, 120, n), output=rng.integers(1, 200, n),
                                    lower=np.ones(n, dtype=np.int64), upper=np.full(n, 400),
                                    arrival=np.zeros(n, dtype=np.int64),
                                    arrival_time=np.sort(rng.uniform(0, 3, n)))
        a = simulate(inst, policy, timing="llama31-8b-rtx4090", semantics=semantics, engine="event")
        b = simulate(inst, policy, timing="llama31-8b-rtx4090", semantics=semantics, engine="round")
        assert a.tel == b.tel and a.evictions == b.evictions
        assert np.array_equal(a.timed["latency_s"], b.timed["latency_s"])
        assert np.array_equal(a.timed["ttft_s"], b.timed["ttft_s"])
