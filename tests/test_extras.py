"""A command that needs an optional part of qrepro says which extra to install, in one line,
when it is missing (the batch ledger, a Dask cluster, a PostgreSQL ledger, signing)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.console import extras
from harness.errors import MissingExtra
from tests.conftest import DEPOSITS, ROOT


def test_every_extra_of_pyproject_is_known() -> None:
    import tomllib

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    assert set(extras.EXTRAS) <= set(declared)
    assert all(not extras.missing(name) for name in extras.EXTRAS)  # make installs them all


def test_require_names_the_extra_and_the_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(extras.EXTRAS, "batch", ("sqlalchemy", "qrepro_no_such_module"))
    with pytest.raises(MissingExtra) as raised:
        extras.require("batch", "qrepro batch")
    assert raised.value.one_line() == (
        "qrepro batch needs qrepro's 'batch' extra (qrepro_no_such_module not "
        "installed): pip install 'qrepro[batch]'")


#: an interpreter where these modules cannot be imported, as on a plain `pip install qrepro`
HIDE = """
import sys, importlib.abc
class Hide(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {hidden!r}:
            raise ModuleNotFoundError(name)
        return None
sys.meta_path.insert(0, Hide())
import importlib.util
_find = importlib.util.find_spec
def find_spec(name, package=None):
    if name.split('.')[0] in {hidden!r}:
        return None
    return _find(name, package)
importlib.util.find_spec = find_spec
from harness.cli import main
sys.argv = ['qrepro', *{argv!r}]
main()
"""


@pytest.mark.parametrize(("hidden", "argv", "extra"), [
    (["sqlalchemy", "alembic"], ["batch", "SUBS", "--out", "OUT"], "batch"),
    (["sqlalchemy"], ["ledger", "OUT"], "batch"),
    (["distributed"], ["batch", "SUBS", "--out", "OUT", "--cluster", "local:1"], "cluster"),
    (["psycopg"], ["ledger", "OUT", "--ledger", "postgresql+psycopg://u@h/db"], "postgres"),
    (["cryptography"], ["keygen", "KEYS"], "sign"),
    (["securesystemslib"], ["evaluate", "DEPOSIT", "--out", "OUT", "--sign", "k.key"], "sign"),
])
def test_a_missing_extra_is_one_line_naming_it(
        tmp_path: Path, hidden: list[str], argv: list[str], extra: str) -> None:
    where = {"SUBS": str(DEPOSITS), "OUT": str(tmp_path / "out"), "KEYS": str(tmp_path),
             "DEPOSIT": str(DEPOSITS / "ghz-noisy")}
    argv = [where.get(a, a) for a in argv]
    proc = subprocess.run([sys.executable, "-c", HIDE.format(hidden=hidden, argv=argv)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 5, proc.stderr[-2000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and f"pip install 'qrepro[{extra}]'" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()
