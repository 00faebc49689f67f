"""Screening a batch on the real store: a few commands for all its customers, races end in one."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from services.privacy import recognition, screening
from services.privacy import store as pstore
from services.privacy.screening import Screener, blind_indexer, key_ring
from services.privacy.vaulting import SubjectVault
from shared.ids import new_id
from shared.messages import Contact, ContactScreened, Identity
from shared.settings import Settings
from shared.store import Store
from tests.support.messages import contact
from tests.support.store_commands import Commands, watched_store

pytestmark = pytest.mark.integration

SETTINGS = Settings(vault_kek="k1:batch-screen-kek", blind_index_key="batch-screen-index-key")


@pytest.fixture
async def watched(mongo_url: str) -> AsyncIterator[tuple[Store, Commands]]:
    async with watched_store(mongo_url, pstore.INDEXES) as held:
        yield held


def _screener(store: Store) -> Screener:
    vault = SubjectVault(store, key_ring(SETTINGS))
    return Screener(store, vault=vault, indexer=blind_indexer(SETTINGS))


def _phone() -> str:
    return "081" + str(secrets.randbelow(10**7)).rjust(7, "1")


def _new_customers(count: int) -> list[Contact]:
    made: list[Contact] = []
    for n in range(count):
        if n % 3 == 0:
            customer = Identity(line_user_id="U" + secrets.token_hex(16))
            made.append(contact(channel="line", customer=customer))
        elif n % 3 == 1:
            made.append(contact(customer=Identity(app_user_id=f"u-{new_id()}", name="ผู้ทดสอบ")))
        else:
            email = f"{new_id().lower()}@customer.example"
            made.append(contact(channel="email", customer=Identity(email=email)))
    return made


async def _screen(screener: Screener, contacts: list[Contact]) -> list[ContactScreened]:
    results = await screener.screen_many(contacts, at=contacts[0].received_at)
    assert not any(isinstance(r, Exception) for r in results), results
    return [r for r in results if isinstance(r, ContactScreened)]


async def test_a_batch_of_new_customers_costs_five_commands_whatever_its_size(
    watched: tuple[Store, Commands],
) -> None:
    store, commands = watched
    contacts = _new_customers(24)
    commands.seen.clear()
    screened = await _screen(_screener(store), contacts)
    assert sorted(commands.seen) == sorted(
        [
            ("aggregate", pstore.CONTACTS),  # screened before? known identifiers?
            ("insert", pstore.SUBJECTS),
            ("insert", pstore.BLIND),
            ("insert", pstore.NAMES),
            ("insert", pstore.CONTACTS),
        ]
    )
    assert len({s.subject_ref for s in screened}) == 24
    assert await store[pstore.SUBJECTS].count_documents({}) == 24
    assert await store[pstore.BLIND].count_documents({}) == 24
    assert await store[pstore.NAMES].count_documents({}) == 8


async def test_a_batch_meeting_known_customers_reads_and_updates_them_together(
    watched: tuple[Store, Commands],
) -> None:
    store, commands = watched
    screener = _screener(store)
    phones = [_phone() for _ in range(6)]
    first = await _screen(screener, [contact(customer=Identity(phone=p)) for p in phones])
    commands.seen.clear()
    again = [contact(customer=Identity(phone=p, name=f"ลูกค้า {n}")) for n, p in enumerate(phones)]
    second = await _screen(screener, [*again, *_new_customers(3)])
    assert [s.subject_ref for s in second[:6]] == [s.subject_ref for s in first]
    assert sorted(commands.seen) == sorted(
        [
            ("aggregate", pstore.CONTACTS),  # with the known customers' keys and identities
            ("insert", pstore.SUBJECTS),
            ("insert", pstore.BLIND),
            ("update", pstore.SUBJECTS),  # their identities, in one bulk write
            ("insert", pstore.NAMES),
            ("insert", pstore.CONTACTS),
        ]
    )
    vault = SubjectVault(store, key_ring(SETTINGS))
    assert first[2].subject_ref is not None
    assert (await vault.identity(first[2].subject_ref))["name"] == "ลูกค้า 2"


async def test_a_race_on_a_new_customer_between_two_batches_ends_with_one_subject(
    watched: tuple[Store, Commands], mongo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two replicas read the blind index before either writes: both draft the customer.
    both_read = asyncio.Barrier(2)

    class Racing(recognition.Recognition):
        async def save(self, *, at: datetime) -> dict[str, recognition.Customer]:
            await both_read.wait()
            return await super().save(at=at)

    monkeypatch.setattr(screening, "Recognition", Racing)
    store, _ = watched
    other_client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    other = Store(other_client, store.db.name)
    phone, email = _phone(), f"{new_id().lower()}@customer.example"
    by_phone = contact(customer=Identity(phone=phone, name="สมหญิง รักดี"))
    by_mail = contact(channel="email", customer=Identity(phone=phone, email=email))
    try:
        mine, theirs = await asyncio.gather(
            _screen(_screener(store), [by_phone]), _screen(_screener(other), [by_mail])
        )
    finally:
        await other_client.close()
    (one,), (two,) = mine, theirs
    assert one.subject_ref == two.subject_ref
    assert await store[pstore.SUBJECTS].count_documents({}) == 1
    entries = [doc async for doc in store[pstore.BLIND].find({})]
    assert {e["subject_ref"] for e in entries} == {one.subject_ref}
    assert len(entries) == 2  # the phone and the e-mail, both of the one customer
    names = [doc async for doc in store[pstore.NAMES].find({})]
    assert [n["subject_ref"] for n in names] == [one.subject_ref]
    assert one.subject_ref is not None
    held = await SubjectVault(store, key_ring(SETTINGS)).identity(one.subject_ref)
    assert held["name"] == "สมหญิง รักดี"
    assert held["email"] == email
    # Each contact's clear part opens with the one customer's key.
    for screened in (one, two):
        doc = await store[pstore.CONTACTS].find_one({"_id": screened.contact_id})
        assert doc is not None
        assert doc["subject_ref"] == one.subject_ref
        opened = await SubjectVault(store, key_ring(SETTINGS)).open_contact(doc)
        assert opened["text"]
