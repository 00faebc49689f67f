"""Screening on the real store: one customer across channels, conflicts, nothing personal out."""

from __future__ import annotations

import json

import pytest

from services.privacy import store as pstore
from services.privacy.screening import Screener, blind_indexer, key_ring
from services.privacy.vaulting import SubjectVault
from shared.clock import FrozenClock
from shared.ids import new_id
from shared.messages import Attachment, Identity
from shared.settings import Settings
from shared.store import Store
from tests.support.messages import contact

pytestmark = pytest.mark.integration

SETTINGS = Settings(vault_kek="k1:screening-kek", blind_index_key="screening-index-key")
NATIONAL_ID = "3301500123457"  # checksum holds
CARD = "4111 1111 1111 1111"  # Luhn holds


def _line_user() -> str:
    return "U" + new_id().lower().encode().hex()[:32]


def _phone() -> str:
    # A valid Thai mobile number of its own per test, so tests never share a customer.
    return "081" + str(int(new_id()[-10:], 36))[-7:].rjust(7, "1")


@pytest.fixture
def screener(store: Store) -> Screener:
    vault = SubjectVault(store, key_ring(SETTINGS))
    return Screener(store, vault=vault, indexer=blind_indexer(SETTINGS))


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(contact().received_at)


async def test_same_person_on_line_then_by_phone_gets_the_same_subject_ref(
    screener: Screener, clock: FrozenClock
) -> None:
    phone = _phone()
    on_line = contact(
        channel="line",
        customer=Identity(line_user_id=_line_user(), phone=phone),
        text="ไฟดับค่ะ",
        consent="unknown",
    )
    by_phone = contact(channel="phone", customer=Identity(phone="+66" + phone[1:]), text="สายเข้า")
    first = await screener.screen(on_line, at=clock.now())
    second = await screener.screen(by_phone, at=clock.now())
    assert first.subject_ref is not None
    assert second.subject_ref == first.subject_ref


async def test_number_typed_in_a_line_chat_recognises_the_caller_later(
    screener: Screener, clock: FrozenClock
) -> None:
    phone = _phone()
    spaced = f"{phone[:3]} {phone[3:6]} {phone[6:]}"
    on_line = contact(
        channel="line",
        customer=Identity(line_user_id=_line_user()),
        text=f"ไฟดับทั้งซอย ติดต่อกลับเบอร์ {spaced} ได้ตลอดครับ",
        consent="unknown",
    )
    by_phone = contact(channel="phone", customer=Identity(phone=phone), text="สายเข้า 1129")
    first = await screener.screen(on_line, at=clock.now())
    second = await screener.screen(by_phone, at=clock.now())
    assert second.subject_ref == first.subject_ref
    assert spaced not in first.text


async def test_two_numbers_in_one_message_recognise_nobody(
    screener: Screener, clock: FrozenClock
) -> None:
    mine, neighbours = _phone(), _phone()
    known = await screener.screen(
        contact(customer=Identity(phone=neighbours), text="x"), at=clock.now()
    )
    on_line = contact(
        channel="line",
        customer=Identity(line_user_id=_line_user()),
        text=f"เบอร์ผม {mine} เบอร์ข้างบ้าน {neighbours}",
    )
    screened = await screener.screen(on_line, at=clock.now())
    assert screened.subject_ref != known.subject_ref


async def test_identifiers_of_two_customers_are_flagged_and_not_merged(
    screener: Screener, store: Store, clock: FrozenClock
) -> None:
    phone_a, phone_b = _phone(), _phone()
    email_b = f"b-{new_id().lower()}@example.com"
    a = await screener.screen(contact(customer=Identity(phone=phone_a)), at=clock.now())
    b = await screener.screen(
        contact(customer=Identity(phone=phone_b, email=email_b)), at=clock.now()
    )
    both = contact(customer=Identity(phone=phone_a, email=email_b, name="ใครสักคน"))
    screened = await screener.screen(both, at=clock.now())

    assert "identity_conflict" in screened.flags
    assert screened.subject_ref == a.subject_ref  # the phone is the stronger identifier
    vault = SubjectVault(store, key_ring(SETTINGS))
    assert a.subject_ref is not None
    assert b.subject_ref is not None
    assert (await vault.identity(a.subject_ref)).get("email") is None
    assert (await vault.identity(a.subject_ref)).get("name") != "ใครสักคน"
    conflict = await store[pstore.CONFLICTS].find_one({"_id": both.id})
    assert conflict is not None
    assert conflict["subject_refs"] == sorted([a.subject_ref, b.subject_ref])
    assert conflict["resolved"] is False


async def test_national_id_failing_its_checksum_is_kept_flagged_and_never_matched(
    screener: Screener, store: Store, clock: FrozenClock
) -> None:
    typo = "1509901234562"
    first = await screener.screen(
        contact(channel="walk_in", customer=Identity(national_id=typo, name="ก")), at=clock.now()
    )
    second = await screener.screen(
        contact(channel="walk_in", customer=Identity(national_id=typo, name="ข")), at=clock.now()
    )
    assert "invalid_national_id" in first.flags
    assert second.subject_ref != first.subject_ref
    assert await store[pstore.BLIND].count_documents({"subject_ref": first.subject_ref}) == 0
    vault = SubjectVault(store, key_ring(SETTINGS))
    assert first.subject_ref is not None
    assert (await vault.identity(first.subject_ref))["national_id"] == typo


async def test_screened_contact_holds_no_personal_data_in_clear(
    screener: Screener, store: Store, clock: FrozenClock
) -> None:
    phone = _phone()
    email = f"somying.{new_id().lower()}@example.com"
    line_user = _line_user()
    text = (
        f"คุณสมหญิง ทดสอบ แจ้งไฟดับ โทร {phone} อีเมล {email} บัตรประชาชน {NATIONAL_ID} "
        f"บัตรเครดิต {CARD} ไลน์ {line_user} มิเตอร์ 020011457823"
    )
    received = contact(
        channel="email",
        subject=f"ร้องเรียน จาก {email}",
        text=text,
        customer=Identity(name="สมหญิง ทดสอบ", email=email, phone=phone, line_user_id=line_user),
        attachments=(
            Attachment(
                name=f"idcard_{NATIONAL_ID}.jpg",
                content_type="image/jpeg",
                size=10,
                sha256="0" * 64,
                ref="att-1",
                text=f"เลขประจำตัวประชาชน {NATIONAL_ID}",
            ),
        ),
        meta={"reply_to": email, "note": f"callback {phone}", "mentions": line_user},
    )
    screened = await screener.screen(received, at=clock.now())

    wire = json.dumps(screened.model_dump(mode="json"), ensure_ascii=False)
    for value in (phone, email, NATIONAL_ID, CARD, line_user, "สมหญิง"):
        assert value not in wire
    assert "020011457823" in screened.text  # a meter number is not personal data
    assert screened.consent == "unknown"  # email asks nothing
    assert screened.reply_handle is not None
    assert screened.reply_handle.startswith("rh_")
    assert "reply_to" not in screened.meta
    stored = await store[pstore.CONTACTS].find_one({"_id": received.id})
    assert stored is not None
    assert stored["consent_source"] == "email_default"
    raw = json.dumps(stored, ensure_ascii=False, default=str)
    for value in (phone, email, NATIONAL_ID, line_user):
        assert value not in raw


async def test_consent_comes_from_the_channel_that_asked(
    screener: Screener, clock: FrozenClock
) -> None:
    app = await screener.screen(contact(channel="app", consent="granted"), at=clock.now())
    line = await screener.screen(
        contact(channel="line", consent="unknown", meta={"consent_choice": "granted"}),
        at=clock.now(),
    )
    quick_reply = await screener.screen(
        contact(
            channel="line",
            consent="unknown",
            meta={"postback_action": "consent", "postback_choice": "withheld"},
        ),
        at=clock.now(),
    )
    ivr = await screener.screen(
        contact(channel="phone", consent="unknown", meta={"consent_choice": "withheld"}),
        at=clock.now(),
    )
    assert (app.consent, line.consent, quick_reply.consent, ivr.consent) == (
        "granted",
        "granted",
        "withheld",
        "withheld",
    )


async def test_redelivered_contact_is_screened_once(screener: Screener, clock: FrozenClock) -> None:
    received = contact()
    first = await screener.screen(received, at=clock.now())
    again = await screener.screen(received, at=clock.now())
    assert again == first


async def test_erased_customer_contacting_again_is_a_new_customer(
    screener: Screener, store: Store, clock: FrozenClock
) -> None:
    phone = _phone()
    first = await screener.screen(contact(customer=Identity(phone=phone)), at=clock.now())
    assert first.subject_ref is not None
    await SubjectVault(store, key_ring(SETTINGS)).destroy(first.subject_ref, at=clock.now())
    again = await screener.screen(contact(customer=Identity(phone=phone)), at=clock.now())
    assert again.subject_ref != first.subject_ref
