"""Trivial reference schedules that are feasible by construction (used as warm starts and in tests).

* :func:`serial_schedule` runs one job at a time: always feasible because every peak
  ``s_i + o_i <= M`` (instance validity), and never better than any sensible policy.
"""

from __future__ import annotations

import numpy as np

from .instance import Instance

__all__ = ["serial_schedule"]


def serial_schedule(instance: Instance, order: str = "spt") -> np.ndarray:
    """Start jobs one after another, each when the previous one completes and it has arrived.

    Parameters
    ----------
    instance : Instance
    order : {"spt", "arrival"}
        ``"spt"``: at each completion start the shortest arrived job (ties: arrival, position);
        ``"arrival"``: in order of arrival.

    Returns
    -------
    numpy.ndarray
        Start round of each job, in the instance's job order.
    """
    n = instance.n
    a = instance.arrival
    o = instance.output
    starts = np.zeros(n, dtype=np.int64)
    if order == "arrival":
        t = 0
        for i in np.lexsort((np.arange(n), a)):
            t = max(t, int(a[i]))
            starts[i] = t
            t += int(o[i])
        return starts
    if order != "spt":
        raise ValueError(f"unknown order '{order}' (known: spt, arrival)")
    import heapq

    by_arrival = list(np.lexsort((np.arange(n), a)))
    ready: list[tuple[int, int, int]] = []
    t = 0
    p = 0
    done = 0
    while done < n:
        while p < n and a[by_arrival[p]] <= t:
            i = by_arrival[p]
            heapq.heappush(ready, (int(o[i]), int(a[i]), int(i)))
            p += 1
        if not ready:
            t = int(a[by_arrival[p]])
            continue
        _, _, i = heapq.heappop(ready)
        starts[i] = t
        t += int(o[i])
        done += 1
    return starts
