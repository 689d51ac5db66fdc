"""Fit the linear batch-time model of docs/model.md §2 to an LLMServingSim kernel profile.

An LLMServingSim profile (``profile_bf16_tp1/``: ``dense.csv``, ``per_sequence.csv``,
``attention.csv``, ``meta.yaml``) gives per-layer GPU kernel times of vLLM for one decoder layer.
:func:`compose_step_us` composes the time of one engine step from them, the way LLMServingSim does
(checked against the figures in the data README: decode at kv = 512 with 1/64/256 sequences
16.8/24.8/45.7 ms, a 2,048-token prefill 193 ms on the RTX 4090):

    step = L·(2·layernorm(T) + qkv_proj(T) + rotary_emb(T) + o_proj(T) + gate_up_proj(T)
              + act_fn(T) + down_proj(T) + attention(chunk, kv_prefill, n_decode, kv_decode))
           + embedding(T) + final_layernorm(T) + lm_head(S) + sampler(S)

with ``T = chunk + n_decode`` tokens in the step, ``S = n_decode + [chunk > 0]`` sequences that
produce a token, ``L = 32`` decoder layers (Llama-3.1-8B); dense and per-sequence tables are
interpolated linearly in ``T`` and ``S``; attention is taken at the profiled grid point itself.

:func:`fit_profile` evaluates the composition at every profiled attention grid point that a vLLM
step of this deployment can reach (``T ≤ max_num_batched_tokens``, ``S ≤ max_num_seqs``, KV held
``≤ kv_tokens``) and fits ``d = c0 + c_prefill·P + c_decode·N + c_kv·K`` by non-negative weighted
least squares on *relative* residuals (each row divided by its composed time, so 10 ms decode steps
count as much as 400 ms prefill steps), the three regimes (decode only, prefill only, mixed) given
equal total weight (the profile grid holds 71 decode-only points against 5,565 mixed ones on the
RTX 4090; unweighted, the quadratic prefill-attention cost inflates ``c_kv`` and decode steps come
out up to 30 % too slow), where ``P`` = prefill tokens, ``N`` = sequences in the batch and
``K`` = KV tokens held in the step (``n_decode·(kv_decode + 1) + kv_prefill + chunk``).
It uses the profile only, never measured latencies.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..online.profile import PER_LAYER_OPS, Profile, compose_step_us, load_profile
from ..online.timing import TimingModel

__all__ = ["Profile", "ProfileFit", "load_profile", "compose_step_us", "fit_profile", "PER_LAYER_OPS"]

@dataclass(frozen=True)
class ProfileFit:
    """Coefficients (ms) of ``c0 + c_prefill·P + c_decode·N + c_kv·K`` and the fit's quality."""

    c0_ms: float
    c_prefill_ms: float
    c_decode_ms: float
    c_kv_ms: float
    points: int
    r2: float
    median_rel_error: float
    p90_rel_error: float
    max_rel_error: float
    source: str
    median_rel_error_by_regime: dict[str, float]

    def timing(self, name: str) -> TimingModel:
        """The fitted model as a :class:`TimingModel` (integer nanoseconds)."""
        return TimingModel.from_ms(name, self.c0_ms, self.c_prefill_ms, self.c_decode_ms, self.c_kv_ms)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def fit_profile(folder: str | Path, *, kv_tokens: int = 41_408, max_batched_tokens: int = 2048,
                max_seqs: int = 256, layers: int = 32) -> ProfileFit:
    """Least-squares fit of the linear batch-time model to the composed profile (module docstring)."""
    from scipy.optimize import nnls

    p = load_profile(folder, layers)
    a = p.attention
    chunk, kvp, nd, kvd, t_att = (a[:, i] for i in range(5))
    K = nd * (kvd + 1) + kvp + chunk
    N = nd + (chunk > 0)
    keep = (chunk + nd <= max_batched_tokens) & (N <= max_seqs) & (K <= kv_tokens) & (N >= 1)
    chunk, kvp, nd, kvd, t_att, K, N = (v[keep] for v in (chunk, kvp, nd, kvd, t_att, K, N))
    y = compose_step_us(p, chunk, kvp, nd, kvd, t_att) / 1000.0  # ms
    regime = np.where(chunk == 0, 0, np.where(nd == 0, 1, 2))
    sizes = np.bincount(regime, minlength=3)
    sw = np.sqrt(1.0 / sizes[regime])
    X = np.column_stack([np.ones_like(y), chunk, N, K])
    coef, _ = nnls(X * (sw / y)[:, None], sw)
    pred = X @ coef
    rel = np.abs(pred - y) / y
    by_regime = {name: float(np.median(rel[regime == r])) if sizes[r] else float("nan")
                 for r, name in enumerate(("decode", "prefill", "mixed"))}
    r2 = 1.0 - float(((pred - y) ** 2).sum() / ((y - y.mean()) ** 2).sum())
    return ProfileFit(
        c0_ms=float(coef[0]), c_prefill_ms=float(coef[1]), c_decode_ms=float(coef[2]), c_kv_ms=float(coef[3]),
        points=int(y.size), r2=r2, median_rel_error=float(np.median(rel)),
        p90_rel_error=float(np.quantile(rel, 0.9)), max_rel_error=float(rel.max()),
        median_rel_error_by_regime=by_regime,
        source=(f"{Path(folder)} ({p.meta.get('gpu', '?')}, {p.meta.get('model', '?')}, "
                f"vLLM {p.meta.get('vllm_version', '?')})"),
    )
