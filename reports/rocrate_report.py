"""ro-crate-metadata.json: the output folder as an RO-Crate (docs/outputs.md).

It follows the Process Run Crate profile 0.5 of the Workflow Run Crate family
(https://w3id.org/ro/wfrun/process/0.5), which extends RO-Crate 1.1:

- the root data entity is the output folder: name, description, datePublished (when
  the report was generated), license (the deposit's: the reports quote its data), the
  profile under conformsTo, the report files under hasPart, the evaluation under mentions;
- the deposit is a Dataset, ``https://doi.org/...`` (or its handle, ark, swh or url) when
  it has a persistent identifier (then a web-based data entity, in hasPart), else
  ``#deposit``; with its title, version, SPDX license, qrepro's deposit digest (sha256)
  and authors (Person, ``https://orcid.org/...`` when the ORCID is known);
- the evaluation is a CreateAction: instrument qrepro and the runtime the deposit ran in
  (with its Python packages), containerImage the Docker image (docker runner), object
  the deposit, result the report files written before this one, start and end times,
  actionStatus and error.

Only the metadata is written (``crate.metadata.generate()``): the report files are
already in the folder and nothing is copied.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import mimetypes
import re
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from harness.models import DEPOSIT_DIGEST_SCHEME, DepositInfo, Person, Report, RunEnvironment
from reports import Context
from reports.svg_badges import policy_of

if TYPE_CHECKING:
    from rocrate.model import ContextEntity, DataEntity, Entity
    from rocrate.rocrate import ROCrate

FILE = "ro-crate-metadata.json"
#: RO-Crate version the profile extends
CRATE_VERSION = "1.1"
PROFILE = "https://w3id.org/ro/wfrun/process/0.5"
PROFILE_VERSION = "0.5"
#: JSON-LD context of the workflow-run terms (containerImage, ContainerImage, sha256, ...)
WFRUN_CONTEXT = "https://w3id.org/ro/terms/workflow-run/context"
WFRUN = "https://w3id.org/ro/terms/workflow-run#"
SCHEMA = "http://schema.org/"
SPDX = "https://spdx.org/licenses/"
#: a single SPDX license id (an expression or a LicenseRef- is described, not linked)
SPDX_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+-]*")
#: where a persistent identifier resolves, per qdata identifier scheme
RESOLVERS = {"doi": "https://doi.org/", "handle": "https://hdl.handle.net/",
             "ark": "https://n2t.net/", "swh": "https://archive.softwareheritage.org/"}
DESCRIPTIONS = {
    "report.json": "The evaluation report, machine-readable (qrepro schema --report).",
    "report.md": "The evaluation report for a committee member (Markdown).",
    "report.html": "The evaluation report as one HTML page.",
    "report.junit.xml": "The claims and badges as JUnit XML test cases, for CI test views.",
}
FORMATS = {".md": "text/markdown", ".json": "application/json", ".svg": "image/svg+xml",
           ".xml": "application/xml", ".html": "text/html", ".png": "image/png"}


def render(report: Report, context: Context) -> dict[str, str]:
    return {FILE: crate_text(report, context)}


def crate_text(report: Report, context: Context) -> str:
    crate = build_crate(report, context)
    return json.dumps(crate.metadata.generate(), indent=2, ensure_ascii=False) + "\n"


def build_crate(report: Report, context: Context) -> ROCrate:
    from rocrate.model import ContextEntity
    from rocrate.rocrate import ROCrate

    crate = ROCrate(version=CRATE_VERSION)
    crate.metadata.extra_contexts.append(WFRUN_CONTEXT)
    profile = crate.add(ContextEntity(crate, PROFILE, {
        "@type": "CreativeWork", "name": "Process Run Crate", "version": PROFILE_VERSION}))
    deposit = add_deposit(crate, report.deposit, report.deposit_sha256)
    results = add_results(crate, context)
    action = add_action(crate, report, deposit, results)
    root = crate.root_dataset
    root["conformsTo"] = profile
    root["name"] = f"qrepro evaluation: {report.deposit.title or report.deposit.source}"
    root["description"] = root_description(report)
    root["datePublished"] = report.generated
    license_ = add_license(crate, report.deposit.license)
    root["license"] = license_ if license_ is not None else (
        "No license stated: the evaluated deposit declares none.")
    root["isBasedOn"] = deposit
    root["mentions"] = [action]
    return crate


def root_description(report: Report) -> str:
    d = report.deposit
    policy = policy_of(report)
    awarded = [b.name for b in policy.badges if b.awarded]
    verdicts = [c.verdict for c in report.claims]
    counts = ", ".join(f"{verdicts.count(v)} {v}" for v in ("pass", "fail", "inconclusive",
                                                             "error") if v in verdicts)
    return (f"Reports of a qrepro {report.tool.get('version', '?')} evaluation of the deposit "
            f"{d.identifier or d.source} (status {report.status}, mode {report.mode}). "
            f"Badges awarded under {policy.title}: {', '.join(awarded) or 'none'}. "
            f"Claims: {counts or 'none evaluated'}.")


# --- the deposit ------------------------------------------------------------------------


def deposit_id(identifier: str | None) -> str:
    """A resolvable URI for the deposit's persistent identifier, else ``#deposit``."""
    scheme, _, value = (identifier or "").partition(":")
    value = value.strip()
    if not value:
        return "#deposit"
    if scheme == "url" and re.match(r"https?://", value):
        return value
    if scheme in ("ark", "swh") and not value.startswith(scheme + ":"):
        value = f"{scheme}:/{value.lstrip('/')}" if scheme == "ark" else f"swh:{value}"
    if scheme in RESOLVERS:
        return RESOLVERS[scheme] + quote(value, safe="/:;.,()_-~!*'@")
    return "#deposit"


def add_deposit(crate: ROCrate, info: DepositInfo, sha256: str | None) -> Entity:
    from rocrate.model import ContextEntity, DataEntity

    props: dict[str, Any] = {
        "@type": "Dataset",
        "name": info.title or info.source,
        "description": f"The deposit qrepro evaluated ({info.files} files, {info.bytes} "
                       f"bytes). sha256 is qrepro's deposit digest ({DEPOSIT_DIGEST_SCHEME}): "
                       "the sha256 of the canonical JSON of its files' [path, size, sha256], "
                       "in path order.",
    }
    optional = {"identifier": info.identifier, "version": info.version, "sha256": sha256}
    props |= {k: v for k, v in optional.items() if v is not None}
    license_ = add_license(crate, info.license)
    if license_ is not None:
        props["license"] = license_
    authors = [add_person(crate, p, i) for i, p in enumerate(info.authors, 1)]
    if authors:
        props["author"] = authors
    ident = deposit_id(info.identifier)
    if ident.startswith("#"):  # contextual: described, not part of the crate
        entity: Entity = crate.add(ContextEntity(crate, ident, props))
    else:  # web-based data entity: RO-Crate 1.1 links it from the root's hasPart
        entity = crate.add(DataEntity(crate, ident, props))
    return entity


def add_license(crate: ROCrate, spdx: str | None) -> ContextEntity | None:
    """A plain SPDX id links to spdx.org; an expression is described as such."""
    from rocrate.model import ContextEntity

    if not spdx:
        return None
    if SPDX_ID.fullmatch(spdx) and not spdx.startswith(("LicenseRef-", "DocumentRef-")):
        ident, description = SPDX + spdx, f"SPDX license {spdx}"
    else:
        ident, description = "#license", f"SPDX license expression {spdx}"
    existing: ContextEntity | None = crate.get(ident)
    if existing is not None:
        return existing
    entity: ContextEntity = crate.add(ContextEntity(crate, ident, {
        "@type": "CreativeWork", "name": spdx, "identifier": spdx,
        "description": description}))
    return entity


def add_person(crate: ROCrate, person: Person, index: int) -> ContextEntity:
    from rocrate.model import ContextEntity
    from rocrate.model import Person as CratePerson

    orcid = person.orcid
    if orcid:
        ident = orcid if orcid.startswith("http") else f"https://orcid.org/{orcid}"
    else:
        ident = f"#author-{index}"
    props: dict[str, Any] = {"name": person.name}
    if person.affiliation:
        org_id = "#organization-" + quote(person.affiliation, safe="")
        org = crate.get(org_id) or crate.add(ContextEntity(crate, org_id, {
            "@type": "Organization", "name": person.affiliation}))
        props["affiliation"] = org
    entity: ContextEntity = crate.add(CratePerson(crate, ident, props))
    return entity


# --- the report files -------------------------------------------------------------------


def add_results(crate: ROCrate, context: Context) -> list[DataEntity]:
    """A File for each report file written before this one that is there (not itself)."""
    files = []
    for name in dict.fromkeys(context.written):
        path = context.out_dir / name
        if name == FILE or not path.is_file():
            continue
        files.append(crate.add_file(path, dest_path=name, properties=file_properties(path,
                                                                                       name)))
    return files


def file_properties(path: Path, name: str) -> dict[str, Any]:
    data = path.read_bytes()
    fmt = FORMATS.get(path.suffix.lower()) or mimetypes.guess_type(name)[0]
    props: dict[str, Any] = {
        "name": name,
        "description": DESCRIPTIONS.get(name) or (
            f"SVG badge {path.stem.removeprefix('badge-')}" if name.startswith("badge-")
            and name.endswith(".svg") else "A file qrepro wrote for this evaluation."),
        "contentSize": str(len(data)),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    if fmt:
        props["encodingFormat"] = fmt
    return props


# --- the evaluation ---------------------------------------------------------------------


def add_action(crate: ROCrate, report: Report, deposit: Entity,
               results: list[DataEntity]) -> ContextEntity:
    from rocrate.model import ContextEntity

    failed = report.status != "complete"
    props: dict[str, Any] = {
        "@type": "CreateAction",
        "name": f"qrepro evaluation of {report.deposit.title or report.deposit.source}",
        "description": action_description(report),
        "instrument": [add_qrepro(crate, report), *add_runtime(crate, report.environment)],
        "object": deposit,
        "endTime": report.generated,
        "actionStatus": {"@id": SCHEMA + ("FailedActionStatus" if failed
                                          else "CompletedActionStatus")},
    }
    if results:
        props["result"] = results
    start = start_time(report)
    if start is not None:
        props["startTime"] = start
    image = add_image(crate, report.environment)
    if image is not None:
        props["containerImage"] = image
    if failed:
        props["error"] = (f"{report.error.kind}: {report.error.one_line()}" if report.error
                          else f"the evaluation ended with status {report.status}")
    entity: ContextEntity = crate.add(ContextEntity(crate, action_id(report), props))
    return entity


def action_id(report: Report) -> str:
    """Unique per evaluation and the same each time this report is rendered."""
    key = f"{report.deposit.source}\n{report.deposit_sha256}\n{report.generated}"
    return f"#evaluation-{uuid.uuid5(uuid.NAMESPACE_URL, 'qrepro:' + key)}"


def action_description(report: Report) -> str:
    runner = report.environment.runner if report.environment else "?"
    smoke = " --smoke" if report.mode == "smoke" else ""
    return (f"qrepro evaluate {report.deposit.source} --runner {runner} "
            f"--policy {policy_of(report).name}{smoke}")


def start_time(report: Report) -> str | None:
    """The report's time less the evaluation's total (both recorded), to the second."""
    total = report.timings.get("total")
    try:
        end = dt.datetime.fromisoformat(report.generated)
    except ValueError:
        return None
    if total is None:
        return None
    return (end - dt.timedelta(seconds=round(total))).isoformat()


def add_qrepro(crate: ROCrate, report: Report) -> ContextEntity:
    from rocrate.model import SoftwareApplication

    entity: ContextEntity = crate.add(SoftwareApplication(crate, "#qrepro", {
        "name": report.tool.get("name", "qrepro"),
        "version": report.tool.get("version", "unknown"),
        "description": "Reproduction harness for quantum machine-learning results: validates "
                       "a deposit, replays it on Qiskit Aer, compares its claims "
                       "statistically and decides artifact badges."}))
    return entity


def add_runtime(crate: ROCrate, env: RunEnvironment | None) -> list[ContextEntity]:
    """The Python environment the deposit ran in, with its packages (none: nothing ran)."""
    from rocrate.model import SoftwareApplication

    if env is None:
        return []
    packages = [crate.add(SoftwareApplication(
        crate, f"https://pypi.org/project/{quote(name)}/{quote(version)}/",
        {"name": name, "version": version})) for name, version in sorted(env.packages.items())]
    props: dict[str, Any] = {
        "name": f"Python {env.python or '?'} environment ({env.runner} runner)",
        "description": "; ".join(env.notes) or f"The environment of the {env.runner} runner.",
    }
    optional = {"version": env.python, "operatingSystem": env.platform,
                "processorRequirements": env.device}
    props |= {k: v for k, v in optional.items() if v}
    if packages:
        props["softwareRequirements"] = packages
    entity: ContextEntity = crate.add(SoftwareApplication(crate, "#runtime", props))
    return [entity]


def add_image(crate: ROCrate, env: RunEnvironment | None) -> ContextEntity | None:
    """The Docker image (docker runner: ``environment.details["image"]``), on its base."""
    from rocrate.model import ContextEntity

    image = env.details.get("image") if env is not None else None
    if not isinstance(image, dict) or not image.get("tag"):
        return None
    props = image_properties(str(image["tag"]), image.get("id"))
    how = "built" if image.get("built") else "reused (no build)"
    props["description"] = f"The image the deposit ran in, {how} by qrepro's docker runner."
    if image.get("base"):
        base = image_properties(str(image["base"]), image.get("base_id"))
        if image.get("base_reason"):
            base["description"] = f"Base image: {image['base_reason']}"
        props["isBasedOn"] = crate.add(ContextEntity(crate, "#base-image", base))
    entity: ContextEntity = crate.add(ContextEntity(crate, "#container-image", props))
    return entity


def image_properties(reference: str, image_id: Any) -> dict[str, Any]:
    """workflow-run ContainerImage properties of ``name[:tag]`` and ``sha256:<hex>``."""
    name, _, digest = reference.partition("@")
    tag = None
    if ":" in name.rsplit("/", 1)[-1]:
        name, tag = name.rsplit(":", 1)
    if not (isinstance(image_id, str) and image_id.startswith("sha256:")):
        image_id = digest
    props: dict[str, Any] = {"@type": "ContainerImage",
                             "additionalType": {"@id": WFRUN + "DockerImage"}, "name": name}
    if tag:
        props["tag"] = tag
    if isinstance(image_id, str) and image_id.startswith("sha256:"):
        props["sha256"] = image_id.removeprefix("sha256:")
    return props
