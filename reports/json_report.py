"""report.json: the machine-readable report (schema: ``qrepro schema --report``)."""

from __future__ import annotations

import json
from typing import Any

from harness.models import Report


def report_schema() -> dict[str, Any]:
    schema = Report.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://qrepro.org/schema/report-v1.schema.json"
    schema["title"] = "qrepro badge report, version 1"
    return schema


def render_json(report: Report) -> str:
    return json.dumps(report.model_dump(mode="json"), indent=2, sort_keys=False) + "\n"
