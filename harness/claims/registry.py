"""The claim kinds by name. Adding a kind: one module in harness.claims.kinds and one line
in KINDS (and a section in docs/statistics.md)."""

from __future__ import annotations

from harness.claims.base import ClaimKind
from harness.claims.kinds.aggregate import Aggregate
from harness.claims.kinds.comparative import Comparative
from harness.claims.kinds.counts import Counts
from harness.claims.kinds.one_sided import OneSided
from harness.claims.kinds.quantum_volume import QuantumVolume
from harness.claims.kinds.scalar import Scalar
from harness.claims.kinds.trials import Trials
from harness.intake.manifest import Claim, Manifest

KINDS: dict[str, ClaimKind] = {
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


def inferred_kind(claim: Claim, m: Manifest) -> str:
    """The kind a claim states, or the one its shape implies when it states none."""
    if claim.kind is not None:
        return claim.kind
    if claim.metric == "counts":
        return "counts"
    source = claim.source
    if source is not None and (
        source.notebook is not None
        or (source.circuit is not None and any(
            c.id == source.circuit and c.seeds for c in m.circuits))
    ):
        return "trials"
    return "scalar"


def kind_of(claim: Claim) -> ClaimKind:
    """The kind of a parsed claim (parse_manifest fills in ``kind``)."""
    assert claim.kind is not None, "claims get their kind when the manifest is parsed"
    return KINDS[claim.kind]
