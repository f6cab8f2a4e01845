"""A vendored wheel may not provide or overwrite the replay stack (refused at validate)."""

from __future__ import annotations

import importlib.metadata
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import cli
from harness.intake.replay_stack import STACK, canonical, stack_overrides
from tests.conftest import BASE_FILES, base_manifest
from tests.fake_wheels import FAKE_AER, fake_aer_wheel, stack_wheel

MESSAGE = ("qdata.yaml: environment.wheels[0]: qiskit_aer-0.18.2-py3-none-any.whl provides "
           "qiskit_aer, the distribution qiskit-aer, which the replay stack installs from the "
           "index")


def vendoring(make: Callable[..., Path], wheels: dict[str, bytes]) -> Path:
    m = base_manifest()
    m["environment"]["wheels"] = [f"wheels/{name}" for name in wheels]
    files: dict[str, str | bytes] = {**BASE_FILES,
                                     **{f"wheels/{n}": data for n, data in wheels.items()}}
    return make(m, files)


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(("members", "found"), [
    ({"qiskit_aer/__init__.py": b""}, ["qiskit_aer"]),
    ({"qiskit/__init__.py": b"", "numpy/__init__.py": b""}, ["qiskit", "numpy"]),
    ({"typing_extensions.py": b""}, ["typing_extensions"]),
    ({"_x.data/purelib/scipy/linalg.py": b""}, ["scipy"]),
    ({"_x.data/platlib/rustworkx/x.cpython-311-x86_64-linux-gnu.so": b""}, ["rustworkx"]),
    ({"_x.data/data/lib/python3.11/site-packages/qiskit_aer/foo.py": b""}, ["qiskit_aer"]),
    ({"numpy.libs/libopenblas.so": b""}, ["numpy.libs"]),
    ({"six.py": b""}, ["six"]),
    ({"qiskit_aer-0.18.2.dist-info/METADATA": b""}, ["the distribution qiskit-aer"]),
    ({"helper/__init__.py": b"", "qiskit_helpers.py": b"", "_x.data/scripts/qiskit": b"",
      "_x.data/data/share/qiskit_aer/x": b""}, []),
])
def test_stack_overrides_reads_member_names(members: dict[str, bytes], found: list[str]
                                            ) -> None:
    assert stack_overrides(list(members)) == found


def test_forged_aer_wheel_is_refused_by_validate(make_deposit: Callable[..., Path]) -> None:
    name, data = fake_aer_wheel()
    root = vendoring(make_deposit, {name: data})
    code, _, err = invoke("validate", str(root))
    assert code == 3
    assert err.startswith(f"qrepro: error: {MESSAGE}")
    assert len(err.strip().splitlines()) == 1


def test_wheel_adding_a_file_under_a_stack_package_is_refused(
        make_deposit: Callable[..., Path]) -> None:
    root = vendoring(make_deposit, {"helper-1.0-py3-none-any.whl": stack_wheel(
        "helper", "1.0", {"helper/__init__.py": b"", "qiskit_aer/backdoor.py": FAKE_AER.encode()})})
    code, _, err = invoke("validate", str(root))
    assert code == 3
    assert ("environment.wheels[0]: helper-1.0-py3-none-any.whl provides qiskit_aer, which the "
            "replay stack installs from the index") in err


def test_honest_wheel_passes(make_deposit: Callable[..., Path]) -> None:
    root = vendoring(make_deposit, {"helper-1.0-py3-none-any.whl": stack_wheel(
        "helper", "1.0", {"helper/__init__.py": b"X = 1\n"})})
    code, out, err = invoke("validate", str(root))
    assert code == 0, out + err


@pytest.mark.parametrize("runner", ["local", "bwrap", "host", "docker"])
def test_evaluate_refuses_before_building(make_deposit: Callable[..., Path], tmp_path: Path,
                                          runner: str) -> None:
    """Validate is shared by every runner: nothing is built, no badge is awarded."""
    name, data = fake_aer_wheel()
    root = vendoring(make_deposit, {name: data})
    out = tmp_path / "out"
    code, _, err = invoke("evaluate", str(root), "--runner", runner, "--out", str(out))
    if runner in ("bwrap", "docker") and code == 4:
        pytest.skip(f"runner {runner} is not available here: {err.strip()}")
    assert code == 3, err
    assert MESSAGE in err
    report = json.loads((out / "report.json").read_text())
    assert report["status"] == "error" and report["error"]["field"] == "environment.wheels[0]"
    assert not any(report["badges"][k] for k in ("available", "functional", "reusable",
                                                 "reproduced"))
    assert not (out / "work" / "job.json").exists()


@pytest.mark.parametrize("line", [
    "qiskit-aer @ file:///tmp/qiskit_aer-0.18.2-py3-none-any.whl",
    "--find-links ./wheels",
    "--index-url http://127.0.0.1:9/simple",
    "./wheels/qiskit_aer-0.18.2-py3-none-any.whl",
])
def test_requirement_lines_cannot_point_the_stack_elsewhere(
        make_deposit: Callable[..., Path], line: str) -> None:
    m = base_manifest()
    m["environment"]["requirements"] = ["qiskit==2.6.2", line]
    code, _, err = invoke("validate", str(make_deposit(m)))
    assert code == 3 and "environment.requirements[1]" in err and "not allowed" in err


def _requires(dist: importlib.metadata.Distribution) -> list[str]:
    names = []
    for req in dist.requires or []:
        if "extra ==" in req or "extra==" in req:
            continue
        match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", req)
        if match:
            names.append(canonical(match.group(0)))
    return names


def test_stack_list_covers_installed_qiskit_requirements() -> None:
    """The fixed list holds the run-time closure of the qiskit and qiskit-aer installed here
    (the list is documented; this keeps it honest when they change)."""
    todo, seen = ["qiskit", "qiskit-aer"], set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            todo.extend(_requires(importlib.metadata.distribution(name)))
        except importlib.metadata.PackageNotFoundError:
            continue
    assert seen <= set(STACK), sorted(seen - set(STACK))
