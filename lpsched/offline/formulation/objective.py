"""The objective of the hindsight problem: total end-to-end latency (TEL) of per-job starts."""

from __future__ import annotations

import numpy as np

from ...instance import Instance

__all__ = ["tel_of"]


def tel_of(instance: Instance, starts: np.ndarray) -> int:
    """TEL of per-job starts (``Σ k_i + o_i − a_i``, docs/model.md §6); feasibility is not checked
    (:func:`lpsched.verify.verify_schedule` does that)."""
    return int((np.asarray(starts) + instance.output - instance.arrival).sum())
