"""Find names in tables pasted into a contact: CSV, TSV and Excel rows.

A header row says which column holds names (ชื่อ, นามสกุล, customer,
name ...); every row under it that is split the same way holds a name in
that column. A two-cell row copied from a sheet (``ผู้ติดต่อ<TAB>value``)
labels its value the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from services.privacy.detect_span import Span

_DELIMITERS = ("\t", ";", "|", ",")
_NAME_HEADER = re.compile(
    r"ชื่อ(?:-?(?:นาม)?สกุล|ลูกค้า|ผู้ติดต่อ|ผู้แจ้ง|ผู้ร้อง|บัญชี|ผู้ใช้ไฟ(?:ฟ้า)?)?|นามสกุล|สกุล"
    r"|ผู้ติดต่อ|ผู้แจ้ง|ผู้ร้อง|ผู้ใช้ไฟ(?:ฟ้า)?|ลูกค้า|เจ้าของบัญชี"
    r"|(?:(?:first|last|full|given|family|sur|customer|contact|account|holder|payee|caller)"
    r"[ _]?)?name"
    r"|customer|holder|payee|caller|contact(?:[ _]person)?|account[ _]holder",
    re.I,
)
_CELL_TEXT = re.compile(r"[^\s\"']([^\"]*[^\s\"'])?")
# A name's cell holds letters (any script) and spaces, a few words at most.
_LETTERS = "[\u0e01-\u0e4eA-Za-zÀ-ÿ]+"
_NAME_CELL = re.compile(rf"{_LETTERS}(?:[ .'-]+{_LETTERS}){{0,4}}\.?")


def _cells(line: str, delimiter: str) -> list[tuple[int, int]]:
    """Return where each cell's text starts and ends, quotes and spaces stripped."""
    cells, pos = [], 0
    for raw in line.split(delimiter):
        text = _CELL_TEXT.search(raw)
        cells.append((pos + text.start(), pos + text.end()) if text else (pos, pos))
        pos += len(raw) + len(delimiter)
    return cells


def table_names(text: str) -> Iterator[Span]:
    """Find the values of name columns under a table's header, and labelled name cells."""
    lines, offset, starts = text.split("\n"), 0, []
    for line in lines:
        starts.append(offset)
        offset += len(line) + 1
    for i, line in enumerate(lines):
        delimiter = next((d for d in _DELIMITERS if d in line), None)
        if delimiter is None:
            continue
        cells = _cells(line, delimiter)
        heads = [k for k, (a, b) in enumerate(cells) if _NAME_HEADER.fullmatch(line[a:b])]
        if delimiter == "\t" and len(cells) == 2 and heads == [0]:
            yield from _name_cell(text, starts[i], line, cells[1])
            continue
        if not heads or len(heads) == len(cells):
            continue
        for j in range(i + 1, len(lines)):
            row = _cells(lines[j], delimiter)
            if len(row) != len(cells):
                break
            for k in heads:
                yield from _name_cell(text, starts[j], lines[j], row[k])


def _name_cell(text: str, line_start: int, line: str, cell: tuple[int, int]) -> Iterator[Span]:
    value = line[cell[0] : cell[1]]
    if _NAME_CELL.fullmatch(value) and not _NAME_HEADER.fullmatch(value):
        yield Span(line_start + cell[0], line_start + cell[1], "name")
