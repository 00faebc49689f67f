"""Measure fax OCR on the shared sample letter, as a TIFF and as a PDF.

Prints the character error rate of tesseract's raw text and of the text after
Thai normalisation (one-code-point ำ), mean confidence, and seconds per page.

    python bench/fax_ocr.py [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.intake.channels.fax.ocr import (
    OcrResult,
    character_error_rate,
    ocr_document,
    ocr_unavailable_reason,
)

FAX_DIR = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "channels" / "fax"
SAMPLES = [("letter_g3.tiff", "image/tiff"), ("letter.pdf", "application/pdf")]


async def timed(data: bytes, content_type: str, *, normalise: bool) -> tuple[OcrResult, float]:
    """OCR a document once and return the result with the wall-clock seconds it took."""
    started = time.perf_counter()
    result = await ocr_document(data, content_type, normalise=normalise)
    return result, time.perf_counter() - started


async def run(runs: int) -> None:
    """OCR every sample ``runs`` times and print one row per sample."""
    expected = (FAX_DIR / "letter_expected.txt").read_text(encoding="utf-8")
    print(f"{'file':<16}{'pages':>6}{'CER raw':>9}{'CER norm':>10}{'conf':>7}{'s/page':>8}")
    for name, content_type in SAMPLES:
        data = (FAX_DIR / name).read_bytes()
        raw, _ = await timed(data, content_type, normalise=False)
        seconds = []
        for _ in range(runs):
            result, took = await timed(data, content_type, normalise=True)
            seconds.append(took / len(result.pages))
        print(
            f"{name:<16}{len(result.pages):>6}"
            f"{character_error_rate(expected, raw.text):>9.2%}"
            f"{character_error_rate(expected, result.text):>10.2%}"
            f"{result.confidence:>7.1f}{min(seconds):>8.2f}"
        )


def main() -> None:
    """Parse arguments, check that OCR can run, and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="timed runs per file (best is shown)")
    args = parser.parse_args()
    missing = ocr_unavailable_reason()
    if missing:
        sys.exit(f"cannot measure: {missing}")
    asyncio.run(run(max(args.runs, 1)))


if __name__ == "__main__":
    main()
