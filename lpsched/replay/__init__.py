"""Timed trace replay: batch-time models fitted to kernel profiles, latency reports per policy, and
the validation against a measured vLLM run (docs/replay.md, docs/validation.md)."""

from .metrics import format_table, latency_summary, replay
from .profile_fit import ProfileFit, compose_step_us, fit_profile, load_profile

__all__ = ["format_table", "latency_summary", "replay", "ProfileFit", "compose_step_us", "fit_profile",
           "load_profile"]
