"""Notify's template editor API: slots with their defaults, preview, save, reset, change log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from services.notify.app import create_app
from services.notify.deps import NotifyParts
from services.notify.library import TemplateLibrary
from services.notify.store import TEMPLATE_CHANGES, TEMPLATES
from services.notify.templates import _DIR, MAX_SOURCE_CHARS, sample_case
from shared.bus.inproc import InProcessBus
from shared.ids import new_id
from shared.runtime import Runtime
from shared.settings import Settings
from shared.store import Store
from tests.support.acting import acting_headers

pytestmark = pytest.mark.integration

TOKEN = "service-token-notify-templates"
SLOT = "th/acknowledged.short"
CASE = "VOC-2026-004242"


@dataclass
class Notify:
    """Notify's internal API over ASGI, its library and its store."""

    client: httpx.AsyncClient
    library: TemplateLibrary
    store: Store

    def headers(self, role: str = "admin", user: str = "admin.somchai") -> dict[str, str]:
        return acting_headers(audience="notify", token=TOKEN, role=role, user=user)

    async def put(self, slot: str, source: str, **who: str) -> httpx.Response:
        return await self.client.put(
            f"/internal/v1/templates/{slot}", json={"source": source}, headers=self.headers(**who)
        )

    async def slot(self, name: str) -> dict[str, Any]:
        answer = await self.client.get("/internal/v1/templates", headers=self.headers())
        assert answer.status_code == 200, answer.text
        return next(s for s in answer.json()["slots"] if s["name"] == name)

    async def changes(self, **params: Any) -> list[dict[str, Any]]:
        answer = await self.client.get(
            "/internal/v1/templates/changes", params=params, headers=self.headers()
        )
        assert answer.status_code == 200, answer.text
        return list(answer.json()["items"])

    def sent_on_line(self) -> str:
        return self.library.current().render("acknowledged", "line", "th", case_number=CASE).text


@pytest.fixture
async def notify(store: Store) -> AsyncIterator[Notify]:
    runtime = Runtime(
        service="notify",
        settings=Settings(env="test", service_token=TOKEN),
        bus=InProcessBus(),
        store=store,
        owns_bus=False,
    )
    async with httpx.AsyncClient() as outbound:
        app = create_app(runtime, http=outbound)
        parts: NotifyParts = app.state.parts
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://notify.test") as client:
            yield Notify(client=client, library=parts.library, store=store)


async def test_every_slot_is_listed_with_its_shipped_text_or_what_serves_instead(
    notify: Notify,
) -> None:
    short = await notify.slot(SLOT)
    shipped = (_DIR / "th" / "acknowledged.short.j2").read_text(encoding="utf-8")
    assert short["default"] == shipped
    assert (short["language"], short["kind"], short["part"]) == ("th", "acknowledged", "short")
    assert short["override"] is None
    line = await notify.slot("th/acknowledged.line")
    assert line["default"] is None
    assert line["fallback"] == SLOT
    frame = await notify.slot("en/_body")
    assert (frame["language"], frame["kind"], frame["part"]) == ("en", None, None)
    assert "{% block content %}" in frame["default"]


async def test_a_saved_slot_is_what_customers_get_and_the_change_is_logged(
    notify: Notify,
) -> None:
    text = f"รับเรื่อง {{{{ case_number }}}} แล้ว {new_id()}"
    answer = await notify.put(SLOT, text)
    assert answer.status_code == 200, answer.text
    assert answer.json()["override"] == text
    assert answer.json()["updated_by"] == "admin.somchai"
    assert notify.sent_on_line() == text.replace("{{ case_number }}", CASE)
    slot = await notify.slot(SLOT)
    assert slot["override"] == text
    assert slot["default"] != text  # the text it replaced is still shown
    [change] = await notify.changes()
    assert (change["slot"], change["action"], change["by"]) == (SLOT, "set", "admin.somchai")
    assert (change["before"], change["after"]) == (None, text)
    assert change["at"]
    # Saving the same text again is no change.
    assert (await notify.put(SLOT, text)).status_code == 200
    assert len(await notify.changes()) == 1


BROKEN = [
    ("สวัสดี\n{{ case_number ", "syntax error on line 2"),
    ("เรื่อง {{ case_number }}\nโทร {{ customer_phone }}", "cannot render on line 2"),
    ("{{ case_number // 0 }}", "cannot render on line 1"),
    ("{% if case_number %}{% endif %}{{ 'x' * 1000000 }}", "cannot render on line 1"),
    ("{% for i in range(100000) %}.{% endfor %}", "a range longer than"),
    ("ซ้ำ\n{% include 'th/acknowledged.short.j2' %}", "cannot render on line 2"),
    ("x" * (MAX_SOURCE_CHARS + 1), f"at most {MAX_SOURCE_CHARS}"),
    ("   \n", "empty"),
]


@pytest.mark.parametrize(("source", "reason"), BROKEN)
async def test_a_template_that_fails_is_refused_naming_the_slot_and_nothing_is_saved(
    notify: Notify, source: str, reason: str
) -> None:
    before = notify.sent_on_line()
    answer = await notify.put(SLOT, source)
    assert answer.status_code == 422, answer.text
    assert SLOT in answer.json()["reason"]
    assert reason in answer.json()["reason"]
    assert answer.json()["field"] == SLOT
    assert await notify.store[TEMPLATES].count_documents({}) == 0
    assert await notify.store[TEMPLATE_CHANGES].count_documents({}) == 0
    assert (await notify.slot(SLOT))["override"] is None
    assert notify.sent_on_line() == before
    # The preview refuses it the same way.
    preview = await notify.client.post(
        "/internal/v1/templates/preview",
        json={"slot": SLOT, "source": source},
        headers=notify.headers(),
    )
    assert preview.status_code == 422
    assert preview.json()["reason"] == answer.json()["reason"]


async def test_a_broken_email_frame_is_refused_naming_the_frame_and_its_line(
    notify: Notify,
) -> None:
    answer = await notify.put("th/_body", "{% block content %}{% endblock %}\n{{ signature }}")
    assert answer.status_code == 422
    assert "template th/_body cannot render on line 2" in answer.json()["reason"]
    frame = await notify.put("th/_body", "เรียนลูกค้า")
    assert frame.status_code == 422
    assert "block content" in frame.json()["reason"]


async def test_a_preview_renders_the_draft_with_the_sample_case_and_saves_nothing(
    notify: Notify,
) -> None:
    before = notify.sent_on_line()
    draft = "ร่าง {{ case_number }} ถึง {{ unit_name }}"
    answer = await notify.client.post(
        "/internal/v1/templates/preview",
        json={"slot": SLOT, "source": draft},
        headers=notify.headers(),
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    sample = sample_case()
    expected = f"ร่าง {sample['case_number']} ถึง {sample['unit_name']}"
    assert body["sample"]["case_number"] == sample["case_number"]
    shown = {r["channel"]: r["text"] for r in body["renders"]}
    assert set(shown) == {"line", "sms", "app", "callback"}
    assert set(shown.values()) == {expected}
    assert await notify.store[TEMPLATES].count_documents({}) == 0
    assert await notify.changes() == []
    assert notify.sent_on_line() == before
    # A part some channel has words of its own for is shown only where it is used.
    resolved = await notify.client.post(
        "/internal/v1/templates/preview",
        json={"slot": "th/resolved.short", "source": "ปิดเรื่อง {{ case_number }}"},
        headers=notify.headers(),
    )
    assert {r["channel"] for r in resolved.json()["renders"]} == {"sms", "app", "callback"}


async def test_reset_brings_back_the_default_and_is_logged(notify: Notify) -> None:
    default = notify.sent_on_line()
    text = "รับเรื่อง {{ case_number }} แล้วค่ะ"
    assert (await notify.put(SLOT, text)).status_code == 200
    assert notify.sent_on_line() != default
    answer = await notify.client.delete(
        f"/internal/v1/templates/{SLOT}", headers=notify.headers(user="admin.suda")
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["override"] is None
    assert notify.sent_on_line() == default
    assert await notify.store[TEMPLATES].count_documents({}) == 0
    reset, saved = await notify.changes(slot=SLOT)
    assert (reset["action"], reset["by"], reset["before"], reset["after"]) == (
        "reset",
        "admin.suda",
        text,
        None,
    )
    assert saved["action"] == "set"
    # Resetting a slot that holds no override changes nothing and logs nothing.
    again = await notify.client.delete(f"/internal/v1/templates/{SLOT}", headers=notify.headers())
    assert again.status_code == 200
    assert len(await notify.changes()) == 2


async def test_only_admins_edit_preview_or_read_the_change_log(notify: Notify) -> None:
    for role in ("agent", "supervisor", "manager", "dpo"):
        headers = notify.headers(role=role, user=f"x.{role}")
        calls = [
            notify.put(SLOT, "เปลี่ยน {{ case_number }}", role=role, user=f"x.{role}"),
            notify.client.delete(f"/internal/v1/templates/{SLOT}", headers=headers),
            notify.client.post(
                "/internal/v1/templates/preview",
                json={"slot": SLOT, "source": "x"},
                headers=headers,
            ),
            notify.client.get("/internal/v1/templates/changes", headers=headers),
        ]
        for call in calls:
            answer = await call
            assert answer.status_code == 403, (role, answer.text)
    assert await notify.store[TEMPLATES].count_documents({}) == 0


async def test_an_unknown_slot_is_not_found(notify: Notify) -> None:
    assert (await notify.put("th/acknowledged.fax", "x")).status_code == 404
    assert (await notify.put("th/acknowledged.short.j2", "x")).status_code == 404
    answer = await notify.client.post(
        "/internal/v1/templates/preview",
        json={"slot": "../etc/passwd", "source": "x"},
        headers=notify.headers(),
    )
    assert answer.status_code == 404


async def test_replacing_the_whole_set_still_works_and_logs_each_slot(notify: Notify) -> None:
    assert (await notify.put("en/reply.short", "Reply on {{ case_number }}")).status_code == 200
    answer = await notify.client.put(
        "/internal/v1/templates",
        json={"overrides": {SLOT: "ชุดใหม่ {{ case_number }}"}},
        headers=notify.headers(role="system", user="deploy"),
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"overrides": {SLOT: "ชุดใหม่ {{ case_number }}"}}
    by_slot = {c["slot"]: c for c in await notify.changes() if c["by"] == "deploy"}
    assert by_slot[SLOT]["action"] == "set"
    assert by_slot["en/reply.short"]["action"] == "reset"
    assert by_slot["en/reply.short"]["before"] == "Reply on {{ case_number }}"
    listed = await notify.client.get("/internal/v1/templates", headers=notify.headers())
    assert listed.json()["overrides"] == {SLOT: "ชุดใหม่ {{ case_number }}"}
