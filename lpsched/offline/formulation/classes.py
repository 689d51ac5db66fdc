"""Class aggregation of interchangeable jobs, and the memory shape of one run (docs/model.md §6).

Jobs with equal arrival ``a``, prompt ``s`` and output ``o`` are interchangeable: swapping two of
them in any schedule gives a schedule with the same memory profile and the same TEL. The hindsight
IP therefore only needs, per class ``c`` and start ``k``, the *number* ``y_{c,k}`` of its jobs that
start at ``k``; :func:`disaggregate` turns counts back into per-job starts (within a class every job
has the same arrival, so "earliest arrivals first" reduces to instance order).

:func:`run_shape` gives a run's memory in each of its rounds, computed by
:func:`lpsched.memory.memory_profile` (the memory arithmetic is never re-derived here).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ...instance import Instance
from ...memory import memory_profile

__all__ = ["JobClasses", "aggregate", "disaggregate", "class_counts", "run_shape"]


@lru_cache(maxsize=4096)
def _shape_cached(s: int, o: int) -> tuple[int, ...]:
    prof = memory_profile([s], [0], [o], horizon=o)
    return tuple(int(v) for v in prof[1 : o + 1])


def run_shape(s: int, o: int) -> np.ndarray:
    """Memory of a fresh run of a job with prompt ``s`` and output ``o`` in its rounds ``1..o``.

    Parameters
    ----------
    s, o : int
        Prompt and output length.

    Returns
    -------
    numpy.ndarray
        ``shape[r - 1]`` is the KV tokens held in the ``r``-th round after the start (from
        :func:`~lpsched.memory.memory_profile`; by time invariance a start at ``k`` holds
        ``shape[r - 1]`` in round ``k + r``).
    """
    return np.array(_shape_cached(int(s), int(o)), dtype=np.int64)


@dataclass(frozen=True)
class JobClasses:
    """Interchangeable-job classes of an instance.

    Attributes
    ----------
    arrival, prompt, output, count : int arrays, one entry per class
    members : tuple of int arrays
        Job indices of each class, in instance order.
    class_of : int array
        Class index of each job.
    """

    arrival: np.ndarray
    prompt: np.ndarray
    output: np.ndarray
    count: np.ndarray
    members: tuple[np.ndarray, ...]
    class_of: np.ndarray

    @property
    def n_classes(self) -> int:
        """Number of classes."""
        return int(self.count.size)


def aggregate(instance: Instance, enabled: bool = True) -> JobClasses:
    """Group the jobs of ``instance`` into classes of equal ``(arrival, prompt, output)``.

    Parameters
    ----------
    instance : Instance
    enabled : bool
        ``False`` puts every job in its own class (the plain, disaggregated formulation).

    Returns
    -------
    JobClasses
        Classes sorted by ``(arrival, output, prompt)``.
    """
    n = instance.n
    a, s, o = instance.arrival, instance.prompt, instance.output
    if enabled:
        keys = np.stack([a, o, s], axis=1) if n else np.zeros((0, 3), dtype=np.int64)
        uniq, inv = np.unique(keys, axis=0, return_inverse=True)
        inv = np.asarray(inv).reshape(-1)
        members = tuple(np.flatnonzero(inv == c) for c in range(uniq.shape[0]))
        return JobClasses(
            arrival=uniq[:, 0].copy(), prompt=uniq[:, 2].copy(), output=uniq[:, 1].copy(),
            count=np.array([m.size for m in members], dtype=np.int64),
            members=members, class_of=inv.astype(np.int64),
        )
    order = np.lexsort((np.arange(n), s, o, a))
    class_of = np.empty(n, dtype=np.int64)
    class_of[order] = np.arange(n)
    return JobClasses(
        arrival=a[order].copy(), prompt=s[order].copy(), output=o[order].copy(),
        count=np.ones(n, dtype=np.int64), members=tuple(np.array([i]) for i in order),
        class_of=class_of,
    )


def class_counts(classes: JobClasses, starts: np.ndarray) -> dict[tuple[int, int], int]:
    """Per-job starts -> counts ``{(class, start): number of its jobs starting then}``."""
    out: dict[tuple[int, int], int] = {}
    for i, k in enumerate(np.asarray(starts, dtype=np.int64)):
        key = (int(classes.class_of[i]), int(k))
        out[key] = out.get(key, 0) + 1
    return out


def disaggregate(classes: JobClasses, counts: Mapping[tuple[int, int], int], n: int) -> np.ndarray:
    """Counts per class and start -> per-job starts.

    Within a class, jobs take the starts in ascending order in instance order (every job of a
    class has the same arrival, so earliest arrivals first holds trivially).

    Parameters
    ----------
    classes : JobClasses
    counts : mapping (class, start) -> count
    n : int
        Number of jobs.

    Returns
    -------
    numpy.ndarray
        Start of each job, in instance order.

    Raises
    ------
    ValueError
        If a class does not receive exactly as many starts as it has jobs.
    """
    per_class: list[list[int]] = [[] for _ in range(classes.n_classes)]
    for (c, k), m in counts.items():
        if m < 0:
            raise ValueError(f"negative count {m} for class {c} at start {k}")
        per_class[c].extend([int(k)] * int(m))
    starts = np.full(n, -1, dtype=np.int64)
    for c, ks in enumerate(per_class):
        mem = classes.members[c]
        if len(ks) != mem.size:
            raise ValueError(f"class {c} has {mem.size} jobs but {len(ks)} starts")
        starts[mem] = sorted(ks)
    return starts
