"""Online simulators (docs/model.md §2–4): the policy family on one exact KV-memory engine.

``simulate(instance, "amin")`` runs a policy looked up in :data:`POLICIES` and returns a verified
:class:`SimResult`. See docs/online.md.
"""

from . import family as _family  # noqa: F401  (registers the estimate family)
from . import fcfs as _fcfs  # noqa: F401  (registers FCFS)
from .base import POLICIES, Policy, make_policy, register_policy
from .engine import SimulationError
from .result import SimResult
from .simulate import simulate
from .timing import TIMING_PRESETS, TimingModel
from .view import InformationHidingError, PolicyView

__all__ = [
    "simulate", "SimResult", "POLICIES", "Policy", "make_policy", "register_policy",
    "SimulationError", "TimingModel", "TIMING_PRESETS", "PolicyView", "InformationHidingError",
]
