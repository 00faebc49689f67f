"""Agents' corrections as labelled examples for the next classifier training.

Written by the classifier's own ``record_correction`` in the seed data's
JSONL shape under ``<data_dir>/labels/<org>.jsonl``. The text is the case's
masked text, so no personal data leaves the case; who corrected what and
when is on the case's timeline. The id is the case and event sequence, so a
line written twice (a retried request) is one example to the trainer.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from services.routing.cases.domain import Case
from services.routing.classification.model import Example, record_correction


class LabelLog:
    """Append corrected cases as labelled examples to the organisation's JSONL file."""

    def __init__(self, data_dir: Path) -> None:
        self.directory = data_dir / "labels"

    def path(self, org: str) -> Path:
        """Return the file ``org``'s examples go to."""
        return self.directory / f"{org}.jsonl"

    async def record(self, case: Case) -> Example:
        """Append the case's current labels as one example and return it."""
        contact = case.contacts[0]
        example = Example(
            id=f"{case.id}-{case.seq}",
            org=case.org,
            channel=contact.channel,
            text="\n".join(part for part in (contact.subject, contact.text) if part),
            category=case.category or "",
            topic=case.topic or "",
            urgency=case.urgency,
            province=case.area.get("province"),
        )
        await asyncio.to_thread(record_correction, self.path(case.org), example)
        return example
