"""``qrepro init DIR``: a first ``qdata.yaml`` for a folder of notebooks and data.

What it knows, it writes: the files inventory (``harness.intake.archive.inventory``), exact
pins (``harness.authoring.imports``, or the folder's requirements.txt / lock file), the
notebooks with their parameters, identity, license, authors, provenance and consent. What it
cannot know it leaves out (the identifier, the seeds, the claims) or marks (an author named
``TODO``, the license ``NOASSERTION``); the manifest validates schema-wise either way, and
every gap is a to-do that names its field and the badge it blocks.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness.authoring import imports
from harness.authoring.notebooks import (
    INJECTED,
    Cell,
    ParametersCell,
    first_heading,
    is_source_notebook,
    parameters_cell,
    read_cells,
)
from harness.authoring.review import no_claims
from harness.authoring.todo import Todo, from_findings, ordered, requirement_context, todo
from harness.errors import AuthoringError, ManifestError
from harness.intake.archive import deposit_files
from harness.intake.deposit_digest import inventory
from harness.intake.lockfile import logical_lines
from harness.intake.manifest import MANIFEST_NAME, orcid_problem, parse_manifest, plain_requirement
from harness.intake.versions import NOTEBOOK_AGENT_PACKAGES, canonical_name
from harness.models import BADGE_KEYS

PROFILE = 1
VERSION = "0.1.0"
#: what a field the author must fill holds meanwhile (it validates, and it is visible)
TODO_MARK = "TODO"
NO_LICENSE = "NOASSERTION"  # SPDX's own word for "not stated"
REQUIREMENTS_FILE = "requirements.txt"
LOCK_FILES = ("requirements.lock", "requirements-lock.txt", "requirements.lock.txt")
CIRCUIT_SUFFIXES = (".qasm", ".qasm2", ".qasm3", ".qpy")
#: the packages a deposit's circuits are replayed with: pinned together, since the counts of
#: a seed depend on both (a notebook that imports one of them gets both pinned too)
CIRCUIT_PACKAGES = ("qiskit", "qiskit-aer")
_AUTHOR = re.compile(r"^\s*(?P<name>[^<>]+?)\s*(?:<\s*(?P<orcid>[^<>]*?)\s*>)?\s*$")


@dataclass(frozen=True)
class InitOptions:
    title: str | None = None
    license: str | None = None
    #: {scheme, value} of a persistent identifier the author reserved (--identifier)
    identifier: dict[str, str] | None = None
    #: --institution: provenance.institution, and the affiliation of authors without one
    institution: str | None = None
    authors: tuple[dict[str, str], ...] = ()
    python: str | None = None
    force: bool = False
    today: dt.date | None = None


@dataclass(frozen=True)
class NotebookScan:
    path: str
    entry: dict[str, Any]
    parameters: ParametersCell | None


@dataclass
class Scaffold:
    root: Path
    manifest: dict[str, Any]
    notebooks: list[NotebookScan]
    seeds: list[imports.SeedUse]
    readme_written: bool
    todos: list[Todo] = field(default_factory=list)


# --- options ---------------------------------------------------------------------------


def parse_author(text: str) -> dict[str, str]:
    """``Name`` or ``Name <0000-0002-1825-0097>``; the ORCID's checksum must hold."""
    match = _AUTHOR.match(text)
    if match is None:
        raise AuthoringError(f"'{text}' is not 'Name' or 'Name <ORCID iD>'", field="--author")
    author = {"name": match.group("name")}
    orcid = match.group("orcid")
    if orcid:
        problem = orcid_problem(orcid)
        if problem is not None:
            raise AuthoringError(problem, field="--author")
        author["orcid"] = orcid
    return author


def _spdx() -> Any:
    """The SPDX license list of the license-expression library."""
    from license_expression import get_spdx_licensing  # type: ignore[import-untyped]

    return get_spdx_licensing()


def check_license(expression: str) -> str:
    """The SPDX expression, normalised; unknown keys or bad syntax are an error."""
    info = _spdx().validate(expression)
    if info.errors or not expression.strip():
        why = "; ".join(info.errors) or "empty expression"
        raise AuthoringError(f"'{expression}' is not an SPDX license expression: {why} "
                             "(e.g. CC-BY-4.0, MIT, Apache-2.0)", field="--license")
    return str(info.normalized_expression)


def _commercial_use(spdx: str) -> bool:
    keys = _spdx().license_keys(spdx) if spdx != NO_LICENSE else []
    return bool(keys) and not any("-NC" in key or "Proprietary" in key for key in keys)


# --- the scaffold ----------------------------------------------------------------------


def scaffold(root: Path, options: InitOptions) -> Scaffold:
    """Write ``root/qdata.yaml`` (and a README stub when there is none); the result says
    what was found and what is left to do."""
    manifest_path = root / MANIFEST_NAME
    if not root.is_dir():
        raise AuthoringError("not a folder", file=str(root))
    if manifest_path.exists() and not options.force:
        raise AuthoringError("a manifest is already there; --force replaces it",
                             file=str(manifest_path))
    files = list(deposit_files(root))
    cells = {rel: read_cells(root, rel) for rel in files if is_source_notebook(rel)}
    interp = imports.probe(options.python)
    scans = [_scan_notebook(rel, nb_cells, i) for i, (rel, nb_cells) in enumerate(cells.items())]
    title = options.title or _title(root, cells)
    env, env_todos = environment(root, files, cells, interp)
    readme = _write_readme(root, files, title, list(cells))  # before the inventory
    data = _manifest(root, options, title, env, scans)
    _write_manifest(manifest_path, data)
    seeds = imports.seed_uses(_all(cells))
    result = Scaffold(root, data, scans, seeds, readme is not None)
    result.todos = ordered([*env_todos, *_notebook_todos(scans), *_seed_todos(seeds),
                            *_file_todos(files), *_marked_todos(options, readme),
                            *_validation_todos(root, data)])
    return result


def _all(cells: dict[str, list[Cell]]) -> list[Cell]:
    return [cell for nb_cells in cells.values() for cell in nb_cells]


def _authors(options: InitOptions) -> list[dict[str, str]]:
    """The authors given, each with the institution as affiliation when it names none."""
    if not options.authors:
        return [{"name": TODO_MARK}]
    if options.institution is None:
        return [dict(a) for a in options.authors]
    return [{**a, "affiliation": a.get("affiliation") or options.institution}
            for a in options.authors]


def _title(root: Path, cells: dict[str, list[Cell]]) -> str:
    for nb_cells in cells.values():
        heading = first_heading(nb_cells)
        if heading:
            return heading
    return root.resolve().name


def _manifest(root: Path, options: InitOptions, title: str, env: dict[str, Any],
              scans: list[NotebookScan]) -> dict[str, Any]:
    spdx = options.license or NO_LICENSE
    data: dict[str, Any] = {
        "qdata": PROFILE,
        "identity": {**({"identifier": dict(options.identifier)} if options.identifier else {}),
                     "title": title, "version": VERSION,
                     "created": options.today or dt.date.today()},
        "provenance": {"authors": _authors(options),
                       **({"institution": options.institution} if options.institution else {}),
                       "source": "simulator"},
        "license": {"spdx": spdx, "commercial_use": _commercial_use(spdx)},
        "consent": {"personal_data": False, "basis": "not-applicable"},
        "environment": env,
        "files": inventory(root),
    }
    if scans:
        data["notebooks"] = [s.entry for s in scans]
    return data


def _write_manifest(path: Path, data: dict[str, Any]) -> None:
    try:
        parse_manifest(data)  # what is written validates, or nothing is written
    except ManifestError as exc:
        raise AuthoringError(f"the scaffold does not validate: {exc.one_line()}",
                             file=MANIFEST_NAME) from exc
    header = ("# Written by qrepro init. Fields it could not know are left out or marked "
              f"{TODO_MARK} / {NO_LICENSE};\n# the to-do list it printed says which. "
              "Field by field: docs/qdata.md\n")
    path.write_text(header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True),
                    encoding="utf-8")


def _validation_todos(root: Path, data: dict[str, Any]) -> list[Todo | None]:
    """What validation says of the scaffold, as to-dos, and the claims it lacks."""
    from harness.pipeline import check

    report = check(root)
    if report.error is not None:
        e = report.error
        return [todo("manifest-invalid", BADGE_KEYS, field=e.field, file=e.file,
                     message=e.message)]
    return [*from_findings(report.findings, data), no_claims()]


# --- notebooks -------------------------------------------------------------------------


def _notebook_id(rel: str, index: int) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(rel).stem).strip("-._")
    return stem if stem else f"notebook-{index + 1}"


def _scan_notebook(rel: str, cells: list[Cell], index: int) -> NotebookScan:
    params = parameters_cell(cells)
    values = params.values if params else {}
    entry: dict[str, Any] = {"id": _notebook_id(rel, index), "path": rel}
    extra = {k: v for k, v in values.items() if k not in INJECTED}
    if extra:
        entry["parameters"] = extra
    shots = values.get("shots")
    if isinstance(shots, int) and not isinstance(shots, bool) and shots >= 1:
        entry["shots"] = shots
    return NotebookScan(rel, entry, params)


def _notebook_todos(scans: list[NotebookScan]) -> list[Todo | None]:
    out: list[Todo | None] = []
    for i, scan in enumerate(scans):
        p = scan.parameters
        if p is None:
            out.append(todo("parameters-missing", ("reusable", "reproduced"),
                            field=f"notebooks[{i}].path", file=scan.path))
            continue
        if not p.tagged:
            out.append(todo("tag-parameters", ("reusable", "reproduced"), file=scan.path,
                            value=p.cell.where))
        missing = [name for name in INJECTED if name not in p.values]
        if missing:
            out.append(todo("parameters-defaults", file=scan.path, value=", ".join(missing)))
    return out


def _seed_todos(seeds: list[imports.SeedUse]) -> list[Todo | None]:
    """An unseeded generator makes two runs differ (Reusable); a hard-coded seed makes
    every recorded seed give the same trial."""
    return [todo("seed-hard-coded", ("reusable",) if use.state == "unseeded" else (),
                 file=use.cell.notebook, value=f"{use.cell.where} line {use.line}: {use.text}")
            for use in seeds if use.state != "from a variable"]


# --- environment -----------------------------------------------------------------------


def environment(root: Path, files: list[str], cells: dict[str, list[Cell]],
                interp: imports.Interpreter) -> tuple[dict[str, Any], list[Todo | None]]:
    """The environment section: pins from the folder's lock file or requirements.txt when
    it has one, else from the notebooks' imports; plus what the evaluation needs."""
    modules = imports.imported_modules(_all(cells))
    simulates = ("qiskit" in modules or "qiskit_aer" in modules
                 or any(f.endswith(CIRCUIT_SUFFIXES) for f in files))
    needed = [*(NOTEBOOK_AGENT_PACKAGES if cells else ()), *(CIRCUIT_PACKAGES if simulates else ())]
    lock = next((f for f in LOCK_FILES if f in files), None)
    if lock is not None:
        return _from_lock(root, lock, modules, needed, interp)
    if REQUIREMENTS_FILE in files:
        return _from_requirements(root, modules, needed, interp)
    pins = imports.pins_for(modules, interp, imports.local_modules(files))
    todos = [todo("unresolved-import", ("functional",), field="environment.requirements",
                  file=MANIFEST_NAME, value=module, message=where, python=interp.executable)
             for module, where in pins.unresolved.items()]
    also = [n for n in needed if n.replace("-", "_") not in pins.unresolved]  # said above
    extra, missing = _add_needed(pins.requirements, also, interp)
    return _env(interp, [*pins.requirements, *extra]), [*todos, *missing]


def _env(interp: imports.Interpreter, requirements: list[str], **more: Any) -> dict[str, Any]:
    return {"python": interp.python, "requirements": requirements, **more}


def _names(requirements: list[str]) -> set[str]:
    from packaging.requirements import InvalidRequirement, Requirement

    names: set[str] = set()
    for line in requirements:
        try:
            names.add(canonical_name(Requirement(line.split(" --hash")[0]).name))
        except InvalidRequirement:
            continue
    return names


def _add_needed(requirements: list[str], needed: list[str],
                interp: imports.Interpreter) -> tuple[list[str], list[Todo | None]]:
    """Pins of the packages the evaluation needs that the requirements lack, and a to-do
    for each of those the author's Python does not have (blocking nothing: the evaluation
    adds papermill and ipykernel itself, and an import of qiskit is a to-do of its own)."""
    missing = _missing(requirements, needed)
    pins = [p for p in (interp.pin(name) for name in missing) if p]
    absent = [name for name in missing if interp.pin(name) is None]
    return pins, _needed_todos(absent, MANIFEST_NAME, "environment.requirements", ())


def _missing(requirements: list[str], needed: list[str]) -> list[str]:
    have = _names(requirements)
    return [name for name in needed if canonical_name(name) not in have]


def _needed_todos(names: list[str], file: str, field: str | None = None,
                  blocks: tuple[str, ...] = ("functional",)) -> list[Todo | None]:
    return [todo("agent-package-missing", blocks, file=file, field=field, value=name,
                 message="run the notebooks" if name in NOTEBOOK_AGENT_PACKAGES
                 else "replay the circuits")
            for name in names]


def _read_lines(root: Path, rel: str) -> list[tuple[int, str]]:
    try:
        return list(logical_lines((root / rel).read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError) as exc:
        raise AuthoringError(f"cannot read it: {exc}", file=rel) from exc


def _plain(lines: list[tuple[int, str]], rel: str) -> tuple[list[str], list[Todo | None]]:
    """The requirement lines, and a to-do for each option, URL or path line dropped."""
    kept: list[str] = []
    dropped: list[Todo | None] = []
    for number, line in lines:
        try:
            kept.append(plain_requirement(line))
        except ValueError as exc:
            dropped.append(todo("option-dropped", file=rel, field=f"line {number}",
                                value=str(number), message=str(exc)))
    return kept, dropped


def _coverage_todos(requirements: list[str], modules: dict[str, Cell],
                    interp: imports.Interpreter, rel: str) -> list[Todo | None]:
    """Imported modules that the author's file (and what qrepro adds) does not provide."""
    have = _names(requirements)
    out: list[Todo | None] = []
    for module, cell in sorted(modules.items()):
        dists = {canonical_name(d) for d in interp.modules.get(module, [])}
        if dists and not dists & have:
            out.append(todo("import-not-required", ("functional",), file=rel,
                            value=module, message=cell.where))
    return out


def _from_requirements(root: Path, modules: dict[str, Cell], needed: list[str],
                       interp: imports.Interpreter) -> tuple[dict[str, Any], list[Todo | None]]:
    kept, dropped = _plain(_read_lines(root, REQUIREMENTS_FILE), REQUIREMENTS_FILE)
    extra, missing = _add_needed(kept, needed, interp)
    todos = [*dropped, *missing,
             *_coverage_todos([*kept, *extra], modules, interp, REQUIREMENTS_FILE)]
    return _env(interp, [*kept, *extra]), todos


def _from_lock(root: Path, rel: str, modules: dict[str, Cell], needed: list[str],
               interp: imports.Interpreter) -> tuple[dict[str, Any], list[Todo | None]]:
    lines = _read_lines(root, rel)
    kept, dropped = _plain(lines, rel)
    loose = [todo("unpinned-requirement", ("reusable",), file=rel, field=f"line {number}",
                  value=line, **requirement_context(line))
             for number, line in lines if line in kept and not exactly_pinned(line)]
    missing = _missing(kept, needed)
    todos = [*[_blocking(t) for t in dropped], *loose, *_needed_todos(missing, rel),
             *_coverage_todos([*kept, *missing], modules, interp, rel)]  # each said once
    return _env(interp, [], lock_file=rel), todos


def _blocking(t: Todo | None) -> Todo | None:
    """An option line in a lock file stops every evaluation (the lock is build input)."""
    return None if t is None else dataclasses.replace(t, blocks=BADGE_KEYS)


def exactly_pinned(line: str) -> bool:
    """``name==version`` (markers and hashes allowed), no wildcard."""
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        spec = list(Requirement(line.split(" --hash")[0]).specifier)
    except InvalidRequirement:
        return False
    return len(spec) == 1 and spec[0].operator in ("==", "===") and "*" not in spec[0].version


# --- files and marks -------------------------------------------------------------------


def _file_todos(files: list[str]) -> list[Todo | None]:
    circuits = [todo("circuit-undescribed", file=f) for f in files
                if f.endswith(CIRCUIT_SUFFIXES)]
    checkpoints = [todo("checkpoint-files", file=f) for f in files
                   if ".ipynb_checkpoints" in f.split("/")]
    return [*circuits, *checkpoints]


def _marked_todos(options: InitOptions, readme: str | None) -> list[Todo | None]:
    out = [todo("consent-confirm", field="consent", file=MANIFEST_NAME),
           todo("source-confirm", field="provenance.source", file=MANIFEST_NAME)]
    if not options.authors:
        out.append(todo("author-missing", ("reusable",), field="provenance.authors[0]",
                        file=MANIFEST_NAME))
    if readme is not None:
        out.append(todo("readme-stub", file=readme))
    return out


def _write_readme(root: Path, files: list[str], title: str, notebooks: list[str]) -> str | None:
    """README.md, unless the folder has a README already; its name when written."""
    if any(re.fullmatch(r"readme(\.\w+)?", f, re.IGNORECASE) for f in files):
        return None
    listed = "\n".join(f"- `{nb}`" for nb in notebooks) or "- (no notebooks found)"
    (root / "README.md").write_text(
        f"# {title}\n\nTODO: what this deposit holds, what its notebooks compute, and which "
        "result of the paper each claim in `qdata.yaml` is.\n\n"
        f"## Notebooks\n\n{listed}\n\n## Reproduce\n\n"
        "```\nqrepro evaluate . --out ../qrepro-out\n```\n", encoding="utf-8")
    return "README.md"
