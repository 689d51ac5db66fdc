"""Validation of the timed model against a measured vLLM run (LLMServingSim bundles).

:func:`load_measured` reads ``requests.jsonl`` (e.g. 300 requests served by vLLM 0.19 on one RTX 4090
with a 41,408-token KV cache) into an :class:`~lpsched.instance.Instance` whose arrivals are the
server-side ``queued_ts`` (seconds after the first request was queued; within 0.2 s of the client's
``arrival_time``) and into the measured per-request TTFT, end-to-end latency and time per output
token (``first_token_ts − queued_ts``, ``last_token_ts − queued_ts``,
``(last_token_ts − first_token_ts)/(output − 1)``) and makespan (``max last_token_ts − min queued_ts``).
:func:`run_settings` reads the deployment of the run from its ``meta.json`` (vLLM's engine
arguments and cache configuration) and, for the GPU memory when ``meta.json`` lacks it, the
simulator's ``llmservingsim_cluster_config.json`` next to it.

:func:`validate` replays the instance (by default with FCFS on the round engine and a timing
preset; ``engine="vllm"`` with a kernel-profile folder as ``timing`` is the vLLM step engine) and
returns, per metric (mean, p50, p90, p99 of TTFT, end-to-end latency and TPOT; makespan), the
measured value, the simulated value and the relative error. :func:`decode_recost` re-costs the simulated schedule's
decode-only rounds with the full kernel-profile composition instead of the linear fit, which
separates the error of the linear fit from the error of the scheduling model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import LpschedInputError
from ..fileio import parse_json
from ..instance import Instance
from ..online.profile import compose_step_us, load_profile
from ..online.result import SimResult
from .metrics import latency_summary

__all__ = ["Measured", "load_measured", "validate", "decode_recost", "measured_dir", "METRICS", "run_settings"]

#: (key, label) of the compared metrics.
METRICS = (
    *((f"{stat}_{key}_s", f"{label} {stat} (s)")
      for key, label in (("ttft", "TTFT"), ("latency", "E2E latency"), ("tpot", "TPOT"))
      for stat in ("mean", "p50", "p90", "p99")),
    ("makespan_s", "makespan (s)"),
)


@dataclass(frozen=True)
class Measured:
    """The measured run: the instance to replay and the measured figures."""

    instance: Instance
    ttft_s: np.ndarray
    latency_s: np.ndarray
    makespan_s: float
    path: str
    tpot_s: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def summary(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for key, x in (("ttft", self.ttft_s), ("latency", self.latency_s), ("tpot", self.tpot_s)):
            out[f"mean_{key}_s"] = float(x.mean()) if x.size else 0.0
            for q in (50, 90, 99):
                out[f"p{q}_{key}_s"] = float(np.percentile(x, q)) if x.size else 0.0
        out["makespan_s"] = self.makespan_s
        return out


def measured_dir(gpu: str = "RTX4090") -> Path:
    """``<shared data>/llmservingsim_llama31_8b/<gpu>`` (raises if the shared data is absent)."""
    from ..traces import shared_data_dir

    data = shared_data_dir()
    if data is None:
        raise LpschedInputError("../shared/data not found (set LPSCHED_DATA)")
    return data / "llmservingsim_llama31_8b" / gpu


def load_measured(path: str | Path | None = None, M: int = 41_408) -> Measured:
    """Read a measured ``requests.jsonl`` (default: the RTX 4090 run in the shared data)."""
    p = Path(path) if path is not None else measured_dir() / "vllm_measured" / "requests.jsonl"
    rows = []
    try:
        with p.open() as fh:
            for line_no, text in enumerate(fh, start=1):
                if not text.strip():
                    continue
                try:
                    r = parse_json(text, f"{p}:{line_no}", LpschedInputError)
                    rows.append((str(r["request_id"]), int(r["input_toks"]), int(r["output_toks"]),
                                 float(r["queued_ts"]), float(r["first_token_ts"]), float(r["last_token_ts"])))
                except (KeyError, TypeError, ValueError) as exc:
                    raise LpschedInputError(f"{p}:{line_no}: malformed row ({exc})") from None
    except OSError as exc:
        raise LpschedInputError(f"{p}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise LpschedInputError(f"{p}: not UTF-8 text") from None
    if not rows:
        raise LpschedInputError(f"{p}: no requests")
    ids, prompt, output, q, first, last = (list(c) for c in zip(*rows, strict=True))
    qa = np.array(q)
    t0 = qa.min()
    inst = Instance.from_arrays(
        M=M, prompt=prompt, output=output, arrival=np.zeros(len(ids), dtype=np.int64),
        arrival_time=qa - t0, ids=ids, name=f"measured-{p.parent.parent.name}",
        meta={"source": str(p), "arrivals": "queued_ts - min(queued_ts)"},
    )
    o = np.array(output)
    fa, la = np.array(first), np.array(last)
    tpot = ((la - fa) / np.maximum(o - 1, 1))[o > 1]
    return Measured(inst, fa - qa, la - qa, float(max(last) - t0), str(p), tpot)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LpschedInputError(f"{path}: cannot read ({exc})") from None
    d = parse_json(text, str(path), LpschedInputError)
    if not isinstance(d, dict):
        raise LpschedInputError(f"{path}: expected a JSON object")
    return d


def run_settings(requests_path: str | Path) -> dict[str, Any]:
    """The deployment of a measured run from the config files next to its ``requests.jsonl``:
    ``meta.json`` (vLLM's ``engine_kwargs``, ``kv_cache`` and ``hardware``) and, for the GPU memory
    only when ``meta.json`` has none, ``llmservingsim_cluster_config.json`` (``npu_mem.mem_size`` in
    GB). Keys present only when found: ``model``, ``max_num_seqs``, ``max_num_batched_tokens``,
    ``block_size``, ``num_gpu_blocks``, ``gpu_memory_utilization``, ``gpu_memory_bytes``, and
    ``sources`` (which file gave what)."""
    folder = Path(requests_path).parent
    out: dict[str, Any] = {"sources": {}}

    def put(key: str, value: Any, src: str) -> None:
        if value is not None and key not in out:
            out[key] = value
            out["sources"][key] = src

    meta_path = folder / "meta.json"
    if meta_path.exists():
        meta = _read_json(meta_path)
        kw = meta.get("engine_kwargs") or {}
        kv = meta.get("kv_cache") or {}
        hw = meta.get("hardware") or {}
        src = str(meta_path)
        put("model", meta.get("model") or kw.get("model"), src)
        put("max_num_seqs", kw.get("max_num_seqs"), src)
        put("max_num_batched_tokens", kw.get("max_num_batched_tokens"), src)
        put("block_size", kv.get("block_size"), src)
        put("num_gpu_blocks", kv.get("num_gpu_blocks"), src)
        put("gpu_memory_utilization", kv.get("gpu_memory_utilization"), src)
        put("gpu_memory_bytes", hw.get("device_total_memory_bytes"), src)
    cluster = folder / "llmservingsim_cluster_config.json"
    if cluster.exists() and "gpu_memory_bytes" not in out:
        c = _read_json(cluster)
        try:
            inst = c["nodes"][0]["instances"][0]
            put("gpu_memory_bytes", int(float(inst["npu_mem"]["mem_size"]) * 1e9), str(cluster))
        except (KeyError, IndexError, TypeError, ValueError):
            pass
    return out


def validate(measured: Measured | None = None, timing: Any = "llama31-8b-rtx4090",
             policy: str = "fcfs", **options: Any) -> dict[str, Any]:
    """Replay the measured requests and compare with the measurements.

    ``timing`` is a preset name, a kernel-profile folder or a timing model; ``options`` go to
    :func:`lpsched.online.simulate` (``engine="vllm"`` and its mechanisms, ``semantics``, …).
    Returns ``{"rows": [{metric, label, measured, simulated, error}], "summary": latency_summary,
    "result": SimResult}``; ``error`` is ``simulated / measured − 1`` (0 when both are 0).
    """
    from ..online import simulate

    m = measured if measured is not None else load_measured()
    res = simulate(m.instance, policy, timing=timing, **options)
    summ = latency_summary(res)
    meas = m.summary()
    rows = [{"metric": k, "label": label, "measured": meas[k], "simulated": summ[k],
             "error": summ[k] / meas[k] - 1.0 if meas[k] else 0.0} for k, label in METRICS]
    tname = getattr(timing, "name", timing)
    return {"rows": rows, "summary": summ, "result": res,
            "options": {"timing": str(tname), "policy": policy, **options}}


def _interp_attention_decode(att: np.ndarray, n: np.ndarray, kv: np.ndarray) -> np.ndarray:
    """Decode-only attention time (µs) at ``n`` sequences of mean KV ``kv``: bilinear in
    ``(log2 n, log2 kv)`` over the profiled grid (``prefill_chunk = 0``)."""
    rows = att[(att[:, 0] == 0) & (att[:, 2] > 0) & (att[:, 3] > 0)]
    ns = np.unique(rows[:, 2])
    kvs = np.unique(rows[:, 3])
    grid = np.full((ns.size, kvs.size), np.nan)
    for r in rows:
        grid[np.searchsorted(ns, r[2]), np.searchsorted(kvs, r[3])] = r[4]
    # fill holes along kv by interpolation in log2 kv (the RTX 4090 grid is not complete)
    lk = np.log2(kvs)
    for i in range(ns.size):
        ok = ~np.isnan(grid[i])
        grid[i] = np.interp(lk, lk[ok], grid[i, ok])
    ln = np.log2(ns)
    x = np.clip(np.log2(np.maximum(n, 1)), ln[0], ln[-1])
    y = np.clip(np.log2(np.maximum(kv, 1)), lk[0], lk[-1])
    out = np.empty(x.shape)
    for idx, (xi, yi) in enumerate(zip(x, y, strict=True)):
        col = np.array([np.interp(yi, lk, grid[i]) for i in range(ns.size)])
        out[idx] = np.interp(xi, ln, col)
    return out


def decode_recost(inst: Instance, res: SimResult, profile_dir: str | Path, timing_name: str) -> dict[str, float]:
    """Seconds of the decode-only rounds of ``res`` under the linear preset and under the full
    profile composition (needs ``record_history=True``).

    A round is decode-only when no job starts at the decision time before it. Under the composition
    a decode round with ``N`` sequences holding ``K`` tokens costs the composed step at ``T = S = N``
    and attention at ``(N, K/N)`` (interpolated over the profiled grid).
    """
    from ..online.timing import get_timing

    if res.history is None:
        raise ValueError("decode_recost needs a result simulated with record_history=True")
    tm = get_timing(timing_name)
    horizon = res.makespan + 2
    N = np.zeros(horizon, dtype=np.int64)
    K = np.zeros(horizon, dtype=np.int64)
    starts = np.zeros(horizon, dtype=np.int64)
    prompt = inst.prompt
    for run in res.history:
        if run.length <= 0:
            starts[run.start] += 1
            continue
        b = int(prompt[run.job]) + run.kept
        lo, hi = run.start + 1, run.start + run.length
        N[lo:hi + 1] += 1
        K[lo:hi + 1] += b - run.start
        K[lo:hi + 1] += np.arange(lo, hi + 1)
        starts[run.start] += 1
    rounds = np.arange(1, res.makespan + 1)
    dec = rounds[(starts[rounds - 1] == 0) & (N[rounds] > 0)]
    n, k = N[dec], K[dec]
    linear = (tm.c0 + tm.c_decode * n + tm.c_kv * k).sum() / 1e9
    p = load_profile(profile_dir)
    att = _interp_attention_decode(p.attention, n.astype(float), k / n)
    zeros = np.zeros(n.shape)
    composed = compose_step_us(p, zeros, zeros, n.astype(float), k / n, att).sum() / 1e6
    return {"decode_rounds": int(dec.size), "linear_s": float(linear), "composed_s": float(composed),
            "mean_batch": float(n.mean()) if n.size else 0.0, "mean_kv_tokens": float(k.mean()) if k.size else 0.0}


def resolve_deployment(requests_path: str | Path, *, kv_tokens: int | None = None,
                       max_num_seqs: int | None = None, max_num_batched_tokens: int | None = None,
                       block_size: int | None = None, gpu_memory_bytes: int | None = None,
                       gpu_memory_utilization: float | None = None, model: str | None = None,
                       non_torch_bytes: int | None = None) -> dict[str, Any]:
    """The engine settings and KV capacity for replaying a measured run: what the caller gives,
    else the run's config files (:func:`run_settings`), else vLLM's defaults. KV tokens: the given
    ``kv_tokens``; else vLLM's own ``num_gpu_blocks`` from ``meta.json`` when no memory setting is
    given; else :func:`~lpsched.replay.kvcapacity.kv_capacity` of the deployment."""
    from .kvcapacity import Deployment, kv_capacity, model_shape

    if not Path(requests_path).is_file():
        raise LpschedInputError(f"{requests_path}: requests file not found")
    run = run_settings(requests_path)
    seqs = max_num_seqs if max_num_seqs is not None else int(run.get("max_num_seqs", 256))
    budget = max_num_batched_tokens if max_num_batched_tokens is not None else int(
        run.get("max_num_batched_tokens", 2048))
    bs = block_size if block_size is not None else int(run.get("block_size", 16))
    out: dict[str, Any] = {"max_num_seqs": seqs, "max_num_batched_tokens": budget, "block_size": bs,
                           "run_settings": run}
    memory_given = gpu_memory_bytes is not None or gpu_memory_utilization is not None or non_torch_bytes is not None
    if kv_tokens is not None:
        out.update(kv_tokens=int(kv_tokens), kv_source="given")
    elif "num_gpu_blocks" in run and not memory_given:
        out.update(kv_tokens=int(run["num_gpu_blocks"]) * bs,
                   kv_source="num_gpu_blocks in " + run["sources"]["num_gpu_blocks"])
    else:
        mem = gpu_memory_bytes if gpu_memory_bytes is not None else run.get("gpu_memory_bytes")
        if mem is None:
            raise LpschedInputError(f"{requests_path}: no KV size and no GPU memory in the run's config; "
                                    "give --kv-tokens or --gpu-memory-gb")
        name = model or run.get("model")
        if name is None:
            raise LpschedInputError(f"{requests_path}: the run's config names no model; give --model")
        util = gpu_memory_utilization if gpu_memory_utilization is not None else float(
            run.get("gpu_memory_utilization", 0.9))
        kw: dict[str, Any] = {} if non_torch_bytes is None else {"non_torch_bytes": int(non_torch_bytes)}
        cap = kv_capacity(Deployment(int(mem), model_shape(str(name)), util, bs, budget, seqs, **kw))
        out.update(kv_tokens=cap["tokens"], kv_source="kv_capacity formula", kv_capacity=cap)
    return out
