from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from harness.intake.archive import open_deposit
from harness.intake.manifest import load_manifest
from harness.intake.validate import pointer_kind, validate
from harness.models import Validation
from tests.conftest import base_manifest

TODAY = dt.date(2026, 11, 22)


def run(root: Path, tmp: Path) -> Validation:
    deposit = open_deposit(root, tmp)
    return validate(deposit, load_manifest(deposit.manifest_path), TODAY)


def by_code(v: Validation) -> dict[str, list[tuple[str | None, str | None, tuple[str, ...]]]]:
    out: dict[str, list[tuple[str | None, str | None, tuple[str, ...]]]] = {}
    for f in v.findings:
        out.setdefault(f.code, []).append((f.file, f.field, f.blocks))
    return out


def test_clean_deposit_verifies_every_file(make_deposit: Callable[..., Path], tmp_path: Path
                                           ) -> None:
    v = run(make_deposit(), tmp_path)
    assert not v.errors
    assert set(v.verified_files) == {"circuits/ghz3.qasm", "noise/n1.json", "results/ghz3.json"}


def test_checksum_mismatch_names_file(make_deposit: Callable[..., Path], tmp_path: Path) -> None:
    root = make_deposit()
    (root / "results/ghz3.json").write_text('{"000": 481, "111": 469, "001": 20, "110": 30}')
    found = by_code(run(root, tmp_path))
    assert found["checksum-mismatch"] == [("results/ghz3.json", "files[2].sha256",
                                           ("available", "reproduced"))]


def test_missing_and_uninventoried_files(make_deposit: Callable[..., Path], tmp_path: Path
                                         ) -> None:
    root = make_deposit()
    (root / "noise/n1.json").unlink()
    (root / "extra.txt").write_text("x")
    found = by_code(run(root, tmp_path))
    assert found["missing-file"][0][0] == "noise/n1.json"
    assert "functional" in found["missing-file"][0][2]
    assert found["not-inventoried"][0][0] == "extra.txt"


def test_referenced_file_must_be_inventoried(make_deposit: Callable[..., Path], tmp_path: Path
                                             ) -> None:
    m = base_manifest()
    root = make_deposit(m)
    text = (root / "qdata.yaml").read_text().replace("- path: results/ghz3.json", "- path: r.json")
    (root / "qdata.yaml").write_text(text)
    found = by_code(run(root, tmp_path))
    assert any(field == "circuits[0].counts" for _, field, _ in found["reference-not-inventoried"])


def test_lfs_and_dvc_pointers(make_deposit: Callable[..., Path], tmp_path: Path) -> None:
    lfs = ("version https://git-lfs.github.com/spec/v1\noid sha256:" + "a" * 64 + "\nsize 10\n")
    dvc = "outs:\n- md5: 0123456789abcdef0123456789abcdef\n  path: data.csv\n"
    from tests.conftest import BASE_FILES
    root = make_deposit(files={**BASE_FILES, "data/big.bin": lfs, "data/table.csv": dvc})
    found = by_code(run(root, tmp_path))
    assert found["git-lfs-pointer"][0][0] == "data/big.bin"
    assert found["dvc-pointer"][0][0] == "data/table.csv"
    assert pointer_kind(b"plain data") is None


def test_unpinned_requirements_block_reusable_only(make_deposit: Callable[..., Path],
                                                   tmp_path: Path) -> None:
    m = base_manifest()
    m["environment"]["requirements"] = ["qiskit>=1.0", "qiskit-aer==0.18.2", "numpy"]
    found = by_code(run(make_deposit(m), tmp_path))
    assert [f[1] for f in found["unpinned-requirement"]] == [
        "environment.requirements[0]", "environment.requirements[2]"]
    assert all(f[2] == ("reusable",) for f in found["unpinned-requirement"])


def test_missing_seed_blocks_reusable(make_deposit: Callable[..., Path], tmp_path: Path) -> None:
    m = base_manifest()
    m["circuits"][0].pop("seed_simulator")
    found = by_code(run(make_deposit(m), tmp_path))
    assert found["seed-missing"] == [("qdata.yaml", "circuits[0].seed_simulator", ("reusable",))]
