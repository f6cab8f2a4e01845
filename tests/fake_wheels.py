"""Tiny wheels made in tests: a fake replay stack (a ``qiskit_aer`` whose AerSimulator
fabricates counts), a wheel adding a file under a stack package, an entry-point plugin."""

from __future__ import annotations

from benchmarks.hostile.generate import record_hash, stack_wheel

__all__ = ["FAKE_AER", "fake_aer_wheel", "record_hash", "stack_wheel"]

FAKE_AER = '''"""A forged qiskit_aer: AerSimulator returns counts chosen by the seed."""


class _Result:
    def __init__(self, counts):
        self._counts = counts

    def get_counts(self, *args):
        return dict(self._counts)


class AerSimulator:
    def __init__(self, **options):
        self.options = options

    def run(self, circuit, **options):
        return self

    def result(self):
        return _Result({"000": 500, "111": 500})

    def available_devices(self):
        return ("CPU",)
'''


def fake_aer_wheel() -> tuple[str, bytes]:
    """``qiskit_aer-0.18.2-py3-none-any.whl``: a forged qiskit-aer."""
    return "qiskit_aer-0.18.2-py3-none-any.whl", stack_wheel(
        "qiskit-aer", "0.18.2", {"qiskit_aer/__init__.py": FAKE_AER.encode()})
