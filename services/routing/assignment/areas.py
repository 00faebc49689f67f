"""Where a contact is about: the branch it was made at, the place it names. No I/O.

Channel metadata wins (the walk-in branch, a province or district the app or
the IVR supplied); otherwise the text is searched for the districts and
provinces the organisation's units serve. Short names ("ตาก", "แพร่", "ฝาง")
are also ordinary words, so they count only after จ./จังหวัด/อ./อำเภอ.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from services.routing.assignment.rules import Area
from services.routing.org.config import OrgConfig
from shared.messages import ContactScreened

# Names this long or shorter need a prefix to count as a place.
_SHORT = 4
_PREFIX = r"(?:จ\.|จังหวัด|อ\.|อำเภอ)\s*"


class Gazetteer:
    """The places an organisation's units serve, and how to find them in a contact."""

    def __init__(self, org: OrgConfig) -> None:
        self._branches = {code for u in org.units for code in u.areas.branch_codes}
        self._province_of: dict[str, str] = {}
        for unit in org.units:
            if len(unit.areas.provinces) == 1:
                for district in unit.areas.districts:
                    self._province_of[district] = unit.areas.provinces[0]
        self._districts = self._pattern(self._province_of)
        self._provinces = self._pattern({p for u in org.units for p in u.areas.provinces})

    @staticmethod
    def _pattern(names: Iterable[str]) -> re.Pattern[str] | None:
        # Longest first, so "เมืองเชียงใหม่" wins over "เชียงใหม่".
        words = sorted({unicodedata.normalize("NFC", n) for n in names}, key=len, reverse=True)
        if not words:
            return None
        parts = [
            (_PREFIX if len(word) <= _SHORT else f"(?:{_PREFIX})?") + f"({re.escape(word)})"
            for word in words
        ]
        return re.compile("|".join(parts))

    def area_of(self, message: ContactScreened) -> Area:
        """Return what is known of the contact's area."""
        meta = message.meta
        branch = _text(meta.get("branch_code"))
        province = _text(meta.get("province"))
        district = _text(meta.get("district"))
        text = unicodedata.normalize("NFC", f"{message.subject or ''}\n{message.text}")
        if district is None:
            district = _first(self._districts, text)
        if province is None:
            province = self._province_of.get(district or "") or _first(self._provinces, text)
        return Area(
            province=province,
            district=district,
            branch_code=branch if branch in self._branches else None,
        )


def _first(pattern: re.Pattern[str] | None, text: str) -> str | None:
    if pattern is None:
        return None
    match = pattern.search(text)
    if match is None:
        return None
    return next(group for group in match.groups() if group)


def _text(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return unicodedata.normalize("NFC", value.strip())
