"""Every ``/api/v1`` route of the console, called as every role: refused or served as listed.

The routes are read from the app itself, so a new route without an entry in
``EXPECTED`` fails here. A call a role may not make must answer 401 or 403;
one it may make must answer anything else (a 404, 409 or 422 is the case's
state or the body speaking, not access); none may answer 5xx. The console
runs as built for production (``create_app``) in front of routing, privacy
and intake, so what is tested is the access the whole system grants.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, get_args

import fastapi.routing
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, APIWebSocketRoute

from services.console import cases
from shared.ids import new_id
from tests.support.console import (
    LOGIN_USER,
    PASSWORD,
    ROLES,
    TARGET_USER,
    ConsoleUnderTest,
    running_console,
)

pytestmark = pytest.mark.integration

PERSONAS = ("anonymous", *ROLES)
EVERYONE = frozenset(PERSONAS)
SIGNED_IN = frozenset(ROLES)
WORKERS = frozenset({"agent", "supervisor", "unit_member", "admin"})  # work a case
DESK = frozenset({"agent", "supervisor", "admin"})  # reopen, rate, acknowledge for the customer
REPORTERS = frozenset({"manager", "supervisor", "admin"})
ADMINS = frozenset({"admin"})
WEBSOCKET = "websocket"  # reached with a single-use ticket, checked on its own below

ACT = ("POST", "/api/v1/cases/{case_id}/{action}")
# Who may do what: one entry per route (method and template), per action on the action route.
EXPECTED: dict[tuple[str, str], Any] = {
    ("POST", "/api/v1/auth/token"): EVERYONE,
    ("GET", "/api/v1/me"): SIGNED_IN,
    ("GET", "/api/v1/units"): SIGNED_IN,
    ("POST", "/api/v1/live/ticket"): SIGNED_IN,
    ("WS", "/api/v1/live"): WEBSOCKET,
    ("GET", "/api/v1/providers/status"): SIGNED_IN,
    ("GET", "/api/v1/cases"): SIGNED_IN,
    ("GET", "/api/v1/cases/{case_id}"): SIGNED_IN,
    ("PATCH", "/api/v1/cases/{case_id}"): WORKERS,
    ACT: {
        "acknowledge": WORKERS,
        "transfer": WORKERS,
        "request-info": WORKERS,
        "replies": WORKERS,
        "resolve": WORKERS,
        "reopen": DESK,
        "satisfaction": DESK,
        "acknowledge-on-behalf": DESK,
        "certify-closure": frozenset({"supervisor"}),
        "notes": WORKERS,
        "assign": WORKERS,
        "merge": WORKERS,
        "split": WORKERS,
    },
    ("GET", "/api/v1/cases/counts"): SIGNED_IN,
    ("GET", "/api/v1/cases/{case_id}/customer"): SIGNED_IN,
    ("POST", "/api/v1/cases/{case_id}/reveal"): SIGNED_IN,
    ("GET", "/api/v1/cases/{case_id}/attachments"): SIGNED_IN,
    ("POST", "/api/v1/cases/{case_id}/attachments"): WORKERS,
    ("GET", "/api/v1/cases/{case_id}/attachments/{file_id}"): SIGNED_IN,
    ("GET", "/api/v1/people"): WORKERS,
    ("GET", "/api/v1/supervisor/overview"): frozenset({"supervisor", "admin"}),
    ("GET", "/api/v1/canned"): SIGNED_IN,
    ("PUT", "/api/v1/admin/canned/{key}"): ADMINS,
    ("DELETE", "/api/v1/admin/canned/{key}"): ADMINS,
    ("GET", "/api/v1/admin/canned-audit"): ADMINS,
    ("GET", "/api/v1/admin/rules"): ADMINS,
    ("PUT", "/api/v1/admin/rules"): ADMINS,
    ("DELETE", "/api/v1/admin/rules"): ADMINS,
    ("GET", "/api/v1/admin/sla-policies"): ADMINS,
    ("GET", "/api/v1/admin/routing/{path:path}"): ADMINS,
    ("PUT", "/api/v1/admin/routing/{path:path}"): ADMINS,
    ("DELETE", "/api/v1/admin/routing/{path:path}"): ADMINS,
    ("POST", "/api/v1/contacts/walk-in"): WORKERS,
    ("GET", "/api/v1/reports/monthly"): REPORTERS,
    ("GET", "/api/v1/reports/{kind}/{year}/{number}"): REPORTERS,
    ("GET", "/api/v1/admin/users"): ADMINS,
    ("POST", "/api/v1/admin/users"): ADMINS,
    ("POST", "/api/v1/admin/users/{username}/disable"): ADMINS,
    ("POST", "/api/v1/admin/users/{username}/enable"): ADMINS,
    ("PUT", "/api/v1/admin/users/{username}/role"): ADMINS,
    ("DELETE", "/api/v1/admin/users/{username}"): ADMINS,
    ("GET", "/api/v1/admin/user-changes"): ADMINS,
    ("GET", "/api/v1/admin/dead-letters"): ADMINS,
    ("POST", "/api/v1/admin/dead-letters/{queue}/{message_id}/replay"): ADMINS,
    ("GET", "/api/v1/admin/templates"): ADMINS,
    ("POST", "/api/v1/admin/templates/preview"): ADMINS,
    ("GET", "/api/v1/admin/templates/changes"): ADMINS,
    ("PUT", "/api/v1/admin/templates/{slot:path}"): ADMINS,
    ("DELETE", "/api/v1/admin/templates/{slot:path}"): ADMINS,
}

ACTION_BODIES: dict[str, dict[str, Any]] = {
    "acknowledge": {},
    "transfer": {"reason": "ตรวจสอบสิทธิ์ของแต่ละบทบาท"},  # to its own unit: a no-op at most
    "request-info": {"question": "ขอเลขผู้ใช้ไฟฟ้าด้วยค่ะ"},
    "replies": {"text": "กำลังส่งช่างไปตรวจสอบค่ะ"},
    "resolve": {"summary": "ช่างซ่อมสายไฟเรียบร้อยแล้ว"},
    "reopen": {"reason": "ลูกค้าแจ้งว่าไฟยังดับอยู่"},
    "satisfaction": {"score": 5, "channel": "phone"},
    "acknowledge-on-behalf": {"channel": "phone", "note": "ลูกค้ารับทราบทางโทรศัพท์"},
    "certify-closure": {},
    "notes": {"text": "ตรวจสอบสิทธิ์ของบันทึกภายใน"},
    "assign": {},
    "merge": {"reason": "ตรวจสอบสิทธิ์"},  # "into" is set to the case itself: refused as such
    "split": {"contact_id": "no-such-contact", "reason": "ตรวจสอบสิทธิ์"},
}
TEMPLATE_SLOT = "th/acknowledged.short"
TEMPLATE_TEXT = "ได้รับเรื่อง {{ case_number }} แล้ว"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(32)


def api_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Return every (method, path template) the app serves under ``/api/v1``."""
    # FastAPI 0.16x keeps included routers as such in ``app.routes``; flatten them.
    flatten = getattr(fastapi.routing, "iter_route_contexts", None)
    if flatten is None:  # pragma: no cover - older FastAPI: app.routes is flat
        routes = [(route, route) for route in app.routes]
    else:
        routes = [(context.original_route, context) for context in flatten(app.routes)]
    found = []
    for original, route in routes:
        path = str(route.path or "")
        if not path.startswith("/api/v1"):
            continue
        if isinstance(original, APIRoute):
            found += [(method, path) for method in sorted(route.methods or ())]
        elif isinstance(original, APIWebSocketRoute):
            found.append(("WS", path))
    return found


def request_for(
    console: ConsoleUnderTest,
    method: str,
    template: str,
    action: str | None,
    persona: str = "admin",
) -> dict[str, Any]:
    """Return a well-formed request to the route, so only access can refuse it."""
    pattern = template.replace("{path:path}", "{path}").replace("{slot:path}", "{slot}")
    path = pattern.format(
        case_id=console.case["id"],
        action=action,
        username=TARGET_USER,
        queue="routing.contacts",
        message_id=new_id(),
        kind="monthly",
        year=2026,
        number=11,
        key="matrix-check",
        file_id="0" * 24,
        path="changes",
        slot=TEMPLATE_SLOT,
    )
    request: dict[str, Any] = {"method": method, "url": path}
    if template == "/api/v1/auth/token":
        request["data"] = {"username": LOGIN_USER, "password": PASSWORD}
    elif template == "/api/v1/reports/monthly":
        request["params"] = {"year": 2026, "month": 11}
    elif template == "/api/v1/admin/users" and method == "POST":
        name = f"m{new_id().lower()[-10:]}"
        request["json"] = {"username": name, "password": PASSWORD, "role": "agent"}
    elif template.endswith("/role"):
        request["json"] = {"role": "agent"}
    elif template == "/api/v1/cases/{case_id}" and method == "PATCH":
        request["json"] = {"urgency": "high"}
    elif template == ACT[1]:
        body = dict(ACTION_BODIES[str(action)])
        if action == "transfer":
            body["unit"] = console.case["unit"]
        if action == "merge":
            body["into"] = console.case["id"]
        if action == "assign":
            body["user"] = f"matrix.{persona}"  # taking the case oneself
        request["json"] = body
    elif template.endswith("/attachments") and method == "POST":
        request["files"] = {"file": ("photo.png", PNG, "image/png")}
    elif template.endswith("/reveal"):
        request["json"] = {"reason": "ตรวจสอบสิทธิ์การดูตัวตนลูกค้า"}
    elif template == "/api/v1/admin/canned/{key}" and method == "PUT":
        request["json"] = {"title": "ทดสอบ", "text": "เรื่อง {case_number}"}
    elif template == "/api/v1/admin/templates/preview":
        request["json"] = {"slot": TEMPLATE_SLOT, "source": TEMPLATE_TEXT}
    elif template == "/api/v1/admin/templates/{slot:path}" and method == "PUT":
        request["json"] = {"source": TEMPLATE_TEXT}
    elif method == "PUT" and template.startswith("/api/v1/admin/r"):
        request["json"] = {}  # rules or routing administration: refused as a body at most
    elif template == "/api/v1/contacts/walk-in":
        request["json"] = {
            "branch_code": "CMI01",
            "counter_no": 1,
            "queue_no": f"A{new_id()[-8:]}",
            "queued_at": datetime.now(UTC).isoformat(),
            "staff_id": "S-1",
            "text": "มาสอบถามเรื่องไฟดับ",
        }
    return request


def calls() -> list[tuple[str, str, str | None]]:
    """Return every (method, template, action) the table names."""
    listed = []
    for (method, template), access in EXPECTED.items():
        if isinstance(access, dict):
            listed += [(method, template, action) for action in access]
        else:
            listed.append((method, template, None))
    return listed


@pytest.fixture(scope="module")
async def console(
    mongo_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ConsoleUnderTest]:
    path: Path = tmp_path_factory.mktemp("console-access")
    async with running_console(mongo_url, path) as running:
        yield running


async def test_every_api_route_has_an_entry_in_the_table(console: ConsoleUnderTest) -> None:
    served = set(api_routes(console.app))
    assert served, "no /api/v1 routes found"
    assert sorted(served - set(EXPECTED)) == [], "routes without an access entry"
    assert sorted(set(EXPECTED) - served) == [], "entries for routes the console no longer has"
    assert set(EXPECTED[ACT]) == set(get_args(cases.CaseAction))


async def test_every_role_on_every_route_is_refused_or_served_as_the_table_says(
    console: ConsoleUnderTest,
) -> None:
    wrong = []
    for method, template, action in calls():
        access = EXPECTED[(method, template)]
        allowed = access[action] if action else access
        if allowed == WEBSOCKET:
            continue
        for persona in PERSONAS:
            request = request_for(console, method, template, action, persona)
            answer = await console.client.request(**request, headers=console.headers(persona))
            refused = answer.status_code in (401, 403)
            label = f"{persona} {method} {request['url']}"
            if answer.status_code >= 500:
                wrong.append(f"{label}: {answer.status_code} {answer.text[:200]}")
            elif refused == (persona in allowed):
                expected = "served" if persona in allowed else "refused"
                status = f"{answer.status_code} ({expected} expected)"
                wrong.append(f"{label}: {status} {answer.text[:200]}")
    assert wrong == []
    # A refused action wrote nothing: not even the staff text it carried went to the vault.
    refused = {
        f"matrix.{persona}"
        for action in cases.STAFF_TEXT_FIELDS
        for persona in ROLES
        if persona not in EXPECTED[ACT][action]
    }
    vault = console.desk.runtimes["privacy"].store["staff_texts"]
    assert refused
    assert await vault.count_documents({"by": {"$in": sorted(refused)}}) == 0
    assert await vault.count_documents({}) > 0  # the allowed ones did write theirs


async def test_the_live_websocket_closes_without_a_valid_ticket(console: ConsoleUnderTest) -> None:
    for ticket in (b"", b"ticket=forged", b"ticket=" + console.tokens["admin"].encode()):
        sent: list[dict[str, Any]] = []
        messages = iter([{"type": "websocket.connect"}])

        async def receive(messages: Any = messages) -> dict[str, Any]:
            return next(messages, {"type": "websocket.disconnect", "code": 1000})

        async def send(message: dict[str, Any], sent: list[dict[str, Any]] = sent) -> None:
            sent.append(message)

        scope = {
            "type": "websocket",
            "path": "/api/v1/live",
            "raw_path": b"/api/v1/live",
            "query_string": ticket,
            "headers": [],
            "scheme": "ws",
            "server": ("console", 80),
            "client": ("127.0.0.1", 50000),
            "root_path": "",
            "subprotocols": [],
            "asgi": {"version": "3.0"},
        }
        await console.app(scope, receive, send)
        assert sent, "the socket neither closed nor answered"
        assert sent[0]["type"] == "websocket.close", sent
        assert sent[0]["code"] == 4401


async def test_a_unit_member_is_not_told_of_another_units_case(console: ConsoleUnderTest) -> None:
    other = await console.desk.call(
        "routing", "GET", "/internal/v1/cases", role="agent", params={"per_page": 200}
    )
    foreign = [c for c in other.json()["items"] if c["unit"] != console.case["unit"]]
    if not foreign:
        pytest.skip("every case of this run is in the member's unit")  # pragma: no cover
    path = f"/api/v1/cases/{foreign[0]['id']}"
    headers = console.headers("unit_member")
    assert (await console.client.get(path, headers=headers)).status_code == 404
    acted = await console.client.post(f"{path}/acknowledge", json={}, headers=headers)
    assert acted.status_code == 404
