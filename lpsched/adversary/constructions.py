"""Constructions of bad instances, after the proofs, as seeded generators.

Each construction returns an :class:`~lpsched.instance.Instance` whose ``meta["construction"]``
records its name, parameters and the ratio it aims at (``target_ratio``), and what that target is
measured against (``target_against``):

* ``"verified schedule"`` – the target is ``TEL(policy) / TEL(S)`` for an explicit feasible schedule
  ``S`` computed here; since ``OPT <= TEL(S)``, the true ratio is **at least** the target;
* ``"measured"`` – the value found when the construction was written (no closed form is known); the
  tests keep it as a floor.

The ``seed`` only permutes the rows of the file: job ids are assigned so that the policies' tie-break
order ("smaller id") is the intended one, and ids, not row positions, decide ties, so every seed
gives the same schedules and ratios (a test checks it).

Constructions (name: policies it targets):

* :func:`amax_reservation` (amax) – all true lengths ``l``; ``M`` just below two predicted peaks,
  so A_max runs one job at a time while the optimum runs ``⌊M/(s+1)⌋`` at once;
* :func:`amin_harmonic` (amin) – lengths ``≈ u/i`` on ``M = c·(s + u)``: A_min, believing every job
  is ``l``, admits too many, overflows and evicts again and again as estimates climb;
* :func:`amin_epochs` (amin) – epochs of lengths ``l·2^e``: estimates climb through ``log2(u/l)``
  levels of evictions;
* :func:`amin_blockers` (amin) – ``⌈c⌉`` jobs of length ``u`` first, the rest of length ``l``;
* :func:`arrival_trap` (every policy) – Jaillet et al.'s adversarial arrivals: a long job that
  blocks memory, then many tiny jobs released just after the policy starts it (adaptive: the start
  time is read from the policy's own simulation);
* :func:`prompt_trap` (hsf, mcsf, amin, amax with exact intervals) – large prompts with short
  outputs against small prompts with longer outputs: shortest-output-first runs the memory hogs
  first.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import OptionError, check_keywords
from ..instance import Instance
from ..limits import MAX_TOKENS
from ..offline.formulation.objective import tel_of
from ..offline.schedules.placement import list_schedule

__all__ = ["amax_reservation", "amin_harmonic", "amin_epochs", "amin_blockers", "arrival_trap", "prompt_trap",
           "CONSTRUCTIONS", "THEOREM_FAMILIES", "construct"]


def _check(cond: bool, msg: str) -> None:
    if not cond:
        raise OptionError(msg)


def _shuffled(seed: int, M: int, cols: dict[str, np.ndarray], name: str, meta: dict[str, Any]) -> Instance:
    """Assign ids ``j0..`` in the intended tie-break order, then permute the rows by ``seed``."""
    n = len(cols["output"])
    perm = np.random.default_rng(seed).permutation(n)
    ids = [f"j{i}" for i in perm]
    return Instance.from_arrays(
        M=M, prompt=cols["prompt"][perm], output=cols["output"][perm], arrival=cols["arrival"][perm],
        lower=cols["lower"][perm], upper=cols["upper"][perm], ids=ids, name=name,
        meta={"construction": meta, "seed": seed},
    )


def _cols(prompt: Any, output: Any, lower: Any, upper: Any, arrival: Any = None) -> dict[str, np.ndarray]:
    o = np.asarray(output, dtype=np.int64)
    n = o.size

    def full(v: Any) -> np.ndarray:
        a = np.asarray(v, dtype=np.int64)
        return np.full(n, int(a)) if a.ndim == 0 else a

    return {"prompt": full(prompt), "output": o, "lower": full(lower), "upper": full(upper),
            "arrival": full(0 if arrival is None else arrival)}


# ----------------------------------------------------------------------------- A_max
def amax_reservation(seed: int = 0, *, alpha: float = 1 / 8, prompt: int = 0, M: int | None = None,
                     n: int | None = None) -> Instance:
    """A_max reserves ``u`` for jobs that use ``l = 1``.

    Every job has interval ``[1, u]`` with ``u = round(1/α)``, prompt ``s``, true length 1.
    ``M`` defaults to ``2(s + u) − 1``: A_max's future-peak check with estimate ``u`` lets only
    ``c_A = ⌊M/(s+u)⌋ = 1`` job run per round (a job of length 1 is done before another could be
    staggered in), while ``c_O = ⌊M/(s+1)⌋`` jobs fit in one round for the optimum. ``n`` defaults
    to ``3M``.

    Target (against a verified schedule): ``TEL(A_max) = Σ_{j≤n} ⌈j/c_A⌉`` and the greedy schedule
    has ``TEL = Σ_{j≤n} ⌈j/c_O⌉``; with ``s = 0`` the volume-rank bound equals it, so the ratio is
    exact: ``(3M + 1)/4`` on the defaults, ``→ M ≈ 2/α`` as ``n → ∞``.
    """
    _check(0 < alpha <= 1, f"alpha must be in (0, 1], got {alpha}")
    _check(prompt >= 0, f"prompt must be >= 0, got {prompt}")
    u = max(1, round(1 / alpha))
    M = 2 * (prompt + u) - 1 if M is None else int(M)
    _check(M >= prompt + u, f"M = {M} is below the peak s + u = {prompt + u}")
    n = 3 * M if n is None else int(n)
    _check(n >= 1, f"n must be >= 1, got {n}")
    c_a, c_o = M // (prompt + u), M // (prompt + 1)
    j = np.arange(1, n + 1)
    tel_a = int(np.ceil(j / c_a).sum())
    tel_s = int(np.ceil(j / c_o).sum())
    meta = {"name": "amax_reservation", "policies": ["amax"],
            "params": {"alpha": alpha, "prompt": prompt, "M": M, "n": n, "lower": 1, "upper": u},
            "target_ratio": tel_a / tel_s, "target_against": "verified schedule",
            "target_formula": "Σ⌈j/⌊M/(s+u)⌋⌉ / Σ⌈j/⌊M/(s+1)⌋⌉"}
    return _shuffled(seed, M, _cols(prompt, np.ones(n, dtype=np.int64), 1, u), f"amax-reservation-u{u}-M{M}-n{n}", meta)


# ----------------------------------------------------------------------------- A_min
#: Ratios measured with :func:`amin_harmonic` (lower=4, prompt=4, n=16, M=s+u) against the best
#: heuristic schedule when the construction was written (conservative: TEL / verified schedule).
_AMIN_HARMONIC_MEASURED = {2: 1.10, 4: 1.98, 8: 3.02, 16: 3.59, 32: 4.84, 64: 5.51}


def _theorem_memory(prompt: int, u: int, c: float, M: int | None) -> int:
    """``M`` of the theorem's setting: ``round(c·(s + u))`` unless given; at least one peak ``s + u``."""
    _check(c >= 1, f"c must be >= 1 (M = c·(s + u) holds one peak), got {c}")
    M = round(c * (prompt + u)) if M is None else int(M)
    _check(M >= prompt + u, f"M = {M} is below the peak s + u = {prompt + u}")
    return M


def amin_harmonic(seed: int = 0, *, alpha: float = 1 / 16, lower: int = 4, prompt: int = 4, n: int = 16,
                  M: int | None = None, c: float = 1.0) -> Instance:
    """Estimates that climb through many evictions: lengths ``o_i = max(l, round(u/i))``.

    Interval ``[l, u]`` (``u = round(l/α)``) for every job; job ``i`` (1-based, in tie-break order)
    has true length ``≈ u/i``, so the first job is as long as allowed and the rest form a harmonic
    staircase; ``M = c·(s + u)``, ``c = 1`` by default (one job at its true maximum fills memory; ``M``
    overrides). A_min treats
    every job as ``l``, admits many, and as the long ones outgrow their estimates it overflows and
    evicts the job with the smallest estimate, which is re-admitted with an estimate one above what
    it had reached and evicted again. Found by :func:`~lpsched.adversary.search.local_search` (its
    best instances had this shape) and generalised here.

    Target: *measured* (no closed form): the ratio against the best heuristic schedule, on the
    defaults for ``1/α`` in ``{2, 4, …, 64}``, is ``≈ 1.10, 1.98, 3.02, 3.59, 4.84, 5.51`` —
    about ``0.9·log2(1/α)``, the logarithmic growth of the ``O(log 1/α)`` theorem.
    """
    _check(0 < alpha <= 1, f"alpha must be in (0, 1], got {alpha}")
    _check(lower >= 1 and prompt >= 0 and n >= 1, "need lower >= 1, prompt >= 0, n >= 1")
    u = max(lower, round(lower / alpha))
    M = _theorem_memory(prompt, u, c, M)
    o = np.maximum(lower, np.round(u / np.arange(1, n + 1))).astype(np.int64)
    inv = round(1 / alpha)
    target = _AMIN_HARMONIC_MEASURED.get(inv) if (lower, prompt, n) == (4, 4, 16) and M == prompt + u else None
    meta = {"name": "amin_harmonic", "policies": ["amin"],
            "params": {"alpha": alpha, "lower": lower, "upper": u, "prompt": prompt, "n": n, "M": M,
                       "c": M / (prompt + u)},
            "target_ratio": target, "target_against": "measured"}
    return _shuffled(seed, M, _cols(prompt, o, lower, u), f"amin-harmonic-a{alpha:g}-n{n}", meta)


def amin_epochs(seed: int = 0, *, alpha: float = 1 / 16, lower: int = 4, prompt: int = 4, n: int = 16,
                M: int | None = None, c: float = 1.0, order: str = "long_first") -> Instance:
    """Epochs of jobs whose estimates climb through evictions: lengths ``l·2^e``, ``e = 1 … k``.

    ``k = ⌈log2(u/l)⌉`` epochs of (about) ``n/k`` jobs each; epoch ``e`` has true length
    ``min(u, l·2^e)``, so a job of epoch ``e`` passes ``e`` doublings of its estimate before it ends,
    and an evicted job comes back with an estimate that has climbed to where it was evicted. Same
    interval ``[l, u]`` (``u = round(l/α)``), prompt ``s`` and arrival 0 for all (the theorem's
    setting); ``M = c·(s + u)``. ``order`` sets the tie-break order A_min follows (every estimate
    starts at ``l``): ``long_first`` (longest epoch first, the order the search favoured on the
    harmonic family) or ``round_robin`` (one job of each epoch in turn, longest first).

    Target: *measured* (none recorded here; the map, ``benchmarks/amin_map.py``, measures it).
    """
    _check(0 < alpha <= 1, f"alpha must be in (0, 1], got {alpha}")
    _check(lower >= 1 and prompt >= 0 and n >= 1, "need lower >= 1, prompt >= 0, n >= 1")
    _check(order in ("long_first", "round_robin"), f"order must be long_first or round_robin, got '{order}'")
    u = max(lower, round(lower / alpha))
    M = _theorem_memory(prompt, u, c, M)
    k = max(1, math.ceil(math.log2(u / lower))) if u > lower else 1
    epoch = np.arange(n) % k if order == "round_robin" else (np.arange(n) * k) // n
    o = np.minimum(u, lower * 2 ** (k - epoch)).astype(np.int64)  # epoch 0 is the longest
    meta = {"name": "amin_epochs", "policies": ["amin"],
            "params": {"alpha": alpha, "lower": lower, "upper": u, "prompt": prompt, "n": n, "M": M,
                       "c": M / (prompt + u), "epochs": k, "order": order},
            "target_ratio": None, "target_against": "measured"}
    return _shuffled(seed, M, _cols(prompt, o, lower, u), f"amin-epochs-a{alpha:g}-n{n}", meta)


def amin_blockers(seed: int = 0, *, alpha: float = 1 / 16, lower: int = 4, prompt: int = 4, n: int = 16,
                  M: int | None = None, c: float = 1.0, blockers: int | None = None) -> Instance:
    """``b`` jobs as long as allowed (``u``) first in the tie-break order, then ``n − b`` jobs of length ``l``.

    A_min sees ``n`` identical jobs and starts the first ones; the ``b = ⌈c⌉`` long ones (by
    default) together fill ``M = c·(s + u)`` as they grow, and a job that does not run to its end
    keeps being evicted (a fresh job has the smallest estimate), so the short jobs wait about
    ``u`` rounds that the optimum spends after them. Same interval, prompt and arrival for all.

    Target: *measured* (the map, ``benchmarks/amin_map.py``, measures it).
    """
    _check(0 < alpha <= 1, f"alpha must be in (0, 1], got {alpha}")
    _check(lower >= 1 and prompt >= 0 and n >= 1, "need lower >= 1, prompt >= 0, n >= 1")
    u = max(lower, round(lower / alpha))
    M = _theorem_memory(prompt, u, c, M)
    b = math.ceil(M / (prompt + u)) if blockers is None else int(blockers)
    _check(0 <= b <= n, f"blockers must be in 0..n, got {b}")
    o = np.r_[np.full(b, u), np.full(n - b, lower)].astype(np.int64)
    meta = {"name": "amin_blockers", "policies": ["amin"],
            "params": {"alpha": alpha, "lower": lower, "upper": u, "prompt": prompt, "n": n, "M": M,
                       "c": M / (prompt + u), "blockers": b},
            "target_ratio": None, "target_against": "measured"}
    return _shuffled(seed, M, _cols(prompt, o, lower, u), f"amin-blockers-a{alpha:g}-n{n}", meta)


# ----------------------------------------------------------------------------- arrivals
def arrival_trap(seed: int = 0, *, policy: str = "amin", m: int = 9, K: int = 100, alpha: float = 1.0,
                 policy_options: dict[str, Any] | None = None) -> Instance:
    """Adversarial arrivals (after Jaillet et al.'s ``Ω(√n)`` lower bound), adaptive to ``policy``.

    ``M = 2K``. A long job (prompt ``K``, output ``K``) arrives at 0. The adversary simulates the
    policy on it alone (deterministic) to learn when it starts, ``t0``, and releases ``m`` tiny jobs
    (prompt ``K``, output 1) at ``t0 + 1``: each needs ``K + 1`` tokens, which never fit beside the
    long job (it holds ``≥ K + 1``), nor two at once. Intervals are ``[⌈α·o⌉, o]``.

    A policy that does not preempt the long job (none here does: the tiny jobs are never admitted
    beside it, so nothing overflows) pays ``TEL ≥ t0 + K + Σ_{i≤m} (t0 + K + i − (t0 + 1))``, while
    the schedule "tiny jobs first, one per round from ``t0 + 1``, then the long one" has
    ``TEL = t0 + m + 1 + K + m(m+1)/2``. Target (against that verified schedule):
    ``(K + mK + m(m−1)/2)/(K + m + 1 + m(m+1)/2)`` for ``t0 = 0`` — ``≈ 6.68`` on the defaults,
    ``→ m + 1 = n`` as ``K → ∞``. An algorithm that may preempt can escape once, and the adversary
    repeats the trap; that game gives Jaillet et al.'s ``Ω(√n)`` for every deterministic algorithm.
    """
    from ..online import simulate

    _check(m >= 1 and K >= 2, "need m >= 1 and K >= 2")
    _check(0 < alpha <= 1, f"alpha must be in (0, 1], got {alpha}")
    M = 2 * K

    def lo(o: int) -> int:
        return max(1, math.ceil(alpha * o))

    alone = Instance.from_arrays(M=M, prompt=[K], output=[K], lower=[lo(K)], upper=[K], ids=["j0"])
    t0 = int(simulate(alone, policy, **dict(policy_options or {})).starts["j0"])
    out = np.r_[K, np.ones(m, dtype=np.int64)]
    arr = np.r_[0, np.full(m, t0 + 1)]
    alg = t0 + K + sum(t0 + K + i - (t0 + 1) for i in range(1, m + 1))
    ub = t0 + m + 1 + K + m * (m + 1) // 2
    meta = {"name": "arrival_trap", "policies": [policy], "adaptive": {"policy": policy, "t0": t0},
            "params": {"m": m, "K": K, "alpha": alpha, "M": M, "policy_options": dict(policy_options or {})},
            "target_ratio": alg / ub, "target_against": "verified schedule"}
    cols = _cols(K * np.ones(m + 1, dtype=np.int64), out, [lo(int(o)) for o in out], out, arr)
    return _shuffled(seed, M, cols, f"arrival-trap-{policy}-m{m}-K{K}", meta)


# ----------------------------------------------------------------------------- prompts
def _prompt_trap_target(k: int, m: int, M: int, big: int, short: int, long: int) -> tuple[float, int, int]:
    """Lower bound on a shortest-output-first policy's TEL, and the TEL of the explicit schedule."""
    # The hogs run one at a time (two never fit), the last finishing at k·short; a small job can
    # start no earlier than (k−1)·short (while a hog waits, the scan stops at it), so each completes
    # at >= (k−1)·short + long.
    alg_lb = short * k * (k + 1) // 2 + m * ((k - 1) * short + long)
    inst = Instance.from_arrays(M=M, prompt=np.r_[np.full(k, big), np.zeros(m, dtype=np.int64)],
                                output=np.r_[np.full(k, short), np.full(m, long)])
    ub = tel_of(inst, list_schedule(inst, np.r_[np.arange(k, k + m), np.arange(k)]))
    return alg_lb / ub, alg_lb, ub


def prompt_trap(seed: int = 0, *, k: int = 6, m: int = 24, M: int = 20, big: int = 15, short: int = 2,
                long: int = 3) -> Instance:
    """Heterogeneous prompts against shortest-(output-)first.

    ``k`` *hogs*: prompt ``big``, output ``short``; ``m`` *small* jobs: prompt 0, output ``long >
    short``. Intervals are exact (``l = u = o``), so H-SF, MC-SF, A_min and A_max all order by output
    and run the hogs first; two hogs never fit together (``2(big + 1) > M``), so they run one at a
    time for ``k·short`` rounds while the small jobs — far smaller in volume — wait. SVF, ordering
    by volume, runs the small jobs first (the counterpoint).

    Target (against a verified schedule): ``TEL(SF) >= short·k(k+1)/2 + m((k−1)·short + long)``
    divided by the TEL of the list schedule "small jobs first, then hogs" (both computed here).
    """
    _check(min(k, m, short) >= 1 and long > short, "need k, m, short >= 1 and long > short")
    _check(2 * (big + 1) > M >= big + short, "need 2(big + 1) > M >= big + short (hogs run one at a time)")
    _check(M >= long, "M must fit a small job")
    target, alg_lb, ub = _prompt_trap_target(k, m, M, big, short, long)
    out = np.r_[np.full(k, short), np.full(m, long)]
    meta = {"name": "prompt_trap", "policies": ["hsf", "mcsf", "amin", "amax"],
            "params": {"k": k, "m": m, "M": M, "big": big, "short": short, "long": long},
            "target_ratio": target, "target_against": "verified schedule",
            "sf_tel_lower_bound": alg_lb, "schedule_tel": ub}
    return _shuffled(seed, M, _cols(np.r_[np.full(k, big), np.zeros(m, dtype=np.int64)], out, out, out),
                     f"prompt-trap-k{k}-m{m}", meta)


#: name -> (generator, one-line description)
CONSTRUCTIONS: dict[str, tuple[Callable[..., Instance], str]] = {
    "amax_reservation": (amax_reservation, "A_max reserves u for jobs of length 1 (M just below two peaks)"),
    "amin_harmonic": (amin_harmonic, "A_min evicts repeatedly: lengths u/i on M = c(s + u)"),
    "amin_epochs": (amin_epochs, "estimates climb through evictions: epochs of lengths l·2^e on M = c(s + u)"),
    "amin_blockers": (amin_blockers, "ceil(c) jobs of length u first, then jobs of length l, on M = c(s + u)"),
    "arrival_trap": (arrival_trap, "long job, then tiny jobs released right after the policy starts it"),
    "prompt_trap": (prompt_trap, "large prompt + short output against small prompt + longer output"),
}


#: Smallest ``alpha`` a construction takes (``u = l/alpha`` then stays far below the token limit).
_MIN_ALPHA = 2.0**-16
#: The parametrised families in the theorem's setting (all at time 0, common ``s`` and ``[l, u]``,
#: ``M = c·(s + u)``): short name -> generator ``(seed, alpha=, lower=, prompt=, n=, c=)``.
THEOREM_FAMILIES: dict[str, Callable[..., Instance]] = {
    "harmonic": amin_harmonic, "epochs": amin_epochs, "blockers": amin_blockers,
}


def construct(name: str, seed: int = 0, **params: Any) -> Instance:
    """Build construction ``name`` (see :data:`CONSTRUCTIONS`) with ``params``."""
    if name not in CONSTRUCTIONS:
        raise OptionError(f"unknown construction '{name}' (known: {', '.join(CONSTRUCTIONS)})")
    check_keywords(CONSTRUCTIONS[name][0], {k: v for k, v in params.items() if k != "seed"},
                   f"construction '{name}'")
    for k, v in params.items():  # every construction is a small gadget: counts and sizes stay modest
        if isinstance(v, float) and not (math.isfinite(v) and (k != "alpha" or _MIN_ALPHA <= v <= 1)):
            raise OptionError(f"construction '{name}': parameter {k} = {v} must be a finite number"
                              + (f" in [{_MIN_ALPHA:g}, 1]" if k == "alpha" else ""))
        if isinstance(v, int) and not isinstance(v, bool) and not 0 <= v <= MAX_TOKENS:
            raise OptionError(f"construction '{name}': parameter {k} = {v} must be in 0..{MAX_TOKENS}")
    try:
        return CONSTRUCTIONS[name][0](seed, **params)
    except TypeError as exc:
        raise OptionError(f"construction '{name}': {exc}") from None
