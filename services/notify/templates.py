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
Jinja's sandbox (with ``*``, ``**`` and ``range`` bounded and no ``lipsum``,
so a template cannot build a huge text), an override holds at most
``MAX_SOURCE_CHARS`` characters, and a set of overrides is accepted only if
every kind renders on every channel in every language with sample data. A
refusal names the slot and, for a template that does not parse or render,
the line of that template.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple
from urllib.parse import urlencode

from jinja2 import (
    ChoiceLoader,
    FileSystemLoader,
    FunctionLoader,
    StrictUndefined,
    Template,
    TemplateError,
    TemplateSyntaxError,
    select_autoescape,
)
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from services.notify.adapters.base import QuickReplyOption
from services.notify.adapters.mail import html_paragraphs
from shared.errors import Invalid

KINDS = ("acknowledged", "routed", "info_requested", "resolved", "reopened", "reply")
CHANNELS = ("line", "email", "sms", "app", "callback")
LANGUAGES = ("th", "en")
DEFAULT_LANGUAGE = "th"

MAX_SOURCE_CHARS = 10_000
# The longest string (or list) ``*`` may make, the largest exponent ``**`` may take
# and the longest ``range`` a template may loop over.
_MAX_PRODUCT = 10_000
_MAX_EXPONENT = 100
_MAX_RANGE = 1_000

_DIR = Path(__file__).with_name("templates")
PARTS = ("subject", "body", "short", "line", "sms", "app", "html")
# Every slot by language, then kind, then part: the order an editor lists them in.
SLOTS: tuple[str, ...] = (
    "_layout.html",
    *(
        slot
        for lang in LANGUAGES
        for slot in (
            f"{lang}/_body",
            *(f"{lang}/{kind}.{part}" for kind in KINDS for part in PARTS),
        )
    ),
)
_SLOTS = frozenset(SLOTS)
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


class _Sandbox(SandboxedEnvironment):
    """Jinja's sandbox, with ``*`` and ``**`` kept from building huge values."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        """Refuse a product longer than ``_MAX_PRODUCT`` or a power above ``_MAX_EXPONENT``."""
        if operator == "**" and isinstance(right, int) and abs(right) > _MAX_EXPONENT:
            raise SecurityError(f"an exponent above {_MAX_EXPONENT} is refused")
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if (
                    isinstance(seq, str | list | tuple)
                    and isinstance(times, int)
                    and len(seq) * times > _MAX_PRODUCT
                ):
                    raise SecurityError(f"a value longer than {_MAX_PRODUCT} is refused")
        return super().call_binop(context, operator, left, right)


class TemplateSet:
    """The shipped templates, optionally overridden slot by slot."""

    def __init__(self, overrides: Mapping[str, str] | None = None) -> None:
        self._overrides = dict(overrides or {})
        self._env = _Sandbox(
            loader=ChoiceLoader(
                [
                    # An override's file name is its slot: a render error names it.
                    FunctionLoader(self._override_source),
                    FileSystemLoader(_DIR),
                ]
            ),
            autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.filters["paragraphs"] = _paragraphs
        self._env.globals["range"] = _short_range
        del self._env.globals["lipsum"]  # filler text for mock-ups, 10**5 paragraphs on request

    def _override_source(self, name: str) -> tuple[str, str, Callable[[], bool]] | None:
        slot = name.removesuffix(".j2")
        if slot not in self._overrides:
            return None
        return self._overrides[slot], slot, lambda: True

    @property
    def overrides(self) -> Mapping[str, str]:
        """Return the overriding sources by slot name."""
        return dict(self._overrides)

    def has(self, slot: str) -> bool:
        """Say whether ``slot`` has a text in this set (overridden or shipped)."""
        return slot in self._overrides or shipped_source(slot) is not None

    def with_overrides(self, overrides: Mapping[str, str]) -> TemplateSet:
        """Return a set with ``overrides`` laid over this one; refuse any that fails."""
        merged = dict(self._overrides)
        for name, source in overrides.items():
            slot = name.removesuffix(".j2")
            if slot not in _SLOTS:
                raise Invalid(f"no template slot is named {name!r}", field=name)
            if len(source) > MAX_SOURCE_CHARS:
                raise Invalid(
                    f"template {slot} holds {len(source)} characters; at most {MAX_SOURCE_CHARS}",
                    field=slot,
                )
            if not source.strip():
                raise Invalid(f"template {slot} is empty; reset it to use the default", field=slot)
            try:
                # Compiled, not only parsed: a block defined twice is found here too.
                self._env.compile(source, name=f"{slot}.j2", filename=slot)
            except TemplateSyntaxError as exc:
                raise Invalid(
                    f"template {slot} has a syntax error on line {exc.lineno}: {exc.message}",
                    field=slot,
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
        except (
            TemplateError,
            ArithmeticError,
            LookupError,
            TypeError,
            ValueError,
            RuntimeError,  # RecursionError: a template that extends or includes itself
        ) as exc:
            # An admin's template may fail as Python does ({{ 1 // 0 }}), not only as Jinja.
            name, line = _failed_at(exc.__traceback__)
            name = name or (template.name or "?").removesuffix(".j2")
            where = f" on line {line}" if line else ""
            raise Invalid(f"template {name} cannot render{where}: {exc}", field=name) from exc


def _short_range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > _MAX_RANGE:
        raise SecurityError(f"a range longer than {_MAX_RANGE} is refused")
    return numbers


def _failed_at(tb: TracebackType | None) -> tuple[str | None, int | None]:
    # Jinja rewrites the traceback: each template frame is named after the
    # template's file (an override's is its slot) at the template's line. The
    # innermost one is where it failed, in whichever template it was.
    found: tuple[str | None, int | None] = (None, None)
    while tb is not None:
        if "__jinja_exception__" in tb.tb_frame.f_globals:
            found = (_slot_of(tb.tb_frame.f_code.co_filename), tb.tb_lineno)
        tb = tb.tb_next
    return found


def _slot_of(filename: str) -> str:
    path = Path(filename)
    if path.is_absolute() and path.is_relative_to(_DIR):
        return path.relative_to(_DIR).as_posix().removesuffix(".j2")
    return filename


def shipped_source(slot: str) -> str | None:
    """Return the shipped text of ``slot``, or None if the slot ships empty."""
    return _shipped().get(slot)


@functools.cache
def _shipped() -> dict[str, str]:
    files = {slot: _DIR / f"{slot}.j2" for slot in SLOTS}
    return {slot: f.read_text(encoding="utf-8") for slot, f in files.items() if f.is_file()}


def sample_case() -> dict[str, Any]:
    """Return the sample case every check and preview renders with."""
    return dict(_SAMPLE)


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
