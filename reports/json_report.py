"""report.json: the machine-readable report (schema: ``qrepro schema --report``)."""

from __future__ import annotations

import json
from typing import Any

from harness.models import Report
from harness.schemas import published_schema
from reports import Context


def report_schema() -> dict[str, Any]:
    return published_schema(Report, "report-v1.schema.json", "qrepro badge report, version 1")


def render_json(report: Report) -> str:
    return json.dumps(report.model_dump(mode="json"), indent=2, sort_keys=False) + "\n"


def render(report: Report, context: Context) -> dict[str, str]:
    return {"report.json": render_json(report)}
