"""Where to answer a customer, by reply handle: concurrent look-ups share their round trips.

Notify asks once per delivery. Each look-up needs the contact with its sealed
reply target, the customer's data key and an audit entry; asked one by one
that is three or four commands each. Here look-ups go in groups: one read of
the contacts with their subjects joined, and one append of the group's audit
entries (one insert and one head move). A group goes once its first look-up
has waited ``linger`` seconds (none by default) or once it is full, never
while the one before it is still on its way, so whatever is asked meanwhile
goes in the next. Every answer is given only after its audit entry is stored.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

from services.privacy.store.audit import append_audits
from services.privacy.store.contacts import by_reply_handles
from services.privacy.vault import KeyDestroyed
from services.privacy.vaulting import SubjectVault
from shared.clock import Clock
from shared.errors import Conflict, NotFound
from shared.store import Store

REASON = "address to tell the customer about their case"


@dataclass
class _Asked:
    handle: str
    case_id: str | None
    actor: str
    role: str
    answer: asyncio.Future[dict[str, Any]]

    def give(self, answer: dict[str, Any]) -> None:
        if not self.answer.done():  # the caller may have given up waiting
            self.answer.set_result(answer)

    def fail(self, exc: Exception) -> None:
        if not self.answer.done():
            self.answer.set_exception(exc)


class ReplyTargets:
    """Resolve reply handles to addresses, auditing each; concurrent look-ups go together."""

    def __init__(
        self,
        store: Store,
        *,
        vault: SubjectVault,
        clock: Clock,
        max_group: int = 100,
        linger: float = 0.0,
    ) -> None:
        self._store = store
        self._vault = vault
        self._clock = clock
        self._max_group = max_group
        self._linger = linger
        self._pending: list[_Asked] = []
        self._oldest = 0.0  # when the oldest pending look-up came (loop time)
        self._full = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None

    async def resolve(
        self, handle: str, *, case_id: str | None, actor: str, role: str
    ) -> dict[str, Any]:
        """Return where to answer the customer; an erased customer is not found."""
        loop = asyncio.get_running_loop()
        asked = _Asked(handle, case_id, actor, role, loop.create_future())
        if not self._pending:
            self._oldest = loop.time()
        self._pending.append(asked)
        if len(self._pending) >= self._max_group:
            self._full.set()
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._run())
        return await asked.answer

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            wait = self._oldest + self._linger - loop.time()
            if wait > 0 and len(self._pending) < self._max_group:
                self._full.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._full.wait(), wait)
            group = self._pending[: self._max_group]
            del self._pending[: self._max_group]
            # What is left waited while this group was gathered: it goes next, at once.
            self._oldest = loop.time() - self._linger
            try:
                await self._resolve(group)
            except BaseException as exc:
                # Never leave a caller waiting on a group that will not finish.
                failure = exc if isinstance(exc, Exception) else Conflict("look-up stopped")
                for asked in group + self._pending:
                    asked.fail(failure)
                self._pending.clear()
                if not isinstance(exc, Exception):
                    raise

    async def _resolve(self, group: list[_Asked]) -> None:
        found = await by_reply_handles(self._store, [asked.handle for asked in group])
        opened: list[tuple[_Asked, dict[str, Any]]] = []
        for asked in group:
            hit = found.get(asked.handle)
            if hit is None:
                asked.fail(NotFound("unknown reply handle"))
                continue
            doc, subject = hit
            try:
                clear = self._vault.open_contact_with(doc, subject)
            except KeyDestroyed:
                asked.fail(NotFound("the customer's data was erased"))
                continue
            except Exception as exc:
                asked.fail(exc)
                continue
            answer = {
                "subject_ref": doc["subject_ref"],
                **clear["reply"],
                "name": (clear["identity"] or {}).get("name"),
            }
            opened.append((asked, answer))
        if not opened:
            return
        now = self._clock.now()
        try:
            await append_audits(
                self._store,
                [
                    (
                        now,
                        {
                            "actor": asked.actor,
                            "role": asked.role,
                            "action": "reveal",
                            "subject_ref": answer["subject_ref"],
                            "case_id": asked.case_id,
                            "purpose": "notify_customer",
                            "reason": REASON,
                        },
                    )
                    for asked, answer in opened
                ],
            )
        except Exception as exc:
            # Not audited, not answered: the caller tries again.
            for asked, _ in opened:
                asked.fail(exc)
            return
        for asked, answer in opened:
            asked.give(answer)
