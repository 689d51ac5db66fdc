"""The largest values lpsched accepts, chosen so that every sum it computes fits in 64-bit integers.

Checked when input is read (instances, schedules, traces, options); the reasons are in
docs/formats.md ("Limits"). In short, with ``n <= MAX_JOBS`` jobs, token counts ``<= MAX_TOKENS``
and rounds ``<= MAX_ROUND``:

* a job's peak ``s + o`` is at most ``M < 2^21`` and the memory of a round below ``n · 2^21 <= 2^43``;
* a job's memory moment ``Σ_{r<=o} r (s + r) <= M^3 / 3 < 2^62`` (the mean-busy bound sums it) and
  its per-round arrays (length ``o``) stay below 16 MB;
* a completion ``k + o`` is below ``2^39``, so TEL ``= Σ (C_i - a_i)`` is below ``2^61``;
* the serial horizon ``max a_i + Σ o_i`` is at most ``MAX_ROUND``, so ``M`` times it, which bounds
  every memory-time volume ``Σ o_i (s_i + o_i) <= M · Σ o_i``, is below ``2^59``;
* an arrival time of ``MAX_ARRIVAL_SECONDS`` is about ``1.1 · 10^18`` ns, below ``2^63`` ns.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "MAX_TOKENS",
    "MAX_ROUND",
    "MAX_JOBS",
    "MAX_ARRIVAL_SECONDS",
    "MAX_SEED",
    "MAX_SOLVER_SEED",
    "MAX_WORKERS",
    "check_int",
]

#: ``M``, ``prompt``, ``output``, ``lower``, ``upper``, ``predicted``: tokens (2^21 - 1 = 2,097,151).
MAX_TOKENS = 2**21 - 1
#: ``arrival`` and schedule starts: rounds (2^38, about 2.7·10^11).
MAX_ROUND = 2**38
#: Jobs in one instance (2^22 = 4,194,304).
MAX_JOBS = 2**22
#: ``arrival_time`` in seconds (2^30 s, about 34 years).
MAX_ARRIVAL_SECONDS = float(2**30)
#: Random seeds: ``0 .. 2^63 - 1`` (what NumPy's generators and the solvers take).
MAX_SEED = 2**63 - 1
#: Seeds handed to a solver (CP-SAT's ``random_seed`` is a 32-bit integer).
MAX_SOLVER_SEED = 2**31 - 1
#: Solver and sweep worker threads/processes.
MAX_WORKERS = 256


def check_int(value: Any, low: int, high: int) -> str | None:
    """``None`` if ``value`` is an ``int`` (not a bool) in ``[low, high]``, else what is wrong with it."""
    if isinstance(value, bool) or not isinstance(value, int):
        return f"must be an integer, got {value!r}"
    if value < low:
        return f"must be >= {low}, got {value}"
    if value > high:
        return f"must be <= {high} (the limit, docs/formats.md), got {value}"
    return None
