"""What an editor of the notification texts sees of each slot.

Its language, kind and part, its shipped text (or, if it ships empty, the
slot whose words it falls back to), and a preview: the words the slot gives,
rendered with the sample case on each channel that uses them.
"""

from __future__ import annotations

from typing import Any

from services.notify.templates import (
    DEFAULT_LANGUAGE,
    KINDS,
    LANGUAGES,
    TemplateSet,
    sample_case,
    shipped_source,
)

# The channels whose words each part of a kind gives.
PART_CHANNELS: dict[str, tuple[str, ...]] = {
    "subject": ("email", "app", "callback"),
    "body": ("email",),
    "html": ("email",),
    "short": ("line", "sms", "app", "callback"),
    "line": ("line",),
    "sms": ("sms",),
    "app": ("app",),
}


def describe(slot: str) -> dict[str, Any]:
    """Return what ``slot`` is: language, kind, part, shipped text and, if none, what serves."""
    language, _, rest = slot.rpartition("/")
    kind, _, part = rest.partition(".")
    default = shipped_source(slot)
    fallback = None
    if default is None and part == "html":
        fallback = "_layout.html"
    elif default is None and part in ("line", "sms", "app"):
        fallback = f"{language}/{kind}.short"
    elif default is None and language != DEFAULT_LANGUAGE:
        fallback = f"{DEFAULT_LANGUAGE}/{kind}.{part}"
    shared = kind not in KINDS  # _body, _layout.html: every kind's email
    return {
        "name": slot,
        "language": language or None,
        "kind": None if shared else kind,
        "part": None if shared else part,
        "default": default,
        "fallback": fallback,
    }


def preview(templates: TemplateSet, slot: str) -> list[dict[str, Any]]:
    """Render, with the sample case, what ``slot`` gives words to in ``templates``.

    A kind's part is shown on each channel that uses it (a ``.short`` not where
    a channel has its own slot); a shared slot (``_body``, ``_layout.html``) on
    the first kind's email.
    """
    info = describe(slot)
    languages = [info["language"]] if info["language"] else list(LANGUAGES)
    kind = info["kind"]
    channels = PART_CHANNELS[info["part"]] if kind else ("email",)
    sample = sample_case()
    shown = []
    for language in languages:
        for channel in channels:
            if info["part"] == "short" and templates.has(f"{language}/{kind}.{channel}"):
                continue  # that channel has words of its own
            rendered = templates.render(kind or KINDS[0], channel, language, **sample)
            shown.append(
                {"kind": kind or KINDS[0], "language": language, "channel": channel}
                | rendered._asdict()
            )
    return shown
