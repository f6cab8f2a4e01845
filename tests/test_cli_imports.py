"""What the command line imports before it does anything: ``qrepro --help`` and
``qrepro validate`` must not load the statistics, the simulator or the report renderers
(they made the command line take seconds to start). Imports, never timings, are checked:
each in a fresh interpreter, where nothing is imported yet."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tests.conftest import DEPOSITS, ROOT

#: top-level packages none of which the start-up or validation may import
HEAVY = ("scipy", "numpy", "qiskit", "qiskit_aer", "docker", "papermill", "matplotlib",
         "pandas", "nbformat", "jinja2", "sqlalchemy", "dask", "cryptography")


def loaded_after(code: str) -> set[str]:
    """Top-level names of the modules loaded once ``code`` ran in a fresh interpreter."""
    script = (f"import sys, json\n{code}\n"
              "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=ROOT, timeout=120, check=True)
    loaded: list[str] = json.loads(proc.stdout.strip().splitlines()[-1])
    return set(loaded)


def test_importing_the_cli_loads_no_heavy_package() -> None:
    loaded = loaded_after("import harness.cli")
    assert "click" in loaded
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))
    # not even the models (pydantic costs a quarter of a second): --help needs click and the
    # exception tree; a command module of harness.cli.COMMANDS imports its models inside the
    # command
    assert "pydantic" not in loaded


def test_help_loads_no_heavy_package() -> None:
    loaded = loaded_after(
        "from harness.cli import cli\n"
        "try:\n    cli(['--help'], prog_name='qrepro')\nexcept SystemExit:\n    pass")
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


@pytest.mark.parametrize("deposit", ["ghz-noisy", "qv4-noisy", "vqc-iris"])
def test_validate_loads_no_statistics_or_simulator(deposit: str) -> None:
    path = DEPOSITS / deposit
    loaded = loaded_after(
        "from harness.cli import cli\n"
        f"try:\n    cli(['validate', {str(path)!r}], prog_name='qrepro')\n"
        "except SystemExit as exc:\n    assert exc.code == 0, exc.code")
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


@pytest.mark.parametrize("line", [
    "qiskit==2.6.2", "qiskit-aer==0.18.2", "a==1", "x.y_z==01.2.3", "numpy==2.4.6",
    "Qiskit_Aer==0.18.2", "pkg==1.0.0rc1", "pkg>=1.0", "pkg[extra]==1.0", "pkg==1.*",
    "pkg==1.0 ; python_version >= '3.10'", "-e .", "pkg @ https://x/y.whl", "pkg==", "==1.0",
    "-pkg==1.0", "pkg-==1.0",
])
def test_plain_requirement_fast_path_agrees_with_packaging(
        line: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """validate checks a plain name==N.N pin without importing packaging: same verdicts."""
    from harness.intake import manifest

    def verdict() -> str:
        try:
            return manifest.plain_requirement(line)
        except ValueError as exc:
            return f"refused: {exc}"

    fast = verdict()
    monkeypatch.setattr(manifest, "_SIMPLE_PIN", re.compile(r"(?!)"))  # packaging every time
    assert verdict() == fast
