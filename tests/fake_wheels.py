"""Tiny wheels made in tests: a fake replay stack (a ``qiskit_aer`` whose AerSimulator
fabricates counts), a wheel adding a file under a stack package, an entry-point plugin."""

from __future__ import annotations

from benchmarks.hostile.generate import FORGED_AER, record_hash, stack_wheel

__all__ = ["FAKE_AER", "fake_aer_wheel", "record_hash", "stack_wheel"]

#: the forged qiskit_aer of the hostile corpus (its AerSimulator fabricates counts)
FAKE_AER = FORGED_AER


def fake_aer_wheel() -> tuple[str, bytes]:
    """``qiskit_aer-0.18.2-py3-none-any.whl``: a forged qiskit-aer."""
    return "qiskit_aer-0.18.2-py3-none-any.whl", stack_wheel(
        "qiskit-aer", "0.18.2", {"qiskit_aer/__init__.py": FAKE_AER.encode()})
