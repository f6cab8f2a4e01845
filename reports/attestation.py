"""Signed attestations of an evaluation (``report.intoto.json``) and checking them.

``qrepro evaluate --sign KEY`` ends by writing ``report.intoto.json`` into the output
folder: an in-toto Statement v1 whose subjects are the deposit and every report file just
written, each with its sha256, and whose predicate (:data:`PREDICATE_TYPE`) states what the
evaluation decided. The Statement is the payload of a DSSE envelope signed with Ed25519.
``qrepro verify`` checks the signature, then every report file and, given the deposit,
the deposit itself against the digests signed (docs/attestation.md).

* the deposit subject is named after the deposit (its folder or archive name) and carries
  ``report.deposit_sha256``: the deposit digest of its files
  (:func:`harness.intake.deposit_digest.tree_digest`, scheme
  :data:`~harness.models.DEPOSIT_DIGEST_SCHEME`, the annotation :data:`DIGEST_ANNOTATION`),
  for an archive that of the files it extracts to, never of the archive's bytes; the
  annotation :data:`ROLE_ANNOTATION` = ``deposit`` tells it from the report files. An
  evaluation that ended before the deposit was read has no deposit digest, and its
  attestation no deposit subject;
* report files are named relative to the output folder (``report.json``,
  ``badges/x.svg``); the attestation itself is not a subject.

cryptography, securesystemslib and in_toto_attestation are imported by the functions that
need them: importing this module costs no start-up time.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import AttestationError, DepositError, located
from harness.models import BADGE_KEYS, Report

if TYPE_CHECKING:
    from securesystemslib.dsse import Envelope
    from securesystemslib.signer import CryptoSigner, SSlibKey  # type: ignore[attr-defined]

__all__ = [
    "ATTESTATION_NAME",
    "DEFAULT_KEY_NAME",
    "PAYLOAD_TYPE",
    "PREDICATE_TYPE",
    "STATEMENT_TYPE",
    "KeyPair",
    "Verification",
    "VerifyCheck",
    "attest",
    "deposit_digest",
    "generate_key_pair",
    "key_paths",
    "load_public_key",
    "load_signing_key",
    "predicate",
    "read_envelope",
    "sign_statement",
    "statement",
    "verify",
]

#: the file ``evaluate --sign`` writes into the output folder
ATTESTATION_NAME = "report.intoto.json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
#: qrepro's predicate: what an evaluation decided (docs/attestation.md); v2 names the deposit
#: by the digest scheme :data:`~harness.models.DEPOSIT_DIGEST_SCHEME`
PREDICATE_TYPE = "https://qrepro.dev/attestation/evaluation/v2"
#: the predicate of qrepro before v2, whose deposit digest (a ``sha256sum`` listing) a file
#: name could forge: ``qrepro verify`` refuses it, saying so
OLD_PREDICATE_TYPES = ("https://qrepro.dev/attestation/evaluation/v1",)
#: the DSSE payload type of an in-toto Statement
PAYLOAD_TYPE = "application/vnd.in-toto+json"
#: subject annotation telling the deposit from the report files
ROLE_ANNOTATION = "qrepro.role"
DEPOSIT_ROLE = "deposit"
#: subject annotation naming how the deposit's digest is computed (report.json
#: deposit_digest_scheme)
DIGEST_ANNOTATION = "qrepro.digest"
#: ``qrepro keygen DIR`` writes DIR/qrepro.key and DIR/qrepro.pub
DEFAULT_KEY_NAME = "qrepro"
PRIVATE_SUFFIX = ".key"
PUBLIC_SUFFIX = ".pub"


# --- the Statement ----------------------------------------------------------------------


def predicate(report: Report, options: Mapping[str, Any]) -> dict[str, Any]:
    """What the evaluation decided, as the predicate of :data:`PREDICATE_TYPE`."""
    policy = report.policy
    return {
        "harness": dict(report.tool),
        "generated": report.generated,
        "status": report.status,
        "mode": report.mode,
        "error": report.error.one_line() if report.error is not None else None,
        "deposit": {
            "source": report.deposit.source,
            "identifier": report.deposit.identifier,
            "title": report.deposit.title,
            "version": report.deposit.version,
            "sha256": report.deposit_sha256,
            "digestScheme": report.deposit_digest_scheme,
        },
        "badges": {key: bool(getattr(report.badges, key)) for key in BADGE_KEYS},
        "venueBadges": None if policy is None else {
            "policy": policy.name,
            "title": policy.title,
            "url": policy.url,
            "badges": [{"id": b.id, "name": b.name, "decided": b.decided, "awarded": b.awarded,
                        "requires": list(b.requires)} for b in policy.badges],
        },
        "claims": [{"id": c.id, "kind": c.kind, "computedBy": c.computed_by,
                    "verdict": c.verdict, "reason": c.message} for c in report.claims],
        "options": _jsonable(dict(options), "the evaluation options"),
        "environment": _environment(report),
    }


def _environment(report: Report) -> dict[str, Any]:
    """Runner, device and the image (docker) or virtual environment (local) it ran in."""
    env = report.environment
    details: dict[str, Any] = env.details if env is not None else {}
    image = details.get("image")
    image = image if isinstance(image, dict) else {}
    return {
        "runner": env.runner if env is not None else None,
        "device": env.device if env is not None else None,
        "python": env.python if env is not None else None,
        "platform": env.platform if env is not None else None,
        "imageTag": image.get("tag") or None,
        "imageId": image.get("id") or None,
        "baseImage": image.get("base") or None,
        "baseImageId": image.get("base_id") or None,
        "venvDigest": details.get("venv_digest"),
        # the replay stack: verified against its RECORDs, installed from the index's files
        "replayStack": [{"name": d.name, "version": d.version, "recordSha256": d.record_sha256,
                         "wheel": d.wheel, "indexSha256": d.index_sha256}
                        for d in (env.stack if env is not None else ())],
    }


def statement(report: Report, out_dir: Path, files: Sequence[Path],
              options: Mapping[str, Any]) -> dict[str, Any]:
    """The in-toto Statement v1 (a JSON-ready dict) of an evaluation written to ``out_dir``.

    Subjects: the deposit (when the report has its digest), then every file of ``files``
    (paths in ``out_dir``; the attestation itself is skipped) by name relative to it.
    Raises AttestationError naming a file that is missing or lies outside ``out_dir``.
    """
    from harness.units import file_sha256

    subjects: list[dict[str, Any]] = []
    if report.deposit_sha256:
        subjects.append({
            "name": _deposit_name(report.deposit.source),
            "digest": {"sha256": report.deposit_sha256},
            "annotations": {ROLE_ANNOTATION: DEPOSIT_ROLE,
                            DIGEST_ANNOTATION: report.deposit_digest_scheme},
        })
    names = sorted({_name_in(out_dir, Path(f)) for f in files} - {ATTESTATION_NAME})
    if not names:
        raise AttestationError("no report file to attest", file=str(out_dir))
    for name in names:
        path = out_dir.joinpath(*name.split("/"))
        if not path.is_file():
            raise AttestationError("report file to attest is missing", file=str(path))
        try:
            digest = file_sha256(path)
        except OSError as exc:
            raise AttestationError(f"cannot read the report file: {exc.strerror}",
                                   file=str(path)) from exc
        subjects.append({"name": name, "digest": {"sha256": digest}})
    return _in_toto_statement(subjects, predicate(report, options))


def _in_toto_statement(subjects: list[dict[str, Any]], pred: dict[str, Any]) -> dict[str, Any]:
    """The Statement, built and validated with the in-toto attestation bindings.

    The bindings hold the predicate in a ``google.protobuf.Struct``, where every number is
    a double (a seed 0 would be written 0.0): the dict returned carries the predicate as
    given, the rest as the bindings serialize it.
    """
    from google.protobuf.json_format import (  # type: ignore[import-untyped, unused-ignore]
        MessageToDict,
    )
    from in_toto_attestation.v1.resource_descriptor import (  # type: ignore[import-untyped, unused-ignore]
        ResourceDescriptor,
    )
    from in_toto_attestation.v1.statement import (  # type: ignore[import-untyped, unused-ignore]
        Statement,
    )

    descriptors = [ResourceDescriptor(name=s["name"], digest=s["digest"],
                                      annotations=s.get("annotations")).pb for s in subjects]
    stmt = Statement(descriptors, PREDICATE_TYPE, pred)
    try:
        stmt.validate()
    except ValueError as exc:
        raise AttestationError(f"not a valid in-toto Statement: {exc}") from exc
    result: dict[str, Any] = MessageToDict(stmt.pb)
    result["predicate"] = pred
    return result


def _deposit_name(source: str) -> str:
    path = Path(source)
    return path.name or path.resolve().name or "deposit"


def _name_in(out_dir: Path, path: Path) -> str:
    """``path``'s name relative to ``out_dir`` (a relative path not under it is one in it)."""
    try:
        rel = path.relative_to(out_dir)
    except ValueError:
        try:
            rel = path.resolve().relative_to(out_dir.resolve())
        except ValueError:
            if path.is_absolute():
                raise AttestationError("report file lies outside the output folder "
                                       f"{out_dir}", file=str(path)) from None
            rel = path
    name = rel.as_posix()
    reason = _unsafe_name(name)
    if reason is not None:
        raise AttestationError(f"report file name {reason}", file=str(path))
    return name


def _unsafe_name(name: str) -> str | None:
    """Why a subject name cannot name a file in the output folder, or None: the rule for
    every relative path qrepro is given (harness.intake.archive.unsafe_reason)."""
    from harness.intake.paths import unsafe_reason

    return "is empty" if name in ("", ".") else unsafe_reason(name)


def _jsonable(value: Any, what: str) -> Any:
    """``value`` as plain JSON data: paths and dates as strings, sets as sorted lists."""
    try:
        return json.loads(json.dumps(value, default=_json_default, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise AttestationError(f"{what} cannot be written as JSON: {exc}") from exc


def _json_default(value: Any) -> Any:
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    model_dump = getattr(value, "model_dump", None)
    if callable(model_dump):
        return model_dump(mode="json")
    return str(value)


# --- keys -------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyPair:
    private: Path
    public: Path
    #: securesystemslib key id: sha256 of the canonical JSON of {keytype, scheme, keyval}
    keyid: str


def key_paths(prefix: Path) -> tuple[Path, Path]:
    """PREFIX.key (private) and PREFIX.pub (public)."""
    return (prefix.with_name(prefix.name + PRIVATE_SUFFIX),
            prefix.with_name(prefix.name + PUBLIC_SUFFIX))


def generate_key_pair(prefix: Path, *, force: bool = False) -> KeyPair:
    """A new Ed25519 key pair: PREFIX.key (PKCS#8 PEM, mode 0600) and PREFIX.pub (PEM).

    Refuses (AttestationError naming the file) to replace an existing file unless
    ``force``; neither file is written then.
    """
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
        PublicFormat,
    )
    from securesystemslib.signer import SSlibKey  # type: ignore[attr-defined]

    private_path, public_path = key_paths(prefix)
    if not force:
        for path in (private_path, public_path):
            if path.exists() or path.is_symlink():
                raise AttestationError("exists; qrepro keygen does not replace a key file "
                                       "(pass --force to)", file=str(path))
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    public_pem = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    try:
        private_path.parent.mkdir(parents=True, exist_ok=True)
        _write_key(private_path, private_pem, 0o600, force)
        _write_key(public_path, public_pem, 0o644, force)
    except FileExistsError as exc:  # created between the check and the write
        raise AttestationError("exists; pass --force to replace it",
                               file=exc.filename or str(private_path)) from exc
    except OSError as exc:
        raise AttestationError(f"cannot write the key: {exc.strerror}",
                               file=exc.filename or str(private_path)) from exc
    return KeyPair(private_path, public_path, SSlibKey.from_crypto(key.public_key()).keyid)


def _write_key(path: Path, data: bytes, mode: int, replace: bool) -> None:
    """Write ``data`` to ``path`` with ``mode``: a new file, or (replace) atomically over one.

    The file is created with ``mode`` (never wider, whatever the umask) and no symlink at
    ``path`` is followed: a new file is created exclusively, a replacement renamed over it.
    """
    if not replace:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
        tmp = None
    else:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        tmp = Path(name)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        if tmp is not None:
            os.replace(tmp, path)
    except BaseException:
        (tmp or path).unlink(missing_ok=True)
        raise


def load_signing_key(path: Path) -> CryptoSigner:
    """The Ed25519 signer of a PKCS#8 PEM private key (``qrepro keygen``'s PREFIX.key).

    Raises AttestationError naming the file when it cannot be read, is encrypted, is not
    a private key (a public key given by mistake) or not an Ed25519 one: call it when the
    options are parsed, before an evaluation runs.
    """
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    from securesystemslib.signer import CryptoSigner  # type: ignore[attr-defined]

    data = _read_key(path, "signing key")
    try:
        key = load_pem_private_key(data, password=None)
    except TypeError as exc:  # a password-protected key
        raise AttestationError("the signing key is encrypted; qrepro signs with an "
                               "unencrypted PKCS#8 key (qrepro keygen)", file=str(path)) from exc
    except (ValueError, UnsupportedAlgorithm) as exc:
        hint = ("it is a public key: sign with the private key (PREFIX.key)"
                if b"PUBLIC KEY" in data else "not a PEM private key (qrepro keygen makes one)")
        raise AttestationError(f"cannot load the signing key: {hint}", file=str(path)) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise AttestationError(f"the signing key is {type(key).__name__}, not Ed25519 "
                               "(qrepro keygen makes one)", file=str(path))
    return CryptoSigner(key)


def load_public_key(path: Path) -> SSlibKey:
    """The Ed25519 public key of a PEM file (``qrepro keygen``'s PREFIX.pub)."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key
    from securesystemslib.signer import SSlibKey  # type: ignore[attr-defined]

    data = _read_key(path, "public key")
    try:
        key = load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as exc:
        hint = ("it is a private key: verify with the public key (PREFIX.pub), and keep "
                "the private key secret" if b"PRIVATE KEY" in data else "not a PEM public key")
        raise AttestationError(f"cannot load the public key: {hint}", file=str(path)) from exc
    if not isinstance(key, Ed25519PublicKey):
        raise AttestationError(f"the public key is {type(key).__name__}, not Ed25519",
                               file=str(path))
    return SSlibKey.from_crypto(key)


def _read_key(path: Path, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise AttestationError(f"cannot read the {what}: {exc.strerror or exc}",
                               file=str(path)) from exc


# --- signing ----------------------------------------------------------------------------


def sign_statement(stmt: Mapping[str, Any], signer: CryptoSigner) -> dict[str, Any]:
    """The DSSE envelope (JSON-ready dict) of ``stmt``, signed by ``signer``."""
    from securesystemslib.dsse import Envelope

    payload = json.dumps(stmt, ensure_ascii=False, separators=(",", ":"),
                         allow_nan=False).encode("utf-8")
    envelope = Envelope(payload, PAYLOAD_TYPE, {})
    envelope.sign(signer)
    result: dict[str, Any] = envelope.to_dict()
    return result


def attest(report: Report, out_dir: Path, files: Sequence[Path], key_path: Path,
           options: Mapping[str, Any]) -> Path:
    """Write ``out_dir/report.intoto.json``: the signed Statement of this evaluation.

    ``files``: the report files just written (``write_reports``' paths); ``options``: the
    evaluation options to state (plain JSON data; paths and dates become strings).
    """
    from reports import write_atomic

    signer = load_signing_key(key_path)
    envelope = sign_statement(statement(report, out_dir, files, options), signer)
    path = out_dir / ATTESTATION_NAME
    try:
        write_atomic(path, json.dumps(envelope, indent=2) + "\n")
    except OSError as exc:
        raise AttestationError(f"cannot write the attestation: {exc.strerror or exc}",
                               file=str(path)) from exc
    return path


# --- verifying --------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifyCheck:
    """One check of ``qrepro verify``: the signature, the Statement, a file, the deposit."""

    name: str
    ok: bool
    message: str
    #: what a failure names: the report file, the attestation, the deposit
    file: str | None = None

    def line(self) -> str:
        return f"{self.name}: ok ({self.message})" if self.ok else \
            f"{self.name}: FAILED: {self.message}"

    def one_line(self) -> str:
        """``file: message``: how a failure is reported."""
        return located(self.file, None, self.message)


@dataclass(frozen=True)
class Verification:
    checks: tuple[VerifyCheck, ...]
    #: key id of the public key checked against
    keyid: str
    #: the signed Statement (None when the signature did not verify)
    statement: dict[str, Any] | None = None
    deposit_checked: bool = False

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    @property
    def failures(self) -> tuple[VerifyCheck, ...]:
        return tuple(c for c in self.checks if not c.ok)

    def summary(self) -> str:
        """The final line: ``verified: ...`` or ``verification failed: ...``."""
        if not self.ok:
            first = self.failures[0] if self.failures else VerifyCheck("", False, "nothing checked")
            more = len(self.failures) - 1
            return ("verification failed: " + first.one_line()
                    + (f" (and {more} more failed check{'s' * (more > 1)})" if more else ""))
        files = sum(1 for c in self.checks if c.name not in ("signature", "statement", "deposit"))
        deposit = ("the deposit matches" if self.deposit_checked
                   else "deposit not checked (give --deposit)")
        return (f"verified: signed by key id {self.keyid}; {files} report "
                f"file{'s' * (files != 1)} unchanged; {deposit}")

    def raise_for_failure(self) -> None:
        """AttestationError naming the first failed check's file, when one failed."""
        if not self.ok:
            first = self.failures[0] if self.failures else VerifyCheck("", False, "nothing checked")
            raise AttestationError(first.message, file=first.file)


def read_envelope(path: Path) -> Envelope:
    """The DSSE envelope in ``path``; AttestationError when it cannot be read as one."""
    from securesystemslib.dsse import Envelope
    from securesystemslib.exceptions import Error as SslibError

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise AttestationError(f"cannot read the attestation: {exc.strerror or exc}",
                               file=str(path)) from exc
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise AttestationError(f"the attestation is not JSON: {exc}", file=str(path)) from exc
    if not isinstance(data, dict) or not isinstance(data.get("signatures"), list):
        raise AttestationError("not a DSSE envelope (payload, payloadType, signatures)",
                               file=str(path))
    try:
        return Envelope.from_dict(data)
    except (KeyError, TypeError, ValueError, AttributeError, SslibError) as exc:
        raise AttestationError(f"not a DSSE envelope: {type(exc).__name__} {exc}",
                               file=str(path)) from exc


def deposit_digest(path: Path) -> str:
    """The deposit's digest exactly as the pipeline computes ``deposit_sha256``.

    A folder is read in place; an archive is extracted (safely) into a temporary folder
    and the files it holds are digested. AttestationError when it cannot be read.
    """
    from harness.intake.deposit_digest import deposit_digest as digest_of

    try:
        return digest_of(path)
    except DepositError as exc:
        raise AttestationError(f"cannot read the deposit: {exc.one_line()}",
                               file=str(path)) from exc
    except OSError as exc:
        raise AttestationError(f"cannot read the deposit: {exc}", file=str(path)) from exc


def verify(out_dir: Path, public_key: Path, *, deposit: Path | None = None,
           attestation: Path | None = None) -> Verification:
    """VerifyCheck ``out_dir``'s attestation against ``public_key`` (and ``deposit``).

    Raises AttestationError when an input cannot be read (the folder, the key, the
    attestation, the deposit); every check that ran, passed or failed, is in the result.
    The signature is checked first: nothing of an unverified payload is trusted.
    """
    if not Path(out_dir).is_dir():
        raise AttestationError("no such folder", file=str(out_dir))
    key = load_public_key(public_key)
    path = attestation if attestation is not None else out_dir / ATTESTATION_NAME
    envelope = read_envelope(path)
    actual_deposit = deposit_digest(deposit) if deposit is not None else None

    signature = _check_signature(envelope, key, str(path))
    if not signature.ok:
        return Verification((signature,), key.keyid)
    stmt, shape = _check_statement(envelope.payload, str(path))
    if stmt is None:
        return Verification((signature, shape), key.keyid)
    checks = [signature, shape]
    subjects = stmt["subject"]
    files = [s for s in subjects if not _is_deposit(s)]
    if not files:
        checks.append(VerifyCheck("subjects", False, "the attestation names no report file",
                            str(path)))
    checks += [_check_file(out_dir, s) for s in files]
    if deposit is not None and actual_deposit is not None:
        checks.append(_check_deposit(deposit, actual_deposit,
                                     [s for s in subjects if _is_deposit(s)]))
    return Verification(tuple(checks), key.keyid, stmt, deposit_checked=deposit is not None)


def _check_signature(envelope: Envelope, key: SSlibKey, where: str) -> VerifyCheck:
    from securesystemslib.exceptions import Error as SslibError

    if envelope.payload_type != PAYLOAD_TYPE:
        return VerifyCheck("signature", False, f"payloadType {envelope.payload_type!r} is not "
                     f"{PAYLOAD_TYPE}", where)
    if not envelope.signatures:
        return VerifyCheck("signature", False, "the envelope carries no signature", where)
    if key.keyid not in envelope.signatures:
        signed_by = ", ".join(sorted(envelope.signatures))
        return VerifyCheck("signature", False, f"signed by key id {signed_by}, not by the given "
                     f"key (key id {key.keyid})", where)
    try:
        envelope.verify([key], 1)
    except (SslibError, ValueError):
        return VerifyCheck("signature", False, "the signature does not verify with the given key "
                     f"(key id {key.keyid}): the envelope was changed after it was signed",
                     where)
    return VerifyCheck("signature", True, f"Ed25519, key id {key.keyid}", where)


def _check_statement(payload: bytes, where: str) -> tuple[dict[str, Any] | None, VerifyCheck]:
    """The signed Statement when it is qrepro's in-toto Statement v1, and the check."""
    from google.protobuf.json_format import (  # type: ignore[import-untyped, unused-ignore]
        ParseDict,
        ParseError,
    )
    from in_toto_attestation.v1 import (  # type: ignore[import-untyped, unused-ignore]
        statement_pb2,
    )
    from in_toto_attestation.v1.statement import (  # type: ignore[import-untyped, unused-ignore]
        Statement,
    )

    def failed(message: str) -> tuple[None, VerifyCheck]:
        return None, VerifyCheck("statement", False, message, where)

    try:
        stmt = json.loads(payload.decode("utf-8"))
    except ValueError:
        return failed("the signed payload is not JSON")
    if not isinstance(stmt, dict):
        return failed("the signed payload is not a JSON object")
    try:
        pb = ParseDict(stmt, statement_pb2.Statement(), ignore_unknown_fields=True)
        Statement.copy_from_pb(pb).validate()
    except (ParseError, ValueError, TypeError) as exc:
        return failed(f"not an in-toto Statement v1: {exc}")
    if stmt.get("predicateType") in OLD_PREDICATE_TYPES:
        return failed(f"predicateType {stmt['predicateType']} is an older qrepro's, whose deposit "
                      "digest a file name could forge; this qrepro checks "
                      f"{PREDICATE_TYPE} (evaluate and sign again)")
    if stmt.get("predicateType") != PREDICATE_TYPE:
        return failed(f"predicateType {stmt.get('predicateType')!r} is not {PREDICATE_TYPE}")
    for subject in stmt["subject"]:
        digest = subject.get("digest", {}).get("sha256")
        if not isinstance(subject.get("name"), str) or not isinstance(digest, str):
            return failed(f"subject {subject.get('name')!r} has no name or no sha256 digest")
    count = len(stmt["subject"])
    return stmt, VerifyCheck("statement", True, f"in-toto Statement v1, {PREDICATE_TYPE}, "
                       f"{count} subject{'s' * (count != 1)}", where)


def _is_deposit(subject: Mapping[str, Any]) -> bool:
    annotations = subject.get("annotations")
    return isinstance(annotations, dict) and annotations.get(ROLE_ANNOTATION) == DEPOSIT_ROLE


def _check_file(out_dir: Path, subject: Mapping[str, Any]) -> VerifyCheck:
    """A report subject: a safe name, a regular file in ``out_dir``, the signed sha256."""
    from harness.units import file_sha256

    name: str = subject["name"]
    expected: str = subject["digest"]["sha256"]
    reason = _unsafe_name(name)
    if reason is not None:
        return VerifyCheck(name, False, f"subject name {reason} (every report file lies in the "
                     "output folder)", name)
    path = out_dir.joinpath(*name.split("/"))

    def failed(message: str) -> VerifyCheck:
        return VerifyCheck(name, False, message, str(path))

    if not path.exists() and not path.is_symlink():
        return failed(f"missing from {out_dir}")
    try:
        inside = path.resolve().is_relative_to(out_dir.resolve())
    except (OSError, RuntimeError):
        inside = False
    if not inside:
        return failed(f"resolves outside {out_dir} (through a symlink)")
    if not path.is_file():
        return failed("not a regular file")
    try:
        actual = file_sha256(path)
    except OSError as exc:
        return failed(f"cannot be read: {exc.strerror or exc}")
    if actual != expected.lower():
        return failed(f"changed after it was signed: sha256 {actual} is not the signed "
                      f"{expected}")
    return VerifyCheck(name, True, f"sha256 {actual}", str(path))


def _check_deposit(deposit: Path, actual: str, subjects: list[Mapping[str, Any]]) -> VerifyCheck:
    where = str(deposit)
    if not subjects:
        return VerifyCheck("deposit", False, "the attestation names no deposit (the evaluation "
                     "ended before the deposit was read)", where)
    for subject in subjects:
        if subject["digest"]["sha256"].lower() == actual:
            return VerifyCheck("deposit", True, f"{deposit} is the signed deposit "
                         f"{subject['name']}, sha256 {actual}", where)
    signed = ", ".join(f"{s['name']} {s['digest']['sha256']}" for s in subjects)
    return VerifyCheck("deposit", False, f"not the deposit evaluated: its sha256 {actual} is not "
                 f"the signed {signed}", where)
