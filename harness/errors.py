"""The qrepro exception tree.

Every error that library code raises on purpose derives from :class:`QreproError`;
third-party exceptions (qiskit, yaml, pydantic, tarfile, ...) are translated where they
enter, with ``raise X from exc``. Library code never calls ``sys.exit``: each class carries
the exit code of the command line (``exit_code``, inherited: 3 for a DepositError, 4 for a
RunnerError, 130 for Interrupted, 5 for any other), and only ``harness.console.failing`` turns an
error, or a report's ``error.kind``, into the process's exit code and one-line message.

    QreproError
    +-- DepositError            the deposit cannot be read at all (missing, not a dir/archive)
    |   +-- ArchiveError        unsafe or oversized archive (path escape, link out, bomb)
    |   +-- ManifestError       qdata.yaml unreadable or schema-invalid (file + field path)
    +-- NoiseModelError         a noise-model file is malformed or not physical (file + field)
    +-- CircuitError            a circuit file cannot be loaded (file + reason)
    +-- RunnerError             executing work in an environment failed
    |   +-- RunnerUnavailable   the runner (or the device it was asked for) is not available
    |   +-- BuildError          the environment could not be built
    |   +-- AgentError          the in-environment agent failed or wrote no result
    +-- ComparisonError         a claim cannot be compared (unknown metric, missing data)
    +-- RegistryError           a name (runner, metric, format) is not registered
    +-- OutputError             a report cannot be written where --out says
    +-- SubmissionError         a list of submissions (qrepro batch) cannot be read
    +-- PolicyError             a venue badge policy (--policy) cannot be read (file + field)
    +-- LedgerError             the batch ledger cannot be opened, migrated or updated, or a
    |                           state change is not allowed (done -> running)
    +-- Interrupted             Ctrl-C / SIGTERM stopped the evaluation (report status)
    +-- MemoryPlanError         a circuit's simulation needs more memory than the runner,
    |                           the machine or the GPU has (refused before anything runs)
    +-- AttestationError        a signing key, public key or report.intoto.json cannot be
    |                           read or written, or (qrepro verify) an attestation does not
    |                           hold: bad signature, changed or missing file, other deposit
    +-- AuthoringError          an author's tool (qrepro init, check) cannot do what it was
    |                           asked: a manifest already there, a folder it cannot scaffold,
    |                           an interpreter (--python) it cannot ask
    +-- MissingExtra            a command needs an optional part of qrepro that is not
                                installed (batch, cluster, sign, postgres): names the extra
"""

from __future__ import annotations

from typing import ClassVar


def located(file: str | None, field: str | None, message: str) -> str:
    """``file: field: message``, leaving out what is unknown: how every problem is shown."""
    return ": ".join([*(p for p in (file, field) if p), message])


class QreproError(Exception):
    """Root of every error qrepro raises on purpose."""

    #: short machine-readable category used in report.json
    kind = "error"
    #: the exit code of qrepro when this error stops a command (docs/cli.md#exit-codes)
    exit_code: ClassVar[int] = 5

    def __init__(self, message: str, *, file: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.field = field

    def one_line(self) -> str:
        """``file: field: message`` on one line, the form the CLI prints."""
        return located(self.file, self.field, " ".join(self.message.split()))

    def __str__(self) -> str:
        return self.one_line()


class DepositError(QreproError):
    kind = "deposit"
    exit_code = 3


class ArchiveError(DepositError):
    kind = "archive"


class ManifestError(DepositError):
    kind = "manifest"


class NoiseModelError(QreproError):
    kind = "noise-model"


class CircuitError(QreproError):
    kind = "circuit"


class RunnerError(QreproError):
    kind = "runner"
    exit_code = 4


class RunnerUnavailable(RunnerError):
    kind = "runner-unavailable"


class BuildError(RunnerError):
    kind = "build"


class AgentError(RunnerError):
    kind = "agent"


class ComparisonError(QreproError):
    kind = "comparison"


class RegistryError(QreproError):
    kind = "registry"


def not_found(kind: str, name: str, available: list[str] | tuple[str, ...]) -> RegistryError:
    """The registry error with the helpful list: ``runner 'k8s' not found; available: ...``."""
    return RegistryError(f"{kind} '{name}' not found; available: {', '.join(sorted(available))}")


class OutputError(QreproError):
    kind = "output"


class SubmissionError(QreproError):
    """A list of submissions (qrepro batch) that cannot be read; names the file and entry."""

    kind = "submissions"


class PolicyError(QreproError):
    kind = "policy"


class LedgerError(QreproError):
    kind = "ledger"


class Interrupted(QreproError):
    kind = "interrupted"
    exit_code = 130


class MemoryPlanError(QreproError):
    """A circuit needs more memory than it may have (harness.memory_plan); names the circuit,
    the estimate and the limit, before any environment is built or anything runs."""

    kind = "memory"


class AttestationError(QreproError):
    """A signed attestation (report.intoto.json) or one of its keys; names the file."""

    kind = "attestation"


class AuthoringError(QreproError):
    """qrepro init / check cannot do what the author asked; names the file and option."""

    kind = "authoring"


class MissingExtra(QreproError):
    """An optional part of qrepro (an extra of the package) is not installed."""

    kind = "missing-extra"


def error_class(kind: str) -> type[QreproError]:
    """The class of an error ``kind`` (a report's ``error.kind``), a parent before its
    subclasses; QreproError for a kind no class has (a batch's ``timeout``, ``crash``)."""
    pending: list[type[QreproError]] = [QreproError]
    while pending:
        cls = pending.pop(0)
        if cls.kind == kind:
            return cls
        pending += cls.__subclasses__()
    return QreproError
