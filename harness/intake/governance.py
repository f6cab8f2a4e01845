"""Governance findings: identifier, license, embargo, consent and provenance.

Pure functions of the manifest (and today's date); no file access. Each finding names
the manifest field it is about and the badges it denies (see docs/badges.md).
"""

from __future__ import annotations

import datetime as dt

from harness.intake.manifest import MANIFEST_NAME, Manifest
from harness.models import Finding, Severity, finding

#: SPDX identifiers of licenses that meet the Open Definition / OSI definitions.
OPEN_LICENSES = frozenset(
    {
        "CC0-1.0",
        "CC-BY-3.0",
        "CC-BY-4.0",
        "CC-BY-SA-3.0",
        "CC-BY-SA-4.0",
        "PDDL-1.0",
        "ODC-By-1.0",
        "ODbL-1.0",
        "MIT",
        "MIT-0",
        "Apache-2.0",
        "BSD-2-Clause",
        "BSD-3-Clause",
        "ISC",
        "Unlicense",
        "0BSD",
        "MPL-2.0",
        "EUPL-1.2",
        "GPL-2.0-only",
        "GPL-2.0-or-later",
        "GPL-3.0-only",
        "GPL-3.0-or-later",
        "LGPL-2.1-only",
        "LGPL-2.1-or-later",
        "LGPL-3.0-only",
        "LGPL-3.0-or-later",
        "AGPL-3.0-only",
        "AGPL-3.0-or-later",
        "Zlib",
        "BSL-1.0",
    }
)
#: Recognised SPDX identifiers that are not open (non-commercial, no-derivatives, ...).
RESTRICTED_LICENSES = frozenset(
    {
        "CC-BY-NC-4.0",
        "CC-BY-NC-SA-4.0",
        "CC-BY-ND-4.0",
        "CC-BY-NC-ND-4.0",
        "CC-BY-NC-3.0",
        "CC-BY-NC-SA-3.0",
        "CC-BY-ND-3.0",
        "CC-BY-NC-ND-3.0",
        "LicenseRef-Proprietary",
    }
)
NON_COMMERCIAL = frozenset(s for s in RESTRICTED_LICENSES if "-NC" in s)


def _finding(
    code: str, severity: Severity, message: str, field: str, blocks: tuple[str, ...] = ()
) -> Finding:
    return finding(code, severity, message, file=MANIFEST_NAME, field=field, blocks=blocks)


def identity_findings(m: Manifest) -> list[Finding]:
    if m.identity.identifier is None:
        return [
            _finding(
                "identifier-missing",
                "error",
                "no persistent identifier (DOI, handle, ARK, SWHID)",
                "identity.identifier",
                ("available",),
            )
        ]
    return []


def license_findings(m: Manifest) -> list[Finding]:
    spdx = m.license.spdx
    out: list[Finding] = []
    if spdx in RESTRICTED_LICENSES:
        out.append(
            _finding(
                "license-not-open",
                "error",
                f"license {spdx} is not an open license",
                "license.spdx",
                ("available",),
            )
        )
    elif spdx not in OPEN_LICENSES:
        out.append(
            _finding(
                "license-unknown",
                "error",
                f"'{spdx}' is not a recognised open SPDX license identifier",
                "license.spdx",
                ("available",),
            )
        )
    if spdx in NON_COMMERCIAL and m.license.commercial_use:
        out.append(
            _finding(
                "license-inconsistent",
                "warning",
                f"commercial_use is true but {spdx} forbids commercial use",
                "license.commercial_use",
            )
        )
    if spdx in OPEN_LICENSES and not m.license.commercial_use:
        out.append(
            _finding(
                "license-inconsistent",
                "warning",
                f"commercial_use is false but {spdx} allows commercial use",
                "license.commercial_use",
            )
        )
    return out


def embargo_findings(m: Manifest, today: dt.date) -> list[Finding]:
    until = m.license.embargo_until
    if until is not None and until > today:
        return [
            _finding(
                "embargo-active",
                "error",
                f"under embargo until {until.isoformat()}",
                "license.embargo_until",
                ("available",),
            )
        ]
    return []


def consent_findings(m: Manifest) -> list[Finding]:
    c = m.consent
    if not c.personal_data:
        return []
    out: list[Finding] = []
    if c.basis is None or c.basis == "not-applicable":
        out.append(
            _finding(
                "consent-basis-missing",
                "error",
                "personal data present but no legal basis for processing is stated",
                "consent.basis",
                ("available", "reusable"),
            )
        )
    if not c.record:
        out.append(
            _finding(
                "consent-record-missing",
                "error",
                "personal data present but no consent record is referenced",
                "consent.record",
                ("available", "reusable"),
            )
        )
    if not c.deidentification:
        out.append(
            _finding(
                "deidentification-missing",
                "warning",
                "personal data present but no de-identification notes",
                "consent.deidentification",
            )
        )
    return out


def provenance_findings(m: Manifest) -> list[Finding]:
    p = m.provenance
    out: list[Finding] = []
    for i, author in enumerate(p.authors):
        if not author.affiliation:
            out.append(
                _finding(
                    "provenance-incomplete",
                    "error",
                    f"author '{author.name}' has no affiliation",
                    f"provenance.authors[{i}].affiliation",
                    ("reusable",),
                )
            )
        if not author.orcid:
            out.append(
                _finding(
                    "orcid-missing",
                    "info",
                    f"author '{author.name}' has no ORCID iD",
                    f"provenance.authors[{i}].orcid",
                )
            )
    if not p.institution:
        out.append(
            _finding(
                "provenance-incomplete",
                "error",
                "no institution stated",
                "provenance.institution",
                ("reusable",),
            )
        )
    if p.source in ("hardware", "mixed") and not p.calibration:
        out.append(
            _finding(
                "calibration-missing",
                "error",
                f"source is {p.source} but no calibration snapshot is deposited",
                "provenance.calibration",
                ("reusable",),
            )
        )
    return out


def governance_findings(m: Manifest, today: dt.date) -> list[Finding]:
    return [
        *identity_findings(m),
        *license_findings(m),
        *embargo_findings(m, today),
        *consent_findings(m),
        *provenance_findings(m),
    ]
