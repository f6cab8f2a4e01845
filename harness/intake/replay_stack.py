"""The replay stack: the distributions that replay a deposit's circuits, never the deposit's.

Circuit claims are evidence only when the recorded counts are replayed by Qiskit and Qiskit
Aer as the package index ships them. A vendored wheel (``environment.wheels``) that
provides a module or a distribution of that stack would replace it: a fake ``qiskit_aer``
whose ``AerSimulator`` returns the recorded counts by seed "reproduces" any claim. Such a
wheel is refused here, before anything is built, with one line naming the wheel and the
module.

:data:`STACK` is the stack as a fixed, documented list: qiskit (and qiskit-terra, its name
before 1.0), qiskit-aer (and qiskit-aer-gpu) and every distribution they require at run
time in the releases qrepro supports (qiskit 0.45-2.x, qiskit-aer 0.13-0.18), each with the
top-level modules it installs. ``tests/intake/test_replay_stack.py`` checks that it covers
the transitive requirements of the qiskit and qiskit-aer installed beside qrepro. The agent
(``runners/agent/stack.py``) computes the stack again inside the built environment from
the installed metadata and verifies every file of it against its RECORD.

Requirement and lock-file lines cannot point a stack distribution elsewhere: options
(``--index-url``, ``--find-links``), URLs, paths and VCS references are refused for every
distribution (:func:`harness.intake.manifest.plain_requirement`).

A wheel is read as a zip listing only (names, never contents): what it would install at the
top of site-packages (its own members, ``*.data/purelib/`` and ``*.data/platlib/``, and
``*.data/data/`` paths that lead into a ``site-packages``), and the distribution its
``*.dist-info`` directory names.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from harness.errors import DepositError
from harness.intake.archive import Deposit
from harness.intake.hooks import wheel_listings
from harness.intake.manifest import Manifest

#: distribution (canonical name) -> the top-level modules and folders it installs
STACK: dict[str, tuple[str, ...]] = {
    "qiskit": ("qiskit",),
    "qiskit-terra": ("qiskit",),
    "qiskit-aer": ("qiskit_aer", "qiskit_aer.libs"),
    "qiskit-aer-gpu": ("qiskit_aer", "qiskit_aer.libs"),
    "qiskit-qasm3-import": ("qiskit_qasm3_import",),
    "openqasm3": ("openqasm3",),
    "antlr4-python3-runtime": ("antlr4",),
    "numpy": ("numpy", "numpy.libs"),
    "scipy": ("scipy", "scipy.libs"),
    "rustworkx": ("rustworkx",),
    "retworkx": ("retworkx",),
    "psutil": ("psutil",),
    "python-dateutil": ("dateutil",),
    "six": ("six",),
    "tzdata": ("tzdata",),
    "stevedore": ("stevedore",),
    "pbr": ("pbr",),
    "symengine": ("symengine", "symengine.libs"),
    "sympy": ("sympy", "isympy"),
    "mpmath": ("mpmath",),
    "dill": ("dill",),
    "typing-extensions": ("typing_extensions",),
    "ply": ("ply",),
}
#: every top-level module of the stack -> the distribution that installs it
STACK_MODULES: dict[str, str] = {mod: dist for dist, mods in STACK.items() for mod in mods}

_DIST_INFO = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._]*?)-[^/-]+\.dist-info$")
_SUFFIX = re.compile(r"(\.[A-Za-z0-9_-]+)*\.(py|pyc|pyi|so|pyd)$")


def canonical(name: str) -> str:
    """A distribution name as the package index compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _installed_path(member: str) -> str | None:
    """Where a wheel member lands relative to site-packages, or None (scripts, headers,
    data outside site-packages)."""
    parts = PurePosixPath(member).parts
    if not parts:
        return None
    if not parts[0].endswith(".data"):
        return "/".join(parts)
    if len(parts) > 2 and parts[1] in ("purelib", "platlib"):
        return "/".join(parts[2:])
    if len(parts) > 2 and parts[1] == "data":
        rest = parts[2:]
        for i, part in enumerate(rest[:-1]):
            if part in ("site-packages", "dist-packages"):
                return "/".join(rest[i + 1:])
    return None


def top_level_module(installed: str) -> str:
    """The module (or folder) name an installed path sits under: ``qiskit_aer/x.py`` ->
    ``qiskit_aer``, ``typing_extensions.py`` -> ``typing_extensions``, ``_foo.cpython-311-
    x86_64-linux-gnu.so`` -> ``_foo``."""
    first = installed.split("/", 1)[0]
    if "/" not in installed.rstrip("/"):
        return _SUFFIX.sub("", first)
    return first


def stack_overrides(names: list[str]) -> list[str]:
    """The stack modules (then distributions) a wheel with these members would install."""
    modules: list[str] = []
    dists: list[str] = []
    for name in names:
        top = name.split("/", 1)[0]
        dist = _DIST_INFO.match(top)
        if dist:
            if canonical(dist.group(1)) in STACK:
                dists.append(f"the distribution {canonical(dist.group(1))}")
            continue
        installed = _installed_path(name)
        if installed is None or installed.split("/", 1)[0].endswith(".dist-info"):
            continue
        module = top_level_module(installed)
        if module in STACK_MODULES:
            modules.append(module)
    return list(dict.fromkeys([*modules, *dists]))


def check_wheels(deposit: Deposit, m: Manifest) -> None:
    """Refuse a vendored wheel that provides or overwrites part of the replay stack."""
    for wheel, field, names in wheel_listings(deposit, m):
        found = stack_overrides(names)
        if found:
            shown = ", ".join(found[:4]) + (f" and {len(found) - 4} more" if len(found) > 4
                                            else "")
            raise DepositError(
                f"{PurePosixPath(wheel).name} provides {shown}, which the replay stack "
                "installs from the index: a deposit may not vendor or overwrite qiskit, "
                "qiskit-aer or what they run on (pin them in requirements instead)",
                file="qdata.yaml", field=field)
