"""The QDATA profile, version 1: the manifest (``qdata.yaml``) at a deposit's root.

The pydantic models below are the single source of truth: the JSON Schema shipped in
``harness/schema/qdata-v1.schema.json`` (and printed by ``qrepro schema``) is generated
from them, and ``docs/qdata.md`` documents every field. Models are frozen; unknown
fields are rejected so that a typo is an error, not a silently ignored setting. A claim is
one model per kind (the ``Claim`` union), so the schema says per kind which fields apply;
what needs the rest of the manifest (a source names a circuit that exists, ...) is checked
by ``check_references`` (``ClaimBase.problems``).
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
from collections.abc import Container, Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from harness.errors import ManifestError
from harness.intake.safe_yaml import load_yaml
from harness.schemas import published_schema
from harness.tolerances import (
    AbsoluteTolerance,
    DistanceTolerance,
    ExactTolerance,
    RelativeTolerance,
    ShotNoiseTolerance,
    Spread,
)
from harness.units import width_of

MANIFEST_NAME = "qdata.yaml"
PROFILE_VERSION = 1

_DOI = re.compile(r"^10\.\d{4,9}/\S+$")
_ORCID = re.compile(r"^\d{4}-\d{4}-\d{4}-\d{3}[\dX]$")
_SHA256 = r"^[0-9a-f]{64}$"
_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


#: seeds Aer accepts (a signed 64-bit integer; larger ones end in a TypeError inside Aer)
MAX_SEED = 2**63 - 1
#: a day: a longer time limit is a typo, not a plan
MAX_TIMEOUT_S = 86_400


class _Model(BaseModel):
    # allow_inf_nan=False: a tolerance of .inf or a NaN value means nothing
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


def _relative_path(value: str) -> str:
    """One confinement rule for every path the manifest names: relative, inside, plain."""
    if not value:
        raise ValueError("empty path")
    if "\x00" in value or "\\" in value:
        raise ValueError(f"{value!r}: NUL bytes and backslashes are not allowed in paths")
    if value.startswith("/") or re.match(r"^[A-Za-z]:", value):
        raise ValueError(f"{value!r}: paths must be relative to the deposit root, not absolute")
    if ".." in value.split("/"):
        raise ValueError(f"{value!r}: '..' would leave the deposit")
    if value.startswith("~"):
        raise ValueError(f"{value!r}: '~' (a home directory) is not a deposit path")
    return value


RelPath = Annotated[str, Field(min_length=1, max_length=1024), AfterValidator(_relative_path)]

#: Debian's package-name grammar (Policy 5.6.1): lowercase letters, digits, + - .
_DEBIAN_PACKAGE = re.compile(r"[a-z0-9][a-z0-9+.-]+")


def _debian_package(name: str) -> str:
    if not _DEBIAN_PACKAGE.fullmatch(name) or len(name) > 100:
        raise ValueError(f"{name[:60]!r} is not a Debian package name (lowercase letters, "
                         "digits and + - . only)")
    return name


def _wheel_name(value: str) -> str:
    if not value.endswith(".whl"):
        raise ValueError(f"{value!r} is not a wheel (.whl): vendor built wheels only; a source "
                         "distribution would run its build code")
    return value


#: name==N.N.N, the common case: a valid requirement without asking packaging (whose import
#: costs qrepro validate tens of milliseconds); anything else goes through packaging
_SIMPLE_PIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?==[0-9]+(?:\.[0-9]+)*")


def plain_requirement(line: str) -> str:
    """A requirement is ``name[extras] (==version)`` with optional markers and hashes only:
    never an option (``--index-url``, ``-e``), a URL, a path or a VCS reference."""
    text = line.strip()
    if _SIMPLE_PIN.fullmatch(text):
        return line
    if text.startswith("-"):
        raise ValueError(f"{text!r}: options are not allowed in requirements (the package "
                         "index is the evaluator's choice, never the deposit's)")
    if re.search(r"://|^file:|^git\+|^hg\+|^svn\+|^bzr\+", text) or " @ " in text \
            or text.startswith(("/", ".")):
        raise ValueError(f"{text!r}: URLs, paths and VCS references are not allowed; pin "
                         "name==version, or vendor a wheel under environment.wheels")
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        req = Requirement(text.split(" --hash")[0])
    except InvalidRequirement as exc:
        raise ValueError(f"{text!r}: not a requirement: {exc}") from None
    if req.url:
        raise ValueError(f"{text!r}: direct references (name @ URL) are not allowed")
    return line


# --- identity -------------------------------------------------------------------------


class Identifier(_Model):
    scheme: Literal["doi", "handle", "ark", "swh", "url", "other"] = Field(
        description="Kind of persistent identifier."
    )
    value: str = Field(min_length=1, description="The identifier itself, e.g. 10.5281/zenodo.1.")

    @field_validator("value")
    @classmethod
    def _doi_shape(cls, value: str, info: Any) -> str:
        if info.data.get("scheme") == "doi" and not _DOI.match(value):
            raise ValueError("a DOI looks like 10.NNNN/suffix (no https://doi.org/ prefix)")
        return value


class Identity(_Model):
    identifier: Identifier | None = Field(
        default=None, description="Persistent identifier; required for Artifacts Available."
    )
    title: str = Field(min_length=1)
    version: str = Field(min_length=1, description="Version of the deposit, e.g. 1.0.0.")
    created: dt.date = Field(description="Creation date, YYYY-MM-DD.")


# --- provenance -----------------------------------------------------------------------


def orcid_check_digit(digits: str) -> str:
    """The ISO 7064 mod 11-2 check character of an ORCID iD's first 15 digits."""
    total = 0
    for digit in digits:
        total = (total + int(digit)) * 2
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def orcid_problem(value: str) -> str | None:
    """Why ``value`` is not an ORCID iD (shape, then checksum), or None when it is one."""
    if not _ORCID.match(value):
        return "an ORCID iD looks like 0000-0002-1825-0097"
    digits = value.replace("-", "")
    expected = orcid_check_digit(digits[:-1])
    if digits[-1] != expected:
        return (f"{value} fails the ORCID checksum (ISO 7064 mod 11-2): its last character "
                f"would be {expected}; check for a mistyped digit")
    return None


class Author(_Model):
    name: str = Field(min_length=1)
    orcid: str | None = Field(default=None, description="ORCID iD, 0000-0002-1825-0097 form.")
    affiliation: str | None = None

    @field_validator("orcid")
    @classmethod
    def _orcid_valid(cls, value: str | None) -> str | None:
        problem = orcid_problem(value) if value is not None else None
        if problem is not None:
            raise ValueError(problem)
        return value


class LineageItem(_Model):
    description: str = Field(min_length=1, description="What this deposit was derived from.")
    identifier: str | None = Field(default=None, description="DOI/URL of the source, if any.")


class Provenance(_Model):
    authors: list[Author] = Field(min_length=1)
    institution: str | None = None
    source: Literal["simulator", "hardware", "mixed"]
    lineage: list[LineageItem] = Field(default_factory=list)
    calibration: RelPath | None = Field(
        default=None,
        description="Path of a hardware calibration snapshot (calibration-v1 JSON), if any.",
    )


# --- license and consent --------------------------------------------------------------


class License(_Model):
    spdx: str = Field(min_length=1, description="SPDX license identifier, e.g. CC-BY-4.0.")
    commercial_use: bool = Field(description="Whether commercial use is allowed.")
    redistribution: str | None = Field(default=None, description="Redistribution terms.")
    embargo_until: dt.date | None = Field(
        default=None, description="Date the embargo ends; the deposit is not Available before."
    )


class Consent(_Model):
    personal_data: bool = Field(description="Does the deposit hold data about people?")
    basis: (
        Literal[
            "not-applicable",
            "informed-consent",
            "public-task",
            "legitimate-interest",
            "contract",
            "anonymised",
        ]
        | None
    ) = Field(default=None, description="Legal basis for processing personal data.")
    record: str | None = Field(default=None, description="Pointer to the consent record.")
    deidentification: str | None = Field(default=None, description="De-identification notes.")


# --- environment and inventory --------------------------------------------------------


class Environment(_Model):
    python: str = Field(pattern=r"^3\.\d+(\.\d+)?$", description="Python version, e.g. 3.11.")
    requirements: list[Annotated[str, AfterValidator(plain_requirement)]] = Field(
        default_factory=list, description="Requirements, each exactly pinned (name==version)."
    )
    lock_file: RelPath | None = Field(default=None, description="Path of a pip/uv lock file.")
    wheels: list[Annotated[RelPath, AfterValidator(_wheel_name)]] = Field(
        default_factory=list,
        description="Wheel files vendored in the deposit (inventoried, so pinned by checksum), "
        "installed after the requirements.",
    )
    system_packages: list[Annotated[str, AfterValidator(_debian_package)]] = Field(
        default_factory=list, description="Debian packages (Debian's package-name grammar)."
    )


class FileEntry(_Model):
    path: RelPath = Field(description="POSIX path relative to the deposit root.")
    sha256: str = Field(pattern=_SHA256)
    size: int = Field(ge=0, description="Size in bytes.")
    storage: Literal["inline", "git-lfs", "dvc"] = Field(
        default="inline",
        description="inline: the bytes are here; git-lfs / dvc: tracked externally (the "
        "checksum is of the real data, which must be fetched before evaluation).",
    )


# --- experiments ----------------------------------------------------------------------


class NoiseModelRef(_Model):
    id: str = Field(pattern=_ID)
    file: RelPath
    format: Literal["qrepro-noise-v1", "qiskit-noise-dict", "calibration-v1"]


class Circuit(_Model):
    id: str = Field(pattern=_ID)
    file: RelPath
    format: Literal["qasm2", "qasm3", "qpy"] | None = Field(
        default=None, description="Inferred from the extension (.qasm = qasm2, .qpy) if absent."
    )
    shots: int = Field(ge=1, le=10_000_000)
    seed_simulator: int | None = Field(default=None, ge=0, le=MAX_SEED)
    seed_transpiler: int | None = Field(default=None, ge=0, le=MAX_SEED)
    optimization_level: int = Field(default=0, ge=0, le=3)
    method: Literal[
        "automatic",
        "statevector",
        "density_matrix",
        "stabilizer",
        "matrix_product_state",
        "extended_stabilizer",
        "unitary",
        "superop",
        "tensor_network",
    ] = "statevector"
    precision: Literal["double", "single"] = "double"
    noise_model: str | None = Field(default=None, description="id of a noise_models entry.")
    counts: RelPath | None = Field(default=None, description="JSON file of the recorded counts.")
    seeds: list[Annotated[int, Field(ge=0, le=MAX_SEED)]] = Field(
        default_factory=list,
        description="Repeated trials: one run per seed_simulator value, for claims over seeds "
        "(spread / per_seed).",
    )

    def deposited_seeds(self) -> list[int]:
        """Every seed the deposit ran this circuit with: the trials' and the recorded one."""
        return [*self.seeds, *([self.seed_simulator] if self.seed_simulator is not None else [])]


class Notebook(_Model):
    id: str = Field(pattern=_ID)
    path: RelPath
    parameters: dict[str, Any] = Field(default_factory=dict)
    seeds: list[Annotated[int, Field(ge=0, le=MAX_SEED)]] = Field(
        default_factory=list, max_length=1000, description="One execution per seed.")
    shots: int | None = Field(default=None, ge=1, le=10_000_000,
                              description="Injected as `shots`.")
    noise_model: str | None = Field(
        default=None,
        description="id of a noise_models entry; its canonical JSON path is "
        "injected as `noise_model_path`.",
    )
    timeout: int = Field(default=600, ge=1, le=MAX_TIMEOUT_S,
                         description="Seconds per execution (whole notebook), at most a day.")
    cell_timeout: int = Field(default=300, ge=1, le=MAX_TIMEOUT_S,
                              description="Seconds per cell, at most a day.")
    metrics: RelPath = Field(
        default="metrics.json", description="File (in the output directory) the notebook writes."
    )


# --- claims ---------------------------------------------------------------------------


class Source(_Model):
    circuit: str | None = None
    notebook: str | None = None
    circuits: list[Annotated[str, Field(min_length=1)]] | None = Field(
        default=None,
        min_length=1,
        max_length=10_000,
        description="A group of circuits (ids or shell-style patterns such as qv4_*), for "
        "aggregate and quantum-volume claims.",
    )

    def kind_and_id(self) -> tuple[Literal["circuit", "notebook"], str]:
        if self.circuit is not None and self.notebook is None and self.circuits is None:
            return "circuit", self.circuit
        if self.notebook is not None and self.circuit is None and self.circuits is None:
            return "notebook", self.notebook
        raise ValueError("a claim source names exactly one of circuit or notebook")

    def label(self) -> str:
        """``circuit:ID``, ``notebook:ID`` or ``circuits:P1,P2``."""
        if self.circuits is not None:
            return "circuits:" + ",".join(self.circuits)
        kind, ref = self.kind_and_id()
        return f"{kind}:{ref}"


#: the tolerances of a claim on a number (the margin around the claimed value)
Margin = Annotated[AbsoluteTolerance | RelativeTolerance, Field(discriminator="kind")]

#: circuit metrics computed from counts (the first three against the ideal distribution)
CircuitMetric = Literal[
    "hellinger_fidelity", "tvd_ideal", "heavy_output_probability", "success_probability"
]
#: a number: a circuit metric, or a notebook's metric (named by the claim's ``name``)
NumberMetric = Literal[CircuitMetric, "notebook_metric"]
Metric = Literal["counts", NumberMetric]

ClaimKindName = Literal[
    "scalar", "counts", "trials", "aggregate", "one-sided", "comparative", "quantum-volume"
]

_TOLERANCE = ("Equivalence margin around the claimed value (one-sided: non-inferiority "
              "margin; comparative: the margin each must win by).")


class ClaimBase(_Model):
    """What every claim kind has; one subclass per kind (the ``Claim`` union). Fields a
    kind does not read are not allowed on it, so the JSON Schema says per kind what
    applies. The checks that need the whole manifest are ``problems``."""

    #: extra hints for a field that does not apply to this kind: {field: message}
    misplaced: ClassVar[dict[str, str]] = {}

    id: str = Field(pattern=_ID)
    kind: ClaimKindName = Field(
        description="What is claimed (docs/statistics.md has a section per kind). Omitted: "
        "counts for metric counts, trials for a notebook or a circuit with seeds, else scalar.",
    )
    metric: Metric
    test: str = "auto"

    @classmethod
    def kind_name(cls) -> str:
        """The ``kind`` this model is for."""
        return str(get_args(cls.model_fields["kind"].annotation)[0])

    def sources(self) -> list[Source]:
        """The sources the claim's values come from."""
        return []

    def source_label(self) -> str:
        """Where the claim's values come from, as reports show it."""
        return " > ".join(s.label() for s in self.sources()) or "-"

    def circuit_refs(self) -> list[str]:
        """Circuit ids and patterns this claim names (not expanded)."""
        return [r for s in self.sources() for r in (s.circuits or ([s.circuit] if s.circuit
                                                                     else []))]

    # --- what needs the whole manifest: (field, message) for each problem, first first ----

    def problems(self, m: Manifest) -> Iterator[tuple[str, str]]:
        yield from self.source_problems(m)
        yield from self.metric_problems()
        yield from self.more_problems(m)

    def source_problems(self, m: Manifest) -> Iterator[tuple[str, str]]:
        """Default: one source, a circuit or a notebook, that exists."""
        for s in self.sources():
            if s.circuits is not None:
                yield ("source.circuits", f"a {self.kind} claim has one source: circuit or "
                       "notebook, not circuits (a group is for aggregate and quantum-volume "
                       "claims)")
            yield from _single_source(s, "source", m)

    def metric_problems(self) -> Iterator[tuple[str, str]]:
        outcomes: list[str] | None = getattr(self, "outcomes", None)
        if self.metric == "success_probability" and not outcomes:
            yield "outcomes", "success_probability needs the outcomes it counts"
        notebooks = [s for s in self.sources() if s.notebook is not None]
        if (self.metric == "notebook_metric") != bool(notebooks) or (
                notebooks and not getattr(self, "name", None)):
            yield "name", "a notebook_metric claim needs a notebook source and a metric name"

    def more_problems(self, m: Manifest) -> Iterator[tuple[str, str]]:
        """Kind-specific checks beyond the common ones (none by default)."""
        return iter(())


def _single_source(source: Source, field: str, m: Manifest) -> Iterator[tuple[str, str]]:
    """``source`` names exactly one existing circuit or notebook."""
    try:
        kind, ref = source.kind_and_id()
    except ValueError as exc:
        yield field, str(exc)
        return
    known = {c.id for c in m.circuits} if kind == "circuit" else {n.id for n in m.notebooks}
    if ref not in known:
        yield f"{field}.{kind}", f"unknown {kind} '{ref}'"


def _group_problems(c: AggregateClaim | QuantumVolumeClaim, m: Manifest,
                    notebook_allowed: bool) -> Iterator[tuple[str, str]]:
    """``source.circuits`` names circuits that exist (or a notebook, when allowed)."""
    if c.source.circuits is None:
        if not notebook_allowed:
            yield ("source.circuits",
                   f"a {c.kind} claim needs a group of circuits (source.circuits)")
        elif c.source.notebook is None:
            yield ("source", f"a {c.kind} claim needs source.circuits (a group of circuits) "
                   "or source.notebook (its seeds)")
        yield from _single_source(c.source, "source", m)
        return
    if c.source.circuit is not None or c.source.notebook is not None:
        yield "source", "source.circuits goes alone"
    for i, pattern in enumerate(c.source.circuits):
        if not expand([pattern], m):
            yield f"source.circuits[{i}]", f"no circuit matches '{pattern}'"


def expand(patterns: list[str], m: Manifest) -> list[str]:
    """Circuit ids matching ``patterns`` (ids or shell-style patterns), in manifest order."""
    return [c.id for c in m.circuits if any(fnmatch.fnmatchcase(c.id, p) for p in patterns)]


# the fields some kinds share, one mixin each


class _Sourced(ClaimBase):
    source: Source = Field(description="Where the values come from.")

    def sources(self) -> list[Source]:
        return [self.source]


class _Valued(ClaimBase):
    value: float = Field(description="The claimed value.")


class _Outcomes(ClaimBase):
    outcomes: list[str] | None = Field(
        default=None, description="Bitstrings counted by success_probability."
    )


class _Named(_Outcomes):
    name: str | None = Field(default=None, description="Metric name in a notebook's metrics file.")


class _Better(ClaimBase):
    better: Literal["higher", "lower"] = Field(
        default="higher",
        description="Whether a higher metric is better: the order of a comparative claim, and "
        "the flattering direction the fresh-seed check looks for (default: higher; tvd_ideal: "
        "lower).",
    )


class _Confident(ClaimBase):
    confidence: float = Field(
        default=0.95, ge=0.5, lt=1, description="Confidence of one-sided, aggregate and "
        "comparative claims."
    )


class ScalarClaim(_Sourced, _Valued, _Outcomes, _Better):
    """One number computed from the counts of one circuit run."""

    kind: Literal["scalar"] = "scalar"
    metric: CircuitMetric
    tolerance: Annotated[
        AbsoluteTolerance | RelativeTolerance | ShotNoiseTolerance, Field(discriminator="kind")
    ] = Field(description=_TOLERANCE)
    test: Literal["auto", "threshold"] = "auto"

    def more_problems(self, m: Manifest) -> Iterator[tuple[str, str]]:
        if self.source.circuit is None:
            yield ("source", "a scalar claim reads one circuit run; a notebook's metric is "
                   "a trials claim")
        elif m.circuit(self.source.circuit).seeds:
            yield "kind", "the circuit has seeds: its claim is a trials claim"


class CountsClaim(_Sourced):
    """The reproduced counts of a circuit match its recorded counts."""

    kind: Literal["counts"] = "counts"
    metric: Literal["counts"]
    tolerance: Annotated[
        DistanceTolerance | ShotNoiseTolerance | ExactTolerance, Field(discriminator="kind")
    ] = Field(description=_TOLERANCE)
    test: Literal[
        "auto",
        "exact",
        "permutation-tvd",
        "permutation-infidelity",
        "bootstrap-tvd",  # the first version's name of permutation-tvd
        "bootstrap-infidelity",  # the first version's name of permutation-infidelity
        "chi-square",
    ] = "auto"

    def more_problems(self, m: Manifest) -> Iterator[tuple[str, str]]:
        if self.source.circuit is None or m.circuit(self.source.circuit).counts is None:
            yield "source", "a counts claim needs a circuit with recorded counts"


class TrialsClaim(_Sourced, _Valued, _Named, _Better):
    """A mean over the seeds of a notebook or of a circuit with seeds."""

    kind: Literal["trials"] = "trials"
    metric: NumberMetric
    spread: Spread | None = None
    per_seed: list[float] | None = None
    tolerance: Margin = Field(description=_TOLERANCE)
    test: Literal["auto", "tost", "tost-welch", "bootstrap-ci"] = "auto"
    step: float | None = Field(
        default=None, gt=0, description="Natural step of the metric (1/n_test for an accuracy)."
    )

    def more_problems(self, m: Manifest) -> Iterator[tuple[str, str]]:
        if self.source.circuit is not None and not m.circuit(self.source.circuit).seeds:
            yield ("source.circuit", "a trials claim on a circuit needs the circuit's seeds "
                   "(its `seeds` list); one run is a scalar claim")
        if self.test != "auto" and self.spread is None and not self.per_seed:
            yield "test", f"test '{self.test}' needs a spread or per-seed values"
        if self.test == "tost-welch" and not self.per_seed:
            yield "per_seed", "test 'tost-welch' needs per-seed values"


class AggregateClaim(_Sourced, _Valued, _Named, _Confident):
    """A mean, median or fraction above a value over circuits or notebook seeds."""

    kind: Literal["aggregate"]
    metric: NumberMetric
    statistic: Literal["mean", "median", "fraction_above"] = Field(
        description="The statistic over the group."
    )
    above: float | None = Field(
        default=None, description="With statistic fraction_above: the threshold."
    )
    tolerance: Margin = Field(description=_TOLERANCE)
    test: Literal["auto"] = "auto"

    def source_problems(self, m: Manifest) -> Iterator[tuple[str, str]]:
        return _group_problems(self, m, notebook_allowed=True)

    def more_problems(self, m: Manifest) -> Iterator[tuple[str, str]]:
        if (self.statistic == "fraction_above") != (self.above is not None):
            yield "above", "`above` goes with statistic fraction_above (and only with it)"


class OneSidedClaim(_Sourced, _Valued, _Named, _Better, _Confident):
    """The reproduced value is at least (or at most) the claimed value."""

    kind: Literal["one-sided"]
    metric: NumberMetric
    direction: Literal["at_least", "at_most"] = Field(
        description="The reproduced value is at least / at most value."
    )
    tolerance: Margin | None = Field(default=None, description=_TOLERANCE)
    test: Literal["auto"] = "auto"


class ComparativeClaim(_Named, _Better, _Confident):
    """An order of two or more methods on one metric, best first."""

    misplaced: ClassVar[dict[str, str]] = {
        "source": "a comparative claim names its sources in `order`, not `source`",
        "value": "a comparative claim states an order, not a value",
    }

    kind: Literal["comparative"]
    metric: NumberMetric
    order: list[Source] = Field(
        min_length=2, max_length=50, description="The sources from best to worst."
    )
    tolerance: AbsoluteTolerance | None = Field(default=None, description=_TOLERANCE)
    test: Literal["auto"] = "auto"

    def sources(self) -> list[Source]:
        return list(self.order)

    def source_problems(self, m: Manifest) -> Iterator[tuple[str, str]]:
        for i, s in enumerate(self.order):
            if s.circuits is not None:
                yield f"order[{i}]", "each entry of order is one circuit or notebook"
            yield from _single_source(s, f"order[{i}]", m)
        labels = [s.label() for s in self.order]
        if len(set(labels)) != len(labels):
            yield "order", "order names a source twice"


class QuantumVolumeClaim(_Sourced, _Valued):
    """The heavy-output criterion of Cross et al. 2019 for a claimed quantum volume."""

    misplaced: ClassVar[dict[str, str]] = {
        "tolerance": "a quantum-volume claim takes no tolerance: the criterion is fixed",
    }

    kind: Literal["quantum-volume"]
    metric: Literal["heavy_output_probability"]
    test: Literal["auto"] = "auto"

    @field_validator("value")
    @classmethod
    def _power_of_two(cls, value: float) -> float:
        if width_of(value) is None:
            raise ValueError(f"a quantum volume is a power of two >= 2, not {value:g}")
        return value

    def source_problems(self, m: Manifest) -> Iterator[tuple[str, str]]:
        return _group_problems(self, m, notebook_allowed=False)


CLAIM_MODELS: tuple[type[ClaimBase], ...] = (
    ScalarClaim, CountsClaim, TrialsClaim, AggregateClaim, OneSidedClaim, ComparativeClaim,
    QuantumVolumeClaim,
)


def infer_kind(claim: Mapping[str, Any], seeded: Container[str] = ()) -> str:
    """The kind a claim (as data) states, or the one its shape implies when it states none:
    counts for metric counts, trials for a notebook or a circuit in ``seeded`` (the ids of
    circuits with seeds), else scalar."""
    kind = claim.get("kind")
    if kind is not None:
        return str(kind)
    if claim.get("metric") == "counts":
        return "counts"
    source = claim.get("source")
    if isinstance(source, Mapping) and (
        source.get("notebook") is not None
        or (isinstance(source.get("circuit"), str) and source["circuit"] in seeded)
    ):
        return "trials"
    return "scalar"


def _claim_tag(claim: Any) -> str | None:
    """The union's discriminator: the stated or inferred kind (a claim validated on its own;
    in a manifest, Manifest fills in every kind first, knowing which circuits have seeds)."""
    if isinstance(claim, Mapping):
        return infer_kind(claim)
    return claim.kind if isinstance(claim, ClaimBase) else None


def _any_of(schema: dict[str, Any]) -> None:
    # a claim without kind may fit scalar and trials alike (it depends on its circuit's
    # seeds): any of the kinds, not exactly one
    schema["anyOf"] = schema.pop("oneOf")


#: a claim: one model per kind, picked by ``kind`` (stated or inferred)
Claim = Annotated[
    Annotated[ScalarClaim, Tag("scalar")]
    | Annotated[CountsClaim, Tag("counts")]
    | Annotated[TrialsClaim, Tag("trials")]
    | Annotated[AggregateClaim, Tag("aggregate")]
    | Annotated[OneSidedClaim, Tag("one-sided")]
    | Annotated[ComparativeClaim, Tag("comparative")]
    | Annotated[QuantumVolumeClaim, Tag("quantum-volume")],
    Discriminator(_claim_tag, custom_error_type="claim_type",
                  custom_error_message="a claim is a mapping: id, kind, metric, ..."),
    Field(json_schema_extra=_any_of),
]


# --- the manifest ---------------------------------------------------------------------


class Manifest(_Model):
    qdata: Literal[1] = Field(description="QDATA profile version.")
    identity: Identity
    provenance: Provenance
    license: License
    consent: Consent
    environment: Environment
    files: list[FileEntry] = Field(default_factory=list)
    noise_models: list[NoiseModelRef] = Field(default_factory=list)
    circuits: list[Circuit] = Field(default_factory=list)
    notebooks: list[Notebook] = Field(default_factory=list)
    claims: list[Claim] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _infer_kinds(cls, data: Any) -> Any:
        """Every claim's kind, stated or inferred, before the claims are validated: the
        inference needs the circuits (a circuit with seeds makes a trials claim)."""
        if not isinstance(data, Mapping) or not isinstance(data.get("claims"), list):
            return data
        circuits = data.get("circuits")
        seeded = {str(c.get("id")) for c in circuits if isinstance(c, Mapping) and c.get("seeds")
                  } if isinstance(circuits, list) else set()
        claims = [{**c, "kind": infer_kind(c, seeded)} if isinstance(c, Mapping) else c
                  for c in data["claims"]]
        return {**data, "claims": claims}

    def circuit(self, circuit_id: str) -> Circuit:
        return next(c for c in self.circuits if c.id == circuit_id)

    def noise_model(self, noise_id: str) -> NoiseModelRef:
        return next(n for n in self.noise_models if n.id == noise_id)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the manifest (draft 2020-12), as shipped."""
    return published_schema(Manifest, "qdata-v1.schema.json", "QDATA manifest, profile version 1")


def field_path(loc: tuple[int | str, ...]) -> str:
    """``('circuits', 2, 'shots')`` -> ``circuits[2].shots``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(root)"


def parse_manifest(data: Any, file: str = MANIFEST_NAME) -> Manifest:
    """Validate plain data against the profile and check cross-references."""
    if not isinstance(data, dict):
        raise ManifestError("the manifest must be a mapping", file=file, field="(root)")
    try:
        manifest = Manifest.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        field, message = _located(err)
        raise ManifestError(message + more, file=file, field=field) from exc
    return check_references(manifest, file)


_TOLERANCE_TAGS = {"absolute", "relative", "distance", "shot-noise", "exact"}
_CLAIM_MODELS = {model.kind_name(): model for model in CLAIM_MODELS}
#: every field some claim kind has
_CLAIM_FIELDS = {name for model in CLAIM_MODELS for name in model.model_fields}


def _located(err: ErrorDetails) -> tuple[str, str]:
    """(field path, message) of pydantic's error, without the unions' tags in the path; an
    error in a claim is said in terms of its kind."""
    loc = list(err["loc"])
    message = err["msg"].removeprefix("Value error, ")
    model = None
    if len(loc) >= 2 and loc[0] == "claims":
        if len(loc) == 2 and err["type"] == "claim_type" and isinstance(err["input"], Mapping):
            kinds = ", ".join(_CLAIM_MODELS)
            return (field_path((*loc, "kind")),
                    f"unknown claim kind {err['input'].get('kind')!r}; use one of: {kinds}")
        if len(loc) >= 3 and loc[2] in _CLAIM_MODELS:
            model = _CLAIM_MODELS[str(loc.pop(2))]
    loc = [p for i, p in enumerate(loc) if not (i and loc[i - 1] == "tolerance"
                                                and p in _TOLERANCE_TAGS)]
    if model is not None and len(loc) == 3:
        message = _claim_message(model, str(loc[2]), err) or message
    return field_path(tuple(loc)), message


def _claim_message(model: type[ClaimBase], name: str, err: ErrorDetails) -> str | None:
    """What is wrong with field ``name`` of a claim of ``model``'s kind, in its terms."""
    kind = model.kind_name()
    a_kind = f"{'an' if kind[0] in 'aeiu' else 'a'} {kind} claim"
    if err["type"] == "extra_forbidden" and name in _CLAIM_FIELDS:
        return model.misplaced.get(name, f"'{name}' does not apply to {a_kind}")
    field = model.model_fields.get(name)
    literal = field is not None and get_origin(field.annotation) is Literal
    choices = [str(c) for c in get_args(field.annotation)] if field and literal else []
    if err["type"] == "missing":
        article = "an" if name[0] in "aeiou" else "a"
        return f"{a_kind} needs {article} {name}" + (f": {' or '.join(choices)}" if choices
                                                     and len(choices) <= 3 else "")
    if err["type"] == "literal_error" and name in ("metric", "test"):
        return (f"{name} {err['input']!r} does not apply to {a_kind}; use one of: "
                f"{', '.join(choices)}")
    if err["type"] == "union_tag_invalid" and name == "tolerance":
        allowed = ", ".join(err["ctx"]["expected_tags"].replace("'", "").split(", "))
        return (f"tolerance {err['ctx']['tag']!r} does not apply to {a_kind}; use one of: "
                f"{allowed}")
    return None


def load_manifest(path: Path, display: str = MANIFEST_NAME) -> Manifest:
    """Read and validate ``qdata.yaml``; every failure is a ManifestError naming file+field."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ManifestError("no manifest at the deposit root", file=display) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(f"cannot read the manifest: {exc}", file=display) from exc
    return parse_manifest(load_yaml(text, display), display)


def _duplicates(ids: list[str]) -> list[str]:
    seen: set[str] = set()
    return [i for i in ids if i in seen or seen.add(i)]  # type: ignore[func-returns-value]


def check_references(m: Manifest, file: str = MANIFEST_NAME) -> Manifest:
    """Ids are unique, every reference (noise model, claim source) resolves and each claim
    fits the rest of the manifest (ClaimBase.problems); returns the manifest."""
    for section, ids in (
        ("files", [f.path for f in m.files]),
        ("noise_models", [n.id for n in m.noise_models]),
        ("circuits", [c.id for c in m.circuits]),
        ("notebooks", [n.id for n in m.notebooks]),
        ("claims", [c.id for c in m.claims]),
    ):
        dup = _duplicates(ids)
        if dup:
            raise ManifestError(f"duplicate entry '{dup[0]}'", file=file, field=section)
    noise_ids = {n.id for n in m.noise_models}
    references = [("circuits", i, c.noise_model) for i, c in enumerate(m.circuits)]
    references += [("notebooks", i, nb.noise_model) for i, nb in enumerate(m.notebooks)]
    for section, i, ref in references:
        if ref is not None and ref not in noise_ids:
            raise ManifestError(
                f"unknown noise model '{ref}'", file=file, field=f"{section}[{i}].noise_model"
            )
    for i, claim in enumerate(m.claims):
        problem = next(claim.problems(m), None)
        if problem is not None:
            field, message = problem
            raise ManifestError(message, file=file, field=f"claims[{i}].{field}")
    return m
