"""The agent's replay-stack checks (runners/agent/stack.py), on temporary fake distributions:
RECORD verification, entry points of the stack only, imports confined to the stack, and
the guard that makes a circuit's run not a result when foreign code was loaded."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from runners.base import AGENT_DIR
from tests.fake_wheels import record_hash

RUNNERS_AGENT = str(AGENT_DIR)


@pytest.fixture(scope="module")
def stack() -> ModuleType:
    spec = importlib.util.spec_from_file_location("qrepro_agent_stack", AGENT_DIR / "stack.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def install(site: Path, name: str, files: dict[str, str], entry_points: str | None = None,
            requires: tuple[str, ...] = ()) -> importlib.metadata.Distribution:
    """Install a distribution into ``site`` by hand, with a RECORD as an installer writes."""
    info = site / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n" + "".join(
        f"Requires-Dist: {r}\n" for r in requires)
    members = {**files, f"{info.name}/METADATA": meta}
    if entry_points:
        members[f"{info.name}/entry_points.txt"] = entry_points
    rows = []
    for rel, text in members.items():
        path = site / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        rows.append(f"{rel},{record_hash(text.encode())},{len(text.encode())}\n")
    (info / "RECORD").write_text("".join(rows) + f"{info.name}/RECORD,,\n", encoding="utf-8")
    return importlib.metadata.PathDistribution(info)


@pytest.fixture()
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    site = tmp_path / "site-packages"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    yield site
    for name in [n for n in sys.modules if n.startswith(("fakestack", "evilmod"))]:
        del sys.modules[name]


def test_untouched_stack_verifies(stack: ModuleType, site: Path) -> None:
    dist = install(site, "fakestack", {"fakestack/__init__.py": "X = 1\n"})
    report, files, problems = stack.verify({"fakestack": dist})
    assert problems == []
    assert report[0]["name"] == "fakestack" and report[0]["files"] == 3
    assert len(report[0]["record_sha256"]) == 64
    assert str(site / "fakestack" / "__init__.py") in files


def test_changed_file_after_install_is_named(stack: ModuleType, site: Path) -> None:
    dist = install(site, "fakestack", {"fakestack/__init__.py": "X = 1\n",
                                       "fakestack/sim.py": "def counts(): return real()\n"})
    (site / "fakestack" / "sim.py").write_text("def counts(): return forged()\n")
    _, _, problems = stack.verify({"fakestack": dist})
    assert len(problems) == 1
    assert problems[0].startswith("fakestack/sim.py of fakestack differs from its RECORD")


def test_missing_and_added_files_are_named(stack: ModuleType, site: Path) -> None:
    dist = install(site, "fakestack", {"fakestack/__init__.py": "", "fakestack/a.py": ""})
    (site / "fakestack" / "a.py").unlink()
    (site / "fakestack" / "backdoor.py").write_text("forged = True\n")
    (site / "fakestack" / "__pycache__").mkdir()
    (site / "fakestack" / "__pycache__" / "__init__.cpython-311.pyc").write_bytes(b"")
    _, _, problems = stack.verify({"fakestack": dist})
    assert problems == [
        "fakestack/a.py of fakestack is missing or unreadable",
        f"{site / 'fakestack' / 'backdoor.py'} is not in the RECORD of any stack distribution",
    ]  # the bytecode of a verified source is the installer's, not a problem


def test_file_another_distribution_put_into_the_stack_is_named(stack: ModuleType, site: Path
                                                                ) -> None:
    dist = install(site, "fakestack", {"fakestack/__init__.py": ""})
    install(site, "helper", {"helper/__init__.py": "", "fakestack/extra.py": "forged = 1\n"})
    _, _, problems = stack.verify({"fakestack": dist})
    assert problems == [f"{site / 'fakestack' / 'extra.py'} is not in the RECORD of any stack "
                        "distribution, installed by helper"]


def test_stack_is_the_closure_of_requirements(stack: ModuleType, site: Path) -> None:
    install(site, "fakestack", {"fakestack/__init__.py": ""}, requires=(
        "fakedep>=1; python_version >= '3'", "fakeextra; extra == 'viz'", "absent-dist"))
    install(site, "fakedep", {"fakedep.py": ""})
    install(site, "fakeextra", {"fakeextra.py": ""})
    assert list(stack.stack_distributions(("fakestack",))) == ["fakedep", "fakestack"]


PLUGINS = "[qiskit.transpiler.routing]\n{name} = {module}:Plugin\n"


def test_entry_points_of_other_distributions_are_not_seen(stack: ModuleType, site: Path
                                                           ) -> None:
    dist = install(site, "fakestack", {"fakestack/__init__.py": ""},
                   PLUGINS.format(name="builtin", module="fakestack"))
    install(site, "evilplug", {"evilmod.py": "class Plugin: pass\n"},
            PLUGINS.format(name="evil", module="evilmod"))
    group = "qiskit.transpiler.routing"
    assert {"builtin", "evil"} <= set(importlib.metadata.entry_points(group=group).names)
    stack.restrict_entry_points({"fakestack": dist})
    try:
        assert set(importlib.metadata.entry_points(group=group).names) == {"builtin"}
        assert set(importlib.metadata.entry_points().select(group=group).names) == {"builtin"}
    finally:
        stack.restore()
    assert "evil" in importlib.metadata.entry_points(group=group).names


def test_stevedore_loads_no_plugin_of_another_distribution(tmp_path: Path) -> None:
    """The way qiskit loads plugins (stevedore.ExtensionManager), in a fresh process, with a
    forged stevedore cache file in place: the vendored plugin is never imported."""
    site = tmp_path / "site-packages"
    install(site, "evilplug", {"evilmod.py": "import os\nos.environ['PWNED'] = '1'\n"
                                             "class Plugin: pass\n"},
            PLUGINS.format(name="evil", module="evilmod"))
    script = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {RUNNERS_AGENT!r}); sys.path.insert(0, {str(site)!r})
        from channel import add_site_dirs; add_site_dirs()
        import stack
        dists = stack.stack_distributions()
        stack.restrict_entry_points(dists)
        import stevedore
        names = stevedore.ExtensionManager("qiskit.transpiler.routing").names()
        print(sorted(names), os.environ.get("PWNED"))
    """)
    done = subprocess.run([sys.executable, "-E", "-s", "-S", "-c", script], capture_output=True,
                          text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    names, pwned = done.stdout.rsplit(" ", 1)
    assert "evil" not in names and "sabre" in names and pwned.strip() == "None"


def test_imports_outside_the_stack_fail_and_are_reported(stack: ModuleType, site: Path
                                                          ) -> None:
    dist = install(site, "fakestack", {"fakestack/__init__.py": "X = 1\n"})
    (site / "evilmod.py").write_text("forged = True\n")
    _, files, _ = stack.verify({"fakestack": dist})
    guard = stack.Guard(files, {"fakestack"})
    stack.confine_imports(guard, {"fakestack": dist})
    stack.install(guard)
    try:
        import fakestack  # type: ignore[import-not-found]  # noqa: F401

        with pytest.raises(ModuleNotFoundError, match="in the replay stack"):
            import evilmod  # type: ignore[import-not-found]
        assert guard.foreign() == []
        ok = {"id": "ghz3", "ok": True, "counts": {"000": 1}}
        assert stack.checked(ok) == ok
    finally:
        stack.restore()
    # loaded some other way (before the confinement, or by a finder it does not see)
    import evilmod  # noqa: F401

    stack.install(guard)
    try:
        run = stack.checked({"id": "ghz3", "circuit": "ghz3", "ok": True, "counts": {"000": 1}})
    finally:
        stack.restore()
    assert run["ok"] is False and run["error_type"] == "foreign-code" and "counts" not in run
    assert f"evilmod ({site / 'evilmod.py'})" in run["error"]


def test_deposit_folders_leave_the_path(stack: ModuleType, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    deposit = tmp_path / "deposit"
    (deposit / "lib").mkdir(parents=True)
    monkeypatch.setattr(sys, "path", ["", str(deposit / "lib"), str(tmp_path / "site"), "."])
    assert stack.clean_sys_path(str(deposit), str(tmp_path / "work")) == [
        "", str(deposit / "lib"), "."]
    assert sys.path == [str(tmp_path / "site")]
