"""The claim kinds by name. Adding a kind: its model in harness.intake.manifest (a member
of the Claim union), one module in harness.claims.kinds and one line in KINDS (and a section
in docs/statistics.md)."""

from __future__ import annotations

from typing import Any

from harness.claims.base import ClaimKind
from harness.claims.kinds.aggregate import Aggregate
from harness.claims.kinds.comparative import Comparative
from harness.claims.kinds.counts import Counts
from harness.claims.kinds.one_sided import OneSided
from harness.claims.kinds.quantum_volume import QuantumVolume
from harness.claims.kinds.scalar import Scalar
from harness.claims.kinds.trials import Trials
from harness.intake.manifest import Claim

KINDS: dict[str, ClaimKind[Any]] = {
    kind.name: kind
    for kind in (
        Scalar(),
        Counts(),
        Trials(),
        Aggregate(),
        OneSided(),
        Comparative(),
        QuantumVolume(),
    )
}


def kind_of(claim: Claim) -> ClaimKind[Any]:
    """The kind of a parsed claim."""
    return KINDS[claim.kind]
