"""The deposit's lock file is build input: data under the same rule as ``requirements``.

A pip/uv lock file (``uv pip compile`` / ``pip freeze`` output) is read line by line, with
``\\`` continuations joined and comments dropped; every requirement must be a plain
``name==version`` (hashes and markers allowed). An option line (``--index-url``,
``--extra-index-url``, ``-r FILE``, ``-e``, ``-c``, ``--find-links``), a URL, a path or a VCS
reference stops the evaluation with a one-line error naming the file and line: the index is
the evaluator's choice, and a build must never read a file outside the deposit.
"""

from __future__ import annotations

from collections.abc import Iterator

from harness.errors import DepositError
from harness.intake.archive import Deposit
from harness.intake.manifest import Manifest, plain_requirement

MAX_BYTES = 4 * 1024 * 1024


def logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(first line number, line) with continuations joined and comments removed."""
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #", 1)[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        if full:
            yield start, full


def check_lock_file(deposit: Deposit, m: Manifest) -> None:
    rel = m.environment.lock_file
    if rel is None:
        return
    path = deposit.path(rel, field="environment.lock_file")
    if not path.is_file():
        return  # the inventory check reports a missing file
    if path.stat().st_size > MAX_BYTES:
        raise DepositError(f"the lock file is larger than {MAX_BYTES} bytes", file=rel,
                           field="environment.lock_file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DepositError(f"cannot read the lock file: {exc}", file=rel,
                           field="environment.lock_file") from exc
    for number, line in logical_lines(text):
        try:
            plain_requirement(line)
        except ValueError as exc:
            raise DepositError(str(exc), file=rel, field=f"line {number}") from None

