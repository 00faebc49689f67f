"""Routing's management reports as JSON, which the console passes on: a month's statistics,
a month's or a quarter's report with its comparisons.

Reports hold counts and categories only, never a customer. The figures are
documented; every model keeps what it does not declare (``extra="allow"``),
and routes answering with them leave unset fields out
(``response_model_exclude_unset``), so the JSON is the one routing built.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from shared.api_models.cases import OpenAnswer


class ResolutionHoursRead(OpenAnswer):
    """How long resolving took, in hours (None without a resolved case)."""

    median: float | None
    p90: float | None


class SatisfactionRead(OpenAnswer):
    """The customers' ratings: how many, their average, how many of each score 1-5."""

    responses: int
    average: float | None
    scores: dict[str, int] = Field(description="how many ratings of each score, by score")


class MonthlyReportRead(OpenAnswer):
    """A month's statistics: cases by status, category, topic, channel, unit and urgency."""

    period: str = Field(description="the month, YYYY-MM")
    org: str
    cases: int = Field(description="cases opened in the month")
    by_status: dict[str, int]
    by_category: dict[str, int]
    by_topic: dict[str, int]
    by_channel: dict[str, int]
    by_unit: dict[str, int]
    by_urgency: dict[str, int]
    sla_breached: int
    reopened: int
    resolved: int
    resolution_hours: ResolutionHoursRead
    closed: int
    closed_on_behalf: int
    satisfaction: SatisfactionRead


class SnapshotRead(OpenAnswer):
    """When a closed period's report was frozen, and what changed in its figures since."""

    frozen_at: Any = Field(description="when the report was frozen")
    differences: list[dict[str, Any]] = Field(
        description="each figure that differs now: its name, the frozen value and today's"
    )


class PeriodReportRead(OpenAnswer):
    """A month's or a quarter's report, with the period before and the same one a year before."""

    period: str = Field(description="the period, YYYY-MM or YYYY-Qn")
    org: str
    kind: str = Field(description="monthly or quarterly")
    cases: int
    closed: bool = Field(description="whether the period is over (its report is then frozen)")
    previous: dict[str, Any] = Field(description="the period before's figures")
    last_year: dict[str, Any] = Field(description="the same period a year before's figures")
    snapshot: SnapshotRead | None = Field(
        default=None, description="a closed period's frozen report and what changed since"
    )
