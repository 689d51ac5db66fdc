"""The vLLM step engine: each scheduler mechanism on a tiny hand-checked case, the decode-stretch
fast path against the step-by-step reference, the kernel-profile step-time model against
hand-computed interpolation, the KV-capacity formula, and the ``validate-vllm`` JSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from lpsched import OptionError
from lpsched.cli import cli
from lpsched.cli.app import main
from lpsched.instance import Instance
from lpsched.online import simulate
from lpsched.online.profile import ProfileTiming, load_profile
from lpsched.online.timing import TIMING_PRESETS
from lpsched.online.vllm_config import vllm_config
from lpsched.online.vllm_engine import run_vllm
from lpsched.replay.kvcapacity import Deployment, kv_capacity, model_shape
from lpsched.traces import shared_data_dir

UNIT = TIMING_PRESETS["unit"]  # every step lasts 1 s
S = 1_000_000_000
DATA = shared_data_dir() or Path("/nonexistent")
RTX = DATA / "llmservingsim_llama31_8b" / "RTX4090"
needs_data = pytest.mark.skipif(not (RTX / "profile_bf16_tp1").exists(), reason="../shared/data not present")

# every mechanism off: token blocks, no caps, no watermark, no full-sequence check, no prefix cache
BARE = dict(block_size=1, max_num_seqs=0, max_num_batched_tokens=0, watermark=0.0, reserve_full=False,
            prefix_cache=False)


def run(prompt, output, arrival_s, kv, **opts):
    cfg = vllm_config(**{**BARE, **opts})
    return run_vllm(prompt, output, [round(a * S) for a in arrival_s], kv, UNIT, cfg, record_steps=True)


def secs(ns: list[int]) -> list[float]:
    return [x / S for x in ns]


def test_max_num_seqs_caps_the_running_set() -> None:
    out = run([4, 4, 4], [3, 3, 3], [0, 0, 0], 1000, max_num_seqs=2)
    # two start at step 0 (first token at 1 s, last at 3 s); the third waits for a free slot
    assert secs(out.first_token_ns) == [1, 1, 4]
    assert secs(out.completion_ns) == [3, 3, 6]
    free = run([4, 4, 4], [3, 3, 3], [0, 0, 0], 1000)
    assert secs(free.completion_ns) == [3, 3, 3]


def test_token_budget_chunks_prefill_after_the_decodes() -> None:
    # budget 4: step 0 prefills j0 (2 tokens); j1 (6 tokens) arrives at 0.5 s and gets the 3 tokens
    # left after j0's decode at step 1, its last 3 at step 2, where its first token comes out
    out = run([2, 6], [3, 1], [0, 0.5], 1000, max_num_batched_tokens=4)
    assert [t for _, t, _, _ in out.step_log] == [2, 4, 4]
    assert secs(out.first_token_ns) == [1, 3]
    assert secs(out.completion_ns) == [3, 3]
    assert out.mixed_steps == 3 and out.decode_steps == 0
    whole = run([2, 6], [3, 1], [0, 0.5], 1000)  # no budget: j1's whole prompt in step 1
    assert secs(whole.first_token_ns) == [1, 2]


def test_blocks_round_up_and_force_a_preemption() -> None:
    # 10 tokens of KV; two requests of 4 + 2 tokens. Token granularity: 5 + 5 fit, no preemption.
    tok = run([4, 4], [2, 2], [0, 0], 10)
    assert tok.preemptions == 0 and secs(tok.completion_ns) == [2, 2]
    # blocks of 4: 2 blocks; step 1 needs a second block each -> the last admitted (j1) is preempted,
    # its freed block goes straight to j0 (no cache hit), and j1 recomputes prompt + its kept token
    out = run([4, 4], [2, 2], [0, 0], 10, block_size=4, prefix_cache=True)
    assert out.preemptions == 1 and out.preempt_count == [0, 1]
    assert out.recomputed_tokens == 5 and out.cached_tokens == 0
    assert secs(out.completion_ns) == [2, 3]
    assert out.peak_blocks == 2


def test_resume_preemption_reuses_the_cached_prefix() -> None:
    # blocks of 4, 4 blocks. j0: 7 + 3 tokens, j1: 5 + 5. Both hold 2 blocks after step 0; at step 2
    # j0 needs a third block: j1 (computed 7 tokens: one full block) is preempted, j0 takes j1's tail
    # block from the free queue, j1's head block stays cached. j1 comes back at step 3 with
    # 5 + 2 tokens, finds 4 cached and recomputes 3.
    out = run([7, 5], [3, 5], [0, 0], 16, block_size=4, prefix_cache=True)
    assert out.preemptions == 1
    assert out.cached_tokens == 4 and out.recomputed_tokens == 3
    assert secs(out.first_token_ns) == [1, 1]
    assert secs(out.completion_ns) == [3, 6]
    cold = run([7, 5], [3, 5], [0, 0], 16, block_size=4, prefix_cache=False)
    assert cold.cached_tokens == 0 and cold.recomputed_tokens == 7
    restart = run([7, 5], [3, 5], [0, 0], 16, block_size=4, prefix_cache=True, semantics="restart")
    assert restart.wasted_tokens == 2 and secs(restart.completion_ns) == [3, 8]


def test_watermark_holds_back_an_admission() -> None:
    # 100 token blocks, watermark 5 %: with j0 (50 tokens) running, j1 (46) needs 46 + 5 > 50 free
    held = run([50, 46], [10, 1], [0, 0], 100, watermark=0.05)
    assert secs(held.first_token_ns) == [1, 11]
    free = run([50, 46], [10, 1], [0, 0], 100)
    assert secs(free.first_token_ns) == [1, 1]


def test_full_sequence_admission_check() -> None:
    # budget 4: after j0's 3-token prompt, 1 token of budget is left; j1's 8-token prompt fits only
    # chunk by chunk: admitted at step 0 without the check, only when all 8 fit with it
    out = run([3, 8], [5, 1], [0, 0], 10, max_num_batched_tokens=4, reserve_full=False)
    assert out.first_scheduled_step == [0, 0]
    held = run([3, 8], [5, 1], [0, 0], 10, max_num_batched_tokens=4, reserve_full=True)
    assert held.first_scheduled_step[1] > 0


@pytest.mark.parametrize("seed", range(6))
def test_decode_stretches_match_the_step_by_step_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 60
    prompt = rng.integers(1, 300, n).tolist()
    output = rng.integers(1, 200, n).tolist()
    arr = np.sort(rng.uniform(0, 20, n))
    arr_ns = [round(a * S) for a in arr]
    timing = TIMING_PRESETS["llama31-8b-rtx4090"]
    configs = [dict(), dict(block_size=1, watermark=0.0), dict(max_num_seqs=8, max_num_batched_tokens=128),
               dict(semantics="restart", prefix_cache=False, max_num_batched_tokens=0),
               dict(max_num_batched_tokens=6, block_size=4, reserve_full=False),
               dict(max_num_seqs=3, block_size=8, watermark=0.05, semantics="restart")]
    for opts in configs:
        cfg = vllm_config(**opts)
        kv = int(rng.integers(600, 3000))
        a = run_vllm(prompt, output, arr_ns, kv, timing, cfg)
        b = run_vllm(prompt, output, arr_ns, kv, timing, vllm_config(**opts, fast=False))
        assert a.first_token_ns == b.first_token_ns and a.completion_ns == b.completion_ns
        assert (a.preemptions, a.recomputed_tokens, a.steps, a.peak_blocks, a.block_steps) == \
            (b.preemptions, b.recomputed_tokens, b.steps, b.peak_blocks, b.block_steps)


def test_fast_engine_matches_the_reference_with_profile_timing(tmp_path: Path) -> None:
    _write_profile(tmp_path / "prof", np.random.default_rng(5))
    (tmp_path / "prof" / "meta.yaml").write_text("gpu: toy\nskew_fit:\n  enabled: true\n  per_tp:\n    1:\n"
                                                 "      alpha_default: 0.2\n")
    pt = ProfileTiming(load_profile(tmp_path / "prof", layers=2))
    assert pt.alpha == 0.2
    rng = np.random.default_rng(7)
    n = 80
    prompt = rng.integers(1, 40, n).tolist()
    output = rng.integers(1, 60, n).tolist()
    arr_ns = [round(a * 1e6) for a in np.sort(rng.uniform(0, 50, n))]
    for opts in (dict(block_size=4, max_num_seqs=2), dict(block_size=2, max_num_batched_tokens=24)):
        a = run_vllm(prompt, output, arr_ns, 200, pt, vllm_config(**opts))
        b = run_vllm(prompt, output, arr_ns, 200, pt, vllm_config(**opts, fast=False))
        assert a.first_token_ns == b.first_token_ns and a.completion_ns == b.completion_ns
        assert a.preemptions == b.preemptions


def test_simulate_engine_vllm_and_its_errors() -> None:
    rng = np.random.default_rng(1)
    n = 30
    inst = Instance.from_arrays(M=2000, prompt=rng.integers(10, 200, n), output=rng.integers(5, 100, n),
                                arrival=np.zeros(n, dtype=np.int64), arrival_time=np.sort(rng.uniform(0, 3, n)))
    r = simulate(inst, "fcfs", engine="vllm", timing="llama31-8b-rtx4090", max_num_seqs=4)
    assert r.engine == "vllm" and r.options["max_num_seqs"] == 4 and r.semantics == "resume"
    assert np.all(r.timed["ttft_s"] > 0) and np.all(r.timed["latency_s"] >= r.timed["ttft_s"])
    assert r.peak_memory <= 2000
    with pytest.raises(OptionError, match="unknown policy"):
        simulate(inst, "nope", engine="vllm", timing="unit")
    with pytest.raises(OptionError, match="unknown option 'scan'"):  # vLLM's FCFS has no scan option
        simulate(inst, "fcfs", engine="vllm", timing="unit", scan="skip")
    with pytest.raises(OptionError, match="unknown option"):
        simulate(inst, "fcfs", engine="vllm", timing="unit", nope=1)
    with pytest.raises(OptionError, match="timed"):
        simulate(inst, "fcfs", engine="vllm")
    with pytest.raises(OptionError, match="cannot fit"):  # 20 + 13 tokens need 3 blocks of 16
        run_vllm([20], [14], [0], 40, UNIT, vllm_config())


# ----------------------------------------------------------------------------- profile timing
def _write_profile(folder: Path, rng: np.random.Generator) -> dict[tuple[int, int, int, int], float]:
    """A tiny profile: dense ops linear in tokens, per-sequence ops linear in sequences, attention on
    chunk {0, 16} × prefix {0, 16} × decodes {0, 1, 2} × kv {0, 16, 32} (as real profiles: no prefix
    without a chunk, no kv without decodes)."""
    folder.mkdir(parents=True)
    ops = ["embedding", "layernorm", "qkv_proj", "rotary_emb", "o_proj", "gate_up_proj", "act_fn", "down_proj",
           "final_layernorm"]
    with (folder / "dense.csv").open("w") as fh:
        fh.write("layer,tokens,time_us\n")
        for op in ops:
            fh.write(f"{op},1,10\n{op},101,20\n")  # 10 + 0.1·(T - 1) µs
    (folder / "per_sequence.csv").write_text("layer,sequences,time_us\nlm_head,1,100\nlm_head,11,200\n"
                                             "sampler,1,5\nsampler,11,15\n")
    att: dict[tuple[int, int, int, int], float] = {}
    for c in (0, 16):
        for p in ((0,) if c == 0 else (0, 16)):
            for nd in (0, 1, 2):
                for k in ((0,) if nd == 0 else (16, 32)):
                    if c == 0 and nd == 0:
                        continue
                    att[(c, p, nd, k)] = float(rng.uniform(5, 50))
    with (folder / "attention.csv").open("w") as fh:
        fh.write("prefill_chunk,kv_prefill,n_decode,kv_decode,time_us\n")
        for key, v in att.items():
            fh.write(",".join(map(str, key)) + f",{v}\n")
    (folder / "meta.yaml").write_text("gpu: toy\nhardware: TOY\nmodel: toy\n")
    return att


def test_profile_timing_interpolates_like_the_hand_computation(tmp_path: Path) -> None:
    att = _write_profile(tmp_path / "prof", np.random.default_rng(0))
    pt = ProfileTiming(load_profile(tmp_path / "prof", layers=2))
    for key, v in att.items():  # grid points are reproduced
        assert pt.attention_us(*key) == pytest.approx(v)
    # the middle of the cell chunk 0..16, prefix 0..16, decodes 1..2, kv 16..32: the mean of its 16
    # corners, where a corner without a chunk is the decode-only point (the prefix does not matter)
    corners = [att[(0, 0, nd, k)] if c == 0 else att[(16, p, nd, k)]
               for c in (0, 16) for p in (0, 16) for nd in (1, 2) for k in (16, 32)]
    assert pt.attention_us(8, 8, 1.5, 24) == pytest.approx(sum(corners) / 16)
    # one decode step of 2 sequences at kv 16 each: L·(7 dense ops + 2nd layernorm)(T=2) + 2 per step
    # + L·attention + lm_head(2) + sampler(2)
    dense = 2 * 8 * 10.1 + 2 * 10.1
    seq = 110 + 6
    assert pt.step_us([], 2, 32) == pytest.approx(dense + 2 * att[(0, 0, 2, 16)] + seq)
    assert pt.decode_steps_ns(2, np.array([32]))[0] == round(pt.step_us([], 2, 32) * 1000)
    # a chunk of 16 after a prefix of 16 with one decode at kv 32: T = 17, S = 2
    dense17 = 2 * 8 * (10 + 1.6) + 2 * (10 + 1.6)
    assert pt.step_us([(16, 16)], 1, 32) == pytest.approx(dense17 + 2 * att[(16, 16, 1, 32)] + seq)


def test_round_engines_agree_on_profile_timing(tmp_path: Path) -> None:
    """The round model timed by a profile: the event engine's spans add up like the per-round one."""
    _write_profile(tmp_path / "prof", np.random.default_rng(3))
    rng = np.random.default_rng(4)
    n = 20
    inst = Instance.from_arrays(M=600, prompt=rng.integers(1, 60, n), output=rng.integers(1, 80, n),
                                arrival=np.zeros(n, dtype=np.int64), arrival_time=np.sort(rng.uniform(0, 0.01, n)))
    a = simulate(inst, "fcfs", timing=str(tmp_path / "prof"), engine="event")
    b = simulate(inst, "fcfs", timing=str(tmp_path / "prof"), engine="round")
    assert a.timed["model"]["kind"] == "profile"
    assert np.array_equal(a.timed["latency_s"], b.timed["latency_s"])
    assert np.array_equal(a.timed["ttft_s"], b.timed["ttft_s"])


@needs_data
def test_profile_timing_reproduces_the_readme_steps() -> None:
    pt = ProfileTiming(load_profile(RTX / "profile_bf16_tp1"))
    for (chunk, n, kv), ms in {(0, 1, 512): 16.8, (0, 64, 512): 24.8, (0, 256, 512): 45.7,
                               (2048, 0, 0): 193.0}.items():
        assert pt.step_us([(chunk, 0)] if chunk else [], n, n * kv) / 1000 == pytest.approx(ms, rel=0.01)


# ----------------------------------------------------------------------------- KV capacity
def test_kv_formula_against_the_rtx4090_run() -> None:
    shape = model_shape("meta-llama/Llama-3.1-8B")
    cap = kv_capacity(Deployment(25_250_627_584, shape, 0.9, 16, 2048, 256))
    per_token = 2 * 32 * 8 * 128 * 2  # K and V, layers, KV heads, head dim, bf16
    weights = 8_030_261_248 * 2
    activation = max(2048 * (2 * 4096 + 3 * 14336) * 2, 2 * 256 * 128256 * 4)
    blocks = (int(25_250_627_584 * 0.9) - weights - activation - (1 << 29)) // (16 * per_token)
    assert cap["blocks"] == blocks and cap["tokens"] == 16 * blocks
    # vLLM reported 2,588 blocks = 41,408 tokens for this run
    assert abs(cap["tokens"] / 41_408 - 1) < 0.10


# ----------------------------------------------------------------------------- CLI
REQUIRED = {"mean_ttft_s", "p90_ttft_s", "mean_latency_s", "p90_latency_s", "mean_tpot_s", "makespan_s"}


def test_validate_vllm_cli_on_a_run_outside_the_data_folder(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    _write_profile(tmp_path / "profile_bf16_tp1", rng)
    run_dir = tmp_path / "vllm_measured"
    run_dir.mkdir()
    rows = []
    t = 100.0
    for i in range(8):
        t += float(rng.uniform(0, 0.05))
        rows.append({"request_id": f"r{i}", "input_toks": int(rng.integers(5, 40)),
                     "output_toks": int(rng.integers(2, 20)), "queued_ts": t, "first_token_ts": t + 0.01,
                     "last_token_ts": t + 0.05})
    (run_dir / "requests.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    (run_dir / "meta.json").write_text(json.dumps({"model": "meta-llama/Llama-3.1-8B",
                                                   "engine_kwargs": {"max_num_seqs": 4, "max_num_batched_tokens": 64},
                                                   "kv_cache": {"num_gpu_blocks": 20, "block_size": 16}}))
    r = CliRunner().invoke(cli, ["validate-vllm", "--requests", str(run_dir / "requests.jsonl"), "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert REQUIRED <= {row["metric"] for row in d["rows"]}
    assert all(set(row) >= {"metric", "measured", "simulated", "error"} for row in d["rows"])
    assert d["deployment"]["kv_tokens"] == 320 and d["deployment"]["max_num_seqs"] == 4
    assert d["options"]["engine"] == "vllm"
    # the KV formula instead of vLLM's block count, and an explicit cap
    r = CliRunner().invoke(cli, ["validate-vllm", "--requests", str(run_dir / "requests.jsonl"), "--gpu-memory-gb",
                                 "24", "--max-num-seqs", "2", "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["deployment"]["kv_source"] == "kv_capacity formula" and d["deployment"]["max_num_seqs"] == 2
    with pytest.raises(SystemExit) as exc:  # one clear error, exit 2
        main(["validate-vllm", "--requests", str(run_dir / "requests.jsonl"), "--profile", str(tmp_path / "nope")])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main(["validate-vllm", "--requests", str(tmp_path / "missing.jsonl")])
    assert exc.value.code == 2


@needs_data
def test_validate_vllm_cli_default_run() -> None:
    r = CliRunner().invoke(cli, ["validate-vllm", "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert REQUIRED <= {row["metric"] for row in d["rows"]}
    assert d["deployment"]["kv_tokens"] == 41_408 and d["deployment"]["max_num_seqs"] == 256
