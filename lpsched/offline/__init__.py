"""The hindsight side: the exact hindsight optimum (:func:`solve_hindsight`) and certified lower
bounds (:func:`lower_bounds`).

Layers, bottom to top (docs/architecture.md): :mod:`.formulation` (job classes, closed-form bounds,
horizons, the time-indexed and interval models, compact rows), :mod:`.schedules` (solver-free
heuristic schedules and searches), :mod:`.bounds` (LP and chain LP bounds, :class:`BoundReport`)
and :mod:`.backends` (CP-SAT, HiGHS, CBC, the portfolio), :mod:`.primal` (LP rounding, window
search, the large-instance search), then :mod:`.pipeline` with :mod:`.state`, :mod:`.params`,
:mod:`.progress`, :mod:`.result` and :mod:`.export`.

Importing this package does not import OR-Tools: the closed-form bounds need numpy only, and
:func:`solve_hindsight` (:mod:`.pipeline`) is loaded on first use (PEP 562).
"""

from typing import TYPE_CHECKING, Any

from .bounds.report import BoundReport, lower_bounds
from .formulation.closed_form import sum_output_bound, volume_rank_bound
from .params import SolverParams
from .progress import ProgressEvent
from .result import SolveResult

if TYPE_CHECKING:
    from .pipeline import solve_hindsight

__all__ = ["lower_bounds", "BoundReport", "sum_output_bound", "volume_rank_bound", "solve_hindsight",
           "SolverParams", "SolveResult", "ProgressEvent"]


def __getattr__(name: str) -> Any:
    if name == "solve_hindsight":
        from .pipeline import solve_hindsight  # lazy: heavy (OR-Tools), so that `import lpsched` stays light

        return solve_hindsight
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
