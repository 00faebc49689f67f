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
    # Additive and optional, so version 1 stays: a message from before it is
    # read as before (no reference, ``text`` sent as is). With it, ``text`` is
    # privacy's masked copy and notify fetches the clear one at send time.
    # Messages refuse unknown fields, so a notify from before it would park
    # the new messages: notify is upgraded before (or with) routing.
    text_ref: str | None = None
    author: str
    reply_handle: str | None = None
    language: Literal["th", "en"] = "th"
