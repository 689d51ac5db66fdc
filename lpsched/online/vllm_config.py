"""Settings, outcome and step timer of the vLLM step engine (:mod:`lpsched.online.vllm_engine`).

:class:`VllmConfig` holds the scheduler mechanisms (0 / False switches one off), :data:`VLLM_PRESET`
vLLM 0.19's defaults, :func:`vllm_config` builds a config from (CLI) options, :class:`VllmOutcome`
is what an engine run measured, :class:`StepTimer` asks either timing model for a step or a run of
decode steps, and :func:`check_requests` rejects requests the engine cannot serve.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import OptionError
from .profile import ProfileTiming
from .timing import TimingModel

__all__ = ["VllmConfig", "VLLM_PRESET", "VLLM_OPTIONS", "VllmOutcome", "StepTimer", "vllm_config", "check_requests"]


@dataclass(frozen=True)
class VllmConfig:
    """The scheduler mechanisms (module docstring); 0 / False switches a mechanism off."""

    block_size: int = 16
    max_num_seqs: int = 256
    max_num_batched_tokens: int = 2048
    watermark: float = 0.01
    reserve_full: bool = True
    prefix_cache: bool = True
    semantics: str = "resume"
    fast: bool = True

    def __post_init__(self) -> None:
        for f in ("block_size", "max_num_seqs", "max_num_batched_tokens"):
            v = getattr(self, f)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise OptionError(f"engine vllm: {f} must be an integer >= 0, got {v!r}")
        if self.block_size < 1:
            raise OptionError(f"engine vllm: block_size must be >= 1, got {self.block_size}")
        if not 0.0 <= self.watermark < 1.0:
            raise OptionError(f"engine vllm: watermark must be in [0, 1), got {self.watermark}")
        if self.semantics not in ("restart", "resume"):
            raise OptionError(f"engine vllm: unknown semantics '{self.semantics}' (known: restart, resume)")


#: vLLM 0.19's defaults (block 16, 256 sequences, 2,048 batched tokens, chunked prefill, watermark
#: 1 %, full-sequence admission check, prefix caching, recompute keeping generated tokens).
VLLM_PRESET = VllmConfig()

_INT_OPTS = ("block_size", "max_num_seqs", "max_num_batched_tokens")
_BOOL_OPTS = ("reserve_full", "prefix_cache", "fast")
VLLM_OPTIONS = (*_INT_OPTS, *_BOOL_OPTS, "watermark", "semantics")


def _as_bool(name: str, v: object) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        return v.lower() in ("1", "true", "yes", "on")
    raise OptionError(f"engine vllm: option {name} must be true or false, got {v!r}")


def vllm_config(**options: object) -> VllmConfig:
    """The preset with ``options`` (strings from the CLI are converted) replacing its fields."""
    kw: dict[str, object] = {}
    for k, v in options.items():
        if k in _INT_OPTS:
            try:
                kw[k] = int(v)  # type: ignore[call-overload]
            except (TypeError, ValueError):
                raise OptionError(f"engine vllm: option {k} must be an integer, got {v!r}") from None
        elif k in _BOOL_OPTS:
            kw[k] = _as_bool(k, v)
        elif k == "watermark":
            try:
                kw[k] = float(v)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                raise OptionError(f"engine vllm: option watermark must be a number, got {v!r}") from None
        elif k == "semantics":
            kw[k] = v
        else:
            raise OptionError(f"engine vllm: unknown option '{k}' (known: {', '.join(VLLM_OPTIONS)})")
    d = {f: getattr(VLLM_PRESET, f) for f in VllmConfig.__dataclass_fields__}
    d.update(kw)
    return VllmConfig(**d)  # type: ignore[arg-type]


@dataclass
class VllmOutcome:
    """What :func:`run_vllm` measured (times in ns, per request in input order)."""

    first_token_ns: list[int]
    completion_ns: list[int]
    completion_step: list[int]
    first_scheduled_step: list[int]
    steps: int
    preemptions: int
    preempt_count: list[int]
    recomputed_tokens: int
    cached_tokens: int
    wasted_tokens: int
    peak_blocks: int
    decode_steps: int
    mixed_steps: int
    busy_ns: int
    block_steps: int  # Σ over steps of the blocks in use
    join_step: list[int]
    step_log: list[tuple[int, int, int, int]] | None = field(default=None)  # (start ns, tokens, seqs, blocks)


class StepTimer:
    """Adapts either timing model to the engine's two questions."""

    def __init__(self, timing: TimingModel | ProfileTiming) -> None:
        self.t = timing
        self.profile = isinstance(timing, ProfileTiming)

    def step(self, chunks: list[tuple[int, int]], n_dec: int, kv_dec: int, kv_max: int, kv_held: int) -> int:
        if self.profile:
            return self.t.step_ns(chunks, n_dec, kv_dec, kv_max)  # type: ignore[union-attr]
        t = self.t
        P = sum(c for c, _ in chunks)
        return t.c0 + t.c_prefill * P + t.c_decode * (n_dec + len(chunks)) + t.c_kv * kv_held  # type: ignore[union-attr]

    def decode_run(self, n: int, kv0: int, kv_max0: int, rounds: int) -> list[int]:
        """Durations of ``rounds`` decode steps of ``n`` sequences whose context sums to ``kv0``
        (longest ``kv_max0``) in the first step, growing by one token each a step; KV held =
        context + n."""
        if self.profile:
            return self.t.decode_run_ns(n, kv0, kv_max0, rounds)  # type: ignore[union-attr]
        t = self.t
        c = t.c0 + t.c_decode * n + t.c_kv * (kv0 + n)  # type: ignore[union-attr]
        g = t.c_kv * n  # type: ignore[union-attr]
        return [c + g * s for s in range(rounds)]


def check_requests(prompt: list[int], output: list[int], kv_tokens: int, block_size: int) -> int:
    """Total blocks of the cache; raises if a request cannot be served at all."""
    total_blocks = kv_tokens // block_size
    if total_blocks <= 0:
        raise OptionError(f"engine vllm: KV capacity {kv_tokens} tokens is less than one block of {block_size}")
    for j in range(len(prompt)):
        if prompt[j] < 1 or output[j] < 1:
            raise OptionError(f"engine vllm: request {j} has prompt {prompt[j]} and output {output[j]}; "
                              "both must be >= 1 token")
        if -(-(prompt[j] + output[j] - 1) // block_size) > total_blocks:
            raise OptionError(f"engine vllm: request {j} ({prompt[j]} + {output[j]} tokens) cannot fit in "
                              f"{total_blocks} blocks of {block_size} tokens")
    return total_blocks
