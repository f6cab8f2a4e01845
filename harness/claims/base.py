"""What every claim kind is: the manifest shape it accepts, the runs it reads, the test that
decides it. One subclass per kind, one module each (harness.claims.kinds), registered by
name in harness.claims.registry."""

from __future__ import annotations

import fnmatch
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, NoReturn

from harness.errors import ManifestError
from harness.intake.manifest import Claim, Manifest, Source
from harness.models import ClaimResult, Comparison, Execution, Verdict

#: circuit metrics computed from counts against the ideal (noiseless) distribution
NEEDS_IDEAL = ("hellinger_fidelity", "tvd_ideal", "heavy_output_probability")
CIRCUIT_METRICS = (*NEEDS_IDEAL, "success_probability")
#: fields that belong to some kinds only; a kind lists those it reads in ``fields``
KIND_FIELDS = ("statistic", "above", "direction", "order", "better", "confidence")


@dataclass(frozen=True)
class Shape:
    """A claim as the manifest states it, for the checks made when the manifest is read."""

    claim: Claim
    where: str
    manifest: Manifest
    file: str

    def fail(self, message: str, field: str = "") -> NoReturn:
        raise ManifestError(
            message, file=self.file, field=f"{self.where}.{field}" if field else self.where
        )


@dataclass(frozen=True)
class Evidence:
    """What a claim is decided on: the manifest, the runs and the recorded counts."""

    manifest: Manifest
    execution: Execution | None
    recorded: Mapping[str, dict[str, int]]
    seed: int


def expand(patterns: list[str], m: Manifest) -> list[str]:
    """Circuit ids matching ``patterns`` (ids or shell-style patterns), in manifest order."""
    return [c.id for c in m.circuits if any(fnmatch.fnmatchcase(c.id, p) for p in patterns)]


def result(
    claim: Claim, verdict: Verdict, message: str, comparison: Comparison | None = None
) -> ClaimResult:
    return ClaimResult(
        id=claim.id,
        kind=claim.kind or "",
        source=claim.source_label(),
        metric=claim.metric,
        verdict=verdict,
        tolerance=claim.tolerance.model_dump(mode="json") if claim.tolerance else None,
        comparison=comparison,
        message=message,
    )


def decided(claim: Claim, comparison: Comparison) -> ClaimResult:
    return result(claim, comparison.verdict, comparison.evidence, comparison)


class ClaimKind(ABC):
    """One kind of claim. Subclasses set the class variables and write ``evaluate``."""

    name: ClassVar[str]
    #: one line for the docs
    summary: ClassVar[str]
    #: which of KIND_FIELDS this kind reads
    fields: ClassVar[frozenset[str]] = frozenset()
    #: tolerance kinds allowed; empty: the kind takes no tolerance
    tolerances: ClassVar[tuple[str, ...]] = ("absolute", "relative")
    tolerance_required: ClassVar[bool] = True
    tests: ClassVar[tuple[str, ...]] = ("auto",)
    needs_value: ClassVar[bool] = True

    # --- the manifest shape -------------------------------------------------------------

    def check(self, shape: Shape) -> None:
        """Raise ManifestError (file + field) when the claim is not of this kind's shape."""
        c = shape.claim
        for name in KIND_FIELDS:
            if name in c.model_fields_set and name not in self.fields:
                shape.fail(f"'{name}' does not apply to a {self.name} claim", name)
        self.check_sources(shape)
        if self.needs_value and c.value is None:
            shape.fail(f"a {self.name} claim needs a value", "value")
        if c.tolerance is None:
            if self.tolerance_required:
                shape.fail(f"a {self.name} claim needs a tolerance", "tolerance")
        elif c.tolerance.kind not in self.tolerances:
            allowed = ", ".join(self.tolerances) or "none (leave it out)"
            shape.fail(
                f"tolerance '{c.tolerance.kind}' does not apply to a {self.name} claim on "
                f"metric '{c.metric}'; use one of: {allowed}", "tolerance")
        if c.test not in self.tests:
            shape.fail(
                f"test '{c.test}' does not apply to a {self.name} claim on metric "
                f"'{c.metric}'; use one of: {', '.join(self.tests)}", "test")
        self.check_metric(shape)
        self.check_more(shape)

    def check_sources(self, shape: Shape) -> None:
        """Default: one source, a circuit or a notebook, that exists."""
        c = shape.claim
        if c.source is None:
            shape.fail(f"a {self.name} claim needs a source", "source")
        if c.source.circuits is not None:
            shape.fail(f"a {self.name} claim has one source: circuit or notebook, not "
                       "circuits (a group is for aggregate and quantum-volume claims)",
                       "source.circuits")
        single_source(shape, c.source, "source")

    def check_metric(self, shape: Shape) -> None:
        c = shape.claim
        notebooks = [s for s in self.sources(c) if s.notebook is not None]
        if c.metric == "success_probability" and not c.outcomes:
            shape.fail("success_probability needs the outcomes it counts", "outcomes")
        if (c.metric == "notebook_metric") != bool(notebooks) or (notebooks and not c.name):
            shape.fail("a notebook_metric claim needs a notebook source and a metric name",
                       "name")

    def check_more(self, shape: Shape) -> None:  # noqa: B027 (optional hook)
        """Kind-specific checks beyond the common ones (none by default)."""

    # --- the runs it reads --------------------------------------------------------------

    def sources(self, claim: Claim) -> list[Source]:
        return [claim.source] if claim.source is not None else []

    def circuits(self, claim: Claim, m: Manifest) -> list[str]:
        """Ids of the circuits whose runs this claim reads."""
        return expand(claim.circuit_refs(), m)

    def needs_ideal(self, claim: Claim) -> bool:
        return claim.metric in NEEDS_IDEAL

    def fresh_seeds_apply(self, claim: Claim) -> bool:
        """Whether --fresh-seeds runs of its sources tell anything about this claim."""
        return claim.metric != "counts"

    # --- the decision -------------------------------------------------------------------

    @abstractmethod
    def evaluate(self, claim: Claim, ev: Evidence) -> ClaimResult:
        """The verdict with its comparison; never raises for bad runs (verdict error)."""


def single_source(shape: Shape, source: Source, field: str) -> None:
    """``source`` names exactly one existing circuit or notebook."""
    try:
        kind, ref = source.kind_and_id()
    except ValueError as exc:
        shape.fail(str(exc), field)
    m = shape.manifest
    known = {c.id for c in m.circuits} if kind == "circuit" else {n.id for n in m.notebooks}
    if ref not in known:
        shape.fail(f"unknown {kind} '{ref}'", f"{field}.{kind}")
