"""The IMAP poller against a small local IMAP server, with the real store and accept path."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest

from services.intake.channels.mail.accept import MAX_MAIL_BYTES
from services.intake.channels.mail.imap import ImapPoller
from services.intake.settings import IntakeSettings
from shared.bus.base import Bus
from shared.bus.inproc import InProcessBus
from shared.store import Store
from tests.support.intake import FlakyBus
from tests.support.mail import published, runtime_on, sample

pytestmark = pytest.mark.integration

USER, PASSWORD = "contact1129", 'pa ss"word'


@dataclass
class Stored:
    """One message in the fake mailbox."""

    raw: bytes
    flags: set[str] = field(default_factory=set)


@dataclass
class FakeImap:
    """Just enough IMAP4rev1 (and MOVE) for the poller: one user, one mailbox, UIDs."""

    inbox: dict[int, Stored]
    moved: dict[str, list[bytes]] = field(default_factory=dict)
    commands: list[str] = field(default_factory=list)
    port: int = 0

    async def start(self) -> asyncio.Server:
        """Listen on a free local port."""
        server = await asyncio.start_server(self._session, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        return server

    def _seq(self, uid: int) -> int:
        return sorted(self.inbox).index(uid) + 1

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"* OK fake IMAP4rev1 ready\r\n")
        while line := await reader.readline():
            tag, _, rest = line.decode().rstrip("\r\n").partition(" ")
            self.commands.append(rest)
            name, _, args = rest.partition(" ")
            if name.upper() == "UID":
                name, _, args = args.partition(" ")
            writer.write(self._answer(tag, name.upper(), args))
            await writer.drain()
            if name.upper() == "LOGOUT":
                break
        writer.close()

    def _answer(self, tag: str, name: str, args: str) -> bytes:
        ok = f"{tag} OK {name} completed\r\n".encode()
        if name == "CAPABILITY":
            return b"* CAPABILITY IMAP4rev1 MOVE\r\n" + ok
        if name == "LOGIN":
            user, _, password = args.partition(" ")
            given = password[1:-1].replace('\\"', '"').replace("\\\\", "\\")
            return ok if (user, given) == (USER, PASSWORD) else f"{tag} NO denied\r\n".encode()
        if name == "SELECT":
            return f"* {len(self.inbox)} EXISTS\r\n{tag} OK [READ-WRITE] SELECT\r\n".encode()
        if name == "SEARCH":
            unseen = [str(uid) for uid, m in sorted(self.inbox.items()) if r"\Seen" not in m.flags]
            return f"* SEARCH {' '.join(unseen)}".rstrip().encode() + b"\r\n" + ok
        if name == "FETCH":
            return self._fetch(args) + ok
        if name == "STORE":
            uid, _, flags = args.partition(" +FLAGS ")
            self.inbox[int(uid)].flags.update(flags.strip("()").split())
            return ok
        if name == "MOVE":
            uid, _, target = args.partition(" ")
            self.moved.setdefault(target.strip('"'), []).append(self.inbox.pop(int(uid)).raw)
            return ok
        if name == "LOGOUT":
            return b"* BYE\r\n" + ok
        return f"{tag} BAD unknown command\r\n".encode()

    def _fetch(self, args: str) -> bytes:
        uids, _, items = args.partition(" ")
        out = b""
        for uid in (int(u) for u in uids.split(",")):
            message = self.inbox[uid]
            head = f"* {self._seq(uid)} FETCH (UID {uid}"
            if "RFC822.SIZE" in items:
                out += f"{head} RFC822.SIZE {len(message.raw)})\r\n".encode()
                continue
            if "PEEK" not in items:  # RFC822 and BODY[] mark the message read, as servers do
                message.flags.add(r"\Seen")
            out += f"{head} BODY[] {{{len(message.raw)}}}\r\n".encode() + message.raw + b")\r\n"
        return out


@dataclass
class Polling:
    """A fake mailbox and a poller pointed at it."""

    imap: FakeImap
    poller: ImapPoller
    bus: Bus
    store: Store


@asynccontextmanager
async def polling(
    store: Store, bus: Bus, messages: list[bytes], *, move_to: str | None = None
) -> AsyncIterator[Polling]:
    """Serve ``messages`` over IMAP and build a poller for them."""
    imap = FakeImap({uid: Stored(raw) for uid, raw in enumerate(messages, start=10)})
    server = await imap.start()
    settings = IntakeSettings(
        imap_host="127.0.0.1",
        imap_port=imap.port,
        imap_ssl=False,
        imap_user=USER,
        imap_password=PASSWORD,
        imap_move_to=move_to,
        imap_timeout_s=10,
    )
    async with server:
        yield Polling(imap, ImapPoller(runtime_on(store, bus), settings=settings), bus, store)


@pytest.fixture
async def mailbox(store: Store) -> AsyncIterator[Polling]:
    messages = [sample(name) for name in ("utf8_plain.eml", "auto_reply.eml", "tis620.eml")]
    async with polling(store, InProcessBus(), messages) as setup:
        yield setup


async def test_unseen_mail_becomes_contacts_and_is_marked_seen_after(mailbox: Polling) -> None:
    outcomes = await mailbox.poller.poll_once()
    assert [o.code for o in outcomes] == [250, 250, 250]
    contacts = published(mailbox.bus)
    assert [c.subject for c in contacts] == [
        "ร้องเรียนไฟตกและไฟกระพริบบ่อย ซอยศรีจันทร์ 5 ต.ในเมือง อ.เมือง จ.ขอนแก่น",
        "ตอบกลับอัตโนมัติ: [VOC-2026-000125] ได้รับเรื่องร้องเรียนของท่านแล้ว",
        "ขอให้ตรวจสอบค่าไฟเดือนตุลาคม จดหน่วยผิด",
    ]
    assert [c.flags for c in contacts] == [(), ("auto_reply",), ()]
    assert all(c.meta["source"] == "imap" for c in contacts)
    assert all(r"\Seen" in m.flags for m in mailbox.imap.inbox.values())
    fetches = [c for c in mailbox.imap.commands if "FETCH" in c and "RFC822.SIZE" not in c]
    assert fetches
    assert all("BODY.PEEK[]" in c for c in fetches)  # never marked read before acceptance


async def test_second_poll_takes_nothing_again(mailbox: Polling) -> None:
    await mailbox.poller.poll_once()
    assert await mailbox.poller.poll_once() == []
    assert len(published(mailbox.bus)) == 3


async def test_broker_down_leaves_mail_unseen_until_it_is_back(store: Store) -> None:
    messages = [sample("utf8_plain.eml"), sample("tis620.eml")]
    async with polling(store, FlakyBus(failures=1), messages) as setup:
        first = await setup.poller.poll_once()
        assert [o.code for o in first] == [451]  # the round stops at the first failure
        assert not any(m.flags for m in setup.imap.inbox.values())
        assert await store["raw"].count_documents({}) == 0
        second = await setup.poller.poll_once()
        assert [o.code for o in second] == [250, 250]
        assert len(published(setup.bus)) == 2


async def test_accepted_mail_is_moved_when_a_folder_is_configured(store: Store) -> None:
    async with polling(store, InProcessBus(), [sample("utf8_plain.eml")], move_to="Done") as setup:
        await setup.poller.poll_once()
        assert setup.imap.inbox == {}
        assert setup.imap.moved == {"Done": [sample("utf8_plain.eml")]}


async def test_refused_mail_is_flagged_not_downloaded_and_not_retried(store: Store) -> None:
    oversize = b"From: a@example.com\r\nSubject: big\r\n\r\n" + b"x" * MAX_MAIL_BYTES
    messages = [oversize, b"Subject: no sender\r\n\r\nhello\r\n"]
    async with polling(store, InProcessBus(), messages) as setup:
        outcomes = await setup.poller.poll_once()
        assert [o.code for o in outcomes] == [552, 554]
        assert all(m.flags == {r"\Seen", r"\Flagged"} for m in setup.imap.inbox.values())
        assert not any(re.search(r"FETCH 10 \(BODY", c) for c in setup.imap.commands)
        assert published(setup.bus) == []
        assert await setup.poller.poll_once() == []


async def test_same_message_id_in_the_mailbox_again_is_no_second_contact(mailbox: Polling) -> None:
    await mailbox.poller.poll_once()
    mailbox.imap.inbox[99] = Stored(sample("utf8_plain.eml"))
    (again,) = await mailbox.poller.poll_once()
    assert again.text.startswith("2.0.0 Already accepted as")
    assert len(published(mailbox.bus)) == 3


async def test_poller_is_off_unless_a_mailbox_is_configured(store: Store) -> None:
    poller = ImapPoller(runtime_on(store, InProcessBus()), settings=IntakeSettings())
    await asyncio.wait_for(poller.run(), 1)  # returns at once instead of polling forever
