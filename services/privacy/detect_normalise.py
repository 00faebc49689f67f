"""Undo the damage faxes and OCR do to Thai text before it is searched.

The finders see a repaired copy of the text and the spans they return are
mapped back onto the text as given, so masking still covers every original
character: each repaired character remembers the run of original characters
it stands for. The repairs, none of which can join two unrelated tokens:

- a run of three or more dots or underscores (a form's leaders,
  ``ชื่อ.......นายสมพร....``) becomes a space;
- a space before a Thai vowel or tone mark that cannot start a word
  (``บ ้านเลขที ่``, ``หมู ่``) is dropped: OCR splits a syllable there;
- a run of spaces or tabs becomes one space (``วิไลวรรณ  แซ่ตั้ง``);
- inside a number, keycap emoji (``0️⃣8️⃣``) lose their marks, a long dash
  (``086—552``) becomes a hyphen and a dot followed by spaces (``0812. 345``)
  loses the spaces;
- inside a run of digits, the letters ``O``, ``o`` and ``l`` read or typed
  for 0 and 1 become those digits (``O81-234-5567``, ``2O150``, ``o81-...``);
- numbers spoken in Thai words, as speech-to-text writes a call, become
  digits: digit by digit (``ศูนย์แปดหนึ่ง สองสามสี่`` is ``081 234``) or as a
  cardinal (``ห้าสิบหก`` is 56), and ``ทับ`` or ``ขีด`` between two numbers is
  the slash or dash said aloud (``ห้าสิบหก ทับ แปด`` is ``56/8``);
- an email address read out (``somying.k แอท gmail ดอท คอม``) is written, and
  so is one spelt out against harvesters (``somchai(at)gmail.com``,
  ``pim [at] hotmail [dot] com``, ``tum at outlook dot com``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_LEADERS = re.compile(r"\.{3,}|…+|_{3,}")
# Above and below vowels, tone marks and the vowels that never begin a word.
_SPLIT_MARK = re.compile("(?<=[\u0e01-\u0e4e])[ \t]+(?=[\u0e30-\u0e3a\u0e45\u0e47-\u0e4e])")
_SPACE_RUN = re.compile(r"(?<=[ \t])[ \t]+")
# A run of digits with look-alike letters, not touching any other letter.
_DIGIT_LIKE = re.compile(r"(?<![A-Za-z])[0-9Olo]+(?![A-Za-z])")
_DIGIT_NEAR = re.compile(r"[ .-]?[0-9]")
_OCR_DIGITS = str.maketrans("Olo", "010")
# Typing noise inside a number: keycap emoji marks, long dashes, a dot and spaces.
_NUMBER_NOISE = re.compile(
    "[0-9]\ufe0f?\u20e3|(?<=[0-9๐-๙])[ \t]*[\u2012-\u2015\u2212][ \t]*(?=[0-9๐-๙])"
    "|(?<=[0-9])\\.[ \t]+(?=[0-9]{3})"
)
_NUMBER_HINT = re.compile("[\u20e3\u2012-\u2015\u2212]|[0-9]\\.[ \t]")


def _number_noise(match: re.Match[str]) -> list[_Piece]:
    noise = match.group()
    new = noise[0] if "\u20e3" in noise else ("." if "." in noise else "-")
    return [(match.start(), match.end(), new)]


# Numbers spoken in Thai words.
_DIGIT_WORDS = ("ศูนย์", "หนึ่ง", "สอง", "สาม", "สี่", "ห้า", "หก", "เจ็ด", "แปด", "เก้า")
_DIGIT_OF = {word: str(value) for value, word in enumerate(_DIGIT_WORDS)}
_PLACES = {"สิบ": 10, "ร้อย": 100, "พัน": 1000}
_CARDINAL_WORDS = frozenset({*_PLACES, "ยี่", "เอ็ด"})
_WORD = "|".join([*_DIGIT_WORDS, *_CARDINAL_WORDS])
_WORDS = re.compile(_WORD)
_NUMBER_WORD = re.compile(rf"(?:{_WORD})(?![\u0e01-\u0e4e])")
# Spoken tokens apart from any other Thai word (ตีสอง, คลองหนึ่ง, สามทุ่ม stay),
# though a particle may be glued to the last one (ห้าหกเจ็ดแปดครับ).
_SPOKEN_RUN = re.compile(
    rf"(?<![\u0e01-\u0e4e])(?:{_WORD})+(?:[ \t]+(?:{_WORD})+)*"
    r"(?=ครับ|คับ|ค่ะ|คะ|ค่า|นะ|จ้ะ|จ้า|[^\u0e01-\u0e4e]|\Z)"
)
_SPOKEN_SIGN = re.compile(r"(?<=[0-9])[ \t]*(ทับ|ขีด)[ \t]*(?=[0-9])")
_SIGNS = {"ทับ": "/", "ขีด": "-"}
# An email address read out: at, dot and the common domain endings in Thai.
_SPOKEN_AT = re.compile(r"แอท|แอ็ท")
_SPOKEN_PARTS = {
    "แอท": "@",
    "แอ็ท": "@",
    "ดอท": ".",
    "ด็อท": ".",
    "จุด": ".",
    "คอม": "com",
    "เน็ต": "net",
    "โค": "co",
    "ทีเอช": "th",
    # Speech-to-text writes the common mail hosts in Thai script too.
    "จีเมล": "gmail",
    "จีเมล์": "gmail",
    "ฮอตเมล": "hotmail",
    "ฮอตเมล์": "hotmail",
    "ฮอทเมล": "hotmail",
    "ฮอทเมล์": "hotmail",
    "ยาฮู": "yahoo",
    "เอาท์ลุค": "outlook",
    "เอาต์ลุก": "outlook",
    "ไอคลาวด์": "icloud",
}
_THAI_HOSTS = "จีเมล์|จีเมล|ฮอตเมล์|ฮอตเมล|ฮอทเมล์|ฮอทเมล|ยาฮู|เอาท์ลุค|เอาต์ลุก|ไอคลาวด์"
_SPOKEN_PART = re.compile(rf"[ \t]*(แอ็ท|แอท|ด็อท|ดอท|จุด)[ \t]*|(คอม|เน็ต|โค|ทีเอช|{_THAI_HOSTS})")
_SPOKEN_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*[ \t]*(?:แอ็ท|แอท|@)[ \t]*"
    rf"(?:[A-Za-z0-9-]+|{_THAI_HOSTS})"
    r"(?:[ \t]*(?:ด็อท|ดอท|จุด|\.)[ \t]*(?:[A-Za-z]{2,}|คอม|เน็ต|โค|ทีเอช)(?![\u0e01-\u0e4e]))+"
)

# An address typed with spaces around its @ and dots (noknoi.2530 @ hotmail . com).
_SPACED_HINT = re.compile(r"[ \t]@|@[ \t]")
_SPACED_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*(?:[ \t]+@[ \t]*|[ \t]*@[ \t]+)"
    r"[A-Za-z0-9-]+(?:[ \t]*\.[ \t]*(?:com|net|org|co|th|ac|go|or|io|me|info|biz|edu|gov|uk|jp))+"
    r"(?![A-Za-z0-9])",
    re.I,
)
_BLANKS = re.compile(r"[ \t]+")
# An address spelt out against harvesters: (at) and [dot] in brackets, or at
# and dot as words, which only count with a dot word or a known mail host.
_HIDDEN_AT = r"[ \t]*[(\[{<][ \t]*at[ \t]*[)\]}>][ \t]*|[ \t]+at[ \t]+"
_HIDDEN_DOT = r"[ \t]*[(\[{<][ \t]*dot[ \t]*[)\]}>][ \t]*|[ \t]+dot[ \t]+|\."
_HIDDEN_EMAIL = re.compile(
    rf"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*(?P<at>{_HIDDEN_AT})(?P<host>[A-Za-z0-9-]+)"
    rf"(?:(?:{_HIDDEN_DOT})[A-Za-z]{{2,}})+(?![A-Za-z0-9])",
    re.I,
)
_HIDDEN_PART = re.compile(rf"(?P<at>{_HIDDEN_AT})|(?P<dot>{_HIDDEN_DOT})", re.I)
_MAIL_HOSTS = frozenset({"gmail", "hotmail", "yahoo", "outlook", "icloud", "live", "msn", "proton"})
# What a spelt-out address must hold somewhere, found in one quick pass first.
_HIDDEN_HINT = re.compile(
    r"[(\[{<][ \t]*at[ \t]*[)\]}>]|[ \t]dot[ \t]|[ \t]at[ \t]+(?:" + "|".join(_MAIL_HOSTS) + ")",
    re.I,
)


@dataclass(frozen=True)
class Repaired:
    """Hold the repaired text and, for each of its characters, the original run it stands for."""

    text: str
    origin: tuple[int, ...]
    ends: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a span of the repaired text back onto the original text."""
        return self.origin[start], self.ends[end - 1]


@dataclass
class _State:
    chars: list[str]
    starts: list[int]
    ends: list[int]

    @property
    def text(self) -> str:
        return "".join(self.chars)


# A piece of a rewrite: replace the current text's [start, end) by a string.
_Piece = tuple[int, int, str]


def _rewrite(
    state: _State, pattern: re.Pattern[str], pieces: Callable[[re.Match[str]], list[_Piece] | None]
) -> _State:
    """Apply ``pieces`` to every match; a piece as long as what it replaces maps one for one."""
    text = state.text
    rewrites = [r for match in pattern.finditer(text) if (r := pieces(match)) is not None]
    if not rewrites:
        return state
    out = _State([], [], [])
    cursor = 0
    for replaced in rewrites:
        for start, end, new in replaced:
            _copy(state, out, cursor, start)
            if len(new) == end - start:
                out.chars += new
                out.starts += state.starts[start:end]
                out.ends += state.ends[start:end]
            elif new:
                out.chars += new
                out.starts += [state.starts[start]] * len(new)
                out.ends += [state.ends[end - 1]] * len(new)
            cursor = end
    _copy(state, out, cursor, len(text))
    return out


def _copy(state: _State, out: _State, start: int, end: int) -> None:
    out.chars += state.chars[start:end]
    out.starts += state.starts[start:end]
    out.ends += state.ends[start:end]


def repair(text: str) -> Repaired:
    """Return ``text`` with OCR splits, look-alike digits and spoken numbers repaired."""
    state = _State(list(text), list(range(len(text))), list(range(1, len(text) + 1)))
    state = _rewrite(state, _LEADERS, lambda m: [(m.start(), m.end(), " ")])
    if _NUMBER_HINT.search(text):
        state = _rewrite(state, _NUMBER_NOISE, _number_noise)
    state = _rewrite(state, _DIGIT_LIKE, _ocr_digits)
    state = _rewrite(state, _SPLIT_MARK, lambda m: [(m.start(), m.end(), "")])
    state = _rewrite(state, _SPACE_RUN, lambda m: [(m.start(), m.end(), "")])
    if _NUMBER_WORD.search(state.text):
        state = _rewrite(state, _SPOKEN_RUN, _spoken_digits)
        state = _rewrite(state, _SPOKEN_SIGN, lambda m: [(m.start(), m.end(), _SIGNS[m[1]])])
    if _SPACED_HINT.search(state.text):
        state = _rewrite(state, _SPACED_EMAIL, _spaced_email)
    if _SPOKEN_AT.search(state.text):
        state = _rewrite(state, _SPOKEN_EMAIL, _spoken_email)
    if _HIDDEN_HINT.search(state.text):
        state = _rewrite(state, _HIDDEN_EMAIL, _hidden_email)
    return Repaired(state.text, tuple(state.starts), tuple(state.ends))


def _ocr_digits(match: re.Match[str]) -> list[_Piece] | None:
    if not _is_number(match.string, match):
        return None
    return [(match.start(), match.end(), match.group().translate(_OCR_DIGITS))]


def _is_number(text: str, match: re.Match[str]) -> bool:
    run = match.group()
    if run.isdigit() or (not any(c.isdigit() for c in run) and len(run) > 1):
        return False
    if any(c.isdigit() for c in run):
        return True
    # A lone O or l is a digit only beside another digit ("O 8 6 1 ...").
    return bool(_DIGIT_NEAR.match(text, match.end()))


def _spoken_digits(match: re.Match[str]) -> list[_Piece]:
    """Write each spoken token of a run as digits; a token that does not parse stays."""
    pieces: list[_Piece] = []
    for token in re.finditer(rf"(?:{_WORD})+", match.group()):
        start, end = match.start() + token.start(), match.start() + token.end()
        words = _WORDS.findall(token.group())
        if _CARDINAL_WORDS.intersection(words):
            value = _cardinal(words)
            if value is not None:
                pieces.append((start, end, value))
            continue
        for word in _WORDS.finditer(token.group()):
            pieces.append((start + word.start(), start + word.end(), _DIGIT_OF[word.group()]))
    return pieces


def _cardinal(words: list[str]) -> str | None:
    """Read a spoken cardinal below 10,000 (ห้าสิบหก, สามพันสองร้อย); None if unsure."""
    total, digit, last = 0, None, ""
    for word in words:
        if word in _PLACES:
            if word == "สิบ" and digit is None and last == "ยี่":
                digit = 2
            total += (1 if digit is None else digit) * _PLACES[word]
            digit, last = None, word
        elif word == "ยี่":
            if digit is not None:
                return None
            last = word
        elif word == "เอ็ด":
            if last != "สิบ":
                return None
            digit, last = 1, word
        elif digit is not None or word == "ศูนย์":
            return None
        else:
            digit, last = int(_DIGIT_OF[word]), word
    if digit is not None:
        # "พันห้า" or "ร้อยห้า" says 1,500 or 150 in speech: too loose to read.
        if last != "เอ็ด" and words[-2:-1] and words[-2] in ("ร้อย", "พัน"):
            return None
        total += digit
    return str(total)


def _spaced_email(match: re.Match[str]) -> list[_Piece] | None:
    return [(m.start(), m.end(), "") for m in _BLANKS.finditer(match.string, *match.span())]


def _spoken_email(match: re.Match[str]) -> list[_Piece] | None:
    if not _SPOKEN_AT.search(match.group()):
        return None
    return [
        (
            match.start() + word.start(),
            match.start() + word.end(),
            _SPOKEN_PARTS[word[1] or word[2]],
        )
        for word in _SPOKEN_PART.finditer(match.group())
    ]


def _hidden_email(match: re.Match[str]) -> list[_Piece] | None:
    bracketed = not match.group("at").isspace()
    dot_word = re.search(r"[ \t]dot[ \t]|[(\[{<][ \t]*dot", match.group(), re.I)
    if not (bracketed or dot_word or match.group("host").lower() in _MAIL_HOSTS):
        return None
    pieces: list[_Piece] = [(match.start("at"), match.end("at"), "@")]
    for part in _HIDDEN_PART.finditer(match.string, match.end("host"), match.end()):
        if part.group("dot") and part.group() != ".":
            pieces.append((part.start(), part.end(), "."))
    return pieces
