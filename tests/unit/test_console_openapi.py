"""The console's OpenAPI document says what every ``/api/v1`` route answers.

Integrators read the answers' shapes from ``/openapi.json``: every JSON route
documents a schema with fields, and the case and unit routes document the
fields the public contract promises (``DESIGN.md``, "Contracts that outside
clients rely on").
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.console.app import create_app
from shared.bus.inproc import InProcessBus
from shared.runtime import Runtime, open_store
from shared.settings import Settings

CASE_FIELDS = {
    "id",
    "number",
    "status",
    "category",
    "topic",
    "urgency",
    "unit",
    "channels",
    "consent",
    "sla",
    "created_at",
    "updated_at",
    "contacts",
}
CONTACT_FIELDS = {"channel", "text", "received_at"}
PAGE_FIELDS = {"items", "total", "total_exact", "page", "per_page", "next"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    settings = Settings(env="test")
    runtime = Runtime(
        service="console",
        settings=settings,
        bus=InProcessBus(),
        # Never reached: the document is built without starting the app.
        store=open_store(settings, "console", "mongodb://127.0.0.1:9"),
    )
    answer = TestClient(create_app(runtime)).get("/openapi.json")
    assert answer.status_code == 200
    doc: dict[str, Any] = answer.json()
    return doc


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Return the schema a ``$ref`` points at (or the schema itself)."""
    ref = schema.get("$ref")
    if ref is None:
        return schema
    found: dict[str, Any] = doc
    for part in ref.removeprefix("#/").split("/"):
        found = found[part]
    return found


def fields(doc: dict[str, Any], schema: dict[str, Any]) -> set[str]:
    """Return the properties a (referenced) object schema documents."""
    return set(resolve(doc, schema).get("properties", {}))


def json_answers(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Return each ``/api/v1`` operation's JSON success schema, by ``METHOD path``."""
    found = {}
    for path, operations in doc["paths"].items():
        if not path.startswith("/api/v1"):
            continue
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                content = (response.get("content") or {}).get("application/json")
                if status.startswith("2") and content is not None:
                    found[f"{method.upper()} {path}"] = content.get("schema", {})
    return found


def has_fields(doc: dict[str, Any], schema: dict[str, Any]) -> bool:
    """Say whether a schema names fields: an object's, a list's items', or each choice's."""
    if "anyOf" in schema:
        return all(has_fields(doc, choice) for choice in schema["anyOf"])
    if schema.get("type") == "array":
        return has_fields(doc, schema.get("items", {}))
    return bool(fields(doc, schema))


def test_every_json_route_documents_what_it_answers(document: dict[str, Any]) -> None:
    answers = json_answers(document)
    assert len(answers) > 40
    empty = sorted(route for route, schema in answers.items() if not has_fields(document, schema))
    assert empty == []


def test_the_case_routes_document_the_contract_fields(document: dict[str, Any]) -> None:
    answers = json_answers(document)
    page = answers["GET /api/v1/cases"]
    assert fields(document, page) >= PAGE_FIELDS
    listed = resolve(document, page)["properties"]["items"]["items"]
    one = answers["GET /api/v1/cases/{case_id}"]
    for case in (listed, one):
        assert fields(document, case) >= CASE_FIELDS
        contact = resolve(document, case)["properties"]["contacts"]["items"]
        assert fields(document, contact) >= CONTACT_FIELDS


def test_the_unit_list_documents_each_units_id(document: dict[str, Any]) -> None:
    units = json_answers(document)["GET /api/v1/units"]
    assert units["type"] == "array"
    assert "id" in fields(document, units["items"])
