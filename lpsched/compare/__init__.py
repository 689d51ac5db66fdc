"""The comparator: empirical competitive ratios against the theory, sweeps, reports and plots.

* :mod:`.spec` – TOML sweep specifications and their cells;
* :mod:`.cell` – running one cell (instance, optimum or bounds, every policy, the three ratios);
* :mod:`.sweep` – running a sweep on processes or Dask, resumable, into :mod:`.store` (SQLite);
* :mod:`.theory` – the theoretical curves and the growth fit;
* :mod:`.report`, :mod:`.plots` – Markdown tables and matplotlib figures from a database.
"""

from .cell import ratios, run_cell
from .spec import Cell, PolicyRun, SweepSpec, expand_cells, load_spec, spec_from_dict
from .sweep import SweepSummary, run_sweep
from .theory import amax_lower, amax_upper, amin_log_curve, fit_growth, svf_bound

__all__ = [
    "Cell", "PolicyRun", "SweepSpec", "SweepSummary", "expand_cells", "load_spec", "spec_from_dict",
    "run_cell", "run_sweep", "ratios", "amax_lower", "amax_upper", "amin_log_curve", "fit_growth", "svf_bound",
]
