"""Split a reply into what the sender just wrote and the history it quotes.

History is every line starting with ``>`` and everything from a reply header
on: Gmail's ``On … wrote:`` / ``เมื่อ … เขียนว่า:``, Outlook's
``-----Original Message-----`` or ``From: … Sent: …`` block. When a reply
header is followed straight away by ``>`` lines (the sender wrote below or
between the quotes), only the header and the ``>`` lines are history. When
nothing new would be left, nothing is history.
"""

from __future__ import annotations

import re

_SEPARATOR = re.compile(r"^\s*-{2,}\s*(?:original message|ข้อความต้นฉบับ)\s*-{2,}\s*$", re.IGNORECASE)
_WROTE_START = re.compile(r"^\s*(?:on\s|เมื่อ)", re.IGNORECASE)
_WROTE_END = re.compile(r"(?:wrote|เขียน(?:ไว้)?ว่า)\s*:\s*$", re.IGNORECASE)
_OUTLOOK_FROM = re.compile(r"^\s*\**(?:from|จาก)\s*:", re.IGNORECASE)
# Outlook says "Sent:"; "Date:" or "วันที่:" under "From:" may just be a letter's heading.
_OUTLOOK_SENT = re.compile(r"^\s*\**(?:sent|ส่ง|ส่งเมื่อ)\s*:", re.IGNORECASE)
_RULE = re.compile(r"^\s*_{10,}\s*$")


def _is_quote(line: str) -> bool:
    return line.lstrip().startswith(">")


def _header_at(lines: list[str], i: int) -> int:
    """Return how many lines the reply header starting at ``lines[i]`` spans, or 0."""
    line = lines[i]
    following = lines[i + 1] if i + 1 < len(lines) else ""
    if _SEPARATOR.match(line):
        return 1
    if _WROTE_START.match(line):
        if _WROTE_END.search(line):
            return 1
        # Clients wrap a long "On … wrote:" line once, often inside the address.
        if following and not _is_quote(following) and _WROTE_END.search(following):
            return 2
    if _RULE.match(line) and _OUTLOOK_FROM.match(following):
        return 1
    if _OUTLOOK_FROM.match(line) and any(_OUTLOOK_SENT.match(x) for x in lines[i + 1 : i + 3]):
        return 1
    return 0


def _tidy(lines: list[str]) -> str:
    text = "\n".join(line.rstrip() for line in lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def split_reply(text: str) -> tuple[str, str]:
    """Return ``(new, quoted)``: the text the sender wrote and the history below it."""
    lines = text.split("\n")
    new: list[str] = []
    quoted: list[str] = []
    i = 0
    while i < len(lines):
        span = _header_at(lines, i)
        if not span:
            (quoted if _is_quote(lines[i]) else new).append(lines[i])
            i += 1
            continue
        quoted.extend(lines[i : i + span])
        i += span
        first = next((line for line in lines[i:] if line.strip()), "")
        if not _is_quote(first):
            # Outlook-style history is not marked line by line: all of it is history.
            quoted.extend(lines[i:])
            break
    if not _tidy(new):
        # A forward, or a reply that only quotes: losing a forwarded complaint
        # is worse than repeating history, so all of it counts as new.
        return _tidy(lines), ""
    return _tidy(new), _tidy(quoted)
