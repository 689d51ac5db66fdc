"""Random instance recipes shared by the offline tests (seeded, so every test is reproducible)."""

from __future__ import annotations

import numpy as np

from lpsched import Instance


def tiny_instance(seed: int, n_max: int = 5, arrivals: bool = False) -> Instance:
    """2..n_max jobs, M in 6..13, prompts 0..2, outputs 1..5: small enough for the brute force."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, n_max + 1))
    M = int(rng.integers(6, 14))
    s = rng.integers(0, 3, n)
    o = np.array([rng.integers(1, min(6, M - x) + 1) for x in s])
    a = rng.integers(0, 4, n) if arrivals else np.zeros(n, dtype=np.int64)
    return Instance.from_arrays(M=M, prompt=s, output=o, arrival=a)


def random_instance(rng: np.random.Generator, n_range: tuple[int, int], M_range: tuple[int, int],
                    prompt_below: int, arrival_below: int) -> Instance:
    """n ~ U[n_range), M ~ U[M_range), s ~ U[0, prompt_below), o ~ U{1..M−s}, a ~ U[0, arrival_below)."""
    n = int(rng.integers(*n_range))
    M = int(rng.integers(*M_range))
    s = rng.integers(0, prompt_below, n)
    o = np.array([rng.integers(1, M - x + 1) for x in s])
    return Instance.from_arrays(M=M, prompt=s, output=o, arrival=rng.integers(0, arrival_below, n))
