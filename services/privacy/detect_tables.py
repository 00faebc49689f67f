"""Find names and LINE ids in tables pasted into a contact: CSV, TSV, sheet and markdown rows.

A header row says which column holds names (ชื่อ, นามสกุล, customer,
name ...) or LINE ids (line, ID LINE, ไลน์); every row under it that is
split the same way holds one in that column. A two-cell row copied from a
sheet (``ผู้ติดต่อ<TAB>value``) labels its value the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from services.privacy.detect_span import Span

_DELIMITERS = ("\t", ";", "|", ",")
_NAME_HEADER = re.compile(
    r"ชื่อ(?:-?(?:นาม)?สกุล|ลูกค้า|ผู้ติดต่อ|ผู้แจ้ง|ผู้ร้อง|บัญชี|ผู้ใช้ไฟ(?:ฟ้า)?)?|นามสกุล|สกุล"
    r"|ผู้ติดต่อ|ผู้แจ้ง|ผู้ร้อง|ผู้ใช้ไฟ(?:ฟ้า)?|ลูกค้า|เจ้าของบัญชี"
    r"|(?:(?:first|last|full|given|family|sur|customer|contact|account|holder|payee|caller"
    r"|buyer|recipient|receiver|user|ship(?:ping)?|consignee)[ _]?)?name"
    r"|customer|holder|payee|caller|contact(?:[ _]person)?|account[ _]holder|recipient|buyer"
    r"|consignee|ชื่อผู้รับ|ผู้รับ",
    re.I,
)
# A column of LINE ids: its cells are handles, with no cue word beside them.
_LINE_HEADER = re.compile(
    r"(?:id[ _]?)?line(?:[ _]?id)?|(?:ไอดี)?ไลน์(?:[ _]?(?:ไอดี|id))?|ไลน์ไอดี", re.I
)
_HANDLE_CELL = re.compile(r"@?(?=[A-Za-z0-9._-]*[A-Za-z])[A-Za-z0-9][A-Za-z0-9๐-๙._-]{2,}")
_COLUMN_WORD = re.compile(
    r"โทร(?:ศัพท์)?|เบอร์(?:โทร)?|มือถือ|อีเมล|ที่อยู่|หมายเหตุ|สถานะ|ยอด(?:เงิน)?|CA"
    r"|phone|tel|mobile|e-?mail|address|note|status|amount",
    re.I,
)
_RULE = re.compile(r"[ \t]*\|?[ \t]*:?-{3,}")
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
    """Find the values of name and LINE columns under a table's header, and labelled name cells."""
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
        handles = [k for k, (a, b) in enumerate(cells) if _LINE_HEADER.fullmatch(line[a:b])]
        # A two-cell row labels its value: a sheet's, or a markdown table's
        # "| ชื่อ-นามสกุล | สมศรี ใจดี |" (not a header over its |---| rule).
        filled = [k for k, (a, b) in enumerate(cells) if a < b]
        ruled = i + 1 < len(lines) and _RULE.match(lines[i + 1])
        if delimiter in "\t|" and len(filled) == 2 and not ruled:
            label, value = (cells[k] for k in filled)
            if _COLUMN_WORD.fullmatch(line[value[0] : value[1]]):
                pass  # two headers ("ชื่อ<TAB>โทร"): the rows below hold the values
            elif _NAME_HEADER.fullmatch(line[label[0] : label[1]]):
                yield from _name_cell(text, starts[i], line, value)
                continue
            if _LINE_HEADER.fullmatch(line[label[0] : label[1]]):
                if _HANDLE_CELL.fullmatch(line[value[0] : value[1]]):
                    yield Span(starts[i] + value[0], starts[i] + value[1], "line_id")
                continue
        if not (heads or handles) or len(heads) + len(handles) == len(cells):
            continue
        for j in range(i + 1, len(lines)):
            row = _cells(lines[j], delimiter)
            if len(row) != len(cells):
                break
            for k in heads:
                yield from _name_cell(text, starts[j], lines[j], row[k])
            for k in handles:
                a, b = row[k]
                if _HANDLE_CELL.fullmatch(lines[j][a:b]):
                    yield Span(starts[j] + a, starts[j] + b, "line_id")


def _name_cell(text: str, line_start: int, line: str, cell: tuple[int, int]) -> Iterator[Span]:
    value = line[cell[0] : cell[1]]
    if _NAME_CELL.fullmatch(value) and not _NAME_HEADER.fullmatch(value):
        yield Span(line_start + cell[0], line_start + cell[1], "name")
