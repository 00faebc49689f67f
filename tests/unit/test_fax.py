"""Fax intake processing: webhook signature, gateway metadata, page rendering and Thai OCR."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image, ImageStat, TiffImagePlugin

from services.intake.channels.fax.ocr import (
    LOW_CONFIDENCE,
    MAX_FAX_BYTES,
    MAX_FAX_PAGES,
    OcrResult,
    character_error_rate,
    ocr_document,
    ocr_unavailable_reason,
    parse_fax_meta,
    render_pages,
    verify_fax_hmac,
)
from shared.errors import ConfigError, Invalid, PayloadTooLarge, Unauthorized

FAX_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "channels" / "fax"
EXPECTED = (FAX_DIR / "letter_expected.txt").read_text(encoding="utf-8")
WEBHOOK = json.loads((FAX_DIR / "webhook_fields.json").read_text(encoding="utf-8"))
EXAMPLE_META: dict[str, object] = WEBHOOK["parts"][0]["example"]
SECRET = "fax-gateway-test-secret"
# Measured 1.2 % for both the TIFF and the PDF. Without the ำ repair the same
# run scores 3.1 %, so this bound still catches that regression.
CER_BOUND = 0.025
IDENTIFIERS = ["1-5099-00123-45-3", "089-765-4321", "020003456789"]
SAMPLES = {"tiff": ("letter_g3.tiff", "image/tiff"), "pdf": ("letter.pdf", "application/pdf")}

_ocr_missing = ocr_unavailable_reason()
needs_ocr = pytest.mark.skipif(_ocr_missing is not None, reason=f"OCR unavailable: {_ocr_missing}")


@pytest.fixture(scope="module")
async def letters() -> dict[str, OcrResult]:
    """OCR the sample letter once per format for the whole module."""
    return {
        kind: await ocr_document((FAX_DIR / name).read_bytes(), content_type)
        for kind, (name, content_type) in SAMPLES.items()
    }


def g3_tiff(*pages: Image.Image, dpi: tuple[int, int] = (204, 196), photometric: int = 1) -> bytes:
    """Encode bilevel pages as a CCITT Group 3 TIFF the way fax gateways send them."""
    out = io.BytesIO()
    pages[0].save(
        out,
        format="TIFF",
        compression="group3",
        dpi=dpi,
        tiffinfo={262: photometric},
        save_all=True,
        append_images=list(pages[1:]),
    )
    return out.getvalue()


def letter_image() -> Image.Image:
    """Return the sample fax page as a Pillow image."""
    with Image.open(FAX_DIR / "letter_g3.tiff") as image:
        return image.copy()


def mean_brightness(png: bytes) -> float:
    """Return the mean grey level of a PNG page (255 is white)."""
    with Image.open(io.BytesIO(png)) as image:
        return float(ImageStat.Stat(image.convert("L")).mean[0])


# --- OCR of the sample letter -------------------------------------------------


@needs_ocr
@pytest.mark.parametrize("kind", SAMPLES)
def test_letter_is_read_within_the_character_error_bound(
    letters: dict[str, OcrResult], kind: str
) -> None:
    assert character_error_rate(EXPECTED, letters[kind].text) < CER_BOUND


@needs_ocr
@pytest.mark.parametrize("kind", SAMPLES)
@pytest.mark.parametrize("identifier", IDENTIFIERS)
def test_letter_keeps_id_phone_and_ca_number_exact(
    letters: dict[str, OcrResult], kind: str, identifier: str
) -> None:
    assert identifier in letters[kind].text


@needs_ocr
def test_pdf_gives_the_same_text_as_the_tiff(letters: dict[str, OcrResult]) -> None:
    # Rasterising the PDF resamples the page, so a few glyphs differ; the text does not.
    assert character_error_rate(letters["tiff"].text, letters["pdf"].text) < 2 * CER_BOUND


@needs_ocr
@pytest.mark.parametrize("kind", SAMPLES)
def test_sara_am_is_one_code_point(letters: dict[str, OcrResult], kind: str) -> None:
    text = letters[kind].text
    assert "\u0e4d\u0e32" not in text
    assert "สำเนาบัตรประจำตัวประชาชน จำนวน 1 ฉบับ" in text


@needs_ocr
@pytest.mark.parametrize("kind", SAMPLES)
def test_clean_letter_is_confident_and_has_one_png_page(
    letters: dict[str, OcrResult], kind: str
) -> None:
    result = letters[kind]
    assert result.confidence > LOW_CONFIDENCE
    assert not result.low_confidence
    assert len(result.pages) == len(result.page_texts) == 1
    assert result.pages[0].png.startswith(b"\x89PNG\r\n\x1a\n")
    assert result.page_texts[0] == result.text


@needs_ocr
async def test_blank_page_goes_to_human_review() -> None:
    result = await ocr_document(g3_tiff(Image.new("1", (1728, 2291), 1)), "image/tiff")
    assert result.text == ""
    assert result.confidence == 0
    assert result.low_confidence


# --- Rendering pages (no OCR) --------------------------------------------------


async def test_tiff_page_image_keeps_its_size() -> None:
    [page] = await render_pages((FAX_DIR / "letter_g3.tiff").read_bytes(), "image/tiff")
    assert (page.width, page.height, page.dpi) == (1728, 2291, 204)


async def test_white_is_zero_tiff_renders_dark_text_on_white() -> None:
    data = g3_tiff(letter_image(), photometric=0)
    with Image.open(io.BytesIO(data)) as image:
        assert isinstance(image, TiffImagePlugin.TiffImageFile)
        assert image.tag_v2[262] == 0  # PhotometricInterpretation: WhiteIsZero
    [page] = await render_pages(data, "image/tiff")
    assert mean_brightness(page.png) > 200


async def test_page_with_inverted_photometric_is_turned_back_to_dark_on_light() -> None:
    negative = letter_image().point(lambda v: 255 - v)
    [page] = await render_pages(g3_tiff(negative), "image/tiff")
    assert mean_brightness(page.png) > 200


async def test_standard_resolution_fax_is_stretched_to_square_pixels() -> None:
    squashed = letter_image().resize((1728, 1146), Image.Resampling.NEAREST)
    [page] = await render_pages(g3_tiff(squashed, dpi=(204, 98)), "image/tiff")
    assert (page.width, page.height) == (1728, round(1146 * 204 / 98))


async def test_multi_page_tiff_gives_one_image_per_page() -> None:
    pages = [Image.new("1", (1728, height), 1) for height in (1000, 1100, 1200)]
    rendered = await render_pages(g3_tiff(*pages), "image/tiff; name=fax.tiff")
    assert [page.height for page in rendered] == [1000, 1100, 1200]


async def test_fax_with_too_many_pages_is_refused() -> None:
    pages = [Image.new("1", (64, 64), 1) for _ in range(MAX_FAX_PAGES + 1)]
    with pytest.raises(PayloadTooLarge, match="pages"):
        await render_pages(g3_tiff(*pages), "image/tiff")


async def test_oversized_fax_file_is_refused_before_decoding() -> None:
    with pytest.raises(PayloadTooLarge):
        await render_pages(b"\0" * (MAX_FAX_BYTES + 1), "image/tiff")


@pytest.mark.parametrize("content_type", ["text/plain", "application/msword", "image/gif", ""])
async def test_unsupported_content_type_is_refused(content_type: str) -> None:
    with pytest.raises(Invalid, match="not supported") as caught:
        await render_pages((FAX_DIR / "letter_g3.tiff").read_bytes(), content_type)
    assert caught.value.field == "file"


@pytest.mark.parametrize("content_type", ["image/tiff", "application/pdf"])
async def test_file_that_is_not_what_its_type_says_is_refused(content_type: str) -> None:
    with pytest.raises(Invalid):
        await render_pages(b"this is not a fax", content_type)


# --- Webhook signature ----------------------------------------------------------


def sign(body: bytes) -> bytes:
    """Return the raw HMAC-SHA256 of a body under the test secret."""
    return hmac.new(SECRET.encode(), body, hashlib.sha256).digest()


@pytest.mark.parametrize(
    "encode",
    [
        bytes.hex,
        lambda d: d.hex().upper(),
        lambda d: base64.b64encode(d).decode(),
        lambda d: "sha256=" + d.hex(),
    ],
    ids=["hex", "upper-hex", "base64", "prefixed-hex"],
)
def test_signature_in_hex_or_base64_is_accepted(encode: Callable[[bytes], str]) -> None:
    body = b'--faxgw\r\nContent-Disposition: form-data; name="fax"\r\n\r\n{}'
    verify_fax_hmac(body, encode(sign(body)), SECRET)


def test_signature_of_another_body_is_refused() -> None:
    with pytest.raises(Unauthorized, match="does not match"):
        verify_fax_hmac(b"tampered body", sign(b"original body").hex(), SECRET)


def test_signature_made_with_another_secret_is_refused() -> None:
    body = b"body"
    forged = hmac.new(b"guessed", body, hashlib.sha256).hexdigest()
    with pytest.raises(Unauthorized, match="does not match"):
        verify_fax_hmac(body, forged, SECRET)


@pytest.mark.parametrize("signature", [None, ""])
def test_missing_signature_is_refused(signature: str | None) -> None:
    with pytest.raises(Unauthorized, match="missing X-Fax-Signature"):
        verify_fax_hmac(b"body", signature, SECRET)


def test_garbled_signature_is_refused() -> None:
    with pytest.raises(Unauthorized, match="neither hex nor base64"):
        verify_fax_hmac(b"body", "not a signature!", SECRET)


def test_unconfigured_secret_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        verify_fax_hmac(b"body", sign(b"body").hex(), "")


# --- Gateway metadata -----------------------------------------------------------


def test_example_metadata_parses() -> None:
    meta = parse_fax_meta(json.dumps(EXAMPLE_META).encode())
    assert meta.id == "fx_01M7PD0B3K9Q2W6ZVJ4T8N5R1C"
    assert meta.caller == "053398112"
    assert meta.received_at.utcoffset() is not None


def test_metadata_without_id_is_refused_naming_the_field() -> None:
    payload = {k: v for k, v in EXAMPLE_META.items() if k != "id"}
    with pytest.raises(Invalid, match="id: Field required") as caught:
        parse_fax_meta(payload)
    assert caught.value.field == "id"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", "  "),
        ("status", "delivered"),
        ("received_at", "2026-11-18T10:42:37"),
        ("num_pages", -1),
    ],
)
def test_bad_metadata_field_is_named(field: str, value: object) -> None:
    with pytest.raises(Invalid) as caught:
        parse_fax_meta({**EXAMPLE_META, field: value})
    assert caught.value.field == field


def test_metadata_that_is_not_json_is_refused() -> None:
    with pytest.raises(Invalid, match="not JSON"):
        parse_fax_meta(b"{id: fx_1")


@pytest.mark.parametrize("caller_id", ["", "anonymous", "Anonymous", None])
def test_withheld_caller_id_gives_no_caller(caller_id: str | None) -> None:
    assert parse_fax_meta({**EXAMPLE_META, "caller_id": caller_id}).caller is None


def test_fields_the_gateway_adds_later_are_ignored() -> None:
    assert parse_fax_meta({**EXAMPLE_META, "cost_cents": 3}).id == EXAMPLE_META["id"]


# --- Character error rate -------------------------------------------------------


def test_character_error_rate_ignores_whitespace_runs_and_blank_lines() -> None:
    assert character_error_rate("ก  ข\n\nค", "ก ข\nค\n") == 0


def test_character_error_rate_counts_edits_over_the_expected_length() -> None:
    assert character_error_rate("สำเนา", "ส\u0e4d\u0e32เนา") == pytest.approx(2 / 5)
