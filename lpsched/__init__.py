"""lpsched: scheduling LLM inference under KV-cache memory limits.

Public API (see docs/): instances and their files (``load_instance``, ``save_instance``), the
independent verifier (``verify_schedule``, ``verify_runs``), the seeded generators (``jaillet``,
``paper``, ``trace_sample``) and the certified lower bounds (``lower_bounds``). The KV-memory model
is :mod:`lpsched.memory`.
"""

from .baseline import serial_schedule
from .errors import InstanceError, LpschedInputError, OptionError, ScheduleError
from .generate import jaillet, paper, trace_sample
from .instance import Instance, Job, instance_from_dict, load_instance, save_instance
from .offline.bounds.report import lower_bounds
from .verify import (
    Run,
    VerifyResult,
    load_schedule,
    save_schedule,
    verify_runs,
    verify_schedule,
)

__version__ = "0.1.0"

__all__ = [
    "Instance",
    "Job",
    "InstanceError",
    "LpschedInputError",
    "OptionError",
    "ScheduleError",
    "Run",
    "VerifyResult",
    "instance_from_dict",
    "load_instance",
    "save_instance",
    "load_schedule",
    "save_schedule",
    "verify_schedule",
    "verify_runs",
    "serial_schedule",
    "jaillet",
    "paper",
    "trace_sample",
    "lower_bounds",
    "__version__",
]
