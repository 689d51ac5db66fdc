"""The time-indexed model of docs/model.md §6, in a backend-neutral sparse form.

Variables ``y_{c,k}``: how many jobs of class ``c`` start at ``k`` (``a_c <= k <= D_c − o_c``, with
``D_c`` the latest completion of :func:`~lpsched.offline.formulation.horizon.latest_completions`); a 0/1
variable when the class has one job, which is then exactly Jaillet et al.'s ``x_{i,k}``.

* objective ``Σ (k + o_c − a_c)·y_{c,k}``;
* assignment ``Σ_k y_{c,k} = n_c``;
* memory, every round ``τ = 1..T``: ``Σ shape_c[τ − k]·y_{c,k} <= M`` over ``k < τ <= k + o_c``.

With ``truncate=T`` the model is cut at completion ``T`` and every class gets a *late* variable
(jobs completing after ``latest_c``, at cost ``latest_c + 1 − a_c`` and no memory): a relaxation
valid for any ``T`` (every schedule maps into it at no higher cost), used for LP bounds only.

The backends (:mod:`~lpsched.offline.backends.cpsat`, :mod:`~lpsched.offline.backends.cbc`,
:mod:`~lpsched.offline.bounds.lp`) read this object; none of them rebuilds the memory arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ...errors import OptionError
from ...instance import Instance
from .classes import JobClasses, aggregate, disaggregate, run_shape
from .cores import best_core_levels, core_lengths
from .horizon import latest_completions

__all__ = ["TimeIndexedModel", "build_model", "model_size", "restrict", "starts_of_values", "truncated_nonzeros",
           "ModelTooLargeError", "MAX_MODEL_VARIABLES"]

#: Start variables a model may have: beyond, its arrays (and any solver's copy of them) would not fit
#: a machine's memory (each variable costs its four int64 entries here, then a row entry per round
#: of its run in the memory rows). Checked before anything is allocated.
MAX_MODEL_VARIABLES = 50_000_000


class ModelTooLargeError(OptionError):
    """The time-indexed model of an instance is beyond :data:`MAX_MODEL_VARIABLES`."""


def _class_latest(instance: Instance, classes: JobClasses, ub: int | None) -> np.ndarray:
    d_job = latest_completions(instance, ub)
    return np.array([int(d_job[classes.members[c]].min()) for c in range(classes.n_classes)], dtype=np.int64)


def model_size(instance: Instance, ub: int | None, *, aggregate_classes: bool = True) -> tuple[int, int]:
    """``(n_variables, horizon)`` of ``build_model(instance, ub)``, computed without building it."""
    classes = aggregate(instance, enabled=aggregate_classes)
    if classes.n_classes == 0:
        return 0, 0
    latest = _class_latest(instance, classes, ub)
    span = np.maximum(latest - classes.output - classes.arrival + 1, 0)
    return int(span.astype(object).sum()), int(latest.max())


@dataclass(frozen=True)
class TimeIndexedModel:
    """The assembled model.

    Attributes
    ----------
    classes : JobClasses
    var_class, var_start, var_cost : int arrays, one entry per variable
        Class, start and objective coefficient of each variable.
    var_ub : int array
        Upper bound of each variable (its class size).
    M : int
    horizon : int
        ``T``, the last round of the model.
    latest : int array
        Latest completion per class.
    late_cost : int array or None
        Only for a truncated model (a relaxation, LP only): per class, the cost of its late variable
        (``-1``: the class has none, its valid horizon is within the cut).
    core_len : tuple of int arrays
        Per core level, each class's core length (:func:`~lpsched.offline.formulation.cores.core_lengths`).

    The constraint rows are derived from these on first use (:attr:`memory_rows`, :attr:`core_rows`,
    :attr:`rows`), so an LP-only user that never asks for them (the compact LP of
    :mod:`~lpsched.offline.bounds.lp`) never pays for the ``Σ o_c`` entries per start.
    """

    classes: JobClasses
    var_class: np.ndarray
    var_start: np.ndarray
    var_cost: np.ndarray
    var_ub: np.ndarray
    M: int
    horizon: int
    latest: np.ndarray
    late_cost: np.ndarray | None = None
    core_len: tuple[np.ndarray, ...] = ()

    @property
    def n_variables(self) -> int:
        """Number of variables."""
        return int(self.var_class.size)

    @property
    def n_constraints(self) -> int:
        """Assignment rows plus memory and core rows."""
        return int(self.classes.n_classes + len(self.rows))

    @cached_property
    def memory_rows(self) -> list[tuple[int, np.ndarray, np.ndarray]]:
        """One memory constraint ``Σ coef·y <= M`` per round ``τ >= 1`` that some variable touches, as
        ``(τ, variable indices, coefficients)``; rounds where even every variable at its upper bound
        fits are left out (redundant)."""
        return _memory_rows(self)

    @cached_property
    def core_rows(self) -> list[tuple[int, np.ndarray, np.ndarray]]:
        """The core no-overlap rows ``Σ M·y <= M`` (tagged with the negative round ``−1 − slot``)."""
        return _core_rows(self)

    @cached_property
    def rows(self) -> list[tuple[int, np.ndarray, np.ndarray]]:
        """Memory rows, then core rows: what the integer backends add."""
        return self.memory_rows + self.core_rows

    @cached_property
    def _vars_by_class(self) -> tuple[np.ndarray, ...]:
        order = np.argsort(self.var_class, kind="stable")
        cuts = np.searchsorted(self.var_class[order], np.arange(self.classes.n_classes + 1))
        return tuple(order[cuts[c]:cuts[c + 1]] for c in range(self.classes.n_classes))

    def class_vars(self, c: int) -> np.ndarray:
        """Indices of the variables of class ``c``, in ascending start (grouped once, then cached)."""
        return self._vars_by_class[c]


def _cat(xs: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(xs) if xs else np.zeros(0, dtype=np.int64)


def build_model(
    instance: Instance,
    ub: int | None,
    *,
    aggregate_classes: bool = True,
    use_incumbent_horizon: bool = True,
    core_rows: int = 0,
    truncate: int | None = None,
) -> TimeIndexedModel:
    """Assemble the time-indexed model.

    Parameters
    ----------
    instance : Instance
    ub : int or None
        TEL of a feasible schedule, for the incumbent horizon rule.
    aggregate_classes : bool
        Aggregate interchangeable jobs (``False``: one class per job).
    use_incumbent_horizon : bool
        Apply the incumbent rule as well as the idle rule (``False``: idle rule only).
    core_rows : int
        Add the core no-overlap rows of this many peak thresholds
        (:func:`~lpsched.offline.formulation.cores.core_lengths`: for threshold ``P`` the last ``c_j`` slots
        of the runs of the jobs with peak ``>= P`` are pairwise disjoint), as rows
        ``Σ M·y_{c,k} <= M`` over the starts whose core covers a slot (valid inequalities: they cut
        off no schedule, but strengthen the LP). Thresholds by :func:`best_core_levels`.
    truncate : int, optional
        Cut every class's latest completion at ``max(truncate, a_c + o_c)`` and add late variables
        (``late_cost``). Validity as a relaxation: a schedule's job of class ``c`` either completes
        by ``latest_c`` (a start variable of the model, same cost and memory) or after it (the late
        variable, whose cost ``latest_c + 1 − a_c`` is at most its latency, and whose memory is
        dropped, which only loosens the rows); so every schedule gives a feasible point of no
        higher cost, and the LP optimum is a lower bound for *any* ``truncate``. Such a model is
        for the LP only (:func:`~lpsched.offline.bounds.lp.solve_lp`); the integer backends refuse it.

    Returns
    -------
    TimeIndexedModel

    Raises
    ------
    ModelTooLargeError
        When the model would have more than :data:`MAX_MODEL_VARIABLES` start variables, before
        anything is allocated.
    """
    classes: JobClasses = aggregate(instance, enabled=aggregate_classes)
    nc = classes.n_classes
    latest = _class_latest(instance, classes, ub if use_incumbent_horizon else None)
    late_cost = None
    if truncate is not None:
        cut = np.maximum(int(truncate), classes.arrival + classes.output)
        late_cost = np.where(cut < latest, cut + 1 - classes.arrival, -1).astype(np.int64)
        latest = np.minimum(latest, cut)
    n_vars = int(np.maximum(latest - classes.output - classes.arrival + 1, 0).astype(object).sum()) if nc else 0
    if n_vars > MAX_MODEL_VARIABLES:
        raise ModelTooLargeError(
            f"the time-indexed model of this instance has {n_vars:,} start variables, more than the "
            f"{MAX_MODEL_VARIABLES:,} a machine's memory holds; use formulation 'auto' (its large-instance "
            "path builds no such model) or 'cumulative', or a smaller instance")
    vc, vs, cost, vub = [], [], [], []
    for c in range(nc):
        a, o = int(classes.arrival[c]), int(classes.output[c])
        ks = np.arange(a, int(latest[c]) - o + 1, dtype=np.int64)
        vc.append(np.full(ks.size, c, dtype=np.int64))
        vs.append(ks)
        cost.append(ks + o - a)
        vub.append(np.full(ks.size, int(classes.count[c]), dtype=np.int64))
    core_len: list[np.ndarray] = []
    if core_rows > 0 and nc:
        for P in best_core_levels(instance, core_rows):
            cj = core_lengths(instance, P)
            # a class's jobs are interchangeable: all have the same core length
            core_len.append(np.array([int(cj[classes.members[c][0]]) for c in range(nc)], dtype=np.int64))
    horizon = int(latest.max()) if nc else 0
    return TimeIndexedModel(
        classes=classes, var_class=_cat(vc), var_start=_cat(vs), var_cost=_cat(cost), var_ub=_cat(vub),
        M=instance.M, horizon=horizon, latest=latest, late_cost=late_cost, core_len=tuple(core_len),
    )


def _memory_rows(model: TimeIndexedModel) -> list[tuple[int, np.ndarray, np.ndarray]]:
    cl = model.classes
    ent_tau, ent_var, ent_coef = [], [], []
    for c in range(cl.n_classes):
        idx = model.class_vars(c)
        if idx.size == 0:
            continue
        o = int(cl.output[c])
        r = np.arange(1, o + 1)
        ent_tau.append((model.var_start[idx][:, None] + r[None, :]).ravel())
        ent_var.append(np.repeat(idx, o))
        ent_coef.append(np.tile(run_shape(int(cl.prompt[c]), o), idx.size))
    tau, var, coef = _cat(ent_tau), _cat(ent_var), _cat(ent_coef)
    order = np.argsort(tau, kind="stable")
    tau, var, coef = tau[order], var[order], coef[order]
    rows: list[tuple[int, np.ndarray, np.ndarray]] = []
    if tau.size:
        cuts = np.flatnonzero(np.diff(tau)) + 1
        for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, tau.size], strict=True):
            v, cf = var[lo:hi], coef[lo:hi]
            if int((cf * model.var_ub[v]).sum()) <= model.M:
                continue  # even every variable at its upper bound fits: the row is redundant
            rows.append((int(tau[lo]), v, cf))
    return rows


def _core_rows(model: TimeIndexedModel) -> list[tuple[int, np.ndarray, np.ndarray]]:
    rows: list[tuple[int, np.ndarray, np.ndarray]] = []
    vcl, vst, vub = model.var_class, model.var_start, model.var_ub
    for cc in model.core_len:
        clen = cc[vcl]
        sel = np.flatnonzero(clen >= 1)
        if np.unique(vcl[sel]).size < 2 and int(vub[sel].max(initial=0)) < 2:
            continue
        o_v = model.classes.output[vcl[sel]]
        ts, vs_ = [], []
        for off in range(int(clen[sel].max(initial=0))):
            ok = clen[sel] > off
            ts.append(vst[sel][ok] + o_v[ok] - 1 - off)  # slot covered by the core
            vs_.append(sel[ok])
        t_all, v_all = _cat(ts), _cat(vs_)
        order = np.argsort(t_all, kind="stable")
        t_all, v_all = t_all[order], v_all[order]
        cuts = np.flatnonzero(np.diff(t_all)) + 1
        for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, t_all.size], strict=True):
            v = v_all[lo:hi]
            if int(vub[v].sum()) <= 1:
                continue
            rows.append((-1 - int(t_all[lo]), v, np.full(v.size, model.M, dtype=np.int64)))
    return rows


def truncated_nonzeros(instance: Instance, truncate: int) -> int:
    """Matrix entries of the LP of ``build_model(instance, …, truncate=truncate)`` at most (the compact
    LP of :mod:`~lpsched.offline.bounds.lp`: five per start variable and five per round), to refuse a model
    too large to build before building it."""
    if instance.n == 0:
        return 0
    keys = np.unique(np.stack([instance.arrival, instance.prompt, instance.output], axis=1), axis=0)
    a, o = keys[:, 0], keys[:, 2]
    horizon = max(int(truncate), int((a + o).max()))
    return 5 * int(np.maximum(0, int(truncate) - a - o + 1).sum()) + 5 * horizon


def starts_of_values(model: TimeIndexedModel, values: dict[int, int]) -> np.ndarray:
    """Per-job starts (instance order) of a solution given as ``{variable index: count}`` (what the
    integer backends return): counts per class and start, disaggregated
    (:func:`~lpsched.offline.formulation.classes.disaggregate`; raises ``ValueError`` if a class does not get
    exactly its number of starts). Not verified here: callers verify."""
    counts = {(int(model.var_class[j]), int(model.var_start[j])): int(v) for j, v in values.items()}
    return disaggregate(model.classes, counts, int(model.classes.count.sum()))


def restrict(model: TimeIndexedModel, keep: np.ndarray) -> tuple[TimeIndexedModel, np.ndarray]:
    """The model with only the variables where ``keep`` is true (the others fixed to 0).

    Parameters
    ----------
    model : TimeIndexedModel
    keep : bool array, one entry per variable

    Returns
    -------
    (TimeIndexedModel, numpy.ndarray)
        The restricted model and, per new variable, its index in ``model``.
    """
    keep = np.asarray(keep, dtype=bool)
    old = np.flatnonzero(keep)
    sub = TimeIndexedModel(
        classes=model.classes, var_class=model.var_class[old], var_start=model.var_start[old],
        var_cost=model.var_cost[old], var_ub=model.var_ub[old], M=model.M, horizon=model.horizon,
        latest=model.latest, late_cost=model.late_cost, core_len=model.core_len,
    )
    return sub, old
