"""Turn an HTML mail body into the plain text a reader of that mail would see.

Hidden elements (preheaders, tracking blocks) and non-content elements
(``script``, ``style``, ``title``) are dropped, ``&nbsp;`` becomes a space,
table rows become lines with cells joined by `` | ``, and ``<blockquote>``
content is prefixed with ``> `` so the quote splitter treats it as history.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Not <head>: mail HTML often never closes it, which would hide the whole body.
_NOT_CONTENT = frozenset({"script", "style", "title", "template"})
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)
_LINE = frozenset({"br", "div", "tr", "li", "hr", "dt", "dd", "center"})
_PARAGRAPH = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "dl", "pre", "blockquote"}
)
# Inline styles that hide text from the reader; a zero size must not match 0.8em.
_HIDDEN_STYLE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|mso-hide\s*:\s*all"
    r"|(?:max-height|font-size|opacity)\s*:\s*0(?:\.0*)?(?:px|pt|em|rem|%)?\s*(?:!important\s*)?(?:;|$)",
    re.IGNORECASE,
)
# Whitespace HTML collapses; U+200B stays because Thai uses it as a word-break hint.
_HTML_SPACE = re.compile(r"[ \t\n\r\f\v\xa0]+")


def _hidden(attrs: list[tuple[str, str | None]]) -> bool:
    for name, value in attrs:
        if name == "hidden":
            return True
        if name == "style" and value and _HIDDEN_STYLE.search(value):
            return True
        if name == "class" and value and "preheader" in value.lower():
            return True
    return False


class _TextExtractor(HTMLParser):
    """Collect visible text from HTML as lines, each with its blockquote depth."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._lines: list[tuple[int, str]] = []
        self._current: list[str] = []
        self._skip_tag: str | None = None
        self._skip_depth = 0
        self._quote_depth = 0
        self._pre_depth = 0
        self._cells_in_row = 0

    def text(self) -> str:
        """Return the collected lines, quoted ones prefixed with ``> ``."""
        self._break()
        rendered = [("> " * depth + line).rstrip() if line else "" for depth, line in self._lines]
        return "\n".join(rendered).strip("\n")

    def _break(self, *, blank: bool = False, always: bool = False) -> None:
        line = "".join(self._current)
        line = line if self._pre_depth else line.strip(" ")
        self._current = []
        if line or always:
            self._lines.append((self._quote_depth, line))
        if blank and self._lines and self._lines[-1][1]:
            self._lines.append((self._quote_depth, ""))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Open an element: start skipping, break the line or mark a cell."""
        if self._skip_tag == "p" and tag == "p":
            # An unclosed hidden <p> ends where the next <p> starts; never nest it.
            self._skip_tag = None
        if self._skip_tag is not None:
            if tag == self._skip_tag:
                self._skip_depth += 1
            return
        if tag not in _VOID and (tag in _NOT_CONTENT or _hidden(attrs)):
            self._skip_tag, self._skip_depth = tag, 1
            return
        if tag == "br":
            self._break(always=True)
        elif tag in _PARAGRAPH:
            self._break(blank=True)
        elif tag in _LINE:
            self._break()
        if tag == "blockquote":
            self._quote_depth += 1
        elif tag == "pre":
            self._pre_depth += 1
        elif tag == "tr":
            self._cells_in_row = 0
        elif tag in ("td", "th"):
            if self._cells_in_row:
                self._current.append(" | ")
            self._cells_in_row += 1
        elif tag == "li":
            self._current.append("- ")

    def handle_endtag(self, tag: str) -> None:
        """Close an element: stop skipping or break the line."""
        if self._skip_tag is not None:
            if tag == self._skip_tag:
                self._skip_depth -= 1
                if self._skip_depth == 0:
                    self._skip_tag = None
            return
        if tag in _PARAGRAPH:
            self._break(blank=True)
        elif tag in _LINE and tag != "br":
            self._break()
        if tag == "blockquote" and self._quote_depth:
            self._quote_depth -= 1
        elif tag == "pre" and self._pre_depth:
            self._pre_depth -= 1

    def handle_data(self, data: str) -> None:
        """Keep visible text; collapse whitespace as a browser would outside ``<pre>``."""
        if self._skip_tag is not None:
            return
        if not self._pre_depth:
            self._current.append(_HTML_SPACE.sub(" ", data))
            return
        first, *rest = data.replace("\xa0", " ").split("\n")
        self._current.append(first)
        for line in rest:
            self._break(always=True)
            self._current.append(line)


def html_to_text(html: str) -> str:
    """Return the visible text of an HTML mail body."""
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    return extractor.text()
