"""``qrepro keygen`` and ``qrepro verify`` (docs/attestation.md).

Exit codes of these two commands:
    0  keygen: the key pair was written; verify: every check passed
    1  verify: verification failed (bad signature, a changed, missing or escaping report
       file, another deposit); one line on stderr names the file
    2  usage error, or input that cannot be read (a key, the attestation, the deposit), or
       keygen would replace a key file (--force replaces it)

reports.attestation (and cryptography, securesystemslib) is imported when a command runs,
never when the qrepro command line starts.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from harness.console.extras import require
from harness.console.failing import fail
from harness.errors import AttestationError, QreproError
from harness.escaping import terminal

EXIT_VERIFIED, EXIT_FAILED, EXIT_UNREADABLE = 0, 1, 2


@click.command("keygen")
@click.argument("directory", required=False,
                type=click.Path(file_okay=False, path_type=Path))
@click.option("--out", "prefix", default=None, type=click.Path(path_type=Path),
              help="Write PREFIX.key (private, mode 0600) and PREFIX.pub (public).")
@click.option("--force", is_flag=True, help="Replace key files that exist.")
def keygen_cmd(directory: Path | None, prefix: Path | None, force: bool) -> None:
    """Make an Ed25519 key pair for signing evaluations (evaluate --sign KEY).

    Writes DIRECTORY/qrepro.key and DIRECTORY/qrepro.pub (DIRECTORY: default the
    current one), or PREFIX.key and PREFIX.pub with --out. Publish the .pub file and
    the key id printed; keep the .key file off shared machines."""
    try:
        require("sign", "qrepro keygen")
    except QreproError as exc:
        fail(exc)
    from reports.attestation import DEFAULT_KEY_NAME, generate_key_pair

    if directory is not None and prefix is not None:
        raise click.UsageError("give DIRECTORY or --out PREFIX, not both")
    if prefix is None:
        prefix = (directory or Path(".")) / DEFAULT_KEY_NAME
    try:
        pair = generate_key_pair(prefix, force=force)
    except QreproError as exc:
        fail(exc, EXIT_UNREADABLE)
    click.echo(f"private key: {pair.private} (mode 0600: keep it secret, sign with "
               "evaluate --sign)")
    click.echo(f"public key:  {pair.public} (publish it with the key id)")
    click.echo(f"key id:      {pair.keyid}")


@click.command("verify")
@click.argument("outdir", type=click.Path(path_type=Path))
@click.option("--key", "key", required=True, type=click.Path(path_type=Path),
              help="The venue's public key (PEM, qrepro keygen's .pub file).")
@click.option("--deposit", default=None, type=click.Path(path_type=Path),
              help="Also check that this deposit (folder or archive) is the one evaluated.")
@click.option("--attestation", default=None, type=click.Path(path_type=Path),
              help="The signed attestation (default: OUTDIR/report.intoto.json).")
def verify_cmd(outdir: Path, key: Path, deposit: Path | None,
               attestation: Path | None) -> None:
    """Check OUTDIR's signed attestation: the signature with --key, every report file
    against its signed sha256 and, with --deposit, the deposit. Exit 0: verified;
    1: verification failed; 2: an input cannot be read."""
    from reports.attestation import verify

    try:
        require("sign", "qrepro verify")
        result = verify(outdir, key, deposit=deposit, attestation=attestation)
    except AttestationError as exc:
        fail(exc, EXIT_UNREADABLE)
    except QreproError as exc:  # any other: its own exit code
        fail(exc)
    for check in result.checks:
        click.echo(terminal(check.line()))
    if not result.ok:
        click.echo(terminal(f"qrepro: {result.summary()}"), err=True)
        sys.exit(EXIT_FAILED)
    click.echo(terminal(result.summary()))
