"""quantum-volume: "QV 16" from width-4 model circuits, by the criterion of Cross et al.

``value`` is the claimed volume 2^m; ``source.circuits`` the model circuits, each measuring
m bits; ``metric`` heavy_output_probability. Decided by harness.stats.quantum_volume."""

from __future__ import annotations

from harness.claims.base import ClaimKind, Evidence, result
from harness.claims.values import NotRun, circuit_run
from harness.errors import ComparisonError
from harness.intake.manifest import QuantumVolumeClaim, expand
from harness.models import ClaimResult
from harness.units import width_of


class QuantumVolume(ClaimKind[QuantumVolumeClaim]):
    model = QuantumVolumeClaim
    summary = "the heavy-output criterion of Cross et al. 2019 for a claimed quantum volume"

    def fresh_seeds_apply(self, claim: QuantumVolumeClaim) -> bool:
        return False

    def evaluate(self, claim: QuantumVolumeClaim, ev: Evidence) -> ClaimResult:
        from harness.stats import metrics
        from harness.stats.quantum_volume import qv_criterion

        assert claim.source.circuits is not None
        width = width_of(claim.value)
        hops: list[float] = []
        try:
            for ref in expand(claim.source.circuits, ev.manifest):
                run = circuit_run(ref, ev)
                if not run.ideal:
                    return result(claim, "error", f"circuit '{ref}' has no ideal distribution "
                                  "(more qubits than the ideal simulation takes, or "
                                  "mid-circuit measurements): its heavy outputs are unknown")
                bits = len(next(iter(run.ideal)))
                if bits != width:
                    return result(claim, "fail", f"circuit '{ref}' measures {bits} bits; QV "
                                  f"{claim.value:g} needs width-{width} circuits")
                hops.append(metrics.bind_metric(claim.metric, run.ideal)(run.counts))
        except NotRun as exc:
            return result(claim, "error", str(exc))
        except ComparisonError as exc:
            return result(claim, "error", exc.one_line())
        comparison = qv_criterion(hops, claim.value)
        return result(claim, comparison.verdict, comparison.evidence, comparison)
