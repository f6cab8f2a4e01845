"""Plain, frozen data passed between the pipeline phases.

load -> validate -> build -> execute -> compare -> decide -> report: every phase returns
one of these models and the next one consumes it. ``report.json`` is a dump of
:class:`Report`; its JSON Schema (``qrepro schema --report``) is generated from here.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from harness.errors import located

BadgeKey = Literal["available", "functional", "reusable", "reproduced"]
BADGE_KEYS: tuple[BadgeKey, ...] = ("available", "functional", "reusable", "reproduced")
BADGE_NAMES: dict[BadgeKey, str] = {
    "available": "Artifacts Available",
    "functional": "Artifacts Evaluated - Functional",
    "reusable": "Artifacts Evaluated - Reusable",
    "reproduced": "Results Reproduced",
}
Severity = Literal["error", "warning", "info"]
Verdict = Literal["pass", "fail", "inconclusive", "error"]


class Frozen(BaseModel):
    # defer_build: a model's validator is built when it is first used, not on import, so
    # that qrepro validate does not pay for the report models it never builds
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class Finding(Frozen):
    """One observation about the deposit, with the badges it stands in the way of."""

    code: str = Field(description="Stable machine-readable code, e.g. checksum-mismatch.")
    severity: Severity
    message: str
    file: str | None = None
    field: str | None = None
    blocks: tuple[BadgeKey, ...] = Field(default=(), description="Badges this finding denies.")

    def one_line(self) -> str:
        return located(self.file, self.field, self.message)


def finding(
    code: str,
    severity: Severity,
    message: str,
    *,
    file: str | None = None,
    field: str | None = None,
    blocks: tuple[str, ...] = (),
) -> Finding:
    """A Finding; ``blocks`` names badges (checked when the model validates them)."""
    return Finding.model_validate(
        {
            "code": code,
            "severity": severity,
            "message": message,
            "file": file,
            "field": field,
            "blocks": blocks,
        }
    )


class Validation(Frozen):
    """Result of the validate phase."""

    findings: tuple[Finding, ...] = ()
    verified_files: tuple[str, ...] = Field(
        default=(), description="Inventoried files whose size and sha256 matched."
    )

    def blocking(self, badge: BadgeKey) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if badge in f.blocks)

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "error")


class CircuitJob(Frozen):
    """What the in-environment agent is asked to run for one circuit (one job each)."""

    id: str
    file: str = Field(description="Circuit file, relative to the deposit root.")
    format: Literal["qasm2", "qasm3", "qpy"]
    shots: int
    seed_simulator: int | None
    seed_transpiler: int | None
    optimization_level: int
    method: str
    precision: Literal["double", "single"]
    noise_model: str | None = Field(
        default=None,
        description="Canonical qrepro-noise-v1 JSON, relative to the work directory, or None.",
    )
    ideal: bool = Field(default=True, description="Also compute the ideal distribution.")
    circuit: str = Field(default="", description="Manifest id of the circuit (id = run name).")
    role: Literal["recorded", "trial", "fresh"] = Field(
        default="recorded",
        description="recorded: its seed_simulator; trial: one of its seeds; fresh: a new seed.",
    )


class NotebookJob(Frozen):
    """One execution of one notebook with one seed (papermill, inside the environment)."""

    id: str
    run: str = Field(description="Unique run name, e.g. train-seed-11 (or ...-repeat).")
    path: str = Field(description="Notebook file, relative to the deposit root.")
    seed: int
    parameters: dict[str, Any] = Field(default_factory=dict)
    shots: int | None = None
    noise_model: str | None = Field(
        default=None, description="Canonical noise JSON, relative to the work directory."
    )
    timeout: int = 600
    cell_timeout: int = 300
    metrics: str = "metrics.json"


class JobSpec(Frozen):
    """The whole request written as job.json for the agent."""

    device: Literal["auto", "CPU", "GPU"] = "auto"
    circuits: tuple[CircuitJob, ...] = ()
    notebooks: tuple[NotebookJob, ...] = ()
    jobs: int = Field(default=1, ge=1, description="Notebook executions run in parallel.")
    circuit_jobs: int = Field(
        default=1, ge=1, description="Circuits simulated at once, each in its own process "
        "(harness.jobs.parallelism decides: cores, memory, circuit width).")
    aer_threads: int | None = Field(
        default=None, ge=1, description="Aer's max_parallel_threads per circuit; None: Aer's "
        "default (every core).")


class CircuitRun(Frozen):
    """What the agent reports back for one circuit."""

    id: str
    circuit: str = ""
    role: Literal["recorded", "trial", "fresh"] = "recorded"
    ok: bool
    counts: dict[str, int] = Field(default_factory=dict)
    recorded: dict[str, int] | None = Field(
        default=None, description="The counts the deposit recorded for this circuit (on the "
        "run of role recorded), beside the reproduced ones.")
    ideal: dict[str, float] | None = None
    seed_simulator: int | None = Field(default=None, description="Seed Aer actually used.")
    method: str | None = Field(default=None, description="Method Aer actually used.")
    device: str | None = None
    shots: int | None = None
    wall_s: float = 0.0
    error: str | None = None
    error_type: str | None = None


class NotebookRun(Frozen):
    """What the agent reports back for one notebook execution."""

    id: str
    run: str
    seed: int
    ok: bool
    metrics: dict[str, Any] = Field(default_factory=dict)
    executed: str | None = Field(
        default=None, description="Executed notebook, relative to the work directory."
    )
    wall_s: float = 0.0
    error: str | None = None
    error_type: str | None = Field(
        default=None,
        description="cell-error, cell-timeout, timeout, kernel-died, metrics-missing, setup",
    )
    cell_index: int | None = Field(
        default=None, description="Index of the failing cell in the deposited notebook."
    )
    ename: str | None = None
    evalue: str | None = None
    traceback: tuple[str, ...] = ()
    kernel_start_attempts: int = Field(
        default=1, description="Kernel starts needed (a start that lost a port race is retried)."
    )


class StackDistribution(Frozen):
    """One distribution of the replay stack, as the agent verified it before the replay."""

    name: str
    version: str
    files: int = Field(description="Files its RECORD lists (each checked by sha256).")
    record_sha256: str = Field(description="sha256 of its RECORD file.")
    wheel: str | None = Field(
        default=None, description="The file installed, as the package index named it when "
        "the environment was resolved on the host (None: not resolved, e.g. runner host).")
    index_sha256: str | None = Field(
        default=None, description="That file's sha256 as the package index gave it; the "
        "build installed it in hash-checking mode.")


class RunEnvironment(Frozen):
    """Versions and settings of the environment the work ran in."""

    runner: str
    python: str | None = None
    platform: str | None = None
    packages: dict[str, str] = Field(
        default_factory=dict, description="Every distribution installed where the deposit "
        "ran (canonical name -> version).")
    pinned: tuple[str, ...] = Field(
        default=(), description="Those of packages the deposit pinned exactly (requirements "
        "or lock file); the others came as dependencies.")
    stack: tuple[StackDistribution, ...] = Field(
        default=(), description="The replay stack (qiskit, qiskit-aer and what they run on), "
        "every file checked against its RECORD before the circuits were replayed.")
    device: str | None = None
    devices_available: tuple[str, ...] = ()
    circuit_jobs: int = Field(
        default=1, description="Circuits the agent simulated at once (processes).")
    aer_threads: int | None = Field(
        default=None, description="Aer threads per circuit (None: Aer's default, all cores).")
    notes: tuple[str, ...] = ()
    details: dict[str, Any] = Field(
        default_factory=dict, description="Runner facts: image tag/id/base, sandbox settings."
    )


class Execution(Frozen):
    """Result of the execute phase."""

    environment: RunEnvironment
    circuits: tuple[CircuitRun, ...] = ()
    notebooks: tuple[NotebookRun, ...] = ()
    wall_s: float = 0.0

    def run(self, circuit_id: str) -> CircuitRun | None:
        """The run of a circuit with its recorded seed."""
        return next((r for r in self.circuits if r.id == circuit_id), None)

    def runs(self, circuit_id: str, role: str) -> list[CircuitRun]:
        """A circuit's trial (or fresh-seed) runs, in seed order of the job."""
        return [r for r in self.circuits if r.circuit == circuit_id and r.role == role]


class Comparison(Frozen):
    """The outcome of one statistical comparison (pure; see harness.stats.compare)."""

    verdict: Verdict
    test: str = Field(description="Test applied: threshold, exact, permutation-tvd, tost, ...")
    observed: float | None = None
    claimed: float | None = None
    difference: float | None = Field(default=None, description="observed - claimed.")
    statistic: str | None = Field(default=None, description="Name of the test statistic.")
    statistic_value: float | None = None
    threshold: float | None = Field(default=None, description="Largest statistic that passes.")
    p_value: float | None = None
    alpha: float | None = None
    power: float | None = None
    evidence: str = Field(description="One sentence a committee member can read.")
    details: dict[str, Any] = Field(default_factory=dict)


class SeedCheck(Frozen):
    """Where a claim falls among results with fresh seeds (--fresh-seeds)."""

    fresh_n: int
    fresh_mean: float
    fresh_sd: float
    claimed: float
    percentile: float = Field(description="Share of fresh-seed values below the claim.")
    deposited_n: int
    deposited_mean: float | None = Field(
        default=None, description="Mean of the values at the deposited seeds."
    )
    better: Literal["higher", "lower"] = Field(
        default="higher",
        description="Which direction of the metric is better (a circuit's tvd_ideal: lower; a "
        "notebook metric: its manifest's better). The test is one-sided toward it: a flattering "
        "selection of seeds moves the deposited values that way; the worst seeds are never "
        "flagged.",
    )
    p_value: float | None = Field(
        default=None,
        description="Normal-theory p-value of the one-sided lowest-seed test (test "
        "one-sided-lowest-seed): T = (worst deposited value - fresh mean) / fresh sd, oriented "
        "toward the better direction, against n_d + K independent normal values. Reports "
        "before it held a combined permutation p (npc-location-rank-spread) or a two-sided "
        "Welch t-test.",
    )
    permutation_p: float | None = Field(
        default=None,
        description="Permutation p-value of the same statistic over the assignments of the "
        "pooled values to deposited and fresh (exact under exchangeable seeds): the claim is "
        "flagged only when it is also below 2.5 alpha.",
    )
    test: str | None = Field(
        default=None, description="The test run: one-sided-lowest-seed (none: not tested)."
    )
    components: dict[str, float] = Field(
        default_factory=dict,
        description="One-sided permutation p-values shown as evidence (they do not decide): "
        "location (Welch t toward the better direction), rank (Mann-Whitney U toward it) and "
        "spread (small deposited/fresh variance is extreme).",
    )
    variance_ratio: float | None = Field(
        default=None,
        description="Deposited sample variance / fresh sample variance (small: the deposited "
        "values are unusually alike, as the best of many seeds are).",
    )
    power: float | None = Field(
        default=None,
        description="Monte Carlo power at this many fresh seeds against a deposit made of the "
        "best n_d of 4 n_d seeds (normal seed-to-seed distribution).",
    )
    fresh_needed: int | None = Field(
        default=None,
        description="Smallest number of fresh seeds (of 5, 10, 15, 20, 30, 40, 60, 80) giving "
        "power >= 0.8 against that selection; none: not even 80.",
    )
    outcome: Literal["seed-sensitive", "typical", "inconclusive"] | None = Field(
        default=None,
        description="seed-sensitive (flagged); typical (not flagged, power >= 0.8); "
        "inconclusive (not flagged but underpowered, one deposited seed, or correlated seeds).",
    )
    alpha: float
    flagged: bool = Field(
        description="seed-sensitive: the deposited seeds are a flattering selection (normal-"
        "theory p < alpha and permutation p < 2.5 alpha)."
    )
    evidence: str


#: who computed a claim's values: qrepro's replay of the circuits on the verified stack, or
#: the deposit's own code (a notebook), which qrepro runs but cannot vouch for
ComputedBy = Literal["replay", "deposit-code"]


class ClaimResult(Frozen):
    id: str
    kind: str = Field(default="", description="The claim kind (docs/statistics.md).")
    computed_by: ComputedBy = Field(
        default="replay",
        description="replay: values from qrepro's replay of the circuits on the verified "
        "replay stack; deposit-code: values a notebook of the deposit computed (docs/runners.md).",
    )
    source: str = Field(
        description="circuit:ID, notebook:ID, circuits:PATTERNS, or A > B for an order."
    )
    metric: str
    verdict: Verdict = Field(
        description="pass (shown), fail (contradicted), inconclusive (neither: more seeds, "
        "shots or circuits would decide) or error (not evaluated)."
    )
    tolerance: dict[str, Any] | None = None
    comparison: Comparison | None = None
    message: str = ""
    seed_check: SeedCheck | None = None
    adjusted_p_value: float | None = Field(
        default=None, description="p-value adjusted across the claims (Holm or BH)."
    )
    discrepancy: bool = Field(
        default=False, description="Flagged as a discrepancy after the multiplicity adjustment."
    )


class BadgeDecision(Frozen):
    available: bool
    functional: bool
    reusable: bool
    reproduced: bool
    reasons: dict[BadgeKey, list[str]]
    names: dict[BadgeKey, str] = Field(default_factory=lambda: dict(BADGE_NAMES))


class VenueBadge(Frozen):
    """One badge of the venue's policy (--policy), decided from qrepro's four decisions."""

    id: str
    name: str = Field(description="The badge's name as the venue spells it.")
    color: str = Field(description="Colour of its SVG badge when awarded (#RRGGBB).")
    requires: tuple[BadgeKey, ...] = Field(
        description="qrepro decisions that must all be awarded for this badge.")
    decided: bool = Field(
        default=True, description="False for a badge no rerun can decide (e.g. Replicated).")
    awarded: bool
    reasons: tuple[str, ...] = ()


class PolicyResult(Frozen):
    """The venue's badges (docs/badges.md, Venue policies)."""

    name: str = Field(description="Policy name, e.g. acm-v1.1, usenix.")
    title: str
    url: str | None = None
    badges: tuple[VenueBadge, ...]


class ErrorInfo(Frozen):
    kind: str
    message: str
    file: str | None = None
    field: str | None = None

    def one_line(self) -> str:
        return located(self.file, self.field, self.message)


class Person(Frozen):
    name: str
    orcid: str | None = Field(default=None, description="ORCID iD, 0000-0002-1825-0097 form.")
    affiliation: str | None = None


#: how ``deposit_sha256`` is computed (docs/report.md#the-deposit-digest): the sha256 of the
#: canonical JSON of the files' [path, size, sha256]. Reports without it (qrepro before the
#: scheme was named) hold v1, the sha256 of a ``sha256sum`` listing, which a file name with a
#: newline could forge; the two are never compared.
DepositDigestScheme = Literal["qrepro-deposit-digest-v2"]
DEPOSIT_DIGEST_SCHEME: DepositDigestScheme = "qrepro-deposit-digest-v2"
_SCHEME_DESCRIPTION = ("How deposit_sha256 is computed: sha256 of the canonical JSON (sorted "
                       "by path, no spaces, ASCII) of every file's [path, size, sha256].")


class DepositInfo(Frozen):
    source: str = Field(description="Path given on the command line.")
    identifier: str | None = Field(default=None, description="scheme:value, e.g. doi:10.5281/x.")
    title: str | None = None
    version: str | None = None
    license: str | None = Field(default=None, description="SPDX expression of the manifest.")
    authors: tuple[Person, ...] = ()
    files: int = 0
    bytes: int = 0


class CircuitMemory(Frozen):
    """What one circuit's simulation is estimated to need (harness.memory_plan)."""

    circuit: str = Field(description="Manifest id of the circuit.")
    file: str = Field(description="Circuit file, relative to the deposit root.")
    qubits: int | None = Field(
        default=None, description="Qubits simulated (those the circuit uses; a QPY file's "
        "declared qubits); None when the file could not tell.")
    method: str = Field(description="The method the manifest asks for.")
    estimated_as: str = Field(
        description="The method the estimate is for (automatic: what Aer would choose).")
    precision: Literal["double", "single"] = "double"
    state_bytes: int | None = Field(
        default=None, description="The simulator's state (and the ideal distribution's "
        "arrays, when larger); None: not estimated.")
    bytes: int | None = Field(
        default=None, description="state_bytes plus the fixed overhead: what the run needs.")
    basis: str = Field(description="How the estimate was made, in words.")
    fits: bool | None = Field(
        default=None, description="Within the limit; None when either is unknown.")


class MemoryPlan(Frozen):
    """Memory estimated for every circuit before anything ran, and the limit it was held to."""

    overhead_bytes: int = Field(description="Fixed allowance for the interpreter and Aer.")
    limit_bytes: int | None = Field(
        default=None, description="The smallest of the limits below (None: none known).")
    limit_source: str = Field(description="Where limit_bytes comes from.")
    runner_limit_bytes: int | None = None
    runner_limit_source: str = ""
    host_available_bytes: int | None = Field(
        default=None, description="MemAvailable of /proc/meminfo when the plan was made.")
    gpu_bytes: int | None = Field(
        default=None, description="Device memory of the smallest GPU (--device GPU, when "
        "nvidia-smi answers); compared with state_bytes.")
    circuits: tuple[CircuitMemory, ...] = ()
    largest: str | None = Field(default=None, description="The circuit that needs the most.")
    largest_bytes: int | None = None
    total_state_bytes: int = Field(
        default=0, description="All circuits' states added up (each lives only while its "
        "circuit runs: the largest, times the circuits run at once, must fit).")
    refused: tuple[str, ...] = Field(
        default=(), description="Circuits that do not fit: the evaluation stopped before "
        "anything ran (error kind memory).")


class Report(Frozen):
    """Everything report.json holds."""

    report_version: Literal[1] = 1
    tool: dict[str, str]
    generated: str = Field(description="UTC timestamp, ISO 8601.")
    status: Literal["complete", "error", "interrupted"]
    error: ErrorInfo | None = None
    deposit: DepositInfo
    deposit_sha256: str | None = None
    deposit_digest_scheme: DepositDigestScheme = Field(
        default=DEPOSIT_DIGEST_SCHEME, description=_SCHEME_DESCRIPTION)
    badges: BadgeDecision
    policy: PolicyResult | None = Field(
        default=None, description="The badges as the venue's policy (--policy) names them.")
    claims: tuple[ClaimResult, ...] = ()
    findings: tuple[Finding, ...] = ()
    circuits: tuple[CircuitRun, ...] = ()
    notebooks: tuple[NotebookRun, ...] = ()
    environment: RunEnvironment | None = None
    memory: MemoryPlan | None = Field(
        default=None, description="Memory estimated per circuit before anything ran, and the "
        "limit it was compared with (None: no circuits, or the evaluation stopped earlier).")
    timings: dict[str, float] = Field(default_factory=dict)
    mode: Literal["full", "smoke"] = Field(
        default="full",
        description="smoke: a kick-the-tires run (one seed, few shots) that decides Available "
        "and Functional only; Reusable and Results Reproduced were not attempted.",
    )


class ValidationReport(Frozen):
    """What ``qrepro validate --out DIR`` writes as validation.json."""

    report_version: Literal[1] = 1
    tool: dict[str, str]
    generated: str
    status: Literal["complete", "error"]
    error: ErrorInfo | None = None
    deposit: DepositInfo
    deposit_sha256: str | None = None
    deposit_digest_scheme: DepositDigestScheme = Field(
        default=DEPOSIT_DIGEST_SCHEME, description=_SCHEME_DESCRIPTION)
    findings: tuple[Finding, ...] = ()
