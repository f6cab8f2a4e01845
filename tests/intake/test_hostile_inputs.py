"""Hostile manifests and files: each gets a one-line error naming file and field (no
traceback), from `validate` as from `evaluate`, and the deposit is never changed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.intake.deposit_digest import snapshot
from tests.conftest import BASE_FILES, base_manifest
from tests.test_cli import invoke


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(m: dict[str, Any]) -> None:
        target: Any = m
        keys = path.split(".")
        for key in keys[:-1]:
            target = target[int(key)] if key.isdigit() else target.setdefault(key, {})
        last = keys[-1]
        if last.isdigit():
            target[int(last)] = value
        else:
            target[last] = value
    return mutate


MANIFEST_CASES = [
    ("environment.lock_file", "/etc/passwd", "environment.lock_file"),
    ("environment.lock_file", "../outside.lock", "environment.lock_file"),
    ("environment.wheels", ["/tmp/host.whl"], "environment.wheels[0]"),
    ("circuits.0.file", "/etc/hostname", "circuits[0].file"),
    ("circuits.0.counts", "../../secret.json", "circuits[0].counts"),
    ("noise_models.0.file", "~/.ssh/id_rsa", "noise_models[0].file"),
    ("environment.requirements", ["--index-url http://127.0.0.1:9/simple"],
     "environment.requirements[0]"),
    ("environment.requirements", ["qiskit==2.6.2", "--extra-index-url http://x/"],
     "environment.requirements[1]"),
    ("environment.requirements", ["-e ."], "environment.requirements[0]"),
    ("environment.requirements", ["git+https://example.org/pkg.git"],
     "environment.requirements[0]"),
    ("environment.requirements", ["pkg @ file:///tmp/pkg.whl"], "environment.requirements[0]"),
    ("environment.system_packages", ["vim\nRUN curl http://127.0.0.1/"],
     "environment.system_packages[0]"),
    ("environment.system_packages", ["gcc; rm -rf /"], "environment.system_packages[0]"),
    ("claims.0.tolerance", {"kind": "absolute", "value": float("inf")}, "claims[0].tolerance"),
    ("claims.0.value", float("nan"), "claims[0].value"),
]


@pytest.mark.parametrize(("where", "value", "field"), MANIFEST_CASES,
                         ids=[f"{c[0]}={c[1]!r}"[:60] for c in MANIFEST_CASES])
@pytest.mark.parametrize("command", ["validate", "evaluate"])
def test_manifest_values_that_leave_the_deposit_or_mean_nothing(
        command: str, where: str, value: Any, field: str,
        make_deposit: Callable[..., Path], tmp_path: Path) -> None:
    m = base_manifest()
    _set(where, value)(m)
    root = make_deposit(m)
    before = snapshot(root)
    args = ["--out", str(tmp_path / "out")] if command == "evaluate" else []
    code, _, err = invoke(command, str(root), *args)
    assert code == 3, err
    line = err.strip()
    assert len(line.splitlines()) == 1 and "Traceback" not in err
    assert line.startswith("qrepro: error: qdata.yaml: ") and field in line, line
    assert snapshot(root) == before


def _raw_manifest(root: Path, text: str) -> Path:
    for rel, content in BASE_FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(content)
    (root / "qdata.yaml").write_text(text)
    return root


YAML_CASES = {
    "alias-bomb": ("a: &a [x, x, x, x, x, x, x, x, x]\n"
                   + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)},"
                             f" *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)},"
                             f" *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
                             for i in range(12)), "aliases"),
    "deep-nesting": ("x: " + "[" * 100_000 + "]" * 100_000 + "\n", "nested"),
    "duplicate-key": ("qdata: 1\nqdata: 1\n", "appears twice"),
    "not-utf8": (None, "cannot read the manifest"),
}


@pytest.mark.parametrize("case", sorted(YAML_CASES))
def test_hostile_yaml_is_a_one_line_error(case: str, tmp_path: Path) -> None:
    text, expected = YAML_CASES[case]
    root = tmp_path / "deposit"
    root.mkdir()
    if text is None:
        _raw_manifest(root, "")
        (root / "qdata.yaml").write_bytes(b"qdata: 1\ntitle: \xff\xfe\n")
    else:
        _raw_manifest(root, text)
    code, _, err = invoke("validate", str(root))
    assert code == 3 and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and expected in err, err


@pytest.mark.parametrize("target", ["counts", "noise"])
def test_deeply_nested_json_is_an_error_not_a_crash(
        target: str, make_deposit: Callable[..., Path], tmp_path: Path) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    files = dict(BASE_FILES)
    files["results/ghz3.json" if target == "counts" else "noise/n1.json"] = deep
    root = make_deposit(files=files)
    _code, out, err = invoke("validate", str(root))
    assert "Traceback" not in err + out
    assert "nested too deeply" in out + err


def test_qasm_include_of_a_host_file_is_refused(make_deposit: Callable[..., Path],
                                               tmp_path: Path) -> None:
    files = dict(BASE_FILES)
    files["circuits/ghz3.qasm"] = BASE_FILES["circuits/ghz3.qasm"].replace(
        'include "qelib1.inc";', 'include "qelib1.inc";\ninclude "/etc/passwd";')
    root = make_deposit(files=files)
    code, _out, _err = invoke("evaluate", str(root), "--out", str(tmp_path / "out"),
                            "--runner", "host")
    report = (tmp_path / "out" / "report.json").read_text()
    assert 'include \\"/etc/passwd\\" is not allowed' in report
    assert "root:x:0" not in report and code != 0


def test_validate_out_inside_the_deposit_is_refused(make_deposit: Callable[..., Path]) -> None:
    root = make_deposit()
    before = snapshot(root)
    code, _, err = invoke("validate", str(root), "--out", str(root / "x"))
    assert code == 3 and "outside the deposit" in err
    assert snapshot(root) == before


def test_a_link_planted_at_the_report_path_is_replaced_not_followed(
        make_deposit: Callable[..., Path], tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.json").symlink_to(victim)
    (out / "validation.json").symlink_to(victim)
    invoke("validate", str(make_deposit()), "--out", str(out))
    invoke("evaluate", str(make_deposit(name="d2")), "--out", str(out), "--runner", "host")
    assert victim.read_text() == "keep me"
    assert not (out / "report.json").is_symlink()
    assert json.loads((out / "report.json").read_text())["status"]


@pytest.mark.parametrize("libyaml", [True, False], ids=["libyaml", "pyyaml-only"])
def test_yaml_bounds_hold_with_and_without_libyaml(
        libyaml: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """One code path: the same refusals whichever parser PyYAML has."""
    import importlib

    import yaml

    from harness.errors import ManifestError
    from harness.intake import safe_yaml
    if not libyaml:
        monkeypatch.delattr(yaml, "CSafeLoader")
    module = importlib.reload(safe_yaml)
    try:
        assert (module.StrictLoader.__mro__[1] is yaml.SafeLoader) is not libyaml
        for case in ("alias-bomb", "duplicate-key"):
            text, expected = YAML_CASES[case]
            assert text is not None
            with pytest.raises(ManifestError, match=expected):
                module.load_yaml(text, "qdata.yaml")
        deep = "x: " + "[" * (module.MAX_DEPTH + 5) + "]" * (module.MAX_DEPTH + 5) + "\n"
        with pytest.raises(ManifestError, match="nested more than"):
            module.load_yaml(deep, "qdata.yaml")
        assert module.load_yaml("a: &a [1]\nb: *a\n", "qdata.yaml") == {"a": [1], "b": [1]}
    finally:
        monkeypatch.undo()
        importlib.reload(safe_yaml)
