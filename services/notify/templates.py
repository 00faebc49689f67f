"""Customer notification texts: Jinja2 templates per event kind, channel and language.

Each template fills one slot, named after its file under ``templates/``::

    {lang}/{kind}.subject     email subject, app title, callback task title
    {lang}/{kind}.body        email body, plain text (extends {lang}/_body)
    {lang}/{kind}.short       LINE, SMS, app and callback text
    {lang}/{kind}.{line|sms|app}   only where one channel needs other words
    {lang}/{kind}.html        optional; else _layout.html wraps the email body
    {lang}/_body              greeting and signature every email body extends
    _layout.html              the HTML alternative of every email (autoescaped)

An organisation may override any slot by name (``"th/resolved.short"``).
Overrides are written by admins, not developers, so every template runs in
Jinja's sandbox, and a set of overrides is accepted only if every kind renders
on every channel in every language with sample data.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlencode

from jinja2 import (
    ChoiceLoader,
    DictLoader,
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateError,
    TemplateSyntaxError,
    select_autoescape,
)
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from services.notify.adapters.base import QuickReplyOption
from services.notify.adapters.mail import html_paragraphs
from shared.errors import Invalid

KINDS = ("acknowledged", "routed", "info_requested", "resolved", "reopened", "reply")
CHANNELS = ("line", "email", "sms", "app", "callback")
LANGUAGES = ("th", "en")
DEFAULT_LANGUAGE = "th"

_DIR = Path(__file__).with_name("templates")
_PARTS = ("subject", "body", "short", "line", "sms", "app", "html")
_SLOTS = frozenset(
    ["_layout.html"]
    + [f"{lang}/_body" for lang in LANGUAGES]
    + [f"{lang}/{kind}.{part}" for lang in LANGUAGES for kind in KINDS for part in _PARTS]
)
_CONTENT_BLOCK = re.compile(r"{%-?\s*block\s+content\b")
# Optional context every template may test without tripping StrictUndefined.
_OPTIONAL: dict[str, Any] = {
    "customer_name": None,
    "org_name": None,
    "hotline": None,
    "survey_url": None,
    "reason": None,
}
_SAMPLE: dict[str, Any] = {
    "case_number": "VOC-2026-000123",
    "unit_name": "การไฟฟ้าส่วนภูมิภาคอำเภอตัวอย่าง",
    "question": "กรุณาแจ้งหมายเลขผู้ใช้ไฟฟ้า",
    "summary": "เปลี่ยนหม้อแปลงแล้ว ไฟฟ้าใช้งานได้ตามปกติ",
    "reply_text": "เจ้าหน้าที่จะเข้าตรวจสอบพรุ่งนี้ช่วงเช้า",
    "reason": "ลูกค้าแจ้งว่ายังไม่ได้รับการแก้ไข",
    "survey_url": "https://voc.example/s/abc",
    "customer_name": "คุณตัวอย่าง",
    "org_name": "ศูนย์บริการข้อมูลผู้ใช้ไฟฟ้า",
    "hotline": "1129",
}
_CSAT_LABELS = {
    "th": ("ไม่พอใจมาก", "ไม่พอใจ", "พอใช้", "พอใจ", "พอใจมาก"),
    "en": ("Very poor", "Poor", "Fair", "Good", "Excellent"),
}


class Rendered(NamedTuple):
    """A notification's words for one channel: subject (if any), text, HTML (email)."""

    subject: str | None
    text: str
    html: str | None


def csat_labels(language: str) -> tuple[tuple[int, str], ...]:
    """Return the five ratings with their words in ``language`` (Thai if unknown)."""
    labels = _CSAT_LABELS.get(language, _CSAT_LABELS[DEFAULT_LANGUAGE])
    return tuple(enumerate(labels, start=1))


def csat_options(case_number: str, language: str) -> tuple[QuickReplyOption, ...]:
    """Return the five rating buttons whose postback intake reads as a CSAT score."""
    return tuple(
        QuickReplyOption(
            label=f"{score} {label}",
            data=urlencode({"action": "csat", "case": case_number, "score": score}),
            display_text=f"{score} {label}",
        )
        for score, label in csat_labels(language)
    )


class TemplateSet:
    """The shipped templates, optionally overridden slot by slot."""

    def __init__(self, overrides: Mapping[str, str] | None = None) -> None:
        self._overrides = dict(overrides or {})
        self._env = SandboxedEnvironment(
            loader=ChoiceLoader(
                [
                    DictLoader({f"{slot}.j2": src for slot, src in self._overrides.items()}),
                    FileSystemLoader(_DIR),
                ]
            ),
            autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.filters["paragraphs"] = _paragraphs

    @property
    def overrides(self) -> Mapping[str, str]:
        """Return the overriding sources by slot name."""
        return dict(self._overrides)

    def with_overrides(self, overrides: Mapping[str, str]) -> TemplateSet:
        """Return a set with ``overrides`` laid over this one; refuse any that fails."""
        merged = dict(self._overrides)
        for name, source in overrides.items():
            slot = name.removesuffix(".j2")
            if slot not in _SLOTS:
                raise Invalid(f"no template slot is named {name!r}", field=name)
            try:
                self._env.parse(source)
            except TemplateSyntaxError as exc:
                raise Invalid(
                    f"template {slot} has a syntax error on line {exc.lineno}: {exc.message}",
                    field=name,
                ) from exc
            if slot.endswith("/_body") and not _CONTENT_BLOCK.search(source):
                # Without it every email body would silently lose its message.
                raise Invalid(f"template {slot} must keep {{% block content %}}", field=name)
            merged[slot] = source
        candidate = TemplateSet(merged)
        for language in LANGUAGES:
            for kind in KINDS:
                for channel in CHANNELS:
                    candidate.render(kind, channel, language, **_SAMPLE)
        return candidate

    def render(self, event_kind: str, channel: str, language: str, **context: Any) -> Rendered:
        """Render ``event_kind`` for ``channel``; an unknown language gets Thai."""
        if event_kind not in KINDS:
            raise Invalid(f"no templates for event kind {event_kind!r}", field="event_kind")
        if channel not in CHANNELS:
            raise Invalid(f"no templates for channel {channel!r}", field="channel")
        lang = language if language in LANGUAGES else DEFAULT_LANGUAGE
        values = {**_OPTIONAL, **context, "language": lang, "kind": event_kind}
        languages = list(dict.fromkeys([lang, DEFAULT_LANGUAGE]))

        def slot(*parts: str, fallback: tuple[str, ...] = ()) -> Template:
            names = [f"{code}/{event_kind}.{part}.j2" for code in languages for part in parts]
            return self._env.select_template([*names, *fallback])

        if channel == "email":
            subject = _one_line(self._run(slot("subject"), values))
            body = _tidy(self._run(slot("body"), values))
            page = self._run(
                slot("html", fallback=("_layout.html.j2",)),
                {**values, "subject": subject, "body": body},
            )
            return Rendered(subject, body, page.strip())
        text = _tidy(self._run(slot(channel, "short"), values))
        if channel in ("app", "callback"):  # app title, agent task title
            return Rendered(_one_line(self._run(slot("subject"), values)), text, None)
        return Rendered(None, text, None)

    @staticmethod
    def _run(template: Template, values: Mapping[str, Any]) -> str:
        try:
            return template.render(values)
        except TemplateError as exc:
            name = (template.name or "?").removesuffix(".j2")
            raise Invalid(f"template {name} cannot render: {exc}", field=name) from exc


@functools.cache
def default_templates() -> TemplateSet:
    """Return the shipped templates without overrides (built once, on first use)."""
    return TemplateSet()


def render(event_kind: str, channel: str, language: str, **context: Any) -> Rendered:
    """Render with the shipped templates; see ``TemplateSet.render``."""
    return default_templates().render(event_kind, channel, language, **context)


def _paragraphs(text: object) -> Markup:
    # Safe to mark: html_paragraphs escapes every piece of text before adding tags.
    return Markup(html_paragraphs(str(text)))  # noqa: S704


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines))


def _one_line(text: str) -> str:
    return " ".join(text.split())
