"""The hindsight side: certified lower bounds (and, with the IP, the hindsight optimum)."""

from .bounds import lower_bounds, sum_output_bound, volume_rank_bound

__all__ = ["lower_bounds", "sum_output_bound", "volume_rank_bound"]
