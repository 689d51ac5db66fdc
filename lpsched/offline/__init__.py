"""The hindsight side: the exact time-indexed IP (:func:`solve_hindsight`) and certified lower bounds.

OR-Tools is imported (via :mod:`.solve`) before PuLP, which is only imported lazily by the CBC
backend.
"""

from .bounds import lower_bounds, sum_output_bound, volume_rank_bound
from .progress import ProgressEvent
from .result import SolveResult
from .solve import solve_hindsight

__all__ = ["lower_bounds", "sum_output_bound", "volume_rank_bound", "solve_hindsight", "SolveResult", "ProgressEvent"]
