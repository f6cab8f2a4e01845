"""harness.batch.submissions: the submissions of a call for artifacts from a folder, a CSV
or a YAML list, with per-submission options, and errors that name the file and the field."""

from __future__ import annotations

import hashlib
import shutil
import tarfile
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.batch.submissions import Submission, load_submissions, parse_duration
from harness.errors import QreproError, SubmissionError
from harness.intake.deposit_digest import deposit_digest
from tests.conftest import build_deposit

ALL = ("available", "functional", "reusable", "reproduced")


@pytest.fixture
def deposit(tmp_path: Path) -> Path:
    return build_deposit(tmp_path / "deposits" / "paper-1")


def zip_of(folder: Path, dest: Path) -> Path:
    with zipfile.ZipFile(dest, "w") as z:
        for f in sorted(folder.rglob("*")):
            if f.is_file():
                z.write(f, f.relative_to(folder).as_posix())
    return dest


def tgz_of(folder: Path, dest: Path) -> Path:
    with tarfile.open(dest, "w:gz") as t:
        t.add(folder, arcname=folder.name)
    return dest


def error_of(path: Path) -> SubmissionError:
    with pytest.raises(SubmissionError) as info:
        load_submissions(path)
    return info.value


# -- a folder -------------------------------------------------------------------------------


def test_folder_lists_deposit_folders_and_archives(tmp_path: Path, deposit: Path) -> None:
    subs = tmp_path / "call"
    subs.mkdir()
    shutil.copytree(deposit, subs / "b-folder")
    zip_of(deposit, subs / "c-zipped.zip")
    tgz_of(deposit, subs / "a tarred (v2).tar.gz")
    shutil.copytree(deposit, subs / ".hidden")            # hidden: not a submission
    (subs / "no-manifest").mkdir()                       # a folder without qdata.yaml
    (subs / "no-manifest" / "data.csv").write_text("x\n")
    (subs / "README.txt").write_text("the call\n")       # not an archive

    found = load_submissions(subs)
    assert [s.id for s in found] == ["a-tarred--v2-", "b-folder", "c-zipped"]
    assert [s.source for s in found] == [subs / "a tarred (v2).tar.gz", subs / "b-folder",
                                         subs / "c-zipped.zip"]
    assert all(s.badges == ALL and s.options == {} for s in found)
    # an archive's digest is its files', the folder's: the one its report carries
    assert found[0].digest() == found[1].digest() == found[2].digest(tmp_path) \
        == deposit_digest(deposit)
    assert found[2].digest() != hashlib.sha256((subs / "c-zipped.zip").read_bytes()).hexdigest()


def test_a_folder_digest_changes_with_any_file(deposit: Path) -> None:
    s = Submission("p", deposit)
    before = s.digest()
    assert s.digest() == before
    (deposit / "results" / "ghz3.json").write_text('{"000": 1}')
    assert s.digest() != before


def test_same_id_twice_in_a_folder_is_an_error(tmp_path: Path, deposit: Path) -> None:
    subs = tmp_path / "call"
    subs.mkdir()
    shutil.copytree(deposit, subs / "p1")
    zip_of(deposit, subs / "p1.zip")
    err = error_of(subs)
    assert err.file == str(subs) and "duplicate submission id 'p1'" in err.message


def test_an_empty_folder_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    err = error_of(tmp_path / "empty")
    assert err.file == str(tmp_path / "empty") and err.message == "no submissions found"


def test_a_file_that_is_no_list_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "subs.txt").write_text("p1\n")
    err = error_of(tmp_path / "subs.txt")
    assert err.file == str(tmp_path / "subs.txt") and "not a folder, .csv or .yaml" in err.message


# -- a CSV list -----------------------------------------------------------------------------


def test_csv_list_with_badges_and_options(tmp_path: Path, deposit: Path) -> None:
    zip_of(deposit, tmp_path / "deposits" / "p2.zip")
    (tmp_path / "call.csv").write_text(
        "id,path,title,badges,runner,device,budget,fresh_seeds,seed\n"
        "p1,deposits/paper-1,Paper one,available;functional;reproduced,host,CPU,30m,5,7\n"
        "p2,deposits/p2.zip,,,,,,,\n"
        " p3 , deposits/paper-1 , , Available Reusable ,docker,,90,,\n")
    p1, p2, p3 = load_submissions(tmp_path / "call.csv")
    assert (p1.id, p1.source, p1.badges) == ("p1", deposit.resolve(),
                                             ("available", "functional", "reproduced"))
    assert p1.options == {"runner": "host", "device": "CPU", "budget": 1800.0,
                          "fresh_seeds": 5, "seed": 7}
    assert (p2.id, p2.source, p2.badges, p2.options) == (
        "p2", (tmp_path / "deposits" / "p2.zip").resolve(), ALL, {})
    assert (p3.id, p3.badges, p3.options) == ("p3", ("available", "reusable"),
                                              {"runner": "docker", "budget": 90.0})


def test_csv_path_is_relative_to_the_list(tmp_path: Path, deposit: Path) -> None:
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "call.csv").write_text("id,path\np1,../deposits/paper-1\n")
    (s,) = load_submissions(lists / "call.csv")
    assert s.source == deposit.resolve()


@pytest.mark.parametrize(("header", "row", "field", "message"), [
    ("id,path,reviewer", "p1,deposits/paper-1,alice", "[0].reviewer", "unknown field 'reviewer'"),
    ("id,path,badges", "p1,deposits/paper-1,available;gold", "[0].badges",
     "unknown badge 'gold'"),
    ("id,path", "p1,deposits/missing", "[0].path", "does not exist"),
    ("id,path", "p1,", "[0].path", "no path"),
    ("id,path", "../p1,deposits/paper-1", "[0].id", "must be letters, digits"),
    ("id,path", ",deposits/paper-1", "[0].id", "must be letters, digits"),
])
def test_csv_errors_name_the_file_and_the_field(tmp_path: Path, deposit: Path, header: str,
                                                row: str, field: str, message: str) -> None:
    (tmp_path / "call.csv").write_text(f"{header}\n{row}\n")
    err = error_of(tmp_path / "call.csv")
    assert (err.file, err.field) == (str(tmp_path / "call.csv"), field)
    assert message in err.message
    assert err.one_line().startswith(f"{tmp_path / 'call.csv'}: {err.field}: ")


def test_csv_duplicate_id_is_an_error(tmp_path: Path, deposit: Path) -> None:
    (tmp_path / "call.csv").write_text("id,path\np1,deposits/paper-1\np1,deposits/paper-1\n")
    err = error_of(tmp_path / "call.csv")
    assert err.file == str(tmp_path / "call.csv") and "duplicate submission id 'p1'" in err.message


# -- a YAML list ----------------------------------------------------------------------------


def test_yaml_list_and_mapping(tmp_path: Path, deposit: Path) -> None:
    tgz_of(deposit, tmp_path / "deposits" / "p2.tar.gz")
    body = ("- id: p1\n  path: deposits/paper-1\n  title: Paper one\n"
            "  badges: [available, functional]\n  runner: host\n  budget: 2h\n"
            "  fresh_seeds: 3\n"
            "- {id: p2, path: deposits/p2.tar.gz, badges: 'reproduced', budget: 45}\n")
    (tmp_path / "a.yaml").write_text(body)
    (tmp_path / "b.yml").write_text("submissions:\n" + "".join(
        "  " + line + "\n" for line in body.splitlines()))
    for name in ("a.yaml", "b.yml"):
        p1, p2 = load_submissions(tmp_path / name)
        assert (p1.id, p1.source, p1.badges) == ("p1", deposit.resolve(),
                                                 ("available", "functional"))
        assert p1.options == {"runner": "host", "budget": 7200.0, "fresh_seeds": 3}
        assert (p2.id, p2.badges, p2.options) == ("p2", ("reproduced",), {"budget": 45.0})


@pytest.mark.parametrize(("entry", "field", "message"), [
    ("{id: p1, path: deposits/paper-1, reviewers: 2}", "[1].reviewers",
     "unknown field 'reviewers'"),
    ("{id: p1, path: deposits/paper-1, badges: [available, platinum]}", "[1].badges",
     "unknown badge 'platinum'"),
    ("{id: p1, path: nowhere}", "[1].path", "does not exist"),
    ("{id: p1}", "[1].path", "no path"),
    ("just-a-string", "[1]", "each submission is a mapping"),
])
def test_yaml_errors_name_the_file_and_the_field(tmp_path: Path, deposit: Path, entry: str,
                                                 field: str, message: str) -> None:
    (tmp_path / "call.yaml").write_text(f"- {{id: p0, path: deposits/paper-1}}\n- {entry}\n")
    err = error_of(tmp_path / "call.yaml")
    assert (err.file, err.field) == (str(tmp_path / "call.yaml"), field)
    assert message in err.message


@pytest.mark.parametrize(("name", "text", "field", "message"), [
    ("call.csv", "id,path,budget\np1,deposits/paper-1,30 minutes\n", "[0].budget",
     "'30 minutes' is not a duration"),
    ("call.csv", "id,path,budget\np1,deposits/paper-1,0s\n", "[0].budget", "must be positive"),
    ("call.yaml", "- {id: p1, path: deposits/paper-1, budget: soon}\n", "[0].budget",
     "is not a duration"),
    ("call.yaml", "- {id: p1, path: deposits/paper-1, budget: -5}\n", "[0].budget",
     "must be positive"),
])
def test_a_bad_budget_in_a_list_names_the_file_and_the_field(
        tmp_path: Path, deposit: Path, name: str, text: str, field: str, message: str) -> None:
    (tmp_path / name).write_text(text)
    with pytest.raises(SubmissionError) as info:
        load_submissions(tmp_path / name)
    assert message in info.value.message and info.value.field == field  # true today
    assert info.value.file == str(tmp_path / name)


def test_yaml_duplicate_id_and_wrong_shape(tmp_path: Path, deposit: Path) -> None:
    (tmp_path / "dup.yaml").write_text("- {id: p1, path: deposits/paper-1}\n"
                                       "- {id: p1, path: deposits/paper-1}\n")
    err = error_of(tmp_path / "dup.yaml")
    assert err.file == str(tmp_path / "dup.yaml") and "duplicate submission id 'p1'" in err.message
    (tmp_path / "shape.yaml").write_text("papers: []\n")
    err = error_of(tmp_path / "shape.yaml")
    assert err.file == str(tmp_path / "shape.yaml") and "a list of submissions" in err.message


@pytest.mark.parametrize(("column", "value"), [
    ("fresh_seeds", "many"), ("fresh_seeds", "-3"), ("fresh_seeds", "2.7"), ("seed", "x"),
    ("runner", "dockr"), ("device", "TPU"),
])
def test_bad_option_values_are_errors_naming_the_field(tmp_path: Path, deposit: Path,
                                                       column: str, value: str) -> None:
    (tmp_path / "call.csv").write_text(f"id,path,{column}\np1,deposits/paper-1,{value}\n")
    with pytest.raises(SubmissionError) as info:
        load_submissions(tmp_path / "call.csv")
    assert (info.value.file, info.value.field) == (str(tmp_path / "call.csv"),
                                                   f"[0].{column}")


# -- durations and the options digest -------------------------------------------------------


@pytest.mark.parametrize(("text", "seconds"), [
    ("90", 90.0), ("90s", 90.0), (" 30m ", 1800.0), ("1.5h", 5400.0), ("2s", 2.0), (45, 45.0),
    (0.5, 0.5),
])
def test_durations(text: str | float, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "m", "30 min", "1d", "-5m", "0", "abc"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(SubmissionError) as info:
        parse_duration(text)
    assert info.value.field == "--budget"


def test_options_digest_follows_what_decides_the_result(deposit: Path) -> None:
    s = Submission("p1", deposit)
    common = {"seed": 0, "fresh_seeds": 0, "device": "auto"}
    assert s.options_digest(common) == s.options_digest(dict(reversed(common.items())))
    assert s.options_digest(common) != s.options_digest({**common, "seed": 1})
    assert s.options_digest(common) != Submission("p1", deposit, ("available",)) \
        .options_digest(common)
    assert s.options_digest(common) != Submission("p1", deposit, options={"budget": 60.0}) \
        .options_digest(common)


# -- through the command line ---------------------------------------------------------------


def test_batch_cli_reports_a_bad_list_with_file_and_field(tmp_path: Path, deposit: Path) -> None:
    from harness.cli import cli

    (tmp_path / "call.csv").write_text("id,path,reviewer\np1,deposits/paper-1,alice\n")
    result = CliRunner().invoke(cli, ["batch", str(tmp_path / "call.csv"), "--out",
                                      str(tmp_path / "out"), "--runner", "host"])
    assert result.exit_code == 5, result.output
    assert isinstance(result.exception, SystemExit)
    assert (f"qrepro: error: {tmp_path / 'call.csv'}: [0].reviewer: unknown field 'reviewer'"
            in result.stderr)
    assert not (tmp_path / "out").exists()

    (tmp_path / "good.csv").write_text("id,path\np1,deposits/paper-1\n")
    bad = CliRunner().invoke(cli, ["batch", str(tmp_path / "good.csv"), "--out",
                                   str(tmp_path / "out"), "--budget", "soon"])
    assert bad.exit_code in (2, 5), bad.output  # 5 today; a usage error (2) would do too
    assert "--budget: 'soon' is not a duration" in bad.stderr
    assert not (tmp_path / "out").exists()


def test_submission_error_is_a_qrepro_error() -> None:
    assert issubclass(SubmissionError, QreproError)
