"""Interpreter-start hooks in vendored wheels: code that runs whenever Python starts.

A wheel may install a ``.pth`` file holding an ``import`` line, or a ``sitecustomize`` /
``usercustomize`` module: Python's ``site`` module executes them at every interpreter start,
before any code of ours. The agent starts with ``-S`` and never runs them, but the deposit's
notebook kernels do, and a reviewer should know. Each one found is a finding naming the wheel
and the member; a wheel that cannot be read as a zip is one too.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator

from harness.errors import DepositError
from harness.intake.archive import Deposit
from harness.intake.manifest import Manifest
from harness.models import Finding, finding

HOOK_MODULES = ("sitecustomize.py", "usercustomize.py")
MAX_MEMBERS = 100_000


def _hooks(names: list[str]) -> Iterator[str]:
    for name in names:
        top = "/" not in name.rstrip("/")
        base = name.rsplit("/", 1)[-1]
        in_data = ".data/purelib/" in name or ".data/platlib/" in name
        if base.endswith(".pth") and (top or in_data):
            yield name
        elif base in HOOK_MODULES and (top or in_data):
            yield name


def wheel_listings(deposit: Deposit, m: Manifest) -> Iterator[tuple[str, str, list[str]]]:
    """``(wheel, field, member names)`` of each vendored wheel there is: one zip listing, no
    member read. A file that is not a wheel is refused (DepositError naming it)."""
    for i, wheel in enumerate(m.environment.wheels):
        field = f"environment.wheels[{i}]"
        path = deposit.path(wheel, field=field)
        if not path.is_file():
            continue  # the inventory check reports a missing file
        try:
            with zipfile.ZipFile(path) as zf:
                names = zf.namelist()[:MAX_MEMBERS]
        except (zipfile.BadZipFile, OSError) as exc:
            raise DepositError(f"not a wheel (not a zip archive: {exc}); nothing is built "
                               "from it", file=wheel, field=field) from None
        if not any(n.count("/") == 1 and n.endswith(".dist-info/WHEEL") for n in names):
            raise DepositError("not a wheel (no *.dist-info/WHEEL inside); nothing is built "
                               "from it", file=wheel, field=field)
        yield wheel, field, names


def startup_hook_findings(deposit: Deposit, m: Manifest) -> list[Finding]:
    findings: list[Finding] = []
    for wheel, field, names in wheel_listings(deposit, m):
        for member in _hooks(names):
            findings.append(finding(
                "interpreter-start-hook", "warning",
                f"installs {member}, code that Python runs at every interpreter start "
                "(the agent starts without it; the deposit's notebook kernels run it)",
                file=wheel, field=field,
            ))
    return findings
