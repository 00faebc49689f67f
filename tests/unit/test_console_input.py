"""The console refuses malformed case ids and paging before calling routing, and forwards only
the query parameters it declares.

The console's case and walk-in routes run in-process; routing is a recording
fake answering every call, so what reaches it is exactly what the console sent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any, get_args

import httpx
import pytest
from fastapi import FastAPI, Header

from services.console import cases, deps, walkin
from services.console.auth import User
from services.console.clients import ServiceClient, case_path
from services.console.live import LiveHub
from shared.errors import NotFound
from shared.http import install_common
from shared.ids import new_id
from tests.support.console_parts import UnseenBook, console_parts

CASE_ID = new_id()
AT = "2026-03-02T09:00:00+07:00"
# The open case routing answers every case call with, as routing shows a case.
OPEN_CASE: dict[str, Any] = {
    "id": CASE_ID,
    "number": "VOC-2026-000001",
    "org": "pea",
    "status": "routed",
    "category": None,
    "topic": None,
    "urgency": "normal",
    "classification": {
        "category": None,
        "topic": None,
        "urgency": "normal",
        "confidence": None,
        "confident": False,
        "source": "none",
        "hazards": [],
        "model_version": None,
    },
    "unit": "u",
    "assignee": None,
    "tier": "standard",
    "area": {},
    "channel": "line",
    "channels": ["line"],
    "consent": "unknown",
    "subject_ref": None,
    "sla": {"policy": None, "due": {}, "state": {}, "paused": False, "next_due": None},
    "resolution": None,
    "closure": None,
    "pending_closure": None,
    "reopen_count": 0,
    "related_case": None,
    "related_cases": [],
    "merged_into": None,
    "merged_cases": [],
    "split_from": None,
    "version": 1,
    "created_at": AT,
    "updated_at": AT,
    "last_contact_at": AT,
    "contacts": [],
    "timeline": [],
}


class FakeRouting:
    """Routing's internal API as a recorder: every case is the same open case."""

    def __init__(self) -> None:
        self.seen: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        if request.url.path == "/internal/v1/cases":
            return httpx.Response(200, json={"items": [], "total": 0, "page": 1, "per_page": 50})
        return httpx.Response(200, json=OPEN_CASE)


def current_user(x_test_role: Annotated[str, Header()] = "agent") -> User:
    return User(username=f"{x_test_role}.one", role=x_test_role, unit="u")


@pytest.fixture
async def console() -> AsyncIterator[tuple[httpx.AsyncClient, FakeRouting]]:
    routing = FakeRouting()
    async with httpx.AsyncClient(transport=httpx.MockTransport(routing)) as http:

        def client(service: str) -> ServiceClient:
            return ServiceClient(
                f"http://{service}", token="t", acting_key="k", audience=service, http=http
            )

        app = FastAPI()
        install_common(app)
        app.state.parts = console_parts(
            routing=client("routing"),
            privacy=client("privacy"),
            intake=client("intake"),
            hub=LiveHub(),
            seen=UnseenBook(),
        )
        app.dependency_overrides[deps.current_user] = current_user
        app.include_router(cases.router)
        app.include_router(walkin.router)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://console") as user:
            yield user, routing


BAD_IDS = [
    "%09",  # a tab: routing's URL cannot even be built from it
    "%3Fx%3D1",  # "?x=1": would turn into routing's case list with a query
    "%3Fstatus%3Dopen%26unit%3Dother",
    "..",
    "%2E%2E",
    "not-a-case",
    CASE_ID.lower(),
    CASE_ID + "0",
    "8" + CASE_ID[1:],  # past the largest ULID
    "VOC-2026-12",
    "%00",
    "x" * 300,
]


@pytest.mark.parametrize("bad", BAD_IDS)
@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [("GET", "", None), ("PATCH", "", {"urgency": "high"}), ("POST", "/acknowledge", {})],
)
async def test_a_malformed_case_id_is_refused_before_routing_is_called(
    console: tuple[httpx.AsyncClient, FakeRouting],
    bad: str,
    method: str,
    suffix: str,
    body: Any,
) -> None:
    client, routing = console
    answer = await client.request(method, f"/api/v1/cases/{bad}{suffix}", json=body)
    assert answer.status_code in (404, 422), answer.text
    refusal = answer.json()
    assert refusal.get("reason") or refusal.get("errors") or refusal.get("detail"), refusal
    assert routing.seen == []


@pytest.mark.parametrize("good", [CASE_ID, "VOC-2026-000123"])
async def test_a_well_formed_case_id_or_number_reaches_routing_as_one_segment(
    console: tuple[httpx.AsyncClient, FakeRouting], good: str
) -> None:
    client, routing = console
    answer = await client.get(f"/api/v1/cases/{good}?x=1")
    assert answer.status_code == 200, answer.text
    assert [r.url.path for r in routing.seen] == [f"/internal/v1/cases/{good}"]
    assert [r.url.query for r in routing.seen] == [b""]


def test_case_path_refuses_what_the_routes_would_refuse() -> None:
    assert case_path(CASE_ID, "acknowledge") == f"/internal/v1/cases/{CASE_ID}/acknowledge"
    with pytest.raises(NotFound):
        case_path("?x=1")


async def test_the_case_list_forwards_only_the_parameters_it_declares(
    console: tuple[httpx.AsyncClient, FakeRouting],
) -> None:
    client, routing = console
    answer = await client.get(
        "/api/v1/cases",
        params={"status": "open", "x": "1", "owner": "someone", "per_page": 10, "skip": 5},
    )
    assert answer.status_code == 200, answer.text
    (sent,) = routing.seen
    assert dict(sent.url.params) == {"status": "open", "page": "1", "per_page": "10"}


@pytest.mark.parametrize(
    "params",
    [
        {"page": 10**30},
        {"page": 2**63},
        {"page": 10_001},
        {"page": 0},
        {"page": -1},
        {"per_page": 10**30},
        {"per_page": 201},
        {"per_page": 0},
        {"per_page": -5},
        {"page": "many"},
        {"status": "x" * 500},
    ],
)
async def test_out_of_range_paging_is_refused_with_a_reason(
    console: tuple[httpx.AsyncClient, FakeRouting], params: dict[str, Any]
) -> None:
    client, routing = console
    answer = await client.get("/api/v1/cases", params=params)
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["reason"]
    assert routing.seen == []


async def test_the_deepest_page_is_still_answered(
    console: tuple[httpx.AsyncClient, FakeRouting],
) -> None:
    client, routing = console
    answer = await client.get("/api/v1/cases", params={"page": cases.MAX_PAGE, "per_page": 200})
    assert answer.status_code == 200, answer.text
    assert len(routing.seen) == 1


@pytest.mark.parametrize(
    ("role", "action", "body"),
    [
        ("manager", "replies", {"text": "ช่างจะโทรกลับภายในวันนี้"}),
        ("dpo", "resolve", {"summary": "แก้ไขเรียบร้อย"}),
        ("manager", "request-info", {"question": "ขอเลขผู้ใช้ไฟ"}),
        ("unit_member", "reopen", {"reason": "ยังไม่หาย"}),
        ("agent", "certify-closure", {}),
    ],
)
async def test_a_role_refused_an_action_is_refused_before_anything_is_written(
    console: tuple[httpx.AsyncClient, FakeRouting], role: str, action: str, body: dict[str, Any]
) -> None:
    client, calls = console
    answer = await client.post(
        f"/api/v1/cases/{CASE_ID}/{action}", json=body, headers={"x-test-role": role}
    )
    assert answer.status_code == 403, answer.text
    assert answer.json()["reason"]
    assert calls.seen == []  # neither privacy (staff text) nor routing was called


async def test_a_role_that_does_not_work_cases_may_not_correct_one(
    console: tuple[httpx.AsyncClient, FakeRouting],
) -> None:
    client, calls = console
    answer = await client.patch(
        f"/api/v1/cases/{CASE_ID}", json={"urgency": "low"}, headers={"x-test-role": "manager"}
    )
    assert answer.status_code == 403, answer.text
    assert calls.seen == []


def test_every_case_action_has_the_permission_it_asks_for() -> None:
    assert set(cases.ACTION_PERMISSION) == set(get_args(cases.CaseAction))
