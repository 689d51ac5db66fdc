"""The tie-break rank of job ids ("smaller id"), shared by the simulators."""

from __future__ import annotations

import re

import numpy as np

__all__ = ["id_ranks"]

_NUM = re.compile(r"^(.*?)(\d+)$")


def id_ranks(ids: tuple[str, ...]) -> list[int]:
    """Rank of each id in the tie-break order "smaller id": numeric when every id is an integer
    with a common prefix (``"j2" < "j10"``), else plain string order."""
    n = len(ids)
    if n == 0:
        return []
    m0 = _NUM.match(ids[0])
    if m0 is not None:
        prefix = m0.group(1)
        plen = len(prefix)
        if all(i.startswith(prefix) and i[plen:].isdigit() for i in ids):
            keys = np.array([int(i[plen:]) for i in ids], dtype=np.int64)
            order = np.lexsort((np.arange(n), keys))
            rank = np.empty(n, dtype=np.int64)
            rank[order] = np.arange(n)
            return rank.tolist()
    order = sorted(range(n), key=lambda i: ids[i])
    rank = [0] * n
    for r, i in enumerate(order):
        rank[i] = r
    return rank
