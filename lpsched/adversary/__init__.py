"""Adversarial instances: constructions from the proofs, and a search for each policy's worst case.

* :mod:`.certify` – the ratio ``TEL(policy)/OPT`` of one instance, bracketed by a verified schedule
  (conservative: the true ratio is at least ``TEL/UB``) and a certified lower bound, or exact;
* :mod:`.constructions` – seeded generators of the known bad cases, each with the ratio it aims at;
* :mod:`.search` – seeded local search with restarts and adaptive moves, and the random baseline;
* :mod:`.library` – the stored worst instances (``instances/adversarial/``) and the worst ratio per α.

See docs/adversary.md.
"""

from .certify import QuickRatio, RatioCertificate, certify, quick_ratio
from .search import MOVES, SearchResult, SearchSpace, local_search, random_search

__all__ = [
    "QuickRatio", "RatioCertificate", "certify", "quick_ratio",
    "MOVES", "SearchResult", "SearchSpace", "local_search", "random_search",
]
