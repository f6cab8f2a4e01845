"""What every claim kind is: the manifest model it reads (its shape, published in the JSON
Schema, with the checks that need the whole manifest), the runs it reads, the test that
decides it. One subclass per kind, one module each (harness.claims.kinds), registered by
name in harness.claims.registry."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar, cast

from harness.intake.manifest import Claim, ClaimBase, Manifest, QuantumVolumeClaim, expand
from harness.models import ClaimResult, Comparison, ComputedBy, Execution, Verdict

#: circuit metrics computed from counts against the ideal (noiseless) distribution
NEEDS_IDEAL = ("hellinger_fidelity", "tvd_ideal", "heavy_output_probability")

C = TypeVar("C", bound=ClaimBase)
T = TypeVar("T")


@dataclass(frozen=True)
class Evidence:
    """What a claim is decided on: the manifest, the runs and the recorded counts; and what
    claims on the same runs share, computed once for all of them (``once``)."""

    manifest: Manifest
    execution: Execution | None
    recorded: Mapping[str, dict[str, int]]
    seed: int
    shared: dict[Hashable, Any] = field(default_factory=dict, compare=False, repr=False)

    def once(self, key: Hashable, make: Callable[[], T]) -> T:
        """``make()``, computed for the first claim that asks with ``key`` and kept for the
        others (a run's counts aligned with the recorded ones, a metric of a run: a million
        outcomes take seconds each time)."""
        if key not in self.shared:
            self.shared[key] = make()
        return cast(T, self.shared[key])


def computed_by(claim: Claim) -> ComputedBy:
    """deposit-code when any of the claim's values come from a notebook, else replay."""
    return "deposit-code" if any(s.notebook for s in claim.sources()) else "replay"


def result(
    claim: Claim, verdict: Verdict, message: str, comparison: Comparison | None = None
) -> ClaimResult:
    tolerance = None if isinstance(claim, QuantumVolumeClaim) else claim.tolerance
    return ClaimResult(
        id=claim.id,
        kind=claim.kind,
        computed_by=computed_by(claim),
        source=claim.source_label(),
        metric=claim.metric,
        verdict=verdict,
        tolerance=tolerance.model_dump(mode="json") if tolerance else None,
        comparison=comparison,
        message=message,
    )


def decided(claim: Claim, comparison: Comparison) -> ClaimResult:
    return result(claim, comparison.verdict, comparison.evidence, comparison)


class ClaimKind(ABC, Generic[C]):
    """One kind of claim, over its manifest model ``C``. Subclasses set the class variables
    and write ``evaluate``."""

    #: the manifest model of this kind's claims (what the JSON Schema publishes for it)
    model: ClassVar[type[ClaimBase]]
    #: one line for the docs
    summary: ClassVar[str]

    @property
    def name(self) -> str:
        return self.model.kind_name()

    # --- the runs it reads --------------------------------------------------------------

    def circuits(self, claim: C, m: Manifest) -> list[str]:
        """Ids of the circuits whose runs this claim reads."""
        return expand(claim.circuit_refs(), m)

    def needs_ideal(self, claim: C) -> bool:
        return claim.metric in NEEDS_IDEAL

    def fresh_seeds_apply(self, claim: C) -> bool:
        """Whether --fresh-seeds runs of its sources tell anything about this claim."""
        return claim.metric != "counts"

    # --- the decision -------------------------------------------------------------------

    @abstractmethod
    def evaluate(self, claim: C, ev: Evidence) -> ClaimResult:
        """The verdict with its comparison; never raises for bad runs (verdict error)."""
