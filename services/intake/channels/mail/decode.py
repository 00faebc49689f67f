"""Decode what Thai mail arrives in: charsets, RFC 2047 headers, message-id lists.

Thai mailers label the same bytes ``windows-874``, ``tis-620`` or
``iso-8859-11``. Only cp874 maps 0x80-0x9F (curly quotes, ellipsis, dashes);
Python's own ``tis_620`` and ``iso8859_11`` codecs turn those bytes into C1
control characters without complaint. So every Thai label is decoded as cp874
here, and everything returned is NFC (never NFKC, which splits ``ำ``).
"""

from __future__ import annotations

import codecs
import copy
import functools
import re
import unicodedata
from email.contentmanager import ContentManager, raw_data_manager
from email.errors import HeaderParseError
from email.header import Header, decode_header
from email.message import EmailMessage, MIMEPart
from email.policy import EmailPolicy, default

THAI_CHARSETS = frozenset(
    {
        "windows-874",
        "x-windows-874",
        "cp874",
        "ms874",
        "tis-620",
        "tis620",
        "tis-620-0",
        "iso-8859-11",
        "iso8859-11",
        "iso-ir-166",
        "thai",
    }
)

# Labels that promise nothing about 8-bit bytes; such bytes are guessed instead.
_UNLABELLED = frozenset({"", "ascii", "us-ascii", "unknown-8bit", "x-unknown"})
_MSG_ID = re.compile(r"<[^<>\s]+>")
_SURROGATE = re.compile(r"[\udc80-\udcff]")
_THAI = re.compile("[\u0e00-\u0e7f]")
# Scripts (IPA, Cyrillic, …, CJK, private use) cp874 bytes become when misread as UTF-8.
_MISREAD_SCRIPTS = re.compile("[\u0250-\u0dff\u0e80-\u1fff\u3000-\ud7ff\ue000-\uf8ff]")


def _label(charset: str) -> str:
    return charset.strip().strip("\"'").lower().replace("_", "-")


def nfc(text: str) -> str:
    """Return ``text`` in Unicode NFC, the one normal form vocdesk stores."""
    return unicodedata.normalize("NFC", text)


def _search_thai(name: str) -> codecs.CodecInfo | None:
    return codecs.lookup("cp874") if _label(name) in THAI_CHARSETS else None


@functools.cache
def register_thai_codecs() -> None:
    """Make every Thai charset label resolve to cp874 for ``codecs``; safe to call twice.

    Python resolves names it already knows (``tis-620``, ``iso-8859-11``) to its
    own codecs before asking any registered search function, so for those the
    override lives in ``decode_bytes`` and ``MAIL_POLICY``; this registration
    adds the labels Python lacks, such as ``windows-874``.
    """
    codecs.register(_search_thai)


def _guess(data: bytes) -> str:
    # Unlabelled 8-bit Thai is UTF-8 from current clients, cp874 from older ones.
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp874", errors="replace")
    if _THAI.search(text) or not _MISREAD_SCRIPTS.search(text):
        return text
    # Short cp874 Thai is often valid UTF-8 by chance: "ไฟดับ" reads as "俴Ѻ".
    thai = data.decode("cp874", errors="replace")
    return text if "\ufffd" in thai else thai


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode ``data`` declared as ``charset`` to NFC text, never raising."""
    label = _label(charset or "")
    if label in THAI_CHARSETS:
        return nfc(data.decode("cp874", errors="replace"))
    if label in _UNLABELLED:
        return nfc(_guess(data))
    try:
        return nfc(data.decode(label, errors="replace"))
    except (LookupError, ValueError):  # unknown or malformed label (a NUL in it), or "hex"
        return nfc(_guess(data))


def repair_8bit(text: str) -> str:
    """Re-decode raw 8-bit bytes the parser kept as surrogate escapes."""
    if not _SURROGATE.search(text):
        return text
    return decode_bytes(text.encode("utf-8", errors="surrogateescape"), None)


def decode_header_value(value: str | Header | None) -> str:
    """Decode an RFC 2047 header value to one NFC line.

    Works on the raw value, so adjacent encoded words join without the stray
    space CPython's header registry inserts (gh-128110).
    """
    if value is None:
        return ""
    try:
        chunks = decode_header(value)
    except HeaderParseError:  # broken base64 in an encoded word: keep what was sent
        chunks = [(str(value), None)]
    parts = [
        repair_8bit(chunk) if isinstance(chunk, str) else decode_bytes(chunk, charset)
        for chunk, charset in chunks
    ]
    return nfc(" ".join("".join(parts).split()))


def message_ids(value: str | Header | None) -> tuple[str, ...]:
    """Return the ``<id@host>`` tokens of a Message-ID, In-Reply-To or References value."""
    return tuple(_MSG_ID.findall(repair_8bit(str(value)))) if value is not None else ()


def _get_text_content(part: MIMEPart, errors: str = "replace") -> str:
    # ``errors`` is accepted because get_content() passes it; decoding always replaces.
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    return decode_bytes(data, part.get_content_charset())


def _content_manager() -> ContentManager:
    manager = copy.deepcopy(raw_data_manager)  # a copy: the stdlib's own must not change
    manager.add_get_handler("text", _get_text_content)
    return manager


MAIL_POLICY: EmailPolicy[EmailMessage] = default.clone(content_manager=_content_manager())
"""``policy.default`` whose ``get_content()`` decodes text parts with ``decode_bytes``."""
