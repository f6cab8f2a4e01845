"""Published JSON Schemas: generated from the pydantic models, shipped in harness/schema/."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

DRAFT = "https://json-schema.org/draft/2020-12/schema"
BASE_ID = "https://qrepro.org/schema/"


def published_schema(model: type[BaseModel], file_name: str, title: str) -> dict[str, Any]:
    """``model``'s JSON Schema with the draft, id and title it is published under."""
    schema = model.model_json_schema()
    schema["$schema"] = DRAFT
    schema["$id"] = BASE_ID + file_name
    schema["title"] = title
    return schema
