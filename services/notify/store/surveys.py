"""Survey answers: one per survey link, held while routing records the rating.

``SurveyRepository`` is what the survey page needs; ``MongoSurveys`` keeps it
in MongoDB (the fake for unit tests is ``tests/support/notify_memory.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from pymongo.errors import DuplicateKeyError

from services.notify.store.collections import SURVEY_ANSWERS
from shared.store import Store


class SurveyRepository(Protocol):
    """Where the answers through survey links are claimed, confirmed or given back."""

    async def claim_answer(self, key: str, *, case_id: str, at: datetime) -> bool:
        """Return True if this is the first answer through survey link ``key``."""
        ...

    async def confirm_answer(self, key: str, *, score: int, at: datetime) -> None:
        """Mark the answer through ``key`` as recorded by routing."""
        ...

    async def release_answer(self, key: str) -> None:
        """Forget an answer routing did not take, so the customer can send it again."""
        ...


class MongoSurveys:
    """``SurveyRepository`` in MongoDB."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def claim_answer(self, key: str, *, case_id: str, at: datetime) -> bool:
        """Return True if this is the first answer through survey link ``key``."""
        try:
            await self._store[SURVEY_ANSWERS].insert_one(
                {"_id": key, "case_id": case_id, "status": "recording", "at": at}
            )
        except DuplicateKeyError:
            return False
        return True

    async def confirm_answer(self, key: str, *, score: int, at: datetime) -> None:
        """Mark the answer through ``key`` as recorded by routing."""
        await self._store[SURVEY_ANSWERS].update_one(
            {"_id": key}, {"$set": {"status": "recorded", "score": score, "recorded_at": at}}
        )

    async def release_answer(self, key: str) -> None:
        """Forget an answer routing did not take, so the customer can send it again."""
        await self._store[SURVEY_ANSWERS].delete_one({"_id": key, "status": "recording"})
