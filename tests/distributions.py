"""Random distributions and samples shared by the statistics tests."""

from __future__ import annotations

import math

import numpy as np


def sample(p: np.ndarray, shots: int, seed: int) -> dict[str, int]:
    """Counts of ``shots`` draws from p over n-bit outcomes (zero cells left out)."""
    width = int(math.log2(len(p)))
    draws = np.random.default_rng(seed).multinomial(shots, p)
    return {format(i, f"0{width}b"): int(n) for i, n in enumerate(draws) if n}


def porter_thomas(num_bits: int, seed: int) -> np.ndarray:
    """A random-circuit-like (Porter-Thomas) distribution over 2^num_bits outcomes."""
    p = np.random.default_rng(seed).exponential(size=2**num_bits)
    return np.asarray(p / p.sum())
