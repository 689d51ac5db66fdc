"""Earliest-fit placement of whole runs in a memory profile, and list schedules.

:func:`earliest_fit` finds the earliest start at which a run fits under ``M``; :func:`list_schedule`
places jobs in a given order, each at its earliest fit (optionally not before a per-job release,
e.g. an LP's start times, which keeps staggering). Memory profiles come from
:func:`lpsched.memory.memory_profile` and run shapes from
:func:`lpsched.offline.formulation.classes.run_shape`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ...instance import Instance
from ...memory import memory_profile
from ..formulation.classes import run_shape

__all__ = ["earliest_fit", "list_schedule", "place_earliest", "padded_profile", "priority_orders"]


def padded_profile(instance: Instance, starts: np.ndarray, size: int) -> np.ndarray:
    mem = memory_profile(instance.prompt, starts, instance.output, horizon=size - 1)
    out = np.zeros(size, dtype=np.int64)
    out[: mem.size] = mem[:size]
    return out


def _grow(mem: np.ndarray, need: int) -> np.ndarray:
    if need <= mem.size:
        return mem
    out = np.zeros(max(need, 2 * mem.size), dtype=np.int64)
    out[: mem.size] = mem
    return out


def _window_max(x: np.ndarray, w: int) -> np.ndarray:
    """``out[i] = max(x[i : i + w])`` for ``i = 0..len(x) − w`` (van Herk / Gil-Werman: block
    prefix and suffix maxima, O(len(x)) numpy work whatever ``w``)."""
    n = x.size
    pad = (-n) % w
    blocks = np.concatenate([x, np.full(pad, np.iinfo(np.int64).min, dtype=np.int64)]).reshape(-1, w)
    pre = np.maximum.accumulate(blocks, axis=1).ravel()
    suf = np.maximum.accumulate(blocks[:, ::-1], axis=1)[:, ::-1].ravel()
    m = n - w + 1
    return np.maximum(suf[:m], pre[w - 1 : w - 1 + m])


def earliest_fit(mem: np.ndarray, M: int, shape: np.ndarray, release: int, *, sliding_max: bool = True) -> int:
    """Earliest ``k >= release`` with ``mem[k + r] + shape[r - 1] <= M`` for ``r = 1..o``.

    Parameters
    ----------
    mem : int array
        Memory per round (index = round); rounds past its end hold 0.
    M : int
    shape : int array
        The run's memory in its rounds ``1..o`` (:func:`~lpsched.offline.formulation.classes.run_shape`).
    release : int
        Earliest allowed start.
    sliding_max : bool
        Use the sliding-maximum test for linear shapes (see Notes); ``False`` forces the direct
        window test (for comparisons: ``benchmarks/bench_heuristics.py``).

    Returns
    -------
    int
        The start (always exists: past the profile's end memory is empty and ``shape <= M``).

    Notes
    -----
    When the shape grows by one token per round (``shape[r − 1] = b + r``, the memory model of
    docs/model.md §2) the test for start ``k`` is ``max_{t = k+1..k+o} (mem[t] + t) <= M − b + k``: one
    sliding maximum of ``mem[t] + t`` per chunk of candidate starts instead of an ``o``-wide window
    per start (the general shape keeps the direct test; a test checks that both agree).
    """
    o = shape.size
    k = release
    end = mem.size
    chunk = 256
    linear = sliding_max and o > 1 and int(shape[-1]) - int(shape[0]) == o - 1 and bool(np.all(np.diff(shape) == 1))
    base = int(shape[0]) - 1
    while True:
        if k + 1 >= end:
            return k
        hi = min(end, k + 1 + chunk + o)
        seg = np.zeros(chunk + o, dtype=np.int64)
        seg[: hi - (k + 1)] = mem[k + 1 : hi]
        if linear:
            g = seg + np.arange(k + 1, k + 1 + chunk + o, dtype=np.int64)
            ok = _window_max(g, o)[:chunk] <= M - base + np.arange(k, k + chunk, dtype=np.int64)
        else:
            win = np.lib.stride_tricks.sliding_window_view(seg, o)[:chunk]
            ok = np.all(win + shape <= M, axis=1)
        idx = np.flatnonzero(ok)
        if idx.size:
            return k + int(idx[0])
        k += chunk


def place_earliest(mem: np.ndarray, M: int, shape: np.ndarray, release: int) -> tuple[np.ndarray, int]:
    """Place a run at its :func:`earliest_fit` into ``mem`` (grown if needed, else in place);
    returns the profile and the start."""
    k = earliest_fit(mem, M, shape, release)
    mem = _grow(mem, k + shape.size + 2)
    mem[k + 1 : k + 1 + shape.size] += shape
    return mem, k


def list_schedule(
    instance: Instance,
    order: Sequence[int] | np.ndarray,
    release: np.ndarray | None = None,
) -> np.ndarray:
    """Serial generation: place jobs in ``order``, each at its earliest fit.

    Parameters
    ----------
    instance : Instance
    order : sequence of job indices (a permutation)
    release : int array, optional
        Per-job earliest start on top of the arrival (e.g. rounded LP start times).

    Returns
    -------
    numpy.ndarray
        Starts in instance order (feasible by construction).
    """
    n = instance.n
    starts = np.zeros(n, dtype=np.int64)
    mem = np.zeros(max(16, 2 * int(instance.output.sum()) // max(1, n) + 16), dtype=np.int64)
    for i in order:
        i = int(i)
        rel = int(instance.arrival[i]) if release is None else max(int(instance.arrival[i]), int(release[i]))
        shape = run_shape(int(instance.prompt[i]), int(instance.output[i]))
        mem, starts[i] = place_earliest(mem, instance.M, shape, rel)
    return starts


def priority_orders(instance: Instance) -> dict[str, np.ndarray]:
    a, s, o = instance.arrival, instance.prompt, instance.output
    idx = np.arange(instance.n)
    vol = s * o + o * (o + 1) // 2
    return {
        "spt": np.lexsort((idx, a, o)),
        "svf": np.lexsort((idx, a, vol)),
        "release_spt": np.lexsort((idx, o, a)),
        "release_plus_length": np.lexsort((idx, a + o)),
    }
