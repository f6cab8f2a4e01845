"""The deposit digest (scheme qrepro-deposit-digest-v2): a fixed value for a fixed deposit,
the recipe docs/report.md and docs/attestation.md give recomputing it, and the file names
that made the old ``sha256sum``-listing digest forgeable refused where a deposit is read."""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from harness.errors import ArchiveError, DepositError
from harness.intake.archive import deposit_files, open_deposit
from harness.intake.deposit_digest import deposit_digest, inventory, tree_digest
from harness.intake.paths import name_reason, shown_name, unsafe_reason
from harness.models import DEPOSIT_DIGEST_SCHEME

ROOT = Path(__file__).resolve().parents[2]
#: the worked example of docs/report.md#the-deposit-digest: if this changes, the scheme did
GOLDEN = {"qdata.yaml": b"qdata: 1\n", "data/x.txt": b"hi\n", "data/\u00e9.txt": b""}
GOLDEN_TEXT = (
    '[["data/x.txt",3,"98ea6e4f216f2fb4b69fff9b3a44842c38686ca685f3f55dc48c5d3fb1107be4"],'
    '["data/\\u00e9.txt",0,"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],'
    '["qdata.yaml",9,"fa61afb0a17f70b664e8e4c661903c666201b0fcb27f8ffe94f4635896496330"]]')
GOLDEN_DIGEST = "aac754b3b66c4739ac64e94b76edbf1c07166559373c53781a4c3910b6b3e7b8"


def write(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def old_listing_digest(root: Path, files: list[str]) -> str:
    """The digest before v2: sha256 of ``<sha256>  <path>\\n`` lines, names unescaped."""
    lines = b"".join(hashlib.sha256((root / f).read_bytes()).hexdigest().encode() + b"  "
                     + f.encode() + b"\n" for f in sorted(files))
    return hashlib.sha256(lines).hexdigest()


def forge_old_listing(original: Path, forged: Path) -> str:
    """Copy ``original`` to ``forged`` so that its old ``sha256sum`` listing is the same, with
    one file fewer: file A (followed by B in path order) is moved to the path
    ``A\\n<sha256 of B>  B``, and B is removed. Returns the forged name."""
    shutil.copytree(original, forged, symlinks=True)
    first, second = sorted(deposit_files(original))[:2]
    sha_b = hashlib.sha256((original / second).read_bytes()).hexdigest()
    name = f"{first}\n{sha_b}  {second}"
    target = forged / name
    target.parent.mkdir(parents=True, exist_ok=True)
    (forged / first).rename(target)
    (forged / second).unlink()
    return name


# --- the scheme -------------------------------------------------------------------------


def test_a_fixed_deposit_has_a_fixed_digest(tmp_path: Path) -> None:
    root = write(tmp_path / "golden", GOLDEN)
    files = deposit_files(root)
    assert tree_digest(root, files) == GOLDEN_DIGEST == hashlib.sha256(
        GOLDEN_TEXT.encode("ascii")).hexdigest()
    assert deposit_digest(root) == GOLDEN_DIGEST
    assert DEPOSIT_DIGEST_SCHEME == "qrepro-deposit-digest-v2"
    doc = (ROOT / "docs" / "report.md").read_text(encoding="utf-8")
    assert GOLDEN_TEXT in doc and GOLDEN_DIGEST in doc, "docs/report.md's example drifted"


def test_an_archive_and_its_folder_have_one_digest(tmp_path: Path) -> None:
    root = write(tmp_path / "golden", GOLDEN)
    archive = tmp_path / "golden.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(root, arcname="wrapped")
    assert deposit_digest(archive, tmp_path) == GOLDEN_DIGEST
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("qrepro-digest-")] == []


def test_order_size_and_content_all_count(tmp_path: Path) -> None:
    root = write(tmp_path / "d", GOLDEN)
    files = deposit_files(root)
    assert tree_digest(root, reversed(files)) == GOLDEN_DIGEST
    (root / "data" / "x.txt").write_bytes(b"hi!")
    assert tree_digest(root, files) != GOLDEN_DIGEST
    assert inventory(root)[0] == {"path": "data/x.txt", "size": 3,
                                  "sha256": hashlib.sha256(b"hi!").hexdigest()}


def _doc_recipes() -> list[tuple[str, str]]:
    """(where, script) of every shell block in the docs that recomputes the digest."""
    out = []
    for doc in ("report.md", "attestation.md"):
        text = (ROOT / "docs" / doc).read_text(encoding="utf-8")
        for n, block in enumerate(re.findall(r"^( *)```sh\n(.*?)^\1```$", text, re.M | re.S)):
            indent, body = block
            script = "\n".join(line[len(indent):] for line in body.splitlines())
            if "DEPOSIT" in script:
                out.append((f"{doc}#{n}", script))
    return out


RECIPES = _doc_recipes()


def test_the_docs_give_both_recipes() -> None:
    assert {where.split("#")[0] for where, _ in RECIPES} == {"report.md", "attestation.md"}
    assert len(RECIPES) == 3  # report.md: shell and Python; attestation.md: shell


@pytest.mark.parametrize(("where", "script"), RECIPES, ids=[w for w, _ in RECIPES])
def test_the_documented_recipe_recomputes_the_digest(where: str, script: str,
                                                     tmp_path: Path) -> None:
    for tool in ("jq", "sha256sum", "python3", "find", "stat"):
        if tool in script and shutil.which(tool) is None:
            pytest.skip(f"no {tool} here")
    root = write(tmp_path / "dep osit", {
        **GOLDEN, "-leading dash.txt": b"x", "space in name/and \u00fcml\u00e4ut.json": b"{}",
        "emoji \U0001f600/q'uote\"s.txt": b"\x00\xff" * 100, "a/b/c/d.txt": b"deep\n",
        "results/under_score.json": b"[1]", "UPPER.txt": b"u", "empty": b""})
    (root / "link-to-readme").symlink_to("data/x.txt")  # not a file of the deposit
    (root / "linked-dir").symlink_to("a")               # nor is a folder link
    expected = deposit_digest(root)
    command = script.replace("DEPOSIT", f"'{root}'")
    proc = subprocess.run(["bash", "-c", command], capture_output=True, text=True,
                          check=False, timeout=60, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[0] == expected, f"{where}: {proc.stdout} {proc.stderr}"


# --- names that cannot be shown are refused ----------------------------------------------


@pytest.mark.parametrize(("char", "reason", "shown"), [
    ("\n", "control character U+000A", "\\n"),
    ("\t", "control character U+0009", "\\t"),
    ("\x1b", "control character U+001B", "\\x1b"),
    ("\x7f", "control character U+007F", "\\x7f"),
    ("\x85", "control character U+0085", "\\x85"),
    ("\u2028", "line separator U+2028", "\\u2028"),
    ("\u202e", "right-to-left override U+202E", "\\u202e"),
    ("\u2066", "left-to-right isolate U+2066", "\\u2066"),
    ("\u200f", "right-to-left mark U+200F", "\\u200f"),
    ("\u061c", "Arabic letter mark U+061C", "\\u061c"),
    ("\udcff", "bytes that are not UTF-8", "\\udcff"),
])
def test_names_that_cannot_be_shown_are_judged_and_escaped(char: str, reason: str,
                                                           shown: str) -> None:
    name = f"results/a{char}b.json"
    assert name_reason(name) == reason
    assert unsafe_reason(name) == f"{reason} in path"
    assert shown_name(name) == f"results/a{shown}b.json"
    assert "\n" not in shown_name(name) and shown_name(name).isprintable()


def test_ordinary_names_pass() -> None:
    for name in ("results/ghz3.json", "données/été 2026.csv", "emoji \U0001f600.txt",
                 "\u05e9\u05dc\u05d5\u05dd.txt", "a'b\"c.txt"):
        assert name_reason(name) is None and unsafe_reason(name) is None
        assert shown_name(name) == name


def test_the_collision_of_the_old_listing_is_refused_and_no_longer_collides(tmp_path: Path
                                                                           ) -> None:
    """Deposit Y (one file moved to a name holding a newline and a forged line, one file
    fewer) had the same sha256sum-listing digest as X; now the digests differ and Y cannot
    be read at all: one line naming the file escaped."""
    x = write(tmp_path / "x", {"qdata.yaml": b"qdata: 1\n", "a.json": b"A\n",
                               "b.json": b"B\n"})
    y = tmp_path / "y"
    name = forge_old_listing(x, y)
    y_files = sorted(rel for rel in _all_files(y))
    assert name in y_files and len(y_files) == 2
    assert old_listing_digest(x, list(deposit_files(x))) == old_listing_digest(y, y_files)
    assert tree_digest(x, deposit_files(x)) != tree_digest(y, y_files)

    escaped = shown_name(name)
    assert escaped == "a.json\\n" + hashlib.sha256(b"B\n").hexdigest() + "  b.json"
    for read in (lambda: deposit_files(y), lambda: inventory(y),
                 lambda: open_deposit(y, tmp_path / "work"), lambda: deposit_digest(y)):
        with pytest.raises(DepositError) as info:
            read()
        assert info.value.file == escaped
        line = info.value.one_line()
        assert "\n" not in line
        assert line == (f"{escaped}: unsafe file name: control character U+000A (qrepro "
                        "refuses a name it cannot show on one line as it is)")


def _all_files(root: Path) -> list[str]:
    return [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()]


@pytest.mark.parametrize("name", ["deposit/results/a\nb.json", "deposit/\u202eevil.json",
                                  "deposit/\x1b[31mred.json"])
def test_an_archive_member_that_cannot_be_shown_is_refused(name: str, tmp_path: Path) -> None:
    archive = tmp_path / "dep.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for member, data in (("deposit/qdata.yaml", b"qdata: 1\n"), (name, b"{}")):
            info = tarfile.TarInfo(member)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    with pytest.raises(ArchiveError) as info:
        open_deposit(archive, tmp_path / "work")
    assert info.value.file == "dep.tar.gz" and info.value.field == shown_name(name)
    assert "unsafe member name" in info.value.one_line()
    assert info.value.one_line().isprintable()
    assert not list((tmp_path / "work").iterdir())


def test_a_manifest_path_that_cannot_be_shown_is_refused(tmp_path: Path) -> None:
    root = write(tmp_path / "d", GOLDEN)
    deposit = open_deposit(root, tmp_path / "work")
    with pytest.raises(DepositError) as info:
        deposit.path("results/a\u202eb.json", field="circuits[0].counts")
    assert info.value.one_line() == ("results/a\\u202eb.json: circuits[0].counts: unsafe path: "
                                     "right-to-left override U+202E in path")
