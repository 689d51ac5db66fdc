"""Validation of the timed model against a measured vLLM run (LLMServingSim bundle, RTX 4090).

:func:`load_measured` reads ``requests.jsonl`` (300 requests served by vLLM 0.19 on one RTX 4090 with
a 41,408-token KV cache) into an :class:`~lpsched.instance.Instance` whose arrivals are the
server-side ``queued_ts`` (seconds after the first request was queued; within 0.2 s of the client's
``arrival_time``) and into the measured per-request TTFT and end-to-end latency
(``first_token_ts − queued_ts``, ``last_token_ts − queued_ts``) and makespan
(``max last_token_ts − min queued_ts``).

:func:`validate` replays the instance with FCFS (vLLM-like) on a timing preset and returns, per
metric (mean and p90 TTFT, mean and p90 end-to-end latency, makespan), the measured value, the
simulated value and the relative error. :func:`decode_recost` re-costs the simulated schedule's
decode-only rounds with the full kernel-profile composition instead of the linear fit, which
separates the error of the linear fit from the error of the scheduling model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import LpschedInputError
from ..fileio import parse_json
from ..instance import Instance
from ..online.result import SimResult
from .metrics import latency_summary
from .profile_fit import compose_step_us, load_profile

__all__ = ["Measured", "load_measured", "validate", "decode_recost", "measured_dir", "METRICS"]

#: (key, label) of the compared metrics.
METRICS = (
    ("mean_ttft_s", "TTFT mean (s)"),
    ("p90_ttft_s", "TTFT p90 (s)"),
    ("mean_latency_s", "E2E latency mean (s)"),
    ("p90_latency_s", "E2E latency p90 (s)"),
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

    def summary(self) -> dict[str, float]:
        return {
            "mean_ttft_s": float(self.ttft_s.mean()), "p90_ttft_s": float(np.percentile(self.ttft_s, 90)),
            "mean_latency_s": float(self.latency_s.mean()),
            "p90_latency_s": float(np.percentile(self.latency_s, 90)), "makespan_s": self.makespan_s,
        }


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
    return Measured(inst, np.array(first) - qa, np.array(last) - qa, float(max(last) - t0), str(p))


def validate(measured: Measured | None = None, timing: str = "llama31-8b-rtx4090",
             policy: str = "fcfs", **options: Any) -> dict[str, Any]:
    """Replay the measured requests and compare with the measurements.

    Returns ``{"rows": [{metric, label, measured, simulated, error}], "summary": latency_summary,
    "result": SimResult}``; ``error`` is ``simulated / measured − 1``.
    """
    from ..online import simulate

    m = measured if measured is not None else load_measured()
    res = simulate(m.instance, policy, timing=timing, **options)
    summ = latency_summary(res)
    meas = m.summary()
    rows = [{"metric": k, "label": label, "measured": meas[k], "simulated": summ[k],
             "error": summ[k] / meas[k] - 1.0} for k, label in METRICS]
    return {"rows": rows, "summary": summ, "result": res, "options": {"timing": timing, "policy": policy, **options}}


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
