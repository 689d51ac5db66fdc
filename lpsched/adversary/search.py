"""Searching for a policy's worst case: seeded local search with restarts, and the random baseline.

The adversary picks, within a :class:`SearchSpace`, the true output lengths ``o_i ∈ [l, u]`` (the
prediction interval is fixed: that is what the policy sees) and optionally ``M``, per-job arrivals
and per-job prompts. It maximises the proxy ``TEL(policy) / UB`` of :func:`~.certify.quick_ratio`,
a certified *lower* bound on the true ratio (``UB`` is the TEL of a verified schedule), so the
search can never be fooled into overstating a case; the best candidates are then certified with
the hindsight IP (:func:`~.certify.certify`).

Local search (:func:`local_search`): restarts from structured and random starting points; each
step applies one move and keeps the result if the proxy did not drop by more than a temperature
that anneals to 0 over the restart (so plateaus are crossed). Random moves change one job's length
(uniformly, or to an end ``l``/``u``), swap two jobs, set a block of consecutive jobs to one end,
or change ``M``/an arrival/a prompt. **Adaptive moves** exploit that the policy is deterministic:
the adversary replays the policy's recorded history (``record_history``) and fixes lengths
*after* seeing what the policy committed to:

* ``commit_long`` – the jobs the policy started first get the longest lengths (the policy
  committed to an order it cannot see is wrong);
* ``end_after_eviction`` – an evicted job's length becomes ``g + 1``, ``g`` the tokens it had
  generated when evicted (the eviction threw away work one token before the job would have ended);
* ``outlast_estimate`` – a job that completed in its first run is made to run past that point (it
  ends later than the policy planned when it admitted it), up to ``u``.

The budget counts proxy evaluations, so the same seed and budget give the same result on any
machine. :func:`random_search` draws the same number of instances at random from the same space
(the baseline the search must beat).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..errors import OptionError
from ..instance import Instance
from .certify import QuickRatio, quick_ratio

__all__ = ["SearchSpace", "Candidate", "SearchResult", "local_search", "random_search", "MOVES"]

Progress = Callable[[int, int, float], None]


@dataclass(frozen=True)
class SearchSpace:
    """What the adversary may choose.

    Parameters
    ----------
    n : int
        Number of jobs.
    lower, upper : int
        The common prediction interval ``[l, u]`` (``α = l/u``); true lengths stay inside it.
    prompt : int
        The common prompt ``s`` (when prompts are not searched).
    M : int
        The KV capacity (the starting value when ``m_range`` is given).
    m_range : (int, int) or None
        Search ``M`` in this range too (``M >= max prompt + u`` is enforced).
    arrival_max : int
        Search per-job arrivals in ``0..arrival_max`` (0: everyone at time 0, the paper's setting).
    prompt_max : int or None
        Search per-job prompts in ``0..prompt_max`` (``None``: all prompts equal ``prompt``).
    """

    n: int
    lower: int
    upper: int
    prompt: int = 0
    M: int | None = None
    m_range: tuple[int, int] | None = None
    arrival_max: int = 0
    prompt_max: int | None = None

    def __post_init__(self) -> None:
        if self.n < 1:
            raise OptionError(f"n must be >= 1, got {self.n}")
        if not 1 <= self.lower <= self.upper:
            raise OptionError(f"need 1 <= lower <= upper, got [{self.lower}, {self.upper}]")
        if self.prompt < 0 or self.arrival_max < 0 or (self.prompt_max is not None and self.prompt_max < 0):
            raise OptionError("prompt, arrival_max and prompt_max must be >= 0")
        peak = (self.prompt if self.prompt_max is None else self.prompt_max) + self.upper
        M = peak if self.M is None else self.M
        object.__setattr__(self, "M", M)
        if M < peak:
            raise OptionError(f"M = {M} is below the largest peak prompt + u = {peak}")
        if self.m_range is not None:
            lo, hi = int(self.m_range[0]), int(self.m_range[1])
            if not peak <= lo <= hi:
                raise OptionError(f"m_range must satisfy {peak} <= lo <= hi, got {self.m_range}")
            object.__setattr__(self, "m_range", (lo, hi))
            if not lo <= M <= hi:
                object.__setattr__(self, "M", lo)

    @property
    def alpha(self) -> float:
        """``l / u``."""
        return self.lower / self.upper

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        d = asdict(self)
        d["alpha"] = self.alpha
        return d


@dataclass
class Candidate:
    """A point of the space: lengths, arrivals, prompts and ``M``."""

    output: np.ndarray
    arrival: np.ndarray
    prompt: np.ndarray
    M: int

    def key(self) -> tuple:
        return (self.M, self.output.tobytes(), self.arrival.tobytes(), self.prompt.tobytes())

    def copy(self) -> Candidate:
        return Candidate(self.output.copy(), self.arrival.copy(), self.prompt.copy(), self.M)

    def instance(self, space: SearchSpace, name: str | None = None, meta: dict[str, Any] | None = None) -> Instance:
        n = space.n
        return Instance.from_arrays(
            M=self.M, prompt=self.prompt, output=self.output, arrival=self.arrival,
            lower=np.full(n, space.lower), upper=np.full(n, space.upper),
            ids=[f"j{i}" for i in range(n)], name=name, meta=meta,
        )


@dataclass
class SearchResult:
    """Outcome of a search: the best candidate's instance and proxy, and the trajectory.

    ``best_value`` is ``TEL / UB`` (certified lower bound on the ratio); ``trace`` lists
    ``(evaluation, best value so far)`` at every improvement; ``top`` the best distinct candidates
    (value, instance) for certification.
    """

    method: str
    policy: str
    space: SearchSpace
    budget: int
    seed: int
    evaluations: int
    best_value: float
    best: Instance
    best_quick: QuickRatio
    trace: list[tuple[int, float]] = field(default_factory=list)
    top: list[tuple[float, Instance]] = field(default_factory=list)
    moves_accepted: dict[str, int] = field(default_factory=dict)


class _Evaluator:
    """Counts evaluations, caches proxies, keeps the best and the top distinct candidates."""

    def __init__(self, space: SearchSpace, policy: str, options: dict[str, Any], budget: int,
                 progress: Progress | None, keep: int = 5) -> None:
        self.space, self.policy, self.options, self.budget = space, policy, options, budget
        self.progress = progress
        self.count = 0
        self.cache: dict[tuple, QuickRatio] = {}
        self.best: tuple[float, Candidate, QuickRatio] | None = None
        self.trace: list[tuple[int, float]] = []
        self.top: dict[tuple, tuple[float, Candidate]] = {}
        self.keep = keep

    @property
    def left(self) -> int:
        return self.budget - self.count

    def __call__(self, cand: Candidate) -> QuickRatio:
        self.count += 1
        key = cand.key()
        q = self.cache.get(key)
        if q is None:
            q = quick_ratio(cand.instance(self.space), self.policy, self.options)
            self.cache[key] = q
            self.top[key] = (q.value, cand.copy())
            if len(self.top) > 4 * self.keep:
                ranked = sorted(self.top.items(), key=lambda kv: -kv[1][0])[: self.keep]
                self.top = dict(ranked)
        if self.best is None or q.value > self.best[0]:
            self.best = (q.value, cand.copy(), q)
            self.trace.append((self.count, q.value))
        if self.progress is not None:
            self.progress(self.count, self.budget, self.best[0])
        return q

    def result(self, method: str, seed: int, accepted: dict[str, int]) -> SearchResult:
        assert self.best is not None
        value, cand, q = self.best
        ranked = sorted(self.top.values(), key=lambda vc: -vc[0])[: self.keep]
        return SearchResult(
            method=method, policy=self.policy, space=self.space, budget=self.budget, seed=seed,
            evaluations=self.count, best_value=value, best=cand.instance(self.space), best_quick=q,
            trace=list(self.trace), top=[(v, c.instance(self.space)) for v, c in ranked],
            moves_accepted=dict(accepted),
        )


# ----------------------------------------------------------------------------- sampling
def _clip_prompts(space: SearchSpace, cand: Candidate) -> None:
    if space.prompt_max is not None:
        np.minimum(cand.prompt, cand.M - space.upper, out=cand.prompt)


def _random_candidate(space: SearchSpace, rng: np.random.Generator, dist: str = "uniform") -> Candidate:
    n, lo, hi = space.n, space.lower, space.upper
    if dist == "uniform":
        o = rng.integers(lo, hi + 1, n)
    elif dist == "extremes":
        o = np.where(rng.random(n) < 0.5, lo, hi)
    elif dist == "lower":
        o = np.full(n, lo)
    elif dist == "upper":
        o = np.full(n, hi)
    elif dist == "long_first":
        k = int(rng.integers(1, n + 1))
        o = np.r_[np.full(k, hi), np.full(n - k, lo)]
    else:
        raise OptionError(f"unknown distribution '{dist}'")
    a = rng.integers(0, space.arrival_max + 1, n) if space.arrival_max else np.zeros(n, dtype=np.int64)
    M = int(rng.integers(space.m_range[0], space.m_range[1] + 1)) if space.m_range else int(space.M)
    if space.prompt_max is not None:
        s = rng.integers(0, space.prompt_max + 1, n)
    else:
        s = np.full(n, space.prompt)
    cand = Candidate(o.astype(np.int64), a.astype(np.int64), s.astype(np.int64), M)
    _clip_prompts(space, cand)
    return cand


# ----------------------------------------------------------------------------- moves
def _mv_point(space: SearchSpace, c: Candidate, q: QuickRatio, rng: np.random.Generator) -> bool:
    i = int(rng.integers(space.n))
    c.output[i] = int(rng.integers(space.lower, space.upper + 1))
    return True


def _mv_extreme(space: SearchSpace, c: Candidate, q: QuickRatio, rng: np.random.Generator) -> bool:
    i = int(rng.integers(space.n))
    c.output[i] = space.upper if c.output[i] != space.upper else space.lower
    return True


def _mv_nudge(space: SearchSpace, c: Candidate, q: QuickRatio, rng: np.random.Generator) -> bool:
    i = int(rng.integers(space.n))
    step = max(1, (space.upper - space.lower) // 16)
    c.output[i] = int(np.clip(c.output[i] + rng.choice([-1, 1]) * int(rng.integers(1, step + 1)),
                              space.lower, space.upper))
    return True


def _mv_swap(space: SearchSpace, c: Candidate, q: QuickRatio, rng: np.random.Generator) -> bool:
    if space.n < 2:
        return False
    i, j = rng.choice(space.n, 2, replace=False)
    c.output[[i, j]] = c.output[[j, i]]
    if space.prompt_max is not None and rng.random() < 0.5:
        c.prompt[[i, j]] = c.prompt[[j, i]]
    return True


def _mv_block(space: SearchSpace, c: Candidate, q: QuickRatio, rng: np.random.Generator) -> bool:
    i = int(rng.integers(space.n))
    j = int(rng.integers(i, space.n)) + 1
    c.output[i:j] = space.upper if rng.random() < 0.5 else space.lower
    return True


def _mv_m(space: SearchSpace, c: Candidate, q: QuickRatio, rng: np.random.Generator) -> bool:
    if space.m_range is None:
        return False
    lo, hi = space.m_range
    if rng.random() < 0.5:
        c.M = int(np.clip(c.M + rng.choice([-1, 1]) * int(rng.integers(1, max(2, (hi - lo) // 8 + 1))), lo, hi))
    else:
        c.M = int(rng.integers(lo, hi + 1))
    _clip_prompts(space, c)
    return True


def _mv_arrival(space: SearchSpace, c: Candidate, q: QuickRatio, rng: np.random.Generator) -> bool:
    if not space.arrival_max:
        return False
    i = int(rng.integers(space.n))
    c.arrival[i] = int(rng.integers(0, space.arrival_max + 1))
    return True


def _mv_prompt(space: SearchSpace, c: Candidate, q: QuickRatio, rng: np.random.Generator) -> bool:
    if space.prompt_max is None:
        return False
    i = int(rng.integers(space.n))
    c.prompt[i] = int(rng.integers(0, min(space.prompt_max, c.M - space.upper) + 1))
    return True


def _first_starts(q: QuickRatio, n: int) -> np.ndarray:
    first = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    for r in q.sim.history or ():
        first[r.job] = min(first[r.job], r.start)
    return first


def _mv_commit_long(space: SearchSpace, c: Candidate, q: QuickRatio, rng: np.random.Generator) -> bool:
    """The jobs the policy committed to first get the longest lengths (a prefix, or all)."""
    first = _first_starts(q, space.n)
    order = np.lexsort((np.arange(space.n), first))
    k = int(rng.integers(2, space.n + 1)) if space.n >= 2 else 1
    chosen = order[:k]
    c.output[chosen] = np.sort(c.output[chosen])[::-1]
    return True


def _mv_end_after_eviction(space: SearchSpace, c: Candidate, q: QuickRatio, rng: np.random.Generator) -> bool:
    """An evicted job ends one token after the point where it was evicted."""
    gmax: dict[int, int] = {}
    hist = q.sim.history or ()
    final = {}
    for r in hist:
        final[r.job] = r
    for r in hist:
        if final[r.job] is not r:
            gmax[r.job] = max(gmax.get(r.job, 0), r.kept + r.length)
    if not gmax:
        return False
    jobs = sorted(gmax)
    if rng.random() < 0.5:
        jobs = [jobs[int(rng.integers(len(jobs)))]]
    for j in jobs:
        c.output[j] = int(np.clip(gmax[j] + 1, space.lower, space.upper))
    return True


def _mv_outlast_estimate(space: SearchSpace, c: Candidate, q: QuickRatio, rng: np.random.Generator) -> bool:
    """A job that completed without eviction runs longer than the policy planned for."""
    hist = q.sim.history or ()
    runs: dict[int, int] = {}
    for r in hist:
        runs[r.job] = runs.get(r.job, 0) + 1
    single = [j for j, k in runs.items() if k == 1 and c.output[j] < space.upper]
    if not single:
        return False
    j = single[int(rng.integers(len(single)))]
    c.output[j] = int(rng.integers(c.output[j] + 1, space.upper + 1))
    return True


#: name -> (move, weight). Adaptive moves read the current candidate's recorded history.
MOVES: dict[str, tuple[Callable[[SearchSpace, Candidate, QuickRatio, np.random.Generator], bool], float]] = {
    "point": (_mv_point, 2.0),
    "extreme": (_mv_extreme, 2.0),
    "nudge": (_mv_nudge, 1.0),
    "swap": (_mv_swap, 1.0),
    "block": (_mv_block, 1.0),
    "M": (_mv_m, 1.5),
    "arrival": (_mv_arrival, 1.0),
    "prompt": (_mv_prompt, 1.0),
    "commit_long": (_mv_commit_long, 1.0),
    "end_after_eviction": (_mv_end_after_eviction, 1.0),
    "outlast_estimate": (_mv_outlast_estimate, 1.0),
}

_STARTS = ("perturbed_best", "uniform", "extremes", "lower", "upper", "long_first")


def local_search(
    policy: str,
    space: SearchSpace,
    *,
    budget: int = 2000,
    seed: int = 0,
    restarts: int = 8,
    policy_options: dict[str, Any] | None = None,
    progress: Progress | None = None,
    moves: tuple[str, ...] | None = None,
) -> SearchResult:
    """Maximise ``TEL(policy) / UB`` over ``space`` with ``budget`` proxy evaluations.

    Parameters
    ----------
    policy : str
        A registered policy name.
    space : SearchSpace
    budget : int
        Proxy evaluations in total (simulation + heuristic schedules each).
    seed : int
        Seed of every random choice (same seed and budget, same result).
    restarts : int
        Number of restarts; the budget is split evenly. Restart ``r`` starts from, in turn, the
        best so far perturbed (except the first), a uniform draw, extremes, all-``l``, all-``u`` and
        a block of long jobs first, the structured ones included once each.
    policy_options : dict, optional
        Options of the policy.
    progress : callable(evaluations, budget, best), optional
    moves : tuple of move names, optional
        Restrict the moves (default: all of :data:`MOVES`); used to measure what adaptivity adds.

    Returns
    -------
    SearchResult
    """
    if budget < 1 or restarts < 1:
        raise OptionError("budget and restarts must be >= 1")
    names = list(MOVES) if moves is None else list(moves)
    unknown = [m for m in names if m not in MOVES]
    if unknown:
        raise OptionError(f"unknown move(s) {unknown} (known: {', '.join(MOVES)})")
    weights = np.array([MOVES[m][1] for m in names], dtype=float)
    weights /= weights.sum()
    rng = np.random.default_rng(seed)
    ev = _Evaluator(space, policy, dict(policy_options or {}), budget, progress)
    accepted: dict[str, int] = {m: 0 for m in names}
    per = max(1, budget // restarts)
    r = 0
    while ev.left > 0:
        kind = _STARTS[r % len(_STARTS)] if r else "uniform"
        if kind == "perturbed_best" and ev.best is not None:
            cur = ev.best[1].copy()
            for _ in range(max(1, space.n // 4)):
                _mv_point(space, cur, ev.best[2], rng)
        else:
            cur = _random_candidate(space, rng, "uniform" if kind == "perturbed_best" else kind)
        q = ev(cur)
        steps = min(per, ev.left) - 1
        for step in range(steps):
            temp = 0.02 * q.value * (1 - step / max(1, steps))
            mv = names[int(rng.choice(len(names), p=weights))]
            nxt = cur.copy()
            if not MOVES[mv][0](space, nxt, q, rng):
                continue  # a move that does not apply here costs nothing
            nq = ev(nxt)
            if nq.value >= q.value - temp:
                if nq.value > q.value:
                    accepted[mv] += 1
                cur, q = nxt, nq
            if ev.left <= 0:
                break
        r += 1
    return ev.result("local-search", seed, accepted)


def random_search(
    policy: str,
    space: SearchSpace,
    *,
    budget: int = 2000,
    seed: int = 0,
    dist: str = "uniform",
    policy_options: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> SearchResult:
    """The baseline: ``budget`` independent random instances from ``space``; keep the worst.

    ``dist`` is how lengths are drawn: ``uniform`` in ``[l, u]`` (the paper's generator),
    ``extremes`` (each at ``l`` or ``u``) or ``mixed`` (each draw picks uniform, extremes,
    all-``l``, all-``u`` or long-first at random). ``M``, arrivals and prompts are drawn uniformly
    from their ranges when searched.
    """
    if budget < 1:
        raise OptionError("budget must be >= 1")
    rng = np.random.default_rng(seed)
    ev = _Evaluator(space, policy, dict(policy_options or {}), budget, progress)
    kinds = ("uniform", "extremes", "lower", "upper", "long_first")
    while ev.left > 0:
        d = kinds[int(rng.integers(len(kinds)))] if dist == "mixed" else dist
        ev(_random_candidate(space, rng, d))
    return ev.result(f"random-{dist}", seed, {})

