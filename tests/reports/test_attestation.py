"""report.intoto.json: the signed in-toto attestation, qrepro keygen and qrepro verify.

Real files and real crypto: ghz-noisy is evaluated once (local runner), its reports are
signed with a key made by keygen, and every test tampers with its own copy.
"""

from __future__ import annotations

import base64
import json
import shutil
import stat
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from harness.cli.attestation import keygen_cmd, verify_cmd
from harness.errors import AttestationError
from harness.intake.deposit_digest import tree_digest
from harness.intake.paths import shown_name
from harness.models import Report
from reports.attestation import (
    ATTESTATION_NAME,
    PAYLOAD_TYPE,
    PREDICATE_TYPE,
    STATEMENT_TYPE,
    attest,
    generate_key_pair,
    load_public_key,
    load_signing_key,
    sign_statement,
    statement,
    verify,
)
from tests.intake.test_deposit_digest import forge_old_listing, old_listing_digest

ROOT = Path(__file__).resolve().parents[2]
DEPOSIT = ROOT / "benchmarks" / "deposits" / "ghz-noisy"
QREPRO = Path(sys.executable).parent / "qrepro"
OPTIONS: dict[str, Any] = {"runner": "local", "device": "auto", "seed": 0, "fresh_seeds": 0,
                           "seed_policy": "strict", "smoke": False, "today": None}


@dataclass(frozen=True)
class Signed:
    out: Path  # the pristine signed output folder: copy it before changing anything
    key: Path  # private key
    pub: Path  # public key
    keyid: str
    report: Report
    files: tuple[str, ...]  # report file names signed


def _sign_supported() -> bool:
    """Whether ``evaluate --sign`` is wired in (then the fixture signs through it)."""
    from harness.cli import cli

    evaluate = cli.get_command(click.Context(cli), "evaluate")
    return evaluate is not None and any(p.name == "sign" for p in evaluate.params)


def _registered() -> bool:
    from harness.cli import cli

    return {"keygen", "verify"} <= set(cli.list_commands(click.Context(cli)))


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> Signed:
    base = tmp_path_factory.mktemp("attestation")
    pair = generate_key_pair(base / "keys" / "venue")
    out = base / "out"
    args = [str(QREPRO), "evaluate", str(DEPOSIT), "--out", str(out), "--runner", "local"]
    via_cli = _sign_supported()
    if via_cli:
        args += ["--sign", str(pair.private)]
    proc = subprocess.run(args, capture_output=True, text=True, check=False, timeout=600)
    assert proc.returncode == 0, proc.stderr
    report = Report.model_validate_json((out / "report.json").read_text(encoding="utf-8"))
    files = [p for p in sorted(out.rglob("*")) if p.is_file() and p.name != ATTESTATION_NAME
             and not any(part == "work" or part.startswith(".")
                         for part in p.relative_to(out).parts)]
    if not via_cli:
        attest(report, out, files, pair.private, OPTIONS)
    assert (out / ATTESTATION_NAME).is_file()
    return Signed(out, pair.private, pair.public, pair.keyid, report,
                  tuple(p.relative_to(out).as_posix() for p in files))


@pytest.fixture
def out(signed: Signed, tmp_path: Path) -> Path:
    """This test's own copy of the signed output folder (without the work folder)."""
    copy = tmp_path / "out"
    shutil.copytree(signed.out, copy, ignore=shutil.ignore_patterns("work", ".*"))
    return copy


def run_verify(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(verify_cmd, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def run_keygen(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(keygen_cmd, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def envelope_of(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / ATTESTATION_NAME).read_text(encoding="utf-8"))
    return data


def payload_of(envelope: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(base64.b64decode(envelope["payload"]))
    return data


def flip_byte(path: Path, offset: int = 10) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


# --- what the attestation holds ---------------------------------------------------------


def test_attestation_is_a_signed_in_toto_statement(signed: Signed) -> None:
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    from harness.units import file_sha256

    envelope = envelope_of(signed.out)
    assert envelope["payloadType"] == PAYLOAD_TYPE == "application/vnd.in-toto+json"
    [sig] = envelope["signatures"]
    assert sig["keyid"] == signed.keyid
    # the DSSE v1 signature, checked here with cryptography alone (not securesystemslib)
    payload = base64.b64decode(envelope["payload"])
    pae = b"DSSEv1 %d %b %d %b" % (len(PAYLOAD_TYPE), PAYLOAD_TYPE.encode(), len(payload),
                                   payload)
    public = load_pem_public_key(signed.pub.read_bytes())
    public.verify(base64.b64decode(sig["sig"]), pae)  # type: ignore[union-attr, call-arg]

    stmt = payload_of(envelope)
    assert stmt["_type"] == STATEMENT_TYPE == "https://in-toto.io/Statement/v1"
    assert stmt["predicateType"] == PREDICATE_TYPE
    subjects = {s["name"]: s for s in stmt["subject"]}
    assert set(subjects) == {"ghz-noisy", *signed.files}
    assert {"report.json", "report.md"} <= set(signed.files)
    assert ATTESTATION_NAME not in subjects
    deposit = subjects["ghz-noisy"]
    assert deposit["digest"] == {"sha256": signed.report.deposit_sha256}
    assert deposit["annotations"] == {"qrepro.role": "deposit",
                                      "qrepro.digest": "qrepro-deposit-digest-v2"}
    for name in signed.files:
        assert subjects[name]["digest"] == {"sha256": file_sha256(signed.out / name)}

    pred = stmt["predicate"]
    assert pred["harness"] == signed.report.tool
    assert pred["badges"] == {"available": True, "functional": True, "reusable": True,
                              "reproduced": True}
    assert signed.report.policy is not None
    assert pred["venueBadges"]["policy"] == signed.report.policy.name
    assert [b["id"] for b in pred["venueBadges"]["badges"]] == \
        [b.id for b in signed.report.policy.badges]
    assert [(c["id"], c["kind"], c["verdict"], c["reason"]) for c in pred["claims"]] == \
        [(c.id, c.kind, c.verdict, c.message) for c in signed.report.claims]
    env = pred["environment"]
    assert signed.report.environment is not None
    assert env["runner"] == "local"
    assert env["device"] == signed.report.environment.device in ("CPU", "GPU")
    assert set(env) >= {"imageId", "baseImageId", "imageTag", "baseImage"}
    assert pred["deposit"]["sha256"] == signed.report.deposit_sha256
    assert pred["deposit"]["digestScheme"] == signed.report.deposit_digest_scheme \
        == "qrepro-deposit-digest-v2"
    assert PREDICATE_TYPE == "https://qrepro.dev/attestation/evaluation/v2"
    if not _sign_supported():
        assert pred["options"] == OPTIONS  # integers stay integers (0, not 0.0)
    assert isinstance(pred["options"], dict)


def test_statement_options_become_plain_json(signed: Signed) -> None:
    files = [signed.out / n for n in signed.files]
    stmt = statement(signed.report, signed.out, files,
                     {"deposit": Path("/x/dep"), "today": __import__("datetime").date(2026, 1, 2),
                      "formats": ("json", "md"), "seed": 7})
    assert stmt["predicate"]["options"] == {"deposit": "/x/dep", "today": "2026-01-02",
                                            "formats": ["json", "md"], "seed": 7}
    # files given relative to the output folder, or absolute, name the same subjects
    again = statement(signed.report, signed.out, [Path(n) for n in signed.files], {})
    assert again["subject"] == stmt["subject"]


def test_statement_refuses_a_file_outside_the_output_folder(signed: Signed,
                                                            tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.json"
    outside.write_text("{}")
    with pytest.raises(AttestationError, match="outside the output folder"):
        statement(signed.report, signed.out, [outside], {})
    with pytest.raises(AttestationError, match=r"'\.\.'"):
        statement(signed.report, signed.out, [Path("../elsewhere.json")], {})


# --- verify accepts ---------------------------------------------------------------------


def test_verify_accepts_the_signed_reports(signed: Signed, out: Path) -> None:
    code, stdout, stderr = run_verify(out, "--key", signed.pub)
    assert code == 0, stderr
    lines = stdout.splitlines()
    assert lines[0] == f"signature: ok (Ed25519, key id {signed.keyid})"
    assert lines[1].startswith("statement: ok (in-toto Statement v1")
    for name in signed.files:
        assert any(line.startswith(f"{name}: ok (sha256 ") for line in lines)
    assert lines[-1].startswith(f"verified: signed by key id {signed.keyid}; "
                                f"{len(signed.files)} report files unchanged; "
                                "deposit not checked")


def test_verify_accepts_the_deposit_evaluated(signed: Signed, out: Path) -> None:
    code, stdout, stderr = run_verify(out, "--key", signed.pub, "--deposit", DEPOSIT)
    assert code == 0, stderr
    assert f"deposit: ok ({DEPOSIT} is the signed deposit ghz-noisy, sha256 " \
        f"{signed.report.deposit_sha256})" in stdout
    assert stdout.splitlines()[-1].endswith("the deposit matches")


def test_verify_accepts_a_copy_and_an_archive_of_the_deposit(signed: Signed, out: Path,
                                                             tmp_path: Path) -> None:
    copy = shutil.copytree(DEPOSIT, tmp_path / "renamed-copy")
    assert run_verify(out, "--key", signed.pub, "--deposit", copy)[0] == 0
    archive = tmp_path / "ghz-noisy.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(DEPOSIT, arcname="ghz-noisy")
    code, _, stderr = run_verify(out, "--key", signed.pub, "--deposit", archive)
    assert code == 0, stderr


# --- verify rejects ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["report.json", "report.md"])
def test_a_changed_byte_in_a_report_file_is_rejected(signed: Signed, out: Path,
                                                     name: str) -> None:
    flip_byte(out / name)
    code, stdout, stderr = run_verify(out, "--key", signed.pub)
    assert code == 1
    assert f"{name}: FAILED: changed after it was signed" in stdout
    assert stderr.startswith(f"qrepro: verification failed: {out / name}: changed after it "
                             "was signed")
    assert len(stderr.splitlines()) == 1
    assert "verified:" not in stdout


def test_a_changed_file_is_rejected_by_the_library_too(signed: Signed, out: Path) -> None:
    (out / "report.md").write_text("# forged\n", encoding="utf-8")
    result = verify(out, signed.pub)
    assert not result.ok
    assert [c.name for c in result.failures] == ["report.md"]
    with pytest.raises(AttestationError, match="changed after it was signed") as info:
        result.raise_for_failure()
    assert info.value.file == str(out / "report.md")


def test_a_deleted_report_file_is_rejected(signed: Signed, out: Path) -> None:
    (out / "report.md").unlink()
    code, stdout, stderr = run_verify(out, "--key", signed.pub)
    assert code == 1
    assert stderr == f"qrepro: verification failed: {out / 'report.md'}: missing from {out}\n"
    assert "report.json: ok" in stdout


def test_a_report_file_replaced_by_a_link_out_of_the_folder_is_rejected(
        signed: Signed, out: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.md"
    shutil.copy(out / "report.md", outside)  # the same bytes, but not in OUTDIR
    (out / "report.md").unlink()
    (out / "report.md").symlink_to(outside)
    code, _, stderr = run_verify(out, "--key", signed.pub)
    assert code == 1
    assert "report.md: resolves outside" in stderr


def test_a_wrong_key_is_rejected(signed: Signed, out: Path, tmp_path: Path) -> None:
    other = generate_key_pair(tmp_path / "other")
    code, stdout, stderr = run_verify(out, "--key", other.public)
    assert code == 1
    assert f"signed by key id {signed.keyid}, not by the given key (key id {other.keyid})" \
        in stderr
    assert stderr.startswith(f"qrepro: verification failed: {out / ATTESTATION_NAME}: ")
    assert stdout.startswith("signature: FAILED")


def test_a_deposit_with_one_changed_byte_is_rejected(signed: Signed, out: Path,
                                                     tmp_path: Path) -> None:
    copy = shutil.copytree(DEPOSIT, tmp_path / "ghz-noisy")
    victim = sorted(p for p in copy.rglob("*.json") if p.is_file())[0]
    flip_byte(victim, offset=0)
    code, stdout, stderr = run_verify(out, "--key", signed.pub, "--deposit", copy)
    assert code == 1
    assert stderr.startswith(f"qrepro: verification failed: {copy}: not the deposit evaluated")
    assert "report.json: ok" in stdout


def test_a_deposit_forging_the_old_listing_cannot_pass_for_the_one_evaluated(
        signed: Signed, out: Path, tmp_path: Path) -> None:
    """Y: the deposit evaluated with one file moved to a name holding a newline and a forged
    ``sha256sum`` line, and the file it names removed: its old digest was the signed one. Now
    it is not, and Y cannot even be read: verify names the file escaped (exit 2)."""
    forged = tmp_path / "ghz-noisy"
    name = forge_old_listing(DEPOSIT, forged)
    files = sorted(p.relative_to(forged).as_posix() for p in forged.rglob("*") if p.is_file())
    assert old_listing_digest(forged, files) == old_listing_digest(
        DEPOSIT, sorted(p.relative_to(DEPOSIT).as_posix() for p in DEPOSIT.rglob("*")
                        if p.is_file()))
    assert tree_digest(forged, files) != signed.report.deposit_sha256
    code, stdout, stderr = run_verify(out, "--key", signed.pub, "--deposit", forged)
    assert code == 2 and "verified" not in stdout
    assert stderr.count("\n") == 1
    shown = " ".join(shown_name(name).split())  # a one-line message's spaces collapse
    assert f"{shown}: unsafe file name: control character U+000A" in stderr
    # the same deposit without the forged name: another deposit, refused as such
    (forged / name).unlink()
    code, _, stderr = run_verify(out, "--key", signed.pub, "--deposit", forged)
    assert code == 1
    assert stderr.startswith(f"qrepro: verification failed: {forged}: not the deposit evaluated")


def test_an_attestation_of_the_old_predicate_is_refused_as_such(signed: Signed,
                                                                out: Path) -> None:
    """v1 named the deposit by its sha256sum listing, which a file name could forge."""
    stmt = payload_of(envelope_of(out))
    stmt["predicateType"] = "https://qrepro.dev/attestation/evaluation/v1"
    forged = sign_statement(stmt, load_signing_key(signed.key))
    (out / ATTESTATION_NAME).write_text(json.dumps(forged), encoding="utf-8")
    code, _, stderr = run_verify(out, "--key", signed.pub, "--deposit", DEPOSIT)
    assert code == 1
    assert "evaluation/v1 is an older qrepro's, whose deposit digest a file name could " \
        "forge" in stderr


def test_a_tampered_payload_is_rejected(signed: Signed, out: Path) -> None:
    envelope = envelope_of(out)
    stmt = payload_of(envelope)
    stmt["predicate"]["claims"][0]["verdict"] = "fail"
    envelope["payload"] = base64.b64encode(json.dumps(stmt).encode()).decode()
    (out / ATTESTATION_NAME).write_text(json.dumps(envelope), encoding="utf-8")
    code, stdout, stderr = run_verify(out, "--key", signed.pub)
    assert code == 1
    assert "the signature does not verify with the given key" in stderr
    assert stdout.splitlines() == [stdout.splitlines()[0]]  # nothing of it trusted


def test_a_forged_subject_digest_is_rejected(signed: Signed, out: Path) -> None:
    """Changing a report file and its digest in the payload breaks the signature."""
    from harness.units import file_sha256

    (out / "report.md").write_text("# forged\n", encoding="utf-8")
    envelope = envelope_of(out)
    stmt = payload_of(envelope)
    for subject in stmt["subject"]:
        if subject["name"] == "report.md":
            subject["digest"]["sha256"] = file_sha256(out / "report.md")
    envelope["payload"] = base64.b64encode(json.dumps(stmt).encode()).decode()
    (out / ATTESTATION_NAME).write_text(json.dumps(envelope), encoding="utf-8")
    assert run_verify(out, "--key", signed.pub)[0] == 1


def test_a_changed_signature_is_rejected(signed: Signed, out: Path) -> None:
    envelope = envelope_of(out)
    sig = bytearray(base64.b64decode(envelope["signatures"][0]["sig"]))
    sig[0] ^= 0x01
    envelope["signatures"][0]["sig"] = base64.b64encode(bytes(sig)).decode()
    (out / ATTESTATION_NAME).write_text(json.dumps(envelope), encoding="utf-8")
    assert run_verify(out, "--key", signed.pub)[0] == 1


@pytest.mark.parametrize("name", ["../outside.json", "/etc/passwd", "a/../../b"])
def test_a_subject_escaping_the_folder_is_rejected(signed: Signed, out: Path,
                                                   name: str) -> None:
    """Even signed by the venue's own key, a subject may not name a file outside OUTDIR."""
    from reports.attestation import _in_toto_statement

    stmt = payload_of(envelope_of(out))
    subjects = [*stmt["subject"], {"name": name, "digest": {"sha256": "0" * 64}}]
    forged = sign_statement(_in_toto_statement(subjects, stmt["predicate"]),
                            load_signing_key(signed.key))
    (out / ATTESTATION_NAME).write_text(json.dumps(forged), encoding="utf-8")
    code, stdout, stderr = run_verify(out, "--key", signed.pub)
    assert code == 1
    assert stdout.startswith("signature: ok")
    assert stderr.startswith(f"qrepro: verification failed: {name}: subject name ")


def test_a_statement_of_another_predicate_is_rejected(signed: Signed, out: Path) -> None:
    stmt = payload_of(envelope_of(out))
    stmt["predicateType"] = "https://slsa.dev/provenance/v1"
    forged = sign_statement(stmt, load_signing_key(signed.key))
    (out / ATTESTATION_NAME).write_text(json.dumps(forged), encoding="utf-8")
    code, _, stderr = run_verify(out, "--key", signed.pub)
    assert code == 1
    assert "predicateType 'https://slsa.dev/provenance/v1' is not" in stderr


# --- unreadable input: exit 2 -----------------------------------------------------------


def test_unreadable_inputs_exit_2(signed: Signed, out: Path, tmp_path: Path) -> None:
    code, _, stderr = run_verify(out, "--key", signed.key)  # the private key by mistake
    assert code == 2
    assert stderr == (f"qrepro: error: {signed.key}: cannot load the public key: it is a "
                      "private key: verify with the public key (PREFIX.pub), and keep the "
                      "private key secret\n")
    code, _, stderr = run_verify(out, "--key", tmp_path / "none.pub")
    assert (code, stderr.startswith(f"qrepro: error: {tmp_path / 'none.pub'}: cannot read")) \
        == (2, True)
    code, _, stderr = run_verify(out, "--key", signed.pub, "--deposit", tmp_path / "nothing")
    assert code == 2
    assert "cannot read the deposit" in stderr
    (out / ATTESTATION_NAME).write_text("{not json", encoding="utf-8")
    code, _, stderr = run_verify(out, "--key", signed.pub)
    assert code == 2
    assert f"{out / ATTESTATION_NAME}: the attestation is not JSON" in stderr
    (out / ATTESTATION_NAME).unlink()
    code, _, stderr = run_verify(out, "--key", signed.pub)
    assert code == 2
    assert "cannot read the attestation" in stderr
    assert run_verify(tmp_path / "no-such-dir", "--key", signed.pub)[0] == 2


# --- keys -------------------------------------------------------------------------------


def test_keygen_writes_a_key_pair_and_refuses_to_overwrite(tmp_path: Path) -> None:
    prefix = tmp_path / "keys" / "pldi-ae-2026"
    code, stdout, stderr = run_keygen("--out", prefix)
    assert code == 0, stderr
    private, public = prefix.with_suffix(".key"), prefix.with_suffix(".pub")
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert private.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert public.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    keyid = load_public_key(public).keyid
    assert stdout.splitlines() == [
        f"private key: {private} (mode 0600: keep it secret, sign with evaluate --sign)",
        f"public key:  {public} (publish it with the key id)",
        f"key id:      {keyid}",
    ]
    assert load_signing_key(private).public_key.keyid == keyid

    before = private.read_bytes()
    code, _, stderr = run_keygen("--out", prefix)
    assert code == 2
    assert stderr == (f"qrepro: error: {private}: exists; qrepro keygen does not replace a "
                      "key file (pass --force to)\n")
    assert private.read_bytes() == before
    public.unlink()  # one of the two still there: still refused, nothing written
    assert run_keygen("--out", prefix)[0] == 2
    assert not public.exists()

    private.chmod(0o644)
    code, _, stderr = run_keygen("--out", prefix, "--force")
    assert code == 0, stderr
    assert private.read_bytes() != before
    assert stat.S_IMODE(private.stat().st_mode) == 0o600


def test_keygen_into_a_directory(tmp_path: Path) -> None:
    code, _, _ = run_keygen(tmp_path / "ae")
    assert code == 0
    assert (tmp_path / "ae" / "qrepro.key").is_file()
    assert (tmp_path / "ae" / "qrepro.pub").is_file()
    assert run_keygen(tmp_path / "ae", "--out", tmp_path / "x")[0] == 2  # not both


def test_load_signing_key_fails_early_and_clearly(signed: Signed, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
    )

    with pytest.raises(AttestationError, match="cannot read the signing key") as info:
        load_signing_key(tmp_path / "missing.key")
    assert info.value.file == str(tmp_path / "missing.key")
    with pytest.raises(AttestationError, match="it is a public key"):
        load_signing_key(signed.pub)
    garbage = tmp_path / "garbage.key"
    garbage.write_text("hello")
    with pytest.raises(AttestationError, match="not a PEM private key"):
        load_signing_key(garbage)
    ecdsa = tmp_path / "ecdsa.key"
    ecdsa.write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    with pytest.raises(AttestationError, match="not Ed25519"):
        load_signing_key(ecdsa)
    with pytest.raises(AttestationError, match="cannot read the signing key"):
        attest(signed.report, signed.out, [], tmp_path / "missing.key", {})


# --- the real console script --------------------------------------------------------------


@pytest.fixture
def console() -> Iterator[Path]:
    if not _registered():
        pytest.skip("keygen and verify are not registered in harness.cli yet")
    yield QREPRO


def test_console_script_keygen_and_verify(console: Path, signed: Signed, out: Path,
                                          tmp_path: Path) -> None:
    proc = subprocess.run([str(console), "keygen", "--out", str(tmp_path / "k")],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "key id:" in proc.stdout
    proc = subprocess.run([str(console), "keygen", "--out", str(tmp_path / "k")],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"qrepro: error: {tmp_path / 'k.key'}: exists")

    proc = subprocess.run([sys.executable, "-m", "harness", "verify", str(out), "--key",
                           str(signed.pub), "--deposit", str(DEPOSIT)],
                          capture_output=True, text=True, check=False, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1].startswith("verified: ")
    flip_byte(out / "report.json")
    proc = subprocess.run([str(console), "verify", str(out), "--key", str(signed.pub)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"qrepro: verification failed: {out / 'report.json'}: ")
