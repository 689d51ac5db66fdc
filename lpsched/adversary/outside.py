"""Leaving the theorem's setting: arrivals over time and prompts drawn in a range, seeded.

The families of :data:`~.constructions.THEOREM_FAMILIES` keep the setting of the paper's theorems
(all jobs at time 0, one common prompt ``s``). :func:`leave_setting` takes one of their instances and
drops either assumption, or both, keeping the lengths, the interval ``[l, u]`` and the tie-break
order (ids) of the family:

* **Poisson arrivals** (``arrival_rate`` = λ jobs per round): jobs arrive in tie-break order, the
  gaps between consecutive arrivals independent exponentials of mean ``1/λ`` (rounded down to whole
  rounds after summing), the first at round 0;
* **prompts in a range** (``prompt_spread`` = f): job ``i``'s prompt is ``s + d_i`` with ``d_i``
  uniform in ``0..⌊f·u⌋``; ``M`` becomes ``round(c·(max_i s_i + u))``, so ``c`` keeps its meaning
  (``c`` jobs fit at the largest predicted peak; :func:`~.library.memory_factor`).

``meta["outside_setting"]`` records what was dropped (``drops``: ``"common arrival"``, ``"common
prompt"``) and the parameters; results on these instances are reported apart from the theorem's
(docs/adversary.md, "Outside the theorem's setting").
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import OptionError
from ..instance import Instance

__all__ = ["leave_setting", "dropped_assumptions"]


def _tie_break_rank(instance: Instance) -> np.ndarray:
    """Each row's position in the family's intended order (ids ``j0, j1, …``; else the ids' order)."""
    try:
        keys = [int(i[1:]) for i in instance.ids]
    except ValueError:
        keys = list(range(instance.n))
    return np.argsort(np.argsort(np.asarray(keys), kind="stable"), kind="stable")


def leave_setting(instance: Instance, *, c: float, arrival_rate: float = 0.0, prompt_spread: float = 0.0,
                  seed: int = 0) -> Instance:
    """``instance`` with Poisson arrivals (λ = ``arrival_rate``) and/or prompts in ``[s, s + ⌊f·u⌋]``
    (f = ``prompt_spread``); 0 keeps that assumption. Deterministic given ``seed``.

    ``c`` is the memory factor of the family (``M = round(c·(max prompt + u))`` after the prompts
    change; ``M`` is kept when they do not).
    """
    if arrival_rate < 0 or prompt_spread < 0:
        raise OptionError(f"arrival_rate and prompt_spread must be >= 0, got {arrival_rate}, {prompt_spread}")
    rng = np.random.default_rng(seed)
    rank = _tie_break_rank(instance)
    n = instance.n
    arrival = instance.arrival.copy()
    drops: list[str] = []
    if arrival_rate > 0:
        gaps = rng.exponential(1.0 / arrival_rate, n)
        gaps[0] = 0.0
        arrival = np.floor(np.cumsum(gaps)).astype(np.int64)[rank]
        drops.append("common arrival")
    prompt = instance.prompt.copy()
    M = instance.M
    u = int(instance.upper.max())
    if prompt_spread > 0:
        spread = int(np.floor(prompt_spread * u))
        prompt = (prompt + rng.integers(0, spread + 1, n)[rank]).astype(np.int64)
        M = max(round(c * (int(prompt.max()) + u)), int(prompt.max()) + u)
        drops.append("common prompt")
    record: dict[str, Any] = {"drops": drops, "arrival_rate": arrival_rate, "prompt_spread": prompt_spread,
                              "prompt_range": [int(prompt.min()), int(prompt.max())], "c": c, "seed": seed}
    name = instance.name if not drops else f"{instance.name or 'instance'}-outside"
    return instance.replace(M=M, arrival=arrival, prompt=prompt, name=name,
                            meta={**instance.meta, "outside_setting": record})


def dropped_assumptions(instance: Instance) -> list[str]:
    """The theorem's assumptions ``instance`` does not satisfy (``[]``: all jobs at time 0 with a
    common prompt and a common interval ``[l, u]``), read from the data, not from its meta."""
    out = []
    if int(instance.arrival.min()) != int(instance.arrival.max()):
        out.append("common arrival")
    if int(instance.prompt.min()) != int(instance.prompt.max()):
        out.append("common prompt")
    if int(instance.lower.min()) != int(instance.lower.max()) or int(instance.upper.min()) != int(instance.upper.max()):
        out.append("common interval")
    return out
