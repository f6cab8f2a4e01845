"""Tests of harness.intake.archive: opening directories and archives safely, and hashing."""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest

from harness.errors import ArchiveError, DepositError, ManifestError
from harness.intake.archive import Deposit, open_deposit
from harness.intake.deposit_digest import snapshot, tree_digest
from harness.intake.extraction import DEFAULT_LIMITS, LINKS_MESSAGE, ArchiveLimits, _Member, _Meter
from harness.intake.manifest import MANIFEST_NAME
from harness.units import file_sha256, file_size_sha256

CONTENT = {
    MANIFEST_NAME: b"qdata: 1\n",
    "circuits/bell.qasm": b'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\n',
    "data/counts.json": b'{"00": 510, "11": 514}\n',
    "data/nested/notes.txt": b"some notes\n",
}
FILES = tuple(sorted(CONTENT))


# --- fixture builders -------------------------------------------------------------------


def make_tree(root: Path, content: dict[str, bytes] = CONTENT) -> Path:
    for rel, data in content.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def make_tar(path: Path, content: dict[str, bytes], prefix: str = "") -> Path:
    gzipped = path.name.endswith((".tar.gz", ".tgz"))
    with tarfile.open(path, "w:gz") if gzipped else tarfile.open(path, "w") as tar:
        if prefix:
            tar.addfile(tar_info(prefix.rstrip("/"), tarfile.DIRTYPE))
        for rel, data in content.items():
            tar.addfile(tar_info(prefix + rel, size=len(data)), io.BytesIO(data))
    return path


def tar_info(name: str, kind: bytes = tarfile.REGTYPE, size: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = size
    info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    return info


def make_zip(path: Path, content: dict[str, bytes], prefix: str = "") -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for rel, data in content.items():
            zf.writestr(prefix + rel, data)
    return path


def make_archive(path: Path, content: dict[str, bytes], prefix: str = "") -> Path:
    if path.suffix == ".zip":
        return make_zip(path, content, prefix)
    return make_tar(path, content, prefix)


def bad_tar(tmp_path: Path, info: tarfile.TarInfo, data: bytes = b"") -> Path:
    """A tar.gz holding a valid manifest and one extra (bad) member."""
    path = tmp_path / "bad.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        manifest = CONTENT[MANIFEST_NAME]
        tar.addfile(tar_info(MANIFEST_NAME, size=len(manifest)), io.BytesIO(manifest))
        tar.addfile(info, io.BytesIO(data) if data else None)
    return path


def bad_zip(tmp_path: Path, info: zipfile.ZipInfo, data: bytes = b"") -> Path:
    path = tmp_path / "bad.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(MANIFEST_NAME, CONTENT[MANIFEST_NAME])
        zf.writestr(info, data)
    return path


def expect_archive_error(
    source: Path, workdir: Path, member: str, limits: ArchiveLimits = DEFAULT_LIMITS
) -> str:
    """Opening fails naming archive + member, and leaves nothing extracted behind."""
    before = source.read_bytes()
    with pytest.raises(ArchiveError) as caught:
        open_deposit(source, workdir, limits)
    assert caught.value.file == source.name
    assert caught.value.field == member
    assert source.read_bytes() == before
    assert not workdir.exists() or not any(workdir.iterdir())
    return caught.value.message


# --- directory deposits -----------------------------------------------------------------


def test_directory_deposit_is_used_in_place(tmp_path: Path) -> None:
    source = make_tree(tmp_path / "dep")
    before = snapshot(source)
    deposit = open_deposit(source, tmp_path / "work")
    assert deposit.source == source
    assert deposit.root == source.resolve()
    assert deposit.manifest_path == source.resolve() / MANIFEST_NAME
    assert deposit.files == FILES
    assert not deposit.extracted
    assert not (tmp_path / "work").exists()
    assert snapshot(source) == before


def test_directory_symlink_outside_is_rejected(tmp_path: Path) -> None:
    source = make_tree(tmp_path / "dep")
    (tmp_path / "secret").write_text("outside")
    (source / "data" / "link").symlink_to(tmp_path / "secret")
    with pytest.raises(DepositError) as caught:
        open_deposit(source, tmp_path / "work")
    assert caught.value.file == "data/link"
    assert "outside" in caught.value.message


def test_directory_symlink_inside_is_tolerated_not_listed(tmp_path: Path) -> None:
    source = make_tree(tmp_path / "dep")
    (source / "alias.json").symlink_to("data/counts.json")
    (source / "datadir").symlink_to("data", target_is_directory=True)
    deposit = open_deposit(source, tmp_path / "work")
    assert deposit.files == FILES
    assert deposit.path("alias.json").read_bytes() == CONTENT["data/counts.json"]


def test_directory_without_manifest(tmp_path: Path) -> None:
    source = make_tree(tmp_path / "dep", {"data/x.json": b"{}"})
    with pytest.raises(ManifestError, match="missing"):
        open_deposit(source, tmp_path / "work")


def test_missing_source_and_unknown_type(tmp_path: Path) -> None:
    with pytest.raises(DepositError, match="no such file") as caught:
        open_deposit(tmp_path / "nope", tmp_path / "work")
    assert type(caught.value) is DepositError
    other = tmp_path / "deposit.rar"
    other.write_bytes(b"Rar!")
    with pytest.raises(DepositError, match="supported archive") as caught:
        open_deposit(other, tmp_path / "work")
    assert type(caught.value) is DepositError


# --- archives that open -----------------------------------------------------------------


@pytest.mark.parametrize("name", ["dep.zip", "dep.tar.gz", "dep.tgz", "dep.tar"])
@pytest.mark.parametrize("prefix", ["", "dep-1.0/", "./"])
def test_archive_is_extracted(tmp_path: Path, name: str, prefix: str) -> None:
    source = make_archive(tmp_path / name, CONTENT, prefix)
    before = source.read_bytes()
    deposit = open_deposit(source, tmp_path / "work")
    assert deposit.extracted
    assert deposit.source == source
    assert deposit.root.is_relative_to((tmp_path / "work").resolve())
    assert deposit.files == FILES
    assert deposit.manifest_path == deposit.root / MANIFEST_NAME
    assert snapshot(deposit.root) == snapshot(make_tree(tmp_path / "expected"))
    assert source.read_bytes() == before


def test_each_open_extracts_into_a_fresh_directory(tmp_path: Path) -> None:
    source = make_zip(tmp_path / "dep.zip", CONTENT)
    first = open_deposit(source, tmp_path / "work")
    second = open_deposit(source, tmp_path / "work")
    assert first.root != second.root


def test_archive_with_two_top_level_dirs_has_no_manifest(tmp_path: Path) -> None:
    content = {"a/" + MANIFEST_NAME: b"qdata: 1\n", "b/x.txt": b"x"}
    source = make_zip(tmp_path / "dep.zip", content)
    with pytest.raises(ManifestError) as caught:
        open_deposit(source, tmp_path / "work")
    assert caught.value.file == "dep.zip"
    assert not any((tmp_path / "work").iterdir())


def test_corrupt_archive(tmp_path: Path) -> None:
    source = tmp_path / "dep.tar.gz"
    source.write_bytes(b"this is not gzip")
    with pytest.raises(ArchiveError, match="cannot extract"):
        open_deposit(source, tmp_path / "work")


# --- unsafe archives --------------------------------------------------------------------


@pytest.mark.parametrize("member", ["/etc/evil", "../evil", "data/../../evil", "a\\..\\evil"])
def test_tar_unsafe_names(tmp_path: Path, member: str) -> None:
    source = bad_tar(tmp_path, tar_info(member, size=4), b"evil")
    message = expect_archive_error(source, tmp_path / "work", member)
    assert "unsafe member name" in message
    assert not (tmp_path / "evil").exists()


@pytest.mark.parametrize("member", ["/abs.txt", "../evil", "data/../../evil"])
def test_zip_unsafe_names(tmp_path: Path, member: str) -> None:
    source = bad_zip(tmp_path, zipfile.ZipInfo(member), b"evil")
    assert "unsafe member name" in expect_archive_error(source, tmp_path / "work", member)
    assert not (tmp_path / "evil").exists()


@pytest.mark.parametrize("kind", [tarfile.SYMTYPE, tarfile.LNKTYPE])
@pytest.mark.parametrize("target", ["qdata.yaml", "/etc/passwd", "../outside"])
def test_tar_links_are_rejected(tmp_path: Path, kind: bytes, target: str) -> None:
    info = tar_info("data/link", kind)
    info.linkname = target
    source = bad_tar(tmp_path, info)
    assert expect_archive_error(source, tmp_path / "work", "data/link") == LINKS_MESSAGE


@pytest.mark.parametrize("kind", [tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE])
def test_tar_special_files_are_rejected(tmp_path: Path, kind: bytes) -> None:
    source = bad_tar(tmp_path, tar_info("dev/thing", kind))
    assert "not allowed" in expect_archive_error(source, tmp_path / "work", "dev/thing")


def test_zip_symlink_is_rejected(tmp_path: Path) -> None:
    info = zipfile.ZipInfo("data/link")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    source = bad_zip(tmp_path, info, b"/etc/passwd")
    assert expect_archive_error(source, tmp_path / "work", "data/link") == LINKS_MESSAGE


def test_zip_bomb_ratio_is_rejected(tmp_path: Path) -> None:
    info = zipfile.ZipInfo("data/zeros.bin")
    info.compress_type = zipfile.ZIP_DEFLATED
    source = bad_zip(tmp_path, info, bytes(50 * 1024 * 1024))
    assert "ratio" in expect_archive_error(source, tmp_path / "work", "data/zeros.bin")


def test_small_compressible_member_is_not_a_bomb(tmp_path: Path) -> None:
    content = {**CONTENT, "data/zeros.bin": bytes(100_000)}
    deposit = open_deposit(make_zip(tmp_path / "dep.zip", content), tmp_path / "work")
    assert "data/zeros.bin" in deposit.files


@pytest.mark.parametrize("name", ["dep.zip", "dep.tar.gz"])
def test_too_many_members(tmp_path: Path, name: str) -> None:
    content = {**CONTENT, "e1": b"1", "e2": b"2"}
    source = make_archive(tmp_path / name, content)
    message = expect_archive_error(source, tmp_path / "work", "e1", ArchiveLimits(max_files=4))
    assert "more than 4 members" in message


@pytest.mark.parametrize("name", ["dep.zip", "dep.tar.gz"])
def test_total_size_limit(tmp_path: Path, name: str) -> None:
    content = {**CONTENT, "data/big.bin": os.urandom(1000)}
    source = make_archive(tmp_path / name, content)
    limits = ArchiveLimits(max_total_bytes=500)
    assert "exceeds 500 bytes" in expect_archive_error(
        source, tmp_path / "work", "data/big.bin", limits
    )


def test_long_member_name(tmp_path: Path) -> None:
    member = "d/" + "x" * 200
    source = bad_zip(tmp_path, zipfile.ZipInfo(member), b"x")
    limits = ArchiveLimits(max_path_length=100)
    assert "longer than" in expect_archive_error(source, tmp_path / "work", member, limits)


def test_duplicate_member_never_overwrites(tmp_path: Path) -> None:
    source = bad_tar(tmp_path, tar_info(MANIFEST_NAME, size=4), b"evil")
    assert "collides" in expect_archive_error(source, tmp_path / "work", MANIFEST_NAME)


def test_meter_counts_real_bytes_against_a_lying_header(tmp_path: Path) -> None:
    """The byte count during extraction catches what the declared sizes hid."""

    def member(size: int) -> _Member:
        return _Member("m", ("m",), False, size, None, lambda: io.BytesIO())

    meter = _Meter("a.zip", ArchiveLimits(max_total_bytes=150))
    with pytest.raises(ArchiveError, match="header declares") as caught:
        meter.copy(io.BytesIO(bytes(100)), io.BytesIO(), member(10))
    assert caught.value.field == "m"
    meter = _Meter("a.zip", ArchiveLimits(max_total_bytes=150))
    meter.copy(io.BytesIO(bytes(100)), io.BytesIO(), member(100))
    with pytest.raises(ArchiveError, match="expands beyond 150"):
        meter.copy(io.BytesIO(bytes(100)), io.BytesIO(), member(100))


# --- Deposit.path -----------------------------------------------------------------------


@pytest.fixture
def deposit(tmp_path: Path) -> Deposit:
    return open_deposit(make_tree(tmp_path / "dep"), tmp_path / "work")


def test_path_resolves_inside(deposit: Deposit) -> None:
    assert deposit.path("data/counts.json") == deposit.root / "data" / "counts.json"
    assert deposit.path("./data//counts.json") == deposit.root / "data" / "counts.json"


@pytest.mark.parametrize("rel", ["../x", "data/../../x", "/etc/passwd", "C:/x", "a\\b", "", "."])
def test_path_rejects_unsafe(deposit: Deposit, rel: str) -> None:
    with pytest.raises(DepositError) as caught:
        deposit.path(rel, field="circuits[0].file")
    assert caught.value.file == rel
    assert caught.value.field == "circuits[0].file"


def test_path_rejects_symlink_escape(deposit: Deposit, tmp_path: Path) -> None:
    (deposit.root / "escape").symlink_to(tmp_path)
    with pytest.raises(DepositError, match="outside"):
        deposit.path("escape/work")


# --- hashing ----------------------------------------------------------------------------


def manual_digest(root: Path, files: tuple[str, ...]) -> str:
    """qrepro-deposit-digest-v2 by hand (tests/intake/test_deposit_digest.py: its recipe)."""
    entries = [[rel, len(data := (root / rel).read_bytes()), hashlib.sha256(data).hexdigest()]
               for rel in sorted(files)]
    return hashlib.sha256(json.dumps(entries, separators=(",", ":")).encode()).hexdigest()


def test_file_sha256(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    data = os.urandom((1 << 20) + 17)  # crosses a chunk boundary
    path.write_bytes(data)
    assert file_sha256(path) == hashlib.sha256(data).hexdigest()
    assert file_size_sha256(path) == (len(data), hashlib.sha256(data).hexdigest())


def test_tree_digest_is_the_canonical_json_of_the_files(deposit: Deposit) -> None:
    digest = tree_digest(deposit.root, deposit.files)
    assert digest == manual_digest(deposit.root, deposit.files)
    assert digest == tree_digest(deposit.root, reversed(deposit.files))


def test_tree_digest_changes_with_one_byte(deposit: Deposit) -> None:
    before = tree_digest(deposit.root, deposit.files)
    path = deposit.root / "data" / "counts.json"
    data = bytearray(path.read_bytes())
    data[0] ^= 1
    path.write_bytes(bytes(data))
    assert tree_digest(deposit.root, deposit.files) != before


def test_snapshot(deposit: Deposit) -> None:
    snap = snapshot(deposit.root)
    assert tuple(snap) == FILES
    data = CONTENT["data/counts.json"]
    assert snap["data/counts.json"] == (len(data), hashlib.sha256(data).hexdigest())
