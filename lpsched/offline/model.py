"""The time-indexed model of MODEL.md §6, in a backend-neutral sparse form.

Variables ``y_{c,k}``: how many jobs of class ``c`` start at ``k`` (``a_c <= k <= D_c − o_c``, with
``D_c`` the latest completion of :func:`~lpsched.offline.horizon.latest_completions`); a 0/1
variable when the class has one job, which is then exactly Jaillet et al.'s ``x_{i,k}``.

* objective ``Σ (k + o_c − a_c)·y_{c,k}``;
* assignment ``Σ_k y_{c,k} = n_c``;
* memory, every round ``τ = 1..T``: ``Σ shape_c[τ − k]·y_{c,k} <= M`` over ``k < τ <= k + o_c``.

With ``truncate=T`` the model is cut at completion ``T`` and every class gets a *late* variable
(jobs completing after ``latest_c``, at cost ``latest_c + 1 − a_c`` and no memory): a relaxation
valid for any ``T`` (every schedule maps into it at no higher cost), used for LP bounds only.

The backends (:mod:`~lpsched.offline.cpsat`, :mod:`~lpsched.offline.cbc`,
:mod:`~lpsched.offline.lp`) read this object; none of them rebuilds the memory arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..instance import Instance
from .classes import JobClasses, aggregate, run_shape
from .horizon import latest_completions

__all__ = ["TimeIndexedModel", "build_model", "restrict", "truncated_nonzeros"]


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
    rows : list of (round, var indices, coefficients)
        One memory constraint ``Σ coef·y <= M`` per round that some variable touches (round ``>= 1``),
        then the optional core rows (tagged with a negative round ``−1 − slot``).
    M : int
    horizon : int
        ``T``, the last round of the model.
    latest : int array
        Latest completion per class.
    late_cost : int array or None
        Only for a truncated model (a relaxation, LP only): per class, the cost of its late variable
        (``-1``: the class has none, its valid horizon is within the cut).
    """

    classes: JobClasses
    var_class: np.ndarray
    var_start: np.ndarray
    var_cost: np.ndarray
    var_ub: np.ndarray
    rows: list[tuple[int, np.ndarray, np.ndarray]]
    M: int
    horizon: int
    latest: np.ndarray
    late_cost: np.ndarray | None = None

    @property
    def n_variables(self) -> int:
        """Number of variables."""
        return int(self.var_class.size)

    @property
    def n_constraints(self) -> int:
        """Assignment rows plus memory rows."""
        return int(self.classes.n_classes + len(self.rows))

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
        (:func:`~lpsched.offline.cumulative.core_lengths`: for threshold ``P`` the last ``c_j`` slots
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
        for the LP only (:func:`~lpsched.offline.lp.solve_lp`); the integer backends refuse it.

    Returns
    -------
    TimeIndexedModel
    """
    classes: JobClasses = aggregate(instance, enabled=aggregate_classes)
    d_job = latest_completions(instance, ub if use_incumbent_horizon else None)
    nc = classes.n_classes
    latest = np.array([int(d_job[classes.members[c]].min()) for c in range(nc)], dtype=np.int64)
    late_cost = None
    if truncate is not None:
        cut = np.maximum(int(truncate), classes.arrival + classes.output)
        late_cost = np.where(cut < latest, cut + 1 - classes.arrival, -1).astype(np.int64)
        latest = np.minimum(latest, cut)
    vc, vs, cost, vub = [], [], [], []
    ent_tau, ent_var, ent_coef = [], [], []
    nv = 0
    for c in range(nc):
        a, s, o = int(classes.arrival[c]), int(classes.prompt[c]), int(classes.output[c])
        ks = np.arange(a, int(latest[c]) - o + 1, dtype=np.int64)
        m = ks.size
        idx = np.arange(nv, nv + m)
        vc.append(np.full(m, c, dtype=np.int64))
        vs.append(ks)
        cost.append(ks + o - a)
        vub.append(np.full(m, int(classes.count[c]), dtype=np.int64))
        sh = run_shape(s, o)
        r = np.arange(1, o + 1)
        ent_tau.append((ks[:, None] + r[None, :]).ravel())
        ent_var.append(np.repeat(idx, o))
        ent_coef.append(np.tile(sh, m))
        nv += m
    tau, var, coef = _cat(ent_tau), _cat(ent_var), _cat(ent_coef)
    order = np.argsort(tau, kind="stable")
    tau, var, coef = tau[order], var[order], coef[order]
    rows: list[tuple[int, np.ndarray, np.ndarray]] = []
    vub_all = _cat(vub)
    if tau.size:
        cuts = np.flatnonzero(np.diff(tau)) + 1
        for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, tau.size], strict=True):
            v, cf = var[lo:hi], coef[lo:hi]
            ub_all = vub_all[v]
            if int((cf * ub_all).sum()) <= instance.M:
                continue  # even every variable at its upper bound fits: the row is redundant
            rows.append((int(tau[lo]), v, cf))
    if core_rows > 0 and tau.size:
        from .cumulative import best_core_levels, core_lengths

        vcl, vst = _cat(vc), _cat(vs)
        for P in best_core_levels(instance, core_rows):
            cj = core_lengths(instance, P)
            # a class's jobs are interchangeable: all have the same core length
            cc = np.array([int(cj[classes.members[c][0]]) for c in range(nc)], dtype=np.int64)
            clen = cc[vcl]
            sel = np.flatnonzero(clen >= 1)
            if np.unique(vcl[sel]).size < 2 and int(vub_all[sel].max(initial=0)) < 2:
                continue
            o_v = classes.output[vcl[sel]]
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
                if int(vub_all[v].sum()) <= 1:
                    continue
                rows.append((-1 - int(t_all[lo]), v, np.full(v.size, instance.M, dtype=np.int64)))
    horizon = int(latest.max()) if nc else 0
    return TimeIndexedModel(
        classes=classes, var_class=_cat(vc), var_start=_cat(vs), var_cost=_cat(cost),
        var_ub=_cat(vub), rows=rows, M=instance.M, horizon=horizon, latest=latest, late_cost=late_cost,
    )


def truncated_nonzeros(instance: Instance, truncate: int) -> int:
    """Memory-row entries of ``build_model(instance, …, truncate=truncate)`` at most (one per class,
    start and round of its run), to refuse a model too large to build before building it."""
    if instance.n == 0:
        return 0
    keys = np.unique(np.stack([instance.arrival, instance.prompt, instance.output], axis=1), axis=0)
    a, o = keys[:, 0], keys[:, 2]
    return int((np.maximum(0, int(truncate) - a - o + 1) * o).sum())


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
    new_of = np.full(model.n_variables, -1, dtype=np.int64)
    new_of[old] = np.arange(old.size)
    rows = []
    for tau, v, cf in model.rows:
        m = keep[v]
        if not m.any():
            continue
        v2, cf2 = new_of[v[m]], cf[m]
        if int((cf2 * model.var_ub[v[m]]).sum()) <= model.M:
            continue
        rows.append((tau, v2, cf2))
    sub = TimeIndexedModel(
        classes=model.classes, var_class=model.var_class[old], var_start=model.var_start[old],
        var_cost=model.var_cost[old], var_ub=model.var_ub[old], rows=rows, M=model.M,
        horizon=model.horizon, latest=model.latest, late_cost=model.late_cost,
    )
    return sub, old
