"""One report of every certified lower bound on the hindsight-optimal TEL: :class:`BoundReport`.

:func:`lower_bounds` evaluates the closed-form bounds
(:mod:`~lpsched.offline.formulation.closed_form`, numpy only) and, on request, the LP bounds of
:mod:`.relaxation` (OR-Tools' GLOP). Every value is an integer ``B`` such that every feasible
schedule has ``TEL >= B`` (docs/model.md §6).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

from ...instance import Instance
from ..formulation.closed_form import CLOSED_FORM_BOUNDS
from ..formulation.horizon import earliest_shift
from .conflict import clique_bound

__all__ = ["BoundReport", "lower_bounds"]


@dataclass(frozen=True)
class BoundReport:
    """Certified lower bounds by name, and the tightest of them.

    Attributes
    ----------
    values : dict
        Bound name -> value, in the order they were computed (``sum_output``, ``volume_rank``,
        ``mean_busy``, ``clique`` (unless the conflict graph is too large), then ``lp_relaxation``
        and ``chain_lp`` when computed).
    bound : int
        The largest value (the certified bound).
    name : str
        The name of the largest (the first such name on ties).
    """

    values: dict[str, int] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return max(self.values, key=lambda k: self.values[k])

    @property
    def bound(self) -> int:
        return self.values[self.name]

    def __getitem__(self, key: str) -> int | str:
        """Deprecated (kept for one release): the keys of :meth:`to_dict` (``report["best_value"]``),
        the dict ``lower_bounds`` returned before it returned this object. Use :attr:`bound`,
        :attr:`name` and :attr:`values`."""
        _warn_dict_access()
        return self.to_dict()[key]

    def get(self, key: str, default: int | str | None = None) -> int | str | None:
        """Deprecated (kept for one release): :meth:`to_dict`'s ``get``, as :meth:`__getitem__`."""
        _warn_dict_access()
        return self.to_dict().get(key, default)

    def to_dict(self) -> dict[str, int | str]:
        """``{name: value, …, "best": name, "best_value": bound}`` (the JSON of ``lpsched bounds``)."""
        return {**self.values, "best": self.name, "best_value": self.bound}


def _warn_dict_access() -> None:
    warnings.warn("reading lower_bounds() as a dict is deprecated: use BoundReport.bound / .name / .values",
                  DeprecationWarning, stacklevel=3)


def lower_bounds(instance: Instance, lp: bool = False, lp_time_limit: float = 60.0) -> BoundReport:
    """Every certified bound, with the tightest as :attr:`BoundReport.bound` / :attr:`BoundReport.name`.

    Parameters
    ----------
    instance : Instance
    lp : bool
        Also solve the LP relaxation (:func:`~.relaxation.lp_relaxation_bound`) and, when at least
        two jobs peak above ``M/2``, the chain LP (:func:`~.relaxation.chain_lp_bound`); slower,
        and loads OR-Tools.
    lp_time_limit : float
        Seconds for GLOP.

    Returns
    -------
    BoundReport
        ``bound`` and ``name``: the tightest; ``values``: every bound by name; ``to_dict()`` gives
        bound name -> value, plus ``best`` and ``best_value`` (the JSON of ``lpsched bounds``).
        Reading the report itself as that dict is deprecated (:meth:`BoundReport.__getitem__`).

    Every bound is computed with time counted from the earliest arrival
    (:func:`~lpsched.offline.formulation.horizon.earliest_shift`: bounds do not change, arrays stay
    as long as the schedule, not as the clock).
    """
    instance, _ = earliest_shift(instance)
    values: dict[str, int] = {name: fn(instance) for name, fn in CLOSED_FORM_BOUNDS.items()}
    clique = clique_bound(instance)
    if clique is not None:
        values["clique"] = clique
    if lp:
        from .relaxation import chain_lp_bound, lp_relaxation_bound  # lazy: heavy (OR-Tools' GLOP), only with lp

        v = lp_relaxation_bound(instance, time_limit=lp_time_limit)
        if v is not None:
            values["lp_relaxation"] = v
        v = chain_lp_bound(instance, time_limit=lp_time_limit)
        if v is not None:
            values["chain_lp"] = v
    return BoundReport(values)
