"""A period report as a committee PDF, in Thai or English, with tables and bar charts.

fpdf2 lays the pages out; with uharfbuzz installed it shapes Thai text so
that vowels and tone marks sit where they belong. The fonts are Noto Sans
Thai (Thai script) and Noto Sans (Latin, digits), shipped beside this module
under the SIL Open Font License and embedded (subset) in every PDF. Thai
reports date in the Buddhist era, English ones in the Gregorian calendar.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from fpdf import FPDF, FontFace

from services.routing.reports.labels import (
    Lang,
    date_name,
    group_name,
    org_name,
    period_name,
    text,
)
from services.routing.reports.labels import (
    title as report_title,
)
from services.routing.reports.periods import DIMENSIONS, TARGETS
from shared.assets import FONTS
from shared.clock import BANGKOK

THAI, LATIN = "NotoSansThai", "NotoSans"
INK = (29, 36, 48)
HEAD_FILL = (226, 232, 242)
# This period, the previous period, the same period last year.
SERIES_COLOURS = ((34, 49, 74), (112, 144, 196), (196, 205, 220))
CHART_GROUPS = 10  # a chart shows the largest groups; the table beside it shows all
DIFFERENCES_SHOWN = 20


class _Document(FPDF):
    """A4 pages with the report's name and the page number at the foot."""

    def __init__(self, lang: Lang, foot: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.report_lang = lang
        self.foot = foot
        for family, stem in ((THAI, "NotoSansThai"), (LATIN, "NotoSans")):
            self.add_font(family, "", str(FONTS / f"{stem}-Regular.ttf"))
            self.add_font(family, "B", str(FONTS / f"{stem}-Bold.ttf"))
        # Thai text in Noto Sans Thai; its Latin letters and digits fall back to Noto Sans.
        self.main_font = THAI if lang == "th" else LATIN
        self.set_fallback_fonts([LATIN if lang == "th" else THAI], exact_match=False)
        self.set_text_shaping(True)
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(True, margin=16)
        self.set_text_color(*INK)

    def font(self, size: float, bold: bool = False) -> None:
        """Use the report's font at ``size`` points."""
        self.set_font(self.main_font, "B" if bold else "", size)

    def footer(self) -> None:
        """Print the report's name and the page number."""
        self.set_y(-12)
        self.font(8)
        self.cell(0, 5, self.foot, align="L")
        self.set_x(self.l_margin)
        self.cell(0, 5, f"{text('page', self.report_lang)} {self.page_no()}", align="R")


def to_pdf(report: dict[str, Any], lang: Lang, *, now: datetime | None = None) -> bytes:
    """Return the report as a PDF in ``lang`` (``now`` is the date printed as prepared)."""
    org, period = str(report["org"]), str(report["period"])
    title = report_title(str(report.get("kind", "monthly")), period, lang)
    pdf = _Document(lang, f"{org_name(org, lang)} · {title}")
    pdf.set_title(title)
    pdf.set_author(org_name(org, lang))
    pdf.set_creator("vocdesk")
    pdf.set_lang("th-TH" if lang == "th" else "en-GB")
    pdf.add_page()
    _cover(pdf, report, title, now or datetime.now(BANGKOK))
    _summary(pdf, report)
    for dimension in DIMENSIONS:
        _dimension(pdf, report, dimension)
    _sla(pdf, report)
    _satisfaction(pdf, report)
    _recurring(pdf, report)
    _differences(pdf, report)
    return bytes(pdf.output())


def _cover(pdf: _Document, report: dict[str, Any], title: str, now: datetime) -> None:
    lang = pdf.report_lang
    pdf.font(11, bold=True)
    pdf.multi_cell(
        0, 6, org_name(str(report["org"]), lang), align="L", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.font(17, bold=True)
    pdf.multi_cell(0, 9, title, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.font(10)
    lines = [f"{text('for_committee', lang)} · {text('generated', lang)} {date_name(now, lang)}"]
    snapshot = report.get("snapshot")
    if snapshot:
        frozen = snapshot["frozen_at"]
        if isinstance(frozen, str):
            frozen = datetime.fromisoformat(frozen)
        changed = len(snapshot.get("differences") or [])
        lines.append(
            f"{text('frozen', lang)} {date_name(frozen, lang)} · "
            f"{text('changed_since', lang)}: {changed:,}"
        )
    elif not report.get("closed"):
        lines.append(text("open_period", lang))
    for line in lines:
        pdf.multi_cell(0, 5.5, line, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)


def _heading(pdf: _Document, key: str, need: float = 40) -> None:
    """Start a section, on a new page when less than ``need`` mm are left."""
    if pdf.will_page_break(need):
        pdf.add_page()
    pdf.ln(2)
    pdf.font(13, bold=True)
    pdf.cell(0, 8, text(key, pdf.report_lang), new_x="LMARGIN", new_y="NEXT")
    pdf.font(9.5)


def _table(
    pdf: _Document,
    headings: Sequence[str],
    rows: Iterable[Sequence[Any]],
    widths: Sequence[float],
    *,
    left: int = 1,
) -> None:
    """Draw a table: the first ``left`` columns left-aligned text, the others figures."""
    align = tuple("LEFT" if i < left else "RIGHT" for i in range(len(widths)))
    pdf.set_fill_color(255, 255, 255)
    with pdf.table(
        col_widths=tuple(widths),
        text_align=align,
        line_height=5.6,
        borders_layout="HORIZONTAL_LINES",
        headings_style=FontFace(emphasis="BOLD", fill_color=HEAD_FILL),
        padding=(0.8, 1.5),
    ) as table:
        row = table.row()
        for heading in headings:
            row.cell(heading)
        for values in rows:
            row = table.row()
            for value in values:
                row.cell(_show(value))
    pdf.ln(2)


def _show(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return str(value)


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _change(now: int, before: int) -> str:
    if not before:
        return "-"
    return f"{(now - before) / before * 100:+.1f}%"


def _summary(pdf: _Document, report: dict[str, Any]) -> None:
    lang = pdf.report_lang
    _heading(pdf, "summary")
    previous, last_year = report["previous"], report["last_year"]
    headings = [
        text("figure", lang),
        f"{text('this_period', lang)}\n{period_name(report['period'], lang, short=True)}",
        f"{text('previous', lang)}\n{period_name(previous['period'], lang, short=True)}",
        f"{text('last_year', lang)}\n{period_name(last_year['period'], lang, short=True)}",
    ]
    cases = report["cases"]
    rows: list[list[Any]] = [
        [text("cases", lang), cases, previous["cases"], last_year["cases"]],
        [
            text("change", lang),
            "",
            _change(cases, previous["cases"]),
            _change(cases, last_year["cases"]),
        ],
    ]
    # ``closed`` in a period report tells whether the period has ended, not a count.
    for key in ("resolved", "closed_on_behalf", "reopened", "escalated", "sla_breached"):
        rows.append([text(key, lang), report[key], "", ""])
    hours = report.get("resolution_hours") or {}
    rows.append([text("resolution_median", lang), hours.get("median"), "", ""])
    rows.append([text("resolution_p90", lang), hours.get("p90"), "", ""])
    _table(pdf, headings, rows, (66, 38, 38, 38))


def _dimension(pdf: _Document, report: dict[str, Any], dimension: str) -> None:
    lang, org = pdf.report_lang, str(report["org"])
    current = report[dimension]
    previous = report["previous"].get(dimension) or {}
    last_year = report["last_year"].get(dimension) or {}
    groups = list(current) + [g for g in (*previous, *last_year) if g not in current]
    # The table and its chart together on one page when they fit on one.
    chart = 8 + (3 * 3.4 + 2.2) * min(len(groups), CHART_GROUPS)
    together = 16 + 6.5 * (len(groups) + 1) + chart
    _heading(pdf, dimension, need=together if together < 240 else 40)
    names = [group_name(dimension, g, lang, org) for g in groups]
    rows = [
        [name, current.get(g, 0), previous.get(g, 0), last_year.get(g, 0)]
        for g, name in zip(groups, names, strict=True)
    ]
    headings = [
        text("group", lang),
        text("this_period", lang),
        text("previous", lang),
        text("last_year", lang),
    ]
    _table(pdf, headings, rows, (84, 32, 32, 32))
    if groups:
        shown = groups[:CHART_GROUPS]
        _bars(
            pdf,
            [group_name(dimension, g, lang, org) for g in shown],
            [
                (text("this_period", lang), [current.get(g, 0) for g in shown]),
                (text("previous", lang), [previous.get(g, 0) for g in shown]),
                (text("last_year", lang), [last_year.get(g, 0) for g in shown]),
            ],
            _show,
        )


def _sla(pdf: _Document, report: dict[str, Any]) -> None:
    lang, org = pdf.report_lang, str(report["org"])
    headings = [
        text("group", lang),
        text("target", lang),
        text("with_target", lang),
        text("met", lang),
        text("within", lang),
        text("compliance", lang),
        text("median_hours", lang),
        text("p90_hours", lang),
    ]
    for by, dimension in (("by_unit", "by_unit"), ("by_topic", "by_topic")):
        _heading(pdf, f"sla_{by}")
        rows = []
        for group, targets in report["sla"][by].items():
            for target in sorted(targets, key=_target_order):
                f = targets[target]
                rows.append(
                    [
                        group_name(dimension, group, lang, org),
                        group_name("target", target, lang, org),
                        f["cases"],
                        f["met"],
                        f["within_target"],
                        _percent(f["compliance"]),
                        f["median_hours"],
                        f["p90_hours"],
                    ]
                )
        if not rows:
            pdf.cell(0, 6, text("none", lang), new_x="LMARGIN", new_y="NEXT")
            continue
        _table(pdf, headings, rows, (42, 30, 14, 20, 18, 20, 18, 18), left=2)
    units = report["sla"]["by_unit"]
    targets = sorted({t for figures in units.values() for t in figures}, key=_target_order)
    if units and targets:
        _heading(pdf, "compliance_chart", need=20 + 8 * len(units))
        _bars(
            pdf,
            list(units),
            [
                (
                    group_name("target", t, lang, org),
                    [100 * (units[u].get(t) or {}).get("compliance", 0) for u in units],
                )
                for t in targets
            ],
            lambda v: f"{v:.1f}%",
            top=100,
        )


def _target_order(target: str) -> int:
    return TARGETS.index(target) if target in TARGETS else len(TARGETS)


def _satisfaction(pdf: _Document, report: dict[str, Any]) -> None:
    lang = pdf.report_lang
    s = report["satisfaction"]
    _heading(pdf, "satisfaction", need=70)
    _table(
        pdf,
        [text("figure", lang), text("this_period", lang)],
        [
            [text("responses", lang), s["responses"]],
            [text("response_rate", lang), _percent(s.get("response_rate"))],
            [text("average", lang), s["average"]],
            [text("low_scores", lang), s.get("low_scores")],
        ],
        (120, 60),
    )
    scores = s["scores"]
    _bars(
        pdf,
        [f"{text('score', lang)} {n}" for n in scores],
        [(text("responses", lang), list(scores.values()))],
        _show,
    )


def _recurring(pdf: _Document, report: dict[str, Any]) -> None:
    lang, org = pdf.report_lang, str(report["org"])
    _heading(pdf, "recurring")
    issues = report["recurring"]
    if not issues:
        pdf.cell(0, 6, text("none", lang), new_x="LMARGIN", new_y="NEXT")
        return
    _table(
        pdf,
        [text("province", lang), text("district", lang), text("topic", lang), text("cases", lang)],
        [
            [
                i["province"],
                i["district"],
                group_name("by_topic", i["topic"], lang, org),
                i["cases"],
            ]
            for i in issues
        ],
        (40, 40, 75, 25),
        left=3,
    )


def _differences(pdf: _Document, report: dict[str, Any]) -> None:
    changed = (report.get("snapshot") or {}).get("differences") or []
    if not changed:
        return
    lang = pdf.report_lang
    _heading(pdf, "changed_since")
    rows = [[d["figure"], _show(d["frozen"]), _show(d["now"])] for d in changed[:DIFFERENCES_SHOWN]]
    if len(changed) > DIFFERENCES_SHOWN:
        rows.append([f"{text('more', lang)} {len(changed) - DIFFERENCES_SHOWN:,}", "", ""])
    _table(
        pdf,
        [text("figure", lang), text("frozen", lang), text("this_period", lang)],
        rows,
        (100, 40, 40),
    )


def _bars(
    pdf: _Document,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    show: Callable[[Any], str],
    *,
    top: float | None = None,
) -> None:
    """Draw a horizontal bar chart: one band per label, one bar per series, with a legend."""
    label_w, value_w, bar_h, gap = 52.0, 16.0, 3.4, 2.2
    band = bar_h * len(series) + gap
    height = 8 + band * len(labels)
    if pdf.will_page_break(height):
        pdf.add_page()
    left, y = pdf.l_margin, pdf.get_y()
    area = pdf.epw - label_w - value_w
    biggest = top or max((v for _, values in series for v in values), default=0) or 1
    pdf.font(7.5)
    x = left + label_w
    for (name, _), colour in zip(series, SERIES_COLOURS, strict=False):
        pdf.set_fill_color(*colour)
        pdf.rect(x, y + 1, 3, 3, style="F")
        pdf.set_xy(x + 4, y)
        pdf.cell(pdf.get_string_width(name) + 2, 5, name)
        x += pdf.get_string_width(name) + 10
    y += 7
    pdf.set_draw_color(150, 150, 150)
    pdf.line(left + label_w, y - 1, left + label_w, y + band * len(labels) - gap + 1)
    for i, label in enumerate(labels):
        top_y = y + i * band
        pdf.font(8)
        pdf.set_xy(left, top_y)
        pdf.cell(label_w - 2, bar_h * len(series), _fit(pdf, label, label_w - 3), align="R")
        pdf.font(7)
        for j, ((_, values), colour) in enumerate(zip(series, SERIES_COLOURS, strict=False)):
            value = values[i]
            width = area * max(value, 0) / biggest
            pdf.set_fill_color(*colour)
            if width > 0:
                pdf.rect(left + label_w, top_y + j * bar_h, width, bar_h - 0.5, style="F")
            pdf.set_xy(left + label_w + width + 0.8, top_y + j * bar_h - 0.6)
            pdf.cell(value_w, bar_h, show(value))
    pdf.set_xy(left, y + band * len(labels) + 1)
    pdf.set_fill_color(255, 255, 255)
    pdf.font(9.5)


def _fit(pdf: _Document, label: str, width: float) -> str:
    """Shorten ``label`` with an ellipsis until it fits in ``width`` mm."""
    if pdf.get_string_width(label) <= width:
        return label
    while label and pdf.get_string_width(label + "…") > width:
        label = label[:-1]
    return label + "…"
