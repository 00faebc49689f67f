"""Find personal data in Thai free text: ``detect``, the one entry point.

Pure functions, no I/O. Offsets are into the text as given; callers pass NFC
text (``masking.mask`` does). The finders search a copy repaired of OCR and
fax damage (``detect_normalise``) and their spans are mapped back. Each
finder yields candidate spans and ``detect`` keeps the longest where
candidates overlap. Look-alikes (meter, contract-account and order numbers,
amounts, dates, hotlines, 13-digit numbers failing the ID checksum, company
tax ids) are rejected by the validity rules of each kind rather than by a
list of exceptions. Numbers (also a loyalty card's, which names one person)
are found in ``detect_numbers`` (their cues in ``detect_number_cues``),
passports, emails and LINE ids in ``detect_ids``, addresses in
``detect_addresses``; names in ``detect_names`` (titled, cued, paired; built
on ``detect_titles``, ``detect_lexicon`` and ``detect_surnames``),
``detect_uncued`` (by what stands around them), ``detect_fields``,
``detect_cued`` (turns of a conversation), ``detect_romanised`` (Thai names in
Latin letters), ``detect_tables`` (pasted CSV, TSV and sheet rows) and
``detect_roles`` (after a role word, a pronoun, an academic title, a nickname's
label, an e-mail's greeting and sign-off). Two passes over the spans kept
widen them: ``detect_banks`` (a bank's name before its account) and
``detect_address_edges`` (a province, Bangkok, a postcode, a dormitory or a
soi at an address's edges).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from services.privacy.detect_address_edges import with_address_edges
from services.privacy.detect_addresses import addresses
from services.privacy.detect_banks import with_bank_names
from services.privacy.detect_cued import answered_names, chat_senders, transfer_names
from services.privacy.detect_fields import (
    device_signers,
    english_names,
    field_names,
    signed_names,
)
from services.privacy.detect_ids import bare_handles, emails, line_ids, passports
from services.privacy.detect_labels import (
    called_names,
    labelled_names,
    small_k_names,
    with_latin_title,
)
from services.privacy.detect_latin_addresses import latin_addresses
from services.privacy.detect_names import introduced_names, paired_names, titled_names
from services.privacy.detect_nicknames import nicknames
from services.privacy.detect_normalise import repair
from services.privacy.detect_numbers import is_national_id, masked_numbers
from services.privacy.detect_numbers import numbers as _numbers
from services.privacy.detect_roles import role_names
from services.privacy.detect_romanised import romanised_cued_names, romanised_names
from services.privacy.detect_span import Kind, Span
from services.privacy.detect_tables import table_names
from services.privacy.detect_uncued import (
    bracketed_names,
    foreign_names,
    kin_glued_names,
    spaced_names,
    standalone_names,
)
from services.privacy.detect_uncued import known_names as _known_names

__all__ = ["Kind", "Span", "detect", "is_national_id"]


def detect(text: str, *, known_names: Sequence[str] = ()) -> list[Span]:
    """Return the non-overlapping personal-data spans of ``text``, in order."""
    repaired = repair(text)
    searched = repaired.text
    numbers = list(_numbers(searched))
    candidates = [
        *numbers,
        *passports(searched),
        *masked_numbers(searched),
        *emails(searched),
        *line_ids(searched),
        *bare_handles(searched),
        *addresses(searched),
        *latin_addresses(searched),
        *titled_names(searched),
        *introduced_names(searched),
        *paired_names(searched),
        *spaced_names(searched),
        *kin_glued_names(searched),
        *nicknames(searched),
        *foreign_names(searched),
        *standalone_names(searched, [n for n in numbers if n.kind == "phone"]),
        *english_names(searched),
        *labelled_names(searched),
        *small_k_names(searched),
        *called_names(searched),
        *field_names(searched),
        *signed_names(searched),
        *device_signers(searched),
        *bracketed_names(searched, numbers),
        *transfer_names(searched),
        *answered_names(searched),
        *chat_senders(searched),
        *romanised_names(searched),
        *romanised_cued_names(searched),
        *table_names(searched),
        *role_names(searched),
        *_known_names(searched, known_names),
    ]
    spans = []
    kept = with_bank_names(searched, _resolve(_with_initials(searched, candidates)))
    for span in with_address_edges(searched, kept):
        start, end = repaired.span(span.start, span.end)
        spans.append(Span(start, end, span.kind))
    return spans


# A name in Latin letters whose surname is cut to its initial, as slips and
# forms print it: "MISS WARAPORN T", "Kanya S.".
_LATIN_INITIAL = re.compile(r"[ \t]+[A-Z]\.?(?![A-Za-z0-9])")


def _with_initials(text: str, candidates: list[Span]) -> list[Span]:
    out = []
    for span in candidates:
        if span.kind == "name" and text[span.end - 1 : span.end].isascii():
            initial = _LATIN_INITIAL.match(text, span.end)
            if initial and text[span.end - 1].isalpha():
                span = Span(span.start, initial.end(), "name")
        out.append(with_latin_title(text, span))
    return out


def _resolve(candidates: list[Span]) -> list[Span]:
    # The longest candidate wins an overlap: a phone inside an address or a
    # name inside a longer name is covered either way.
    kept: list[Span] = []
    for span in sorted(candidates, key=lambda s: (s.start - s.end, s.start)):
        if all(span.end <= k.start or span.start >= k.end for k in kept):
            kept.append(span)
    return sorted(kept)
