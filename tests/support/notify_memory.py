"""In-memory stand-ins for notify's repositories, for unit tests of its use cases.

Each keeps its documents in dicts and answers as the MongoDB repository does
(``services/notify/store/``): one delivery per event id, a claim leases a
due delivery to one claimer until the lease runs out, a settle by a claimer
whose lease was taken over is ignored, a reply token or a survey link is
claimed once. Documents go in and come out as copies, with datetimes cut to
milliseconds in UTC as BSON stores them, so a use case cannot lean on an
object it wrote. ``tests/integration/test_notify_repositories.py`` runs the
same scenarios against these and against MongoDB.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from services.notify.domain import Intent
from services.notify.store import Change, change_docs, intent_doc, rate_window
from shared.ids import new_id
from shared.store import Document
from tests.support.stored_copies import copies, stored


class MemoryDeliveries:
    """``DeliveryRepository`` in dicts: deliveries, rate windows, reply tokens, reachability."""

    def __init__(self) -> None:
        self.deliveries: dict[str, Document] = {}
        self.rates: dict[str, Document] = {}
        self.reply_tokens: dict[str, datetime] = {}
        self.reachability: dict[str, Document] = {}

    async def record_intent(
        self, intent: Intent, *, at: datetime, owner: str, lease: timedelta
    ) -> Document | None:
        """Record a notification due now, leased to ``owner``; None if it was recorded before."""
        doc = intent_doc(intent, at=at, owner=owner, lease=lease)
        if doc["_id"] in self.deliveries:
            return None
        self.deliveries[doc["_id"]] = stored(doc)
        return doc

    def _due(self, doc: Document, now: datetime) -> bool:
        return bool(
            doc["status"] == "queued"
            and doc["next_attempt_at"] <= now
            and doc["lease_until"] <= now
        )

    async def claim_due(self, *, now: datetime, lease: timedelta, limit: int) -> list[Document]:
        """Lease up to ``limit`` due deliveries (retries, expired leases) and return them."""
        now = stored(now)
        due = sorted(
            (doc for doc in self.deliveries.values() if self._due(doc, now)),
            key=lambda doc: doc["next_attempt_at"],
        )
        ids = [doc["_id"] for doc in due[:limit]]
        if not ids:
            return []
        # As in MongoDB, the find and the lease are two steps: another claimer
        # may lease one in between, and the lease checks "due" again.
        await asyncio.sleep(0)
        owner = new_id()
        leased = []
        for doc_id in ids:
            doc = self.deliveries[doc_id]
            if self._due(doc, now):
                until = stored(now + lease)
                doc |= {"lease_until": until, "next_attempt_at": until, "lease_owner": owner}
                leased.append(stored(doc))
        return leased

    async def settle(
        self,
        doc: Document,
        *,
        fields: dict[str, Any],
        attempt: dict[str, Any] | None = None,
        announce: dict[str, Any] | None = None,
    ) -> None:
        """Write a delivery's outcome, unless another replica has leased it since."""
        current = self.deliveries.get(doc["_id"])
        if current is None or current.get("lease_owner") != doc["lease_owner"]:
            return
        current |= stored(fields) | {"lease_owner": None}
        if announce is not None:
            current |= {"announce": stored(announce), "announce_pending": True}
        if attempt is not None:
            current.setdefault("attempts", []).append(stored(attempt))

    async def release(self, docs: list[Document], *, now: datetime) -> None:
        """Give leased deliveries back at once (on shutdown) so another replica takes them."""
        for doc in docs:
            current = self.deliveries.get(doc["_id"])
            if current is not None and current.get("lease_owner") == doc["lease_owner"]:
                at = stored(now)
                current |= {"lease_until": at, "next_attempt_at": at, "lease_owner": None}

    async def announced(self, delivery_id: str) -> None:
        """Mark a delivery's message to agents as published."""
        if delivery_id in self.deliveries:
            self.deliveries[delivery_id].pop("announce_pending", None)

    async def unannounced(self, *, settled_before: datetime, limit: int = 100) -> list[Document]:
        """Return deliveries settled before a time whose message to agents is not yet published."""
        before = stored(settled_before)
        found = [
            {"_id": doc["_id"], **({"announce": doc["announce"]} if "announce" in doc else {})}
            for doc in self.deliveries.values()
            if doc.get("announce_pending") is True
            and doc.get("lease_owner") is None
            and doc.get("updated_at") is not None
            and doc["updated_at"] < before
        ]
        return copies(found[:limit])

    async def for_case(self, case_id: str) -> list[Document]:
        """Return a case's delivery log, oldest first."""
        docs = [doc for doc in self.deliveries.values() if doc["case_id"] == case_id]
        return copies(sorted(docs, key=lambda doc: doc["created_at"]))

    async def take_rate_slot(
        self, subject_ref: str, *, now: datetime, limit: int, window: timedelta
    ) -> datetime | None:
        """Count one message to ``subject_ref``; if the window is full, return when it ends."""
        index, ends = rate_window(now, window)
        slot = self.rates.setdefault(
            f"{subject_ref}:{index}", {"count": 0, "expires_at": stored(ends)}
        )
        if slot["count"] >= limit:
            return ends
        slot["count"] += 1
        return None

    async def claim_reply_token(self, reply_handle: str, *, at: datetime) -> bool:
        """Return True for the first caller only: a LINE reply token works once."""
        if reply_handle in self.reply_tokens:
            return False
        self.reply_tokens[reply_handle] = stored(at)
        return True

    async def set_reachable(
        self, subject_ref: str, *, channel: str, reachable: bool, reason: str, at: datetime
    ) -> None:
        """Record whether ``subject_ref`` may be sent anything on ``channel`` (``*``: any)."""
        doc = self.reachability.setdefault(subject_ref, {"_id": subject_ref})
        if reachable:
            blocked = doc.get("blocked")
            if isinstance(blocked, dict):
                blocked.pop(channel, None)
        else:
            doc.setdefault("blocked", {})[channel] = stored({"reason": reason, "at": at})
        doc["updated_at"] = stored(at)

    async def reachability_changes(self, *, since: datetime | None) -> list[Document]:
        """Return reachability records changed at or after ``since`` (all of them if None)."""
        found = [
            doc
            for doc in self.reachability.values()
            if since is None or doc["updated_at"] >= stored(since)
        ]
        return copies(found)


class MemoryTemplates:
    """``TemplateRepository`` in dicts: the overrides by slot and the change log."""

    def __init__(self) -> None:
        self.overrides_by_slot: dict[str, Document] = {}
        self.change_log: list[Document] = []

    async def overrides(self) -> dict[str, str]:
        """Return the organisation's template overrides by slot name."""
        return {slot: doc["source"] for slot, doc in self.overrides_by_slot.items()}

    async def override_docs(self) -> dict[str, Document]:
        """Return each template override with who saved it and when, by slot name."""
        return dict(
            zip(self.overrides_by_slot, copies(list(self.overrides_by_slot.values())), strict=True)
        )

    async def replace_overrides(self, overrides: dict[str, str], *, at: datetime, by: str) -> None:
        """Make ``overrides`` the whole set of template overrides."""
        for slot in [slot for slot in self.overrides_by_slot if slot not in overrides]:
            del self.overrides_by_slot[slot]
        for slot, source in overrides.items():
            await self.set_override(slot, source, at=at, by=by)

    async def set_override(self, slot: str, source: str, *, at: datetime, by: str) -> None:
        """Save the override of one slot, leaving the others as they are."""
        doc = self.overrides_by_slot.setdefault(slot, {"_id": slot})
        doc |= stored({"source": source, "updated_at": at, "updated_by": by})

    async def remove_override(self, slot: str) -> None:
        """Drop the override of one slot: the shipped text serves again."""
        self.overrides_by_slot.pop(slot, None)

    async def record_changes(self, changes: Mapping[str, Change], *, at: datetime, by: str) -> None:
        """Record who changed which slots when, from what text to what."""
        self.change_log += copies(change_docs(changes, at=at, by=by))

    async def changes(self, *, limit: int, slot: str | None = None) -> list[Document]:
        """Return the newest template changes first (of one slot if ``slot`` is given)."""
        docs = [doc for doc in self.change_log if not slot or doc["slot"] == slot]
        newest = sorted(docs, key=lambda doc: (doc["at"], doc["_id"]), reverse=True)
        return copies(newest[:limit])


class MemorySurveys:
    """``SurveyRepository`` in a dict: one answer per survey link."""

    def __init__(self) -> None:
        self.answers: dict[str, Document] = {}

    async def claim_answer(self, key: str, *, case_id: str, at: datetime) -> bool:
        """Return True if this is the first answer through survey link ``key``."""
        if key in self.answers:
            return False
        self.answers[key] = stored(
            {"_id": key, "case_id": case_id, "status": "recording", "at": at}
        )
        return True

    async def confirm_answer(self, key: str, *, score: int, at: datetime) -> None:
        """Mark the answer through ``key`` as recorded by routing."""
        if key in self.answers:
            self.answers[key] |= stored({"status": "recorded", "score": score, "recorded_at": at})

    async def release_answer(self, key: str) -> None:
        """Forget an answer routing did not take, so the customer can send it again."""
        if self.answers.get(key, {}).get("status") == "recording":
            del self.answers[key]
