"""The QDATA profile, version 1: the manifest (``qdata.yaml``) at a deposit's root.

The pydantic models below are the single source of truth: the JSON Schema shipped in
``harness/schema/qdata-v1.schema.json`` (and printed by ``qrepro schema``) is generated
from them, and ``docs/qdata.md`` documents every field. Models are frozen; unknown
fields are rejected so that a typo is an error, not a silently ignored setting.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from harness.errors import ManifestError
from harness.intake.safe_yaml import load_yaml
from harness.schemas import published_schema
from harness.tolerances import Spread, Tolerance

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


Metric = Literal[
    "counts",
    "hellinger_fidelity",
    "tvd_ideal",
    "heavy_output_probability",
    "success_probability",
    "notebook_metric",
]


ClaimKindName = Literal[
    "scalar", "counts", "trials", "aggregate", "one-sided", "comparative", "quantum-volume"
]


class Claim(_Model):
    id: str = Field(pattern=_ID)
    kind: ClaimKindName | None = Field(
        default=None,
        description="What is claimed (docs/statistics.md has a section per kind). Omitted: "
        "counts for metric counts, trials for a notebook or a circuit with seeds, else scalar.",
    )
    source: Source | None = Field(
        default=None, description="Where the values come from (every kind but comparative)."
    )
    metric: Metric
    value: float | None = Field(default=None, description="Claimed value (not for counts).")
    spread: Spread | None = None
    per_seed: list[float] | None = None
    tolerance: Tolerance | None = Field(
        default=None,
        description="Equivalence margin (or, for one-sided claims, non-inferiority margin); "
        "required except for comparative and quantum-volume claims.",
    )
    test: Literal[
        "auto",
        "threshold",
        "exact",
        "permutation-tvd",
        "permutation-infidelity",
        "bootstrap-tvd",  # the first version's name of permutation-tvd
        "bootstrap-infidelity",  # the first version's name of permutation-infidelity
        "chi-square",
        "tost",
        "tost-welch",
        "bootstrap-ci",
    ] = "auto"
    outcomes: list[str] | None = Field(
        default=None, description="Bitstrings counted by success_probability."
    )
    name: str | None = Field(default=None, description="Metric name in a notebook's metrics file.")
    step: float | None = Field(
        default=None, gt=0, description="Natural step of the metric (1/n_test for an accuracy)."
    )
    statistic: Literal["mean", "median", "fraction_above"] | None = Field(
        default=None, description="aggregate: the statistic over the group."
    )
    above: float | None = Field(
        default=None, description="aggregate with statistic fraction_above: the threshold."
    )
    direction: Literal["at_least", "at_most"] | None = Field(
        default=None, description="one-sided: the reproduced value is at least / at most value."
    )
    order: list[Source] | None = Field(
        default=None,
        min_length=2,
        max_length=50,
        description="comparative: the sources from best to worst.",
    )
    better: Literal["higher", "lower"] = Field(
        default="higher",
        description="Whether a higher metric is better: the order of a comparative claim, and "
        "the flattering direction the fresh-seed check looks for (default: higher; tvd_ideal: "
        "lower).",
    )
    confidence: float = Field(
        default=0.95, ge=0.5, lt=1, description="Confidence of one-sided and comparative claims."
    )

    def source_label(self) -> str:
        """Where the claim's values come from, as reports show it."""
        if self.order is not None:
            return " > ".join(s.label() for s in self.order)
        return self.source.label() if self.source is not None else "-"

    def circuit_refs(self) -> list[str]:
        """Circuit ids and patterns this claim names (not expanded)."""
        sources = [*([self.source] if self.source else []), *(self.order or [])]
        return [r for s in sources for r in (s.circuits or ([s.circuit] if s.circuit else []))]


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
        loc = tuple(p for p in err["loc"] if p not in _UNION_TAGS)
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        message = err["msg"].removeprefix("Value error, ")
        raise ManifestError(message + more, file=file, field=field_path(loc)) from exc
    return check_references(manifest, file)


# discriminated-union tags pydantic puts into error locations
_UNION_TAGS = {"absolute", "relative", "distance", "shot-noise", "exact"}


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
    has the shape of its kind; returns the manifest with every claim's kind filled in."""
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
    claims = [_check_claim(c, f"claims[{i}]", m, file) for i, c in enumerate(m.claims)]
    return m.model_copy(update={"claims": claims})


def _check_claim(claim: Claim, where: str, m: Manifest, file: str) -> Claim:
    """The claim with its kind filled in, once its kind accepts its shape."""
    from harness.claims.base import Shape  # the kinds know their shapes; they import us
    from harness.claims.registry import KINDS, inferred_kind

    kind = inferred_kind(claim, m)
    claim = claim.model_copy(update={"kind": kind})
    KINDS[kind].check(Shape(claim, where, m, file))
    return claim
