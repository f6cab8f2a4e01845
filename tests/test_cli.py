"""The qrepro command: exit codes, one-line errors, reports on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import cli
from harness.intake.deposit_digest import snapshot
from tests.conftest import DEPOSITS, base_manifest


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_schema_prints_manifest_and_report_schemas() -> None:
    code, out, _ = invoke("schema")
    assert code == 0 and json.loads(out)["title"].startswith("QDATA")
    code, out, _ = invoke("schema", "--report")
    assert code == 0 and "badges" in json.loads(out)["properties"]


def test_validate_clean_and_with_findings(make_deposit: Callable[..., Path], tmp_path: Path
                                          ) -> None:
    root = make_deposit()
    assert invoke("validate", str(root))[0] == 0
    (root / "results" / "ghz3.json").write_text("{}")
    code, out, _ = invoke("validate", str(root), "--out", str(tmp_path / "v"))
    assert code == 1
    assert "checksum-mismatch: results/ghz3.json: files[2].sha256" in out
    data = json.loads((tmp_path / "v" / "validation.json").read_text())
    assert data["findings"][0]["code"] == "checksum-mismatch"


@pytest.mark.parametrize(("mutate", "expected"), [
    (lambda m: m["circuits"][0].update(shots="many"), "qdata.yaml: circuits[0].shots: "),
    (lambda m: m["claims"][0].update(metric="accuracy"), "qdata.yaml: claims[0].metric: "),
])
def test_bad_manifest_one_line_error_exit_3_and_report(  # type: ignore[no-untyped-def]
        mutate, expected: str, make_deposit: Callable[..., Path], tmp_path: Path) -> None:
    m = base_manifest()
    mutate(m)
    root = make_deposit(m)
    before = snapshot(root)
    code, _, err = invoke("evaluate", str(root), "--out", str(tmp_path / "out"))
    assert code == 3
    assert err.startswith("qrepro: error: " + expected)
    assert len(err.strip().splitlines()) == 1
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["status"] == "error"
    assert [c["verdict"] for c in report["claims"]] == []
    assert snapshot(root) == before


def test_missing_deposit_exit_3(tmp_path: Path) -> None:
    code, _, err = invoke("evaluate", str(tmp_path / "nope"), "--out", str(tmp_path / "out"))
    assert code == 3 and "nope" in err
    assert json.loads((tmp_path / "out" / "report.json").read_text())["status"] == "error"


def test_unsafe_archive_exit_3(tmp_path: Path) -> None:
    import io
    import tarfile

    archive = tmp_path / "evil.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("../evil.txt")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    code, _, err = invoke("evaluate", str(archive), "--out", str(tmp_path / "out"))
    assert code == 3 and "evil.tar.gz" in err and "../evil.txt" in err
    assert not (tmp_path.parent / "evil.txt").exists()


def test_unknown_runner_lists_available(make_deposit: Callable[..., Path], tmp_path: Path
                                        ) -> None:
    code, _, err = invoke("evaluate", str(make_deposit()), "--out", str(tmp_path / "o"),
                          "--runner", "k8s")
    assert code == 2 and "'k8s' is not one of 'auto', 'docker', 'bwrap', 'local', 'host'" in err


def test_gpu_request_without_gpu_exit_4(tmp_path: Path) -> None:
    code, _, err = invoke("evaluate", str(DEPOSITS / "ghz-noisy"), "--out", str(tmp_path / "o"),
                          "--device", "GPU")
    assert code == 4 and "GPU requested" in err
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert report["error"]["kind"] == "runner-unavailable"


def test_embargo_as_of_date(tmp_path: Path) -> None:
    code, out, _ = invoke("validate", str(DEPOSITS / "ghz-noisy"), "--today", "2026-12-01")
    assert code == 0, out


def test_inventory_prints_files_block(make_deposit: Callable[..., Path]) -> None:
    import yaml

    code, out, _ = invoke("inventory", str(make_deposit()))
    files = yaml.safe_load(out)["files"]
    assert code == 0 and [f["path"] for f in files] == [
        "circuits/ghz3.qasm", "noise/n1.json", "results/ghz3.json"]


def test_noise_import_calibration(tmp_path: Path) -> None:
    snap = {"format": "calibration-v1", "device": "fake", "timestamp": "2026-01-01T00:00:00Z",
            "num_qubits": 1, "qubits": [{"t1": 1e-4, "t2": 1e-4, "readout_error": 0.02}],
            "gates": [{"gate": "x", "qubits": [0], "error": 0.001, "duration": 3.5e-8}]}
    src = tmp_path / "cal.json"
    src.write_text(json.dumps(snap))
    code, out, err = invoke("noise", "import", str(src), "--from", "calibration-v1")
    assert code == 0, err
    assert json.loads(out)["format"] == "qrepro-noise-v1"


def test_console_script_runs_the_main_job(tmp_path: Path) -> None:
    """The installed entry point, as `make run` uses it."""
    exe = Path(sys.executable).parent / "qrepro"
    proc = subprocess.run([str(exe), "evaluate", str(DEPOSITS / "ghz-noisy"), "--out",
                           str(tmp_path / "out")], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert f"report: {tmp_path / 'out' / 'report.json'}" in proc.stdout
