"""Timed trace replay: batch-time models fitted to kernel profiles, latency reports per policy, the
KV capacity of a vLLM deployment, and the validation against measured vLLM runs (docs/replay.md,
docs/validation.md)."""

from .metrics import format_table, latency_summary, replay
from .profile_fit import ProfileFit, compose_step_us, fit_profile, load_profile

__all__ = ["format_table", "latency_summary", "replay", "ProfileFit", "compose_step_us", "fit_profile",
           "load_profile"]
