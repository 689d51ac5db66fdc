"""Batch-time models for the timed model of docs/model.md §2, in exact integer nanoseconds.

A round that follows decision time ``t`` lasts
``d = c0 + c_prefill·P + c_decode·N + c_kv·K`` where ``P`` is the prefill tokens of the jobs started
at ``t`` (``s_i`` for a fresh start or a restart, ``s_i + g_i`` for a resume), ``N`` the jobs in the
batch and ``K`` the KV tokens they hold in that round. Coefficients are integers in nanoseconds so
that the per-round and the event-driven engines add up exactly the same clock.

Presets (BACKGROUND.md): ``llama2-70b-a100`` decode ≈ 43.5 + 0.41·batch ms; ``llama31-8b-h100``
step ≈ 5.75 + 0.01725·prefill_tokens + 0.006·decode_requests ms; ``llama31-8b-rtx4090``
≈ 15.73 + 0.07382·prefill + 0.04449·batch + 0.000289·KV ms, fitted by least squares to the vLLM 0.19
kernel profile of Llama-3.1-8B on an RTX 4090 (``llmservingsim_llama31_8b/RTX4090/profile_bf16_tp1``;
:func:`lpsched.replay.profile_fit.fit_profile`, reproduced by ``lpsched fit-profile``; the test
``tests/test_replay.py`` re-fits and checks these integers); ``unit``: every round lasts 1 s,
so seconds and rounds coincide. A kernel-profile folder instead of a preset name gives the
composed step-time model :class:`~lpsched.online.profile.ProfileTiming` (same interface).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import OptionError
from .profile import ProfileTiming, load_profile

__all__ = ["TimingModel", "TIMING_PRESETS", "get_timing", "profile_timing", "ProfileTiming"]


@dataclass(frozen=True)
class TimingModel:
    """Round duration ``c0 + c_prefill·P + c_decode·N + c_kv·K`` (all in integer nanoseconds)."""

    name: str
    c0: int
    c_prefill: int = 0
    c_decode: int = 0
    c_kv: int = 0

    def __post_init__(self) -> None:
        for f in ("c0", "c_prefill", "c_decode", "c_kv"):
            v = getattr(self, f)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise OptionError(f"timing model '{self.name}': {f} must be an integer >= 0 (ns), got {v!r}")
        if self.c0 <= 0:
            raise OptionError(f"timing model '{self.name}': c0 must be > 0 so that time advances")

    @classmethod
    def from_ms(cls, name: str, c0: float, c_prefill: float = 0.0, c_decode: float = 0.0,
                c_kv: float = 0.0) -> TimingModel:
        """Build from coefficients in milliseconds (rounded to whole nanoseconds)."""
        return cls(name, round(c0 * 1e6), round(c_prefill * 1e6), round(c_decode * 1e6), round(c_kv * 1e6))

    def duration(self, prefill: int, batch: int, kv: int) -> int:
        """Nanoseconds of one round."""
        return self.c0 + self.c_prefill * prefill + self.c_decode * batch + self.c_kv * kv

    def span(self, prefill: int, batch: int, kv: int, rounds: int) -> int:
        """Nanoseconds of ``rounds >= 1`` consecutive rounds of a fixed batch of ``batch`` jobs whose
        first round holds ``kv`` tokens and prefills ``prefill`` (memory grows by ``batch`` a round)."""
        steady = self.c0 + self.c_decode * batch + self.c_kv * kv
        r = rounds - 1
        return self.duration(prefill, batch, kv) + r * steady + self.c_kv * batch * r * (r + 1) // 2

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "c0_ns": self.c0, "c_prefill_ns": self.c_prefill,
                "c_decode_ns": self.c_decode, "c_kv_ns": self.c_kv}


TIMING_PRESETS: dict[str, TimingModel] = {
    "unit": TimingModel("unit", 1_000_000_000),
    "llama2-70b-a100": TimingModel.from_ms("llama2-70b-a100", 43.5, c_decode=0.41),
    "llama31-8b-h100": TimingModel.from_ms("llama31-8b-h100", 5.75, c_prefill=0.01725, c_decode=0.006),
    # fit_profile(".../RTX4090/profile_bf16_tp1", kv_tokens=41_408), rounded to whole nanoseconds
    "llama31-8b-rtx4090": TimingModel("llama31-8b-rtx4090", c0=15_728_734, c_prefill=73_825,
                                      c_decode=44_490, c_kv=289),
}


@lru_cache(maxsize=8)
def profile_timing(folder: str) -> ProfileTiming:
    """The step-time model composed from the kernel profile in ``folder`` (built once per folder)."""
    return ProfileTiming(load_profile(folder))


def get_timing(spec: str | TimingModel | ProfileTiming) -> TimingModel | ProfileTiming:
    """A preset by name, a kernel-profile folder (:class:`ProfileTiming`), or the model itself."""
    if isinstance(spec, TimingModel | ProfileTiming):
        return spec
    if spec in TIMING_PRESETS:
        return TIMING_PRESETS[spec]
    if Path(spec).is_dir():
        return profile_timing(str(Path(spec).resolve()))
    raise OptionError(f"unknown timing model '{spec}' (known: {', '.join(TIMING_PRESETS)}, or a kernel-profile "
                      "folder)")
