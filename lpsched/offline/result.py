"""The result object of :func:`~lpsched.offline.pipeline.solve_hindsight` (in the spirit of
``scipy.optimize.OptimizeResult``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["SolveResult", "STATUSES"]

STATUSES = ("OPTIMAL", "FEASIBLE", "INFEASIBLE", "UNKNOWN")


@dataclass
class SolveResult:
    """Outcome of a hindsight solve.

    Attributes
    ----------
    status : str
        ``OPTIMAL`` (proved: solver proof, or bound equal to the value), ``FEASIBLE`` (a verified
        schedule without proof), ``INFEASIBLE`` or ``UNKNOWN``.
    objective : int or None
        TEL of the returned schedule.
    bound : int or None
        Best proven lower bound on the optimal TEL (solver bound or certified bound, the larger).
    gap : float or None
        ``(objective − bound) / objective``.
    starts : dict
        Job id -> start round of the returned schedule (verified).
    seconds : float
        Wall time of the whole solve.
    backend : str
    n_variables, n_constraints : int
        Size of the model handed to the solver.
    horizon : int
        Last round of the model (provably valid, docs/model.md §6).
    incumbent : str
        The *name* of the returned schedule's source (``solver``, a heuristic's name, ``…+ls``),
        not a value: the schedule's value is ``objective`` (the same name in
        :class:`~lpsched.offline.primal.large.LargeSearchResult`; the pipeline's state calls it
        ``source``).
    info : dict
        Further details (heuristic TELs, bound names, solver status text).
    """

    status: str
    objective: int | None
    bound: int | None
    gap: float | None
    starts: dict[str, int]
    seconds: float
    backend: str
    n_variables: int = 0
    n_constraints: int = 0
    horizon: int = 0
    incumbent: str = ""
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def proven_optimal(self) -> bool:
        """True when the status carries an optimality proof."""
        return self.status == "OPTIMAL"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with the stable keys ``status, objective, bound, gap, starts, seconds,
        backend`` and the model size, horizon, incumbent and info."""
        return {
            "status": self.status, "objective": self.objective, "bound": self.bound,
            "gap": self.gap, "starts": dict(self.starts), "seconds": self.seconds,
            "backend": self.backend, "n_variables": self.n_variables,
            "n_constraints": self.n_constraints, "horizon": self.horizon,
            "incumbent": self.incumbent, "info": self.info,
        }

    def __repr__(self) -> str:
        return (f"SolveResult(status={self.status}, objective={self.objective}, bound={self.bound}, "
                f"gap={self.gap}, seconds={self.seconds:.2f}, backend={self.backend})")
