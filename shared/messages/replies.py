"""Agents' replies to customers: ``reply.requested``."""

from __future__ import annotations

from typing import Literal

from shared.messages.base import Message, register


@register("reply.requested", version=1)
class ReplyRequested(Message):
    """An agent asked to send ``text`` to the case's customer on their channel."""

    type: Literal["reply.requested"] = "reply.requested"
    version: Literal[1] = 1
    request_id: str
    case_id: str
    case_number: str
    text: str
    author: str
    reply_handle: str | None = None
    language: Literal["th", "en"] = "th"
