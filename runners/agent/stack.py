"""The replay stack, verified inside the environment before qiskit is imported.

Standard library only; runs inside the deposit's environment. The stack is qiskit (or
qiskit-terra), qiskit-aer (or qiskit-aer-gpu) and every installed distribution they require
at run time (``Requires-Dist`` without an ``extra`` marker, followed transitively), found
from the installed metadata once the deposit's folders are off ``sys.path``.

* :func:`verify`: every file each stack distribution's RECORD lists with a hash must have
  that sha256; every file under a stack top-level module or folder must be listed in a stack
  RECORD (a bytecode cache of a listed source is tolerated when no other distribution claims
  it). A changed, missing or extra file is a problem naming it (and the distribution whose
  RECORD claims an extra file). RECORD hashes come from the installed wheels themselves: this
  catches changes after install and files other distributions put into stack packages.
* :func:`restrict_entry_points`: ``importlib.metadata.entry_points`` answers with the stack's
  entry points only (qiskit loads transpiler and synthesis plugins through them, via
  stevedore, whose on-disk cache is redirected to a fresh empty folder), so no other
  distribution can put code into a transpile call.
* :class:`StackOnly`: during the replay a top-level import of anything but the stack, the
  standard library and the agent's own modules fails with ImportError.
* :class:`Guard`: after each circuit, every module in ``sys.modules`` with a file must come
  from a stack RECORD, the standard library or the agent's own folder; anything else makes
  the circuit's run not a result (``error_type`` ``foreign-code``), naming module, file and
  distribution.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import importlib.abc
import importlib.machinery
import importlib.metadata
import os
import re
import sys
import sysconfig
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

#: qiskit, Aer, and the OpenQASM 3 reader qiskit.qasm3.loads calls (its parser's runtime,
#: antlr4, is an extra of openqasm3's, which the requirements walk skips: named here)
ROOTS = ("qiskit", "qiskit-terra", "qiskit-aer", "qiskit-aer-gpu", "qiskit-qasm3-import",
         "openqasm3", "antlr4-python3-runtime")
FOREIGN = "foreign-code"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_EXTRA = re.compile(r"\bextra\s*==")
AGENT_DIR = os.path.dirname(os.path.realpath(__file__))
_MODULE_SUFFIXES = (".py", ".pyc")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def clean_sys_path(*folders: str) -> list[str]:
    """Take the deposit's folders (and the working directory) off ``sys.path``."""
    roots = [os.path.realpath(f) for f in folders if f]
    removed = []
    for entry in list(sys.path):
        real = os.path.realpath(entry or os.curdir)
        if entry in ("", os.curdir) or any(real == r or real.startswith(r + os.sep)
                                           for r in roots):
            sys.path.remove(entry)
            removed.append(entry)
    return removed


def stack_distributions(roots: tuple[str, ...] = ROOTS
                        ) -> dict[str, importlib.metadata.Distribution]:
    """canonical name -> installed distribution, for the roots and their run-time needs."""
    found: dict[str, importlib.metadata.Distribution] = {}
    todo = list(roots)
    while todo:
        name = canonical(todo.pop())
        if name in found:
            continue
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        found[name] = dist
        for req in dist.requires or []:
            if _EXTRA.search(req.partition(";")[2]):
                continue
            match = _NAME.match(req.strip())
            if match:
                todo.append(match.group(0))
    return dict(sorted(found.items()))


def _sha256(path: str) -> str | None:
    try:
        with open(path, "rb") as fh:
            digest = hashlib.file_digest(fh, "sha256").digest()
    except OSError:
        return None
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _rows(dist: importlib.metadata.Distribution) -> list[tuple[str, str | None]]:
    """(path relative to the site directory, hash or None) of each RECORD row."""
    text = dist.read_text("RECORD") or ""
    out = []
    for row in csv.reader(text.splitlines()):
        if row and row[0]:
            out.append((row[0].replace("\\", "/"), row[1] if len(row) > 1 and row[1] else None))
    return out


def _site(dist: importlib.metadata.Distribution) -> str:
    return os.path.realpath(str(dist.locate_file("")))


def _recorded(dist: importlib.metadata.Distribution) -> list[tuple[str, str, str | None]]:
    """(RECORD path, real path, expected hash or None) of every file a RECORD lists."""
    site = _site(dist)
    return [(rel, os.path.normpath(os.path.join(site, rel)), expected)
            for rel, expected in _rows(dist)]


def _tops(dist: importlib.metadata.Distribution) -> set[str]:
    """Top-level folders and modules a distribution installs into its site directory."""
    site = _site(dist)
    tops = set()
    for rel, _ in _rows(dist):
        first = rel.split("/", 1)[0]
        if first in ("..", "", "__pycache__") or first.endswith(
                (".dist-info", ".egg-info", ".data", ".pth")):
            continue
        tops.add(os.path.join(site, first))
    return tops


def _owners(paths: set[str], stack: set[str]) -> dict[str, str]:
    """path -> the non-stack distribution whose RECORD lists it."""
    firsts = {os.path.basename(p) for p in paths} | {
        part for p in paths for part in p.split(os.sep)}
    owners: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        name = canonical(dist.metadata["Name"] or "")
        if name in stack:
            continue
        site = None
        for rel, _ in _rows(dist):
            if rel.split("/", 1)[0] not in firsts:
                continue
            site = site or _site(dist)
            real = os.path.normpath(os.path.join(site, rel))
            if real in paths:
                owners[real] = name
    return owners


def _pyc_source(path: str) -> str | None:
    folder, base = os.path.split(path)
    if os.path.basename(folder) != "__pycache__" or not base.endswith(".pyc"):
        return None
    return os.path.join(os.path.dirname(folder), base.split(".", 1)[0] + ".py")


def verify(dists: dict[str, importlib.metadata.Distribution], workers: int = 4
           ) -> tuple[list[dict[str, Any]], set[str], list[str]]:
    """(the stack as reported, the real paths of its files, problems)."""
    problems: list[str] = []
    listed: dict[str, str] = {}
    checks: list[tuple[str, str, str, str]] = []
    report = []
    for name, dist in dists.items():
        entries = _recorded(dist)
        record = dist.read_text("RECORD") or ""
        report.append({"name": name, "version": dist.version, "files": len(entries),
                       "record_sha256": hashlib.sha256(record.encode()).hexdigest()})
        if not entries:
            problems.append(f"{name} {dist.version} has no RECORD: its files cannot be "
                            "verified")
        for rel, real, expected in entries:
            listed[real] = name
            if expected is not None:
                checks.append((name, rel, real, expected))
    with ThreadPoolExecutor(max(1, workers)) as pool:
        digests = list(pool.map(lambda c: _sha256(c[2]), checks))
    for (name, rel, _, expected), got in zip(checks, digests, strict=True):
        if got is None:
            problems.append(f"{rel} of {name} is missing or unreadable")
        elif got != expected:
            problems.append(f"{rel} of {name} differs from its RECORD ({got}, RECORD says "
                            f"{expected})")
    extra: set[str] = set()
    for top in sorted({t for d in dists.values() for t in _tops(d)}):
        for candidate in (top, *(top + suffix for suffix in _MODULE_SUFFIXES)):
            if os.path.isfile(candidate) and candidate not in listed:
                extra.add(candidate)
        for folder, _, files in os.walk(top):
            for base in files:
                real = os.path.join(folder, base)
                if real not in listed:
                    extra.add(real)
    if extra:
        owners = _owners(extra, set(dists))
        for real in sorted(extra):
            source = _pyc_source(real)
            if real not in owners and source is not None and source in listed:
                continue  # bytecode the installer compiled from a verified source
            by = f", installed by {owners[real]}" if real in owners else ""
            problems.append(f"{real} is not in the RECORD of any stack distribution{by}")
    return report, set(listed), problems


#: what restore() undoes, last first (the agent's tests call main() in their own process)
_undo: list[Callable[[], object]] = []


def _set_env(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def restore() -> None:
    """Undo restrict_entry_points, confine_imports and install."""
    release_imports()
    install(None)
    while _undo:
        _undo.pop()()


def restrict_entry_points(dists: dict[str, importlib.metadata.Distribution]) -> None:
    """Entry points (all groups) of the stack distributions only, from now on in this
    process; stevedore's entry-point cache is read from and written to an empty private
    folder, so a cache file another process wrote is never read."""
    cache = tempfile.mkdtemp(prefix="qrepro-entrypoints-")
    os.makedirs(os.path.join(cache, "python-entrypoints"), exist_ok=True)
    with open(os.path.join(cache, "python-entrypoints", ".disable"), "w", encoding="utf-8"):
        pass
    old_cache, original = os.environ.get("XDG_CACHE_HOME"), importlib.metadata.entry_points
    _undo.append(lambda: _set_env("XDG_CACHE_HOME", old_cache))
    _undo.append(lambda: setattr(importlib.metadata, "entry_points", original))
    os.environ["XDG_CACHE_HOME"] = cache
    kept = importlib.metadata.EntryPoints(
        ep for dist in dists.values() for ep in dist.entry_points)

    def entry_points(**params: Any) -> importlib.metadata.EntryPoints:
        return kept.select(**params) if params else kept

    importlib.metadata.entry_points = entry_points  # type: ignore[assignment]


class StackOnly(importlib.abc.MetaPathFinder):
    """First on ``sys.meta_path`` during the replay: a top-level module is imported only
    from a file of the verified stack, the standard library or the agent's folder; any other
    fails with ImportError (an optional import, rustworkx's ``from PIL import Image``, falls
    back as it would if the package were not installed; a deposit module shadowing a stack
    module is never loaded)."""

    def __init__(self, guard: Guard, names: set[str]) -> None:
        self.guard = guard
        self.names = names
        self._verdicts: dict[str, bool] = {}

    def _allowed(self, fullname: str) -> bool:
        if fullname in sys.builtin_module_names:
            return True
        spec = importlib.machinery.PathFinder.find_spec(fullname, sys.path)
        if spec is None:
            return True  # not found: the import fails as it would anyway
        if spec.origin is None or spec.origin == "namespace":  # a namespace package
            return fullname in self.names
        return self.guard.allowed(spec.origin)

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        if path is not None:
            return None  # a submodule: found in its package's folder, checked by the guard
        if fullname not in self._verdicts:
            self._verdicts[fullname] = self._allowed(fullname)
        if self._verdicts[fullname]:
            return None
        raise ModuleNotFoundError(f"No module named {fullname!r} in the replay stack "
                                  "(qrepro allows only the verified stack during replay)",
                                  name=fullname)


def allowed_modules(dists: dict[str, importlib.metadata.Distribution]) -> set[str]:
    """Top-level module names of the stack."""
    return {os.path.basename(t).split(".", 1)[0] for d in dists.values() for t in _tops(d)}


_finder: StackOnly | None = None


def confine_imports(guard: Guard, dists: dict[str, importlib.metadata.Distribution]) -> None:
    """Put :class:`StackOnly` first on ``sys.meta_path`` (until :func:`release_imports`)."""
    global _finder
    _finder = StackOnly(guard, allowed_modules(dists))
    sys.meta_path.insert(0, _finder)


def release_imports() -> None:
    """Before the notebooks (which run the deposit's own code in their own processes)."""
    global _finder
    if _finder is not None and _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    _finder = None


def _stdlib_dirs() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    return tuple({os.path.realpath(paths[k]) + os.sep for k in ("stdlib", "platstdlib")
                  if k in paths})


class Guard:
    """Which loaded modules come from outside the verified stack, the stdlib and the agent."""

    def __init__(self, stack_files: set[str], stack: set[str]) -> None:
        self.stack_files = stack_files
        self.stack = stack
        self.stdlib = _stdlib_dirs()
        #: loaded before the guard: the agent's own imports (standard library only)
        self.baseline = set(sys.modules)
        self._seen: dict[tuple[str, str], bool] = {}

    def allowed(self, path: str) -> bool:
        real = os.path.realpath(path)
        if real in self.stack_files or real.startswith(AGENT_DIR + os.sep):
            return True
        inside = any(real.startswith(d) for d in self.stdlib)
        return inside and "site-packages" not in real and "dist-packages" not in real

    def foreign(self) -> list[dict[str, str | None]]:
        out: list[dict[str, str | None]] = []
        for name, module in list(sys.modules.items()):
            if name in self.baseline:
                continue
            path = getattr(module, "__file__", None)
            if not isinstance(path, str):
                continue
            key = (name, path)
            if key not in self._seen:
                self._seen[key] = self.allowed(path)
            if not self._seen[key]:
                out.append({"module": name, "file": path})
        if out:
            owners = _owners({os.path.realpath(str(m["file"])) for m in out}, self.stack)
            for m in out:
                m["distribution"] = owners.get(os.path.realpath(str(m["file"])))
        return sorted(out, key=lambda m: str(m["module"]))


_guard: Guard | None = None


def install(guard: Guard | None) -> None:
    global _guard
    _guard = guard


def checked(result: dict[str, Any]) -> dict[str, Any]:
    """A circuit's result, or a failure when code from outside the stack was loaded."""
    if _guard is None:
        return result
    foreign = _guard.foreign()
    if not foreign:
        return result
    shown = "; ".join(f"{m['module']} ({m['file']}"
                      + (f", distribution {m['distribution']})" if m["distribution"] else ")")
                      for m in foreign[:5])
    more = f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
    keep: dict[str, Any] = {k: result[k] for k in ("id", "circuit", "role") if k in result}
    return {**keep, "ok": False, "error_type": FOREIGN,
            "error": f"code from outside the verified replay stack was loaded during the "
                     f"replay, so its counts are not a result: {shown}{more}"}
