"""Reply-handle look-ups on the real store: concurrent ones share their reads and audit write."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from services.privacy import store as pstore
from services.privacy.audit import verify_chain
from services.privacy.consent_book import ConsentBook
from services.privacy.reply_targets import ReplyTargets
from services.privacy.reveal import Revealer
from services.privacy.screening import Screener, blind_indexer, key_ring
from services.privacy.vaulting import SubjectVault
from shared.bus.inproc import InProcessBus
from shared.clock import FrozenClock
from shared.errors import NotFound
from shared.ids import new_id
from shared.messages import ContactScreened, Identity
from shared.settings import Settings
from shared.store import Store
from tests.support.messages import contact
from tests.support.store_commands import Commands, watched_store

pytestmark = pytest.mark.integration

SETTINGS = Settings(vault_kek="k1:lookup-kek", blind_index_key="lookup-index-key")


class Privacy:
    """A screener and a revealer on one watched store."""

    def __init__(self, store: Store, commands: Commands) -> None:
        self.store = store
        self.commands = commands
        self.clock = FrozenClock(contact().received_at)
        self.vault = SubjectVault(store, key_ring(SETTINGS))
        self.screener = Screener(store, vault=self.vault, indexer=blind_indexer(SETTINGS))
        consents = ConsentBook(pstore.MongoConsents(store), bus=InProcessBus(), clock=self.clock)
        self.revealer = Revealer(store, vault=self.vault, consents=consents, clock=self.clock)

    async def screened(self, count: int) -> list[ContactScreened]:
        contacts = [
            contact(customer=Identity(app_user_id=f"u-{new_id()}", name="ผู้ทดสอบ"))
            for _ in range(count)
        ]
        results = await self.screener.screen_many(contacts, at=self.clock.now())
        assert not any(isinstance(r, Exception) for r in results), results
        return [r for r in results if isinstance(r, ContactScreened)]

    async def look_up(self, handle: str | None, case_id: str = "case-1") -> dict[str, Any]:
        assert handle is not None
        return await self.revealer.reply_target(
            handle, case_id=case_id, actor="notify", role="notify"
        )


@pytest.fixture
async def privacy(mongo_url: str) -> AsyncIterator[Privacy]:
    async with watched_store(mongo_url, pstore.INDEXES) as (store, commands):
        yield Privacy(store, commands)


async def test_a_look_up_alone_is_one_read_and_one_audit_append(privacy: Privacy) -> None:
    first, second = await privacy.screened(2)
    await privacy.look_up(first.reply_handle)  # the audit log's head is known from here on
    privacy.commands.seen.clear()
    target = await privacy.look_up(second.reply_handle)
    assert target["subject_ref"] == second.subject_ref
    assert target["name"] == "ผู้ทดสอบ"
    assert privacy.commands.seen == [
        ("aggregate", pstore.CONTACTS),
        ("insert", pstore.AUDIT),
        ("update", pstore.AUDIT_HEAD),
    ]


async def test_concurrent_look_ups_share_reads_and_audit_writes_and_each_is_audited(
    privacy: Privacy,
) -> None:
    screened = await privacy.screened(20)
    await privacy.look_up(screened[0].reply_handle)
    privacy.commands.seen.clear()
    targets = await asyncio.gather(
        *(privacy.look_up(s.reply_handle, case_id=f"case-{i}") for i, s in enumerate(screened))
    )
    assert [t["subject_ref"] for t in targets] == [s.subject_ref for s in screened]
    # One look-up goes at once; the other nineteen go together in the next group.
    assert len(privacy.commands.seen) <= 6, privacy.commands.seen
    entries = await pstore.audit_entries(privacy.store)
    assert verify_chain(entries).ok
    audited = [(e.subject_ref, e.case_id) for e in entries[1:]]
    assert sorted(audited) == sorted((s.subject_ref, f"case-{i}") for i, s in enumerate(screened))
    assert {(e.action, e.purpose, e.actor) for e in entries} == {
        ("reveal", "notify_customer", "notify")
    }


async def test_an_unknown_or_erased_customer_in_a_group_is_not_found_alone(
    privacy: Privacy,
) -> None:
    kept, erased = await privacy.screened(2)
    assert erased.subject_ref is not None
    await privacy.vault.destroy(erased.subject_ref, at=privacy.clock.now())
    answers = await asyncio.gather(
        privacy.look_up(kept.reply_handle),
        privacy.look_up(erased.reply_handle),
        privacy.look_up("rh_unknown"),
        privacy.look_up(kept.reply_handle),
        return_exceptions=True,
    )
    first, gone, unknown, again = answers
    assert isinstance(first, dict)
    assert first["subject_ref"] == kept.subject_ref
    assert isinstance(again, dict)
    assert again["subject_ref"] == kept.subject_ref
    assert isinstance(gone, NotFound)
    assert isinstance(unknown, NotFound)
    entries = await pstore.audit_entries(privacy.store)
    # Only what was revealed is audited, once per look-up.
    assert [e.subject_ref for e in entries] == [kept.subject_ref, kept.subject_ref]
    assert verify_chain(entries).ok


async def test_look_ups_asked_within_the_linger_go_together(privacy: Privacy) -> None:
    screened = await privacy.screened(4)
    await privacy.look_up(screened[0].reply_handle)
    lingering = ReplyTargets(privacy.store, vault=privacy.vault, clock=privacy.clock, linger=0.2)

    async def asked_after(delay: float, handle: str | None) -> dict[str, Any]:
        await asyncio.sleep(delay)
        assert handle is not None
        return await lingering.resolve(handle, case_id="case-1", actor="notify", role="notify")

    privacy.commands.seen.clear()
    targets = await asyncio.gather(
        *(asked_after(0.02 * n, s.reply_handle) for n, s in enumerate(screened[1:]))
    )
    assert [t["subject_ref"] for t in targets] == [s.subject_ref for s in screened[1:]]
    assert privacy.commands.seen == [
        ("aggregate", pstore.CONTACTS),
        ("insert", pstore.AUDIT),
        ("update", pstore.AUDIT_HEAD),
    ]
