"""Find passports, e-mails and LINE ids.

A passport number follows a passport word; an e-mail is found by its shape;
a LINE id follows a LINE word or a form's key, and an @handle is an
account after a social network's name or opening a reply.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from services.privacy.detect_numbers import CONTEXT_WIDTH
from services.privacy.detect_span import Span

# --- passports ------------------------------------------------------------------

_PASSPORT_CUE = re.compile(r"passport|พาสปอร์ต|พาสสปอร์ต|หนังสือเดินทาง", re.I)
# Thai passports are two letters and seven digits; others one or two letters
# and six to eight digits, or digits alone.
# Some mix letters into the digits (C01X00T47): eight or nine of both.
_PASSPORT = re.compile(
    r"(?<![A-Za-z0-9])(?:[A-Z]{1,2}[0-9]{6,8}|[0-9]{7,9}"
    r"|(?=[A-Z0-9]{8,9}(?![A-Za-z0-9]))(?=[A-Z]*[0-9])[A-Z][A-Z0-9]*[0-9][A-Z0-9]*)(?![A-Za-z0-9])"
)


def passports(text: str) -> Iterator[Span]:
    for cue in _PASSPORT_CUE.finditer(text):
        match = _PASSPORT.search(text, cue.end())
        if match and match.start() - cue.end() <= CONTEXT_WIDTH:
            yield Span(match.start(), match.end(), "passport")


# --- emails and LINE ids -----------------------------------------------------

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@"
    r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
)
_LINE_WORD = r"(?:ไลน์|ไลนื|ไลน(?![\u0e01-\u0e4e])|(?<![A-Za-z])line(?:id)?(?![A-Za-z]))"
_ID_WORD = r"(?:ไอดี|(?<![A-Za-z])id(?![A-Za-z]))"
# Thai digits may end a handle as well as Latin ones (sombat๒๕๐๘).
_HANDLE = r"@?[A-Za-z0-9][A-Za-z0-9๐-๙._-]*"
_LINE_ID = re.compile(
    rf"(?P<cue>(?:{_ID_WORD}[ \t]*)?{_LINE_WORD}(?:[ \t_]*\(?{_ID_WORD}\)?)?"
    # A JSON key ("line_id": "…") or a form's key and value, quoted or not.
    r"(?:[\"']?[ \t]*(?:is|คือ|:|=)[ \t]*[\"'`]?)?)"
    rf"(?P<filler>[ \t:*`\u0e01-\u0e4e]{{0,24}}?)(?P<id>{_HANDLE})",
    re.I,
)
_ID_CUE = re.compile(rf"{_ID_WORD}|:|=|คือ", re.I)
_AT_HANDLE = re.compile(r"(?<![A-Za-z0-9._%+-])@[A-Za-z0-9][A-Za-z0-9._-]*")
# An @handle after LINE or a social network's name is someone's account, and
# so is one opening a reply (a mention) when it is shaped like a handle.
_LINE_CUE = re.compile(
    rf"{_LINE_WORD}|(?<![A-Za-z])(?:ig|instagram|tiktok|twitter|facebook|fb|threads)(?![A-Za-z])"
    r"|ไอจี|อินสตาแกรม|ติ๊กต็อก|ติ๊กต๊อก|ทวิตเตอร์|เฟส(?:บุ๊ก|บุ๊ค)?",
    re.I,
)
_MENTION_START = re.compile(r"(?:\A|\n)[ \t]*\Z")
# A token with letters and a digit, dot or underscore is a handle, not a word.
_HANDLE_SHAPE = re.compile(r"[A-Za-z].*[0-9๐-๙._]|[0-9๐-๙._].*[A-Za-z]")
_NOT_HANDLES = frozenset({"is", "official", "account", "app", "chat", "group", "oa", "pay"})


def emails(text: str) -> Iterator[Span]:
    for match in _EMAIL.finditer(text):
        yield Span(match.start(), match.end(), "email")


def line_ids(text: str) -> Iterator[Span]:
    for match in _LINE_ID.finditer(text):
        # Past a few Thai words, only an explicit "id" or colon still ties the
        # token to LINE ("ผ่าน LINE หรือ SMS" names no account).
        loose = match.group("filler").strip() and not match.group("id").startswith("@")
        cued = _ID_CUE.search(match.group("cue") + match.group("filler"))
        if loose and not cued and not _HANDLE_SHAPE.search(match.group("id")):
            continue
        span = _handle_span(text, match.start("id"), match.end("id"))
        if span:
            yield span
    for match in _AT_HANDLE.finditer(text):
        mention = _MENTION_START.search(text, max(0, match.start() - 4), match.start()) and (
            _HANDLE_SHAPE.search(match.group())
        )
        if mention or _LINE_CUE.search(text, max(0, match.start() - CONTEXT_WIDTH), match.start()):
            span = _handle_span(text, match.start(), match.end())
            if span:
                yield span


def _handle_span(text: str, start: int, end: int) -> Span | None:
    # A sentence may end right after the id, so trailing dots are punctuation.
    handle = text[start:end].rstrip("._-")
    if text[start + len(handle) : start + len(handle) + 1] == "@":
        return None
    bare = handle.lstrip("@")
    if not re.search("[A-Za-z]", bare) or bare.lower() in _NOT_HANDLES or len(bare) < 3:
        return None
    if bare.isalpha() and bare.isupper():
        return None  # an acronym such as SMS or OTP
    return Span(start, start + len(handle), "line_id")
