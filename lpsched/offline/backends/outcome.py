"""What a backend hands back to :func:`~lpsched.offline.pipeline.solve_hindsight`."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["BackendOutcome", "StopSignal", "require_exact_model"]


@dataclass
class BackendOutcome:
    """Raw outcome of one backend run.

    Attributes
    ----------
    proven_optimal : bool
        The solver reported an optimality proof for ``values``.
    infeasible : bool
        The solver proved the model infeasible.
    values : dict or None
        Variable index -> value (non-zero only) of the best solution of a time-indexed model, or
        ``None``; the pipeline turns it into starts
        (:func:`~lpsched.offline.formulation.model.starts_of_values`).
    bound : float or None
        The solver's best proven lower bound on the model's objective, if it reports one.
    status : str
        The solver's own status name.
    info : dict
        Solver statistics.
    starts : int array or None
        Per-job starts (instance order) of the best solution, from a backend whose variables are
        the starts (the interval model); ``None`` otherwise.
    """

    proven_optimal: bool
    infeasible: bool
    values: dict[int, int] | None
    bound: float | None
    status: str
    info: dict[str, Any] = field(default_factory=dict)
    starts: np.ndarray | None = None


def require_exact_model(model: Any) -> None:
    """Refuse a truncated (relaxed) time-indexed model: its late variables are not schedules.

    Raises
    ------
    ValueError
        If ``model.late_cost`` is set (``build_model(truncate=…)``; for LP bounds only).
    """
    if getattr(model, "late_cost", None) is not None:
        raise ValueError("a truncated time-indexed model is a relaxation for LP bounds, not for integer backends")


class StopSignal:
    """Asks running solvers to stop early (thread-safe): each backend registers how to interrupt
    itself (:meth:`on_stop`); :meth:`stop` sets the flag and calls every registered action (it may
    be called again, e.g. when a solver had not yet started its search the first time; the actions
    are idempotent). A solver that registers after :meth:`stop` is interrupted at once. An
    interrupted solver still reports its best solution and its proven bound."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._actions: list[Callable[[], None]] = []
        self._stopped = False

    @property
    def stopped(self) -> bool:
        return self._stopped

    def on_stop(self, action: Callable[[], None]) -> None:
        with self._lock:
            self._actions.append(action)
            if not self._stopped:
                return
        action()

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            actions = list(self._actions)
        for action in actions:
            action()
