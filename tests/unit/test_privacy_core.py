"""Behaviour of the privacy core: vault, blind indexes, audit chain, consent."""

from __future__ import annotations

import base64
import copy
import json
from datetime import UTC, datetime, timedelta

import pytest

from services.privacy.audit import AuditEntry, chain_entry, verify_chain
from services.privacy.consent import ConsentRecord, change, discloses, visible_identity
from services.privacy.identifiers import BlindIndexer, normalise_phone
from services.privacy.vault import (
    DecryptionFailed,
    KeyDestroyed,
    KeyRing,
    UnknownKek,
    decrypt_identity,
    encrypt_identity,
)
from shared.errors import Forbidden, Invalid
from shared.ids import new_id
from shared.messages.contacts import Identity
from shared.thai_ids import normalise_national_id

T0 = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
VALID_NATIONAL_ID = "1101700230708"  # checksum holds
IDENTITY: dict[str, str | None] = {
    "name": "สมชาย ใจดี",
    "phone": "+66864427139",
    "email": "somchai@example.co.th",
    "national_id": VALID_NATIONAL_ID,
    "address": None,
}


def subject() -> bytes:
    return f"subj-{new_id()}".encode()


def test_identity_ciphertext_never_contains_a_clear_value() -> None:
    ring = KeyRing([("k1", "first-secret")])
    document = encrypt_identity(IDENTITY, ring.unwrap(ring.new_data_key()), aad=subject())

    stored = json.dumps(document, ensure_ascii=False).encode()
    ciphertext = base64.b64decode(document["ciphertext"])
    for value in (v for v in IDENTITY.values() if v):
        assert value.encode() not in stored
        assert value.encode() not in ciphertext


def test_identity_decrypts_to_what_was_encrypted() -> None:
    ring = KeyRing([("k1", "first-secret")])
    data_key = ring.unwrap(ring.new_data_key())
    aad = subject()

    assert decrypt_identity(encrypt_identity(IDENTITY, data_key, aad=aad), data_key, aad=aad) == (
        IDENTITY
    )


def test_rotation_rewraps_data_keys_so_the_old_kek_can_be_dropped() -> None:
    old_ring = KeyRing([("k1", "first-secret")])
    wrapped = old_ring.new_data_key()
    aad = subject()
    document = encrypt_identity(IDENTITY, old_ring.unwrap(wrapped), aad=aad)
    stored_document = copy.deepcopy(document)

    rotating = KeyRing([("k1", "first-secret"), ("k2", "second-secret")])
    rewrapped = rotating.rewrap(wrapped)
    new_ring = KeyRing([("k2", "second-secret")])

    assert rewrapped.kek_id == "k2"
    assert new_ring.unwrap(rewrapped) == old_ring.unwrap(wrapped)
    assert decrypt_identity(document, new_ring.unwrap(rewrapped), aad=aad) == IDENTITY
    assert document == stored_document
    with pytest.raises(UnknownKek):
        new_ring.unwrap(wrapped)


def test_key_ring_reads_ids_and_secrets_from_one_setting_newest_last() -> None:
    ring = KeyRing.from_setting("k1:first-secret, k2:second-secret")

    assert ring.current_kek_id == "k2"
    assert ring.new_data_key().kek_id == "k2"


def test_destroyed_data_key_makes_identity_unreadable() -> None:
    ring = KeyRing([("k1", "first-secret")])
    aad = subject()
    document = encrypt_identity(IDENTITY, ring.unwrap(ring.new_data_key()), aad=aad)

    with pytest.raises(KeyDestroyed) as raised:
        decrypt_identity(document, ring.unwrap(None), aad=aad)
    assert isinstance(raised.value, Forbidden)
    with pytest.raises(KeyDestroyed):
        decrypt_identity(document, None, aad=aad)


def test_tampered_identity_ciphertext_fails_to_decrypt() -> None:
    ring = KeyRing([("k1", "first-secret")])
    data_key = ring.unwrap(ring.new_data_key())
    aad = subject()
    document = encrypt_identity(IDENTITY, data_key, aad=aad)
    raw = bytearray(base64.b64decode(document["ciphertext"]))
    raw[0] ^= 0x01
    tampered = {**document, "ciphertext": base64.b64encode(bytes(raw)).decode()}

    with pytest.raises(DecryptionFailed):
        decrypt_identity(tampered, data_key, aad=aad)


def test_identity_of_one_subject_does_not_decrypt_as_another() -> None:
    ring = KeyRing([("k1", "first-secret")])
    data_key = ring.unwrap(ring.new_data_key())
    document = encrypt_identity(IDENTITY, data_key, aad=subject())

    with pytest.raises(DecryptionFailed):
        decrypt_identity(document, data_key, aad=subject())


def test_data_key_wrapped_under_another_kek_secret_fails_to_unwrap() -> None:
    wrapped = KeyRing([("k1", "first-secret")]).new_data_key()

    with pytest.raises(DecryptionFailed):
        KeyRing([("k1", "another-secret")]).unwrap(wrapped)


@pytest.mark.parametrize("written", ["+66864427139", "086-442-7139", "๐๘๖๔๔๒๗๑๓๙", "086 442 7139"])
def test_every_written_form_of_a_phone_gives_the_same_blind_index(written: str) -> None:
    indexer = BlindIndexer(b"k" * 32)

    assert normalise_phone(written) == "+66864427139"
    assert indexer.index("phone", written) == indexer.index("phone", "+66864427139")


def test_blind_index_differs_under_another_key() -> None:
    one, other = BlindIndexer(b"k" * 32), BlindIndexer(b"j" * 32)

    assert one.index("phone", "0864427139") != other.index("phone", "0864427139")


def test_anonymous_caller_has_no_phone() -> None:
    assert normalise_phone("anonymous") is None
    assert BlindIndexer(b"k" * 32).indexes(Identity(phone="Anonymous")) == {}


def test_national_id_in_thai_digits_with_dashes_normalises() -> None:
    assert normalise_national_id("๑-๑๐๑๗-๐๐๒๓๐-๗๐-๘") == VALID_NATIONAL_ID


def test_national_id_failing_the_checksum_gets_no_index() -> None:
    bad = VALID_NATIONAL_ID[:-1] + "9"
    indexes = BlindIndexer(b"k" * 32).indexes(Identity(national_id=bad, email=" A@Example.com "))

    assert normalise_national_id(bad) is None
    assert "national_id" not in indexes
    assert indexes["email"] == BlindIndexer(b"k" * 32).index("email", "a@example.com")


def audit_log(length: int) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    for i in range(length):
        entries.append(
            chain_entry(
                entries[-1] if entries else None,
                at=T0 + timedelta(minutes=i),
                actor=f"agent-{i}",
                role="agent",
                action="reveal",
                subject_ref="subj-1",
                case_id="case-1",
                purpose="handle_case",
                reason="call back about the outage",
            )
        )
    return entries


def test_untouched_audit_chain_verifies() -> None:
    result = verify_chain(audit_log(4))

    assert result.ok
    assert result.checked == 4


def test_audit_chain_detects_an_edited_reason() -> None:
    entries = audit_log(4)
    entries[2] = entries[2].model_copy(update={"reason": "just curious"})

    result = verify_chain(entries)

    assert not result.ok
    assert result.first_bad_seq == 3


def test_audit_chain_detects_a_deleted_middle_entry() -> None:
    entries = audit_log(4)
    del entries[1]

    result = verify_chain(entries)

    assert not result.ok
    assert result.first_bad_seq == 3
    assert result.checked == 1


def test_audit_chain_detects_swapped_entries() -> None:
    entries = audit_log(4)
    entries[1], entries[2] = entries[2], entries[1]

    assert not verify_chain(entries).ok


def test_audit_chain_survives_a_json_round_trip() -> None:
    stored = [AuditEntry.model_validate_json(e.model_dump_json()) for e in audit_log(3)]

    assert verify_chain(stored).ok


def test_reveal_without_a_reason_is_refused() -> None:
    with pytest.raises(Invalid):
        chain_entry(None, at=T0, actor="a", role="agent", action="reveal", purpose="handle_case")


def test_unknown_consent_does_not_disclose() -> None:
    assert not discloses("unknown")
    assert not discloses(ConsentRecord(case_id=new_id()).state)


def test_unit_member_sees_identity_only_with_granted_consent() -> None:
    record = ConsentRecord(case_id=new_id())
    granted = change(record, "granted", source="line_quick_reply", actor="customer", at=T0)

    assert not visible_identity("unit_member", record.state)
    assert not visible_identity("unit_member", "withheld")
    assert visible_identity("unit_member", granted.state)


def test_agents_see_identity_and_managers_see_it_masked_whatever_the_consent() -> None:
    for consent in ("granted", "withheld", "unknown"):
        assert visible_identity("agent", consent)
        assert visible_identity("dpo", consent)
        assert not visible_identity("manager", consent)


def test_consent_history_keeps_every_change_in_order() -> None:
    record = change(
        ConsentRecord(case_id=new_id()), "granted", source="app_form", actor="cust", at=T0
    )
    record = change(record, "withheld", source="agent", actor="agent-7", at=T0 + timedelta(hours=1))

    assert record.state == "withheld"
    assert [c.state for c in record.history] == ["granted", "withheld"]
