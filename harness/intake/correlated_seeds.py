"""Aer's consecutive seeds share shots.

With per-shot noise sampling (statevector or matrix_product_state with a noise model, and
``automatic``, which picks one of them for most noisy circuits), shot i of
``seed_simulator = s`` draws from the stream of seed s + i: seeds s and s + 1 give the same
shots shifted by one (measured with qiskit-aer 0.18, ../shared/FACTS.md). Deposited seeds
closer to each other than the number of shots therefore share most of their shots; their
spread says nothing about seed-to-seed variance. This module finds such seeds (and picks
fresh seeds that avoid them). Pure: no I/O.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence

from harness.intake.manifest import Circuit

#: methods that sample noise shot by shot from consecutive seeds (stabilizer and
#: extended_stabilizer measured so with qiskit-aer 0.18.2 and a noise model: seed s + 1 gives
#: seed s's shots shifted by one)
PER_SHOT_METHODS = frozenset({"automatic", "statevector", "matrix_product_state", "stabilizer",
                              "extended_stabilizer"})


def close_pairs(seeds: Sequence[int], spacing: int) -> list[tuple[int, int]]:
    """Pairs of distinct seeds less than ``spacing`` apart (sorted, neighbours only)."""
    ordered = sorted(set(seeds))
    return [(a, b) for a, b in itertools.pairwise(ordered) if b - a < spacing]


def shares_shots(method: str, noisy: bool) -> bool:
    """Whether a circuit's seeds draw shot i from seed + i."""
    return noisy and method in PER_SHOT_METHODS


def correlated_pairs(c: Circuit) -> list[tuple[int, int]]:
    """The repeated-trial seeds of circuit ``c`` that share shots (empty when none do)."""
    if not c.seeds or not shares_shots(c.method, c.noise_model is not None):
        return []
    return close_pairs(c.deposited_seeds(), c.shots)


def far_from(candidate: int, others: Iterable[int], spacing: int) -> bool:
    """``candidate`` is at least ``spacing`` away from each of ``others``."""
    return all(abs(candidate - o) >= spacing for o in others)
