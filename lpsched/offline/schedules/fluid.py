"""Fluid-paced schedules: list schedules released at the pace of a full-memory fluid schedule
(:func:`fluid_schedules`), and :func:`tuned_fluid_schedule`, whose pace varies along the schedule,
tuned by coordinate descent."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from ...instance import Instance
from ..formulation.objective import tel_of
from .placement import list_schedule

__all__ = ["fluid_schedules", "fluid_grid", "tuned_fluid_schedule"]


def _fluid_plan(instance: Instance) -> tuple[np.ndarray, np.ndarray]:
    """Jobs in ascending volume (ties: arrival, index) and the running sum ``V_j`` of their volumes."""
    s, o = instance.prompt, instance.output
    vol = s * o + o * (o + 1) // 2
    order = np.lexsort((np.arange(instance.n), instance.arrival, vol))
    return order, np.cumsum(vol[order])


def _fluid_release_schedule(instance: Instance, order: np.ndarray, V: np.ndarray, theta: np.ndarray | float,
                            beta: np.ndarray | float) -> np.ndarray:
    """The list schedule of ``order`` with the ``j``-th job released at ``θ_j·V_j/M − β_j·o_j``."""
    rel = np.zeros(instance.n, dtype=np.int64)
    rel[order] = np.maximum(0, np.floor(theta * V / instance.M - beta * instance.output[order])).astype(np.int64)
    return list_schedule(instance, order, release=rel)


def fluid_schedules(instance: Instance, thetas: Sequence[float] = (0.9, 0.95, 1.0, 1.03, 1.06, 1.1, 1.2),
                    offsets: Sequence[float] = (0.0, 0.5, 1.0)) -> dict[str, np.ndarray]:
    """Staggered list schedules that follow the fluid (volume) plan.

    Jobs in ascending volume; the ``j``-th may not start before ``θ·V_j/M − β·o_j`` (``V_j`` the
    sum of the ``j`` smallest volumes), then goes to its earliest fit. Greedy earliest-fit starts
    as many jobs as fit at once, so their peaks collide; the release dates spread the starts the
    way a fluid schedule at full memory would. One schedule per ``(θ, β)``, named ``fluid_θ_β``.
    """
    return {f"fluid_{th:g}_{off:g}": k for (th, off), k in fluid_grid(instance, thetas, offsets).items()}


def fluid_grid(instance: Instance, thetas: Sequence[float] = (0.9, 0.95, 1.0, 1.03, 1.06, 1.1, 1.2),
                offsets: Sequence[float] = (0.0, 0.5, 1.0)) -> dict[tuple[float, float], np.ndarray]:
    """The schedules of :func:`fluid_schedules`, keyed by ``(θ, β)``."""
    order, V = _fluid_plan(instance)
    return {(th, off): _fluid_release_schedule(instance, order, V, th, off) for th in thetas for off in offsets}


def tuned_fluid_schedule(
    instance: Instance,
    *,
    theta: float = 1.06,
    beta: float = 0.0,
    levels: Sequence[int] = (4, 7, 13),
    max_evals: int = 2000,
    seconds: float = 60.0,
) -> tuple[np.ndarray, dict[str, object]]:
    """A fluid-release schedule whose pace ``θ`` and offset ``β`` vary along the schedule, tuned by descent.

    :func:`fluid_schedules` releases the ``j``-th smallest-volume job at ``θ·V_j/M − β·o_j`` with
    one ``(θ, β)`` for the whole schedule. How much memory a schedule can keep busy changes along
    it (long runs free their whole peak at once and the memory refills one token per run and
    round), so one pace is too fast somewhere and too slow elsewhere: on paper s = 4, α = 1/32,
    n = 1000 the best single-pace schedule keeps 87–94 % of the memory busy. Here ``θ_j`` and
    ``β_j`` are piecewise-linear functions of the volume rank ``j/(n−1)`` with ``K`` equally
    spaced knots each; a coordinate descent moves each knot by ``±step`` (``β`` knots by
    ``±5·step``), keeps every move that lowers TEL, halves the step after a sweep without gain
    (from 0.04 down to 0.0025), and then refines to the next ``K`` of ``levels`` (the knots of
    ``K = 4, 7, 13`` are nested, so a refinement keeps the schedule). Deterministic for a given
    ``max_evals`` (list schedules evaluated); ``seconds`` is a safety cap that can end it earlier.

    Parameters
    ----------
    instance : Instance
    theta, beta : float
        Starting pace and offset (e.g. the best of :func:`fluid_schedules`).
    levels : sequence of int
        Numbers of knots, coarse to fine.
    max_evals : int
        Budget of list schedules.
    seconds : float
        Time cap.

    Returns
    -------
    (starts, info)
        A feasible schedule (by construction: a list schedule) and ``{"theta": knots, "beta":
        knots, "evals", "objective"}`` (``objective``: the schedule's TEL).
    """
    order, V = _fluid_plan(instance)
    q = np.arange(instance.n) / max(1, instance.n - 1)
    deadline = time.perf_counter() + seconds
    evals = 0

    def run(kt: np.ndarray, kb: np.ndarray) -> tuple[int, np.ndarray]:
        nonlocal evals
        evals += 1
        grid = np.linspace(0.0, 1.0, kt.size)
        st = _fluid_release_schedule(instance, order, V, np.interp(q, grid, kt), np.interp(q, grid, kb))
        return tel_of(instance, st), st

    def budget_left() -> bool:
        return evals < max_evals and time.perf_counter() < deadline

    K0 = max(1, int(levels[0])) if levels else 1
    kt, kb = np.full(K0, float(theta)), np.full(K0, float(beta))
    best_tel, best = run(kt, kb)
    for K in levels:
        K = max(1, int(K))
        if K != kt.size:
            old, new = np.linspace(0.0, 1.0, kt.size), np.linspace(0.0, 1.0, K)
            kt, kb = np.interp(new, old, kt), np.interp(new, old, kb)
        step = 0.04
        while step >= 0.0025 and budget_left():
            kt, kb, best_tel, best, improved = _knot_sweep(run, budget_left, kt, kb, step, best_tel, best)
            if not improved:
                step /= 2
    return best, {"theta": kt.tolist(), "beta": kb.tolist(), "evals": evals, "objective": best_tel}


def _knot_sweep(run: Callable[[np.ndarray, np.ndarray], tuple[int, np.ndarray]], budget_left: Callable[[], bool],
                kt: np.ndarray, kb: np.ndarray, step: float, best_tel: int,
                best: np.ndarray) -> tuple[np.ndarray, np.ndarray, int, np.ndarray, bool]:
    """One sweep of :func:`tuned_fluid_schedule`'s coordinate descent: each pace knot ``±step``,
    each offset knot ``±5·step``, keeping every move that lowers TEL (``run`` places the schedule
    of the knots)."""
    K = kt.size
    improved = False
    for i in range(2 * K):
        for d in (step, -step):
            if not budget_left():
                break
            t_, b_ = kt.copy(), kb.copy()
            if i < K:
                t_[i] = max(0.0, t_[i] + d)
            else:
                b_[i - K] = max(0.0, b_[i - K] + 5 * d)
            t, st = run(t_, b_)
            if t < best_tel:
                best_tel, best, kt, kb, improved = t, st, t_, b_, True
    return kt, kb, best_tel, best, improved
