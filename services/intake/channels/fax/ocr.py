"""Inbound fax: webhook signature, gateway metadata, page rendering and Thai OCR.

Pure processing only: the HTTP endpoint, storage and publishing live elsewhere.
Pages are OCR'd with Tesseract (``tha+eng``); its Thai output spells every ำ
as U+0E4D U+0E32, which breaks search and masking, so the text is repaired
with ``pythainlp.util.normalize`` and NFC (never NFKC, which splits ำ again).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import io
import os
import re
import shutil
import subprocess
import tempfile
import unicodedata
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from PIL import Image, ImageOps, ImageSequence, ImageStat, UnidentifiedImageError
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt, field_validator
from pythainlp.util import normalize as thai_normalize

from services.intake.payloads import parse_payload
from shared.errors import ConfigError, Invalid, PayloadTooLarge, Unauthorized
from shared.instants import plausible, written

SIGNATURE_HEADER = "X-Fax-Signature"
MAX_FAX_BYTES = 20 * 1024 * 1024
# A 20 MiB G3 file can hold hundreds of pages; at a few seconds of OCR each,
# more than this is not a letter but a mistake or an attack.
MAX_FAX_PAGES = 50
# An A4 page at 400 dpi is about 15.5 Mpx; anything far larger is a decompression bomb.
MAX_PAGE_PIXELS = 40_000_000
OCR_LANG = "tha+eng"
PDF_DPI = 200
OCR_TIMEOUT_S = 120
# A clean faxed letter scores about 94; a misread (unstretched standard-
# resolution or upside-down) page scores about 70, so route below this to a human.
LOW_CONFIDENCE = 80.0

_IMAGE_TYPES = {"image/tiff", "image/tif", "image/x-tiff", "image/png", "image/jpeg", "image/jpg"}
_PDF_TYPES = {"application/pdf", "application/x-pdf"}
# Some gateways label the file part generically; then the bytes decide.
_SNIFFED_TYPES = {"application/octet-stream", "binary/octet-stream"}
_ANONYMOUS = {"", "anonymous", "unknown", "private", "withheld", "restricted"}


def verify_fax_hmac(body: bytes, signature: str | None, secret: str) -> None:
    """Raise Unauthorized unless ``signature`` is the HMAC-SHA256 of ``body`` (hex or base64)."""
    if not secret:
        raise ConfigError("fax webhook secret is not configured")
    if not signature:
        raise Unauthorized(f"missing {SIGNATURE_HEADER} header")
    given = _decode_signature(signature)
    if given is None:
        raise Unauthorized(f"{SIGNATURE_HEADER} is neither hex nor base64")
    expected = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, given):
        raise Unauthorized(f"{SIGNATURE_HEADER} does not match the body")


def _decode_signature(signature: str) -> bytes | None:
    # A SHA-256 digest is 64 characters in hex and 44 in base64, so length decides.
    text = signature.strip().removeprefix("sha256=")
    try:
        if len(text) == 2 * hashlib.sha256().digest_size:
            return bytes.fromhex(text)
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


class FaxMeta(BaseModel):
    """The gateway's ``fax`` JSON part describing one received fax."""

    # The gateway is not ours and may add fields; unknown ones are ignored, not refused.
    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)

    id: str = Field(min_length=1, max_length=200)
    num_pages: StrictInt = Field(ge=0)
    caller_id: str | None = None
    remote_station_id: str | None = None
    to_number: str = Field(min_length=1)
    status: Literal["received", "partial", "failed"]
    error: str | None = None
    received_at: AwareDatetime

    _written = field_validator("received_at", mode="before")(written)

    @field_validator("received_at")
    @classmethod
    def _plausible_instant(cls, value: datetime) -> datetime:
        return plausible(value)

    @property
    def caller(self) -> str | None:
        """Return the signalled sending number, or None when it was withheld."""
        if self.caller_id is None or self.caller_id.lower() in _ANONYMOUS:
            return None
        return self.caller_id


def parse_fax_meta(raw: bytes | str | Mapping[str, Any]) -> FaxMeta:
    """Validate the ``fax`` part, raising Invalid that names the bad field."""
    return parse_payload(FaxMeta, raw, what="fax metadata")


class PageImage(BaseModel):
    """One page as a PNG, dark text on light, with square pixels."""

    model_config = ConfigDict(frozen=True)

    png: bytes
    width: int
    height: int
    dpi: int | None = None


class OcrResult(BaseModel):
    """The text read from a faxed document, with its page images."""

    model_config = ConfigDict(frozen=True)

    text: str
    page_texts: list[str]
    confidence: float = Field(ge=0, le=100)
    low_confidence: bool
    pages: list[PageImage]


def ocr_unavailable_reason() -> str | None:
    """Return why OCR cannot run here (no tesseract, no Thai data), or None."""
    binary = shutil.which("tesseract")
    if binary is None:
        return "the tesseract binary is not installed (Debian: tesseract-ocr)"
    listed = subprocess.run(  # noqa: S603 - fixed executable and arguments, no shell
        [binary, "--list-langs"], capture_output=True, text=True, timeout=30, check=False
    )
    missing = set(OCR_LANG.split("+")) - set((listed.stdout + listed.stderr).split())
    if missing:
        return f"tesseract has no language data for {', '.join(sorted(missing))}"
    return None


async def render_pages(data: bytes, content_type: str) -> list[PageImage]:
    """Decode a TIFF, PDF, PNG or JPEG into page images ready for OCR and viewing."""
    if len(data) > MAX_FAX_BYTES:
        raise PayloadTooLarge(f"fax file is {len(data)} bytes; the limit is {MAX_FAX_BYTES}")
    kind = content_type.partition(";")[0].strip().lower()
    if kind in _SNIFFED_TYPES:
        kind = "application/pdf" if data.startswith(b"%PDF-") else "image/tiff"
    if kind in _PDF_TYPES:
        return await asyncio.to_thread(_render_pdf, data)
    if kind in _IMAGE_TYPES:
        return await asyncio.to_thread(_render_image, data)
    raise Invalid(
        f"fax file type {content_type!r} is not supported; send TIFF, PDF, PNG or JPEG",
        field="file",
    )


async def ocr_document(data: bytes, content_type: str, *, normalise: bool = True) -> OcrResult:
    """Read every page of a faxed document; ``normalise=False`` keeps tesseract's raw text."""
    pages = await render_pages(data, content_type)
    reads = await asyncio.to_thread(lambda: [_recognise(page) for page in pages])
    page_texts = [normalise_ocr_text(text) if normalise else text for text, _ in reads]
    scores = [score for _, page_scores in reads for score in page_scores]
    # No recognised glyph at all (blank or unreadable pages) counts as zero confidence.
    confidence = sum(scores) / len(scores) if scores else 0.0
    return OcrResult(
        text="\n\n".join(text.strip() for text in page_texts if text.strip()),
        page_texts=page_texts,
        confidence=round(confidence, 2),
        low_confidence=confidence < LOW_CONFIDENCE,
        pages=pages,
    )


def normalise_ocr_text(text: str) -> str:
    """Repair OCR'd Thai (one-code-point ำ, mark order, spacing), keeping paragraph breaks."""
    # pythainlp's normalize also drops blank lines, so run it paragraph by paragraph.
    paragraphs = (thai_normalize(p) for p in re.split(r"\n[ \t\f\v]*\n", text))
    return "\n\n".join(unicodedata.normalize("NFC", p) for p in paragraphs if p)


def character_error_rate(expected: str, actual: str) -> float:
    """Return edit distance over expected length, ignoring whitespace runs and blank lines."""
    want, got = _collapse_whitespace(expected), _collapse_whitespace(actual)
    previous = list(range(len(got) + 1))
    for i, a in enumerate(want, 1):
        row = [i]
        left = i
        for b, diagonal, up in zip(got, previous, previous[1:], strict=False):
            left = diagonal if a == b else 1 + min(diagonal, up, left)
            row.append(left)
        previous = row
    return previous[-1] / max(len(want), 1)


def _collapse_whitespace(text: str) -> str:
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def _render_image(data: bytes) -> list[PageImage]:
    try:
        image = Image.open(io.BytesIO(data), formats=["TIFF", "PNG", "JPEG"])
        _check_page_count(getattr(image, "n_frames", 1))
        # Pillow maps PhotometricInterpretation (WhiteIsZero or BlackIsZero) while decoding.
        return [_to_page(frame, frame.info.get("dpi")) for frame in ImageSequence.Iterator(image)]
    except Image.DecompressionBombError as exc:
        raise PayloadTooLarge(f"fax image is too large to decode: {exc}") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise Invalid(f"fax file is not a readable image: {exc}", field="file") from exc


def _render_pdf(data: bytes) -> list[PageImage]:
    if not data.startswith(b"%PDF-"):
        raise Invalid("fax file is labelled PDF but is not one", field="file")
    binary = _tool("pdftoppm", "poppler-utils")
    with tempfile.TemporaryDirectory(prefix="fax-pdf-") as tmp:
        source = Path(tmp) / "in.pdf"
        source.write_bytes(data)
        # Render one page past the limit so that a longer document is refused, not cut.
        last = str(MAX_FAX_PAGES + 1)
        _run(
            [binary, "-r", str(PDF_DPI), "-gray", "-png", "-l", last, str(source), f"{tmp}/p"],
            "rendering the fax PDF",
        )
        files = sorted(Path(tmp).glob("p-*.png"))
        _check_page_count(len(files))
        pages = []
        for file in files:
            with Image.open(file) as image:
                pages.append(_to_page(image, (PDF_DPI, PDF_DPI)))
        return pages


def _check_page_count(count: int) -> None:
    if count > MAX_FAX_PAGES:
        raise PayloadTooLarge(f"fax has more than {MAX_FAX_PAGES} pages")


def _to_page(image: Image.Image, dpi: tuple[float, float] | None) -> PageImage:
    if image.width * image.height > MAX_PAGE_PIXELS:
        raise PayloadTooLarge(f"a fax page of {image.width}x{image.height} pixels is too large")
    page = ImageOps.exif_transpose(image)
    if page.mode not in ("1", "L"):
        page = page.convert("L")
    x_dpi, y_dpi = (float(d) for d in dpi) if dpi else (0.0, 0.0)
    if x_dpi > 0 and y_dpi > 0 and not 0.9 < y_dpi / x_dpi < 1.1:
        # Standard-resolution fax is 204x98 dpi: unstretched, letters are half
        # height and tesseract reads almost nothing, so make the pixels square.
        height = round(page.height * x_dpi / y_dpi)
        page = page.convert("L").resize((page.width, height), Image.Resampling.BICUBIC)
    if ImageStat.Stat(page.convert("L")).mean[0] < 128:
        # A fax page is dark ink on white paper; a mostly dark one means the
        # sender's software wrote the photometric tag the wrong way round.
        page = ImageOps.invert(page.convert("L"))
    resolution = round(x_dpi) if 100 <= x_dpi <= 600 else None
    out = io.BytesIO()
    page.save(out, format="PNG", dpi=(resolution, resolution) if resolution else None)
    return PageImage(png=out.getvalue(), width=page.width, height=page.height, dpi=resolution)


def _recognise(page: PageImage) -> tuple[str, list[float]]:
    binary = _tool("tesseract", "tesseract-ocr")
    with tempfile.TemporaryDirectory(prefix="fax-ocr-") as tmp:
        source, base = Path(tmp) / "page.png", Path(tmp) / "out"
        source.write_bytes(page.png)
        dpi = ["--dpi", str(page.dpi)] if page.dpi else []
        # One OpenMP thread: with the default, tesseract spends most of its time
        # spinning threads and one page takes three to four times as long.
        env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
        argv = [binary, str(source), str(base), "-l", OCR_LANG, *dpi, "txt", "tsv"]
        _run(argv, "OCR of a fax page", env=env)
        text = base.with_suffix(".txt").read_text(encoding="utf-8")
        tsv = base.with_suffix(".tsv").read_text(encoding="utf-8")
    return text, _word_confidences(tsv)


def _word_confidences(tsv: str) -> list[float]:
    # The same table image_to_data parses: column 10 is conf (-1 for layout
    # rows), column 11 the recognised text. For Thai each row is one cluster.
    scores = []
    for row in tsv.splitlines()[1:]:
        cells = row.split("\t")
        if len(cells) == 12 and cells[11].strip() and float(cells[10]) >= 0:
            scores.append(float(cells[10]))
    return scores


def _tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ConfigError(f"{name} is not installed (Debian: {package})")
    return path


def _run(argv: list[str], what: str, env: dict[str, str] | None = None) -> None:
    try:
        done = subprocess.run(  # noqa: S603 - fixed executable, our own file names, no shell
            argv, capture_output=True, timeout=OCR_TIMEOUT_S, env=env, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise Invalid(f"{what} took over {OCR_TIMEOUT_S} s", field="file") from exc
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip()
        if "Failed loading language" in reason:
            raise ConfigError(f"tesseract language data for {OCR_LANG!r} is missing: {reason}")
        raise Invalid(f"{what} failed: {reason}", field="file")
