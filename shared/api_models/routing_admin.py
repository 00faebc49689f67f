"""Routing's run-time administration as it answers, which the console passes on to admins:
the rules in force, calendars and their ad-hoc holidays, units' members, SLA policies,
and the log of changes.

Every model keeps what it does not declare (``extra="allow"``), and routes
answering with them leave unset fields out (``response_model_exclude_unset``),
so the JSON is the one routing built.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from shared.api_models.cases import Instant, MemberRead, OpenAnswer


class RulesRead(OpenAnswer):
    """The routing rules in force and where they come from (the file, or saved here)."""

    source: str = Field(description="where the rules in force come from")
    version: int
    updated_by: str | None
    updated_at: Instant | None
    fallback_unit: str = Field(description="the unit a case goes to when no rule matches")
    rules: list[dict[str, Any]] = Field(description="the rules, first match wins")


class HolidayRead(OpenAnswer):
    """An ad-hoc holiday an admin closed a calendar on."""

    date: str = Field(description="the day, YYYY-MM-DD")
    name: str
    by: str
    at: Instant


class CalendarSpecRead(OpenAnswer):
    """A calendar as the organisation's file writes it."""

    id: str
    kind: str = Field(description="24x7 or business_hours")
    periods: dict[str, Any] = Field(description="each weekday's opening periods")
    holidays: list[str] = Field(description="the file's holidays, YYYY-MM-DD")
    public_holidays: str | None = Field(description="whose public holidays it closes on")


class CalendarRead(CalendarSpecRead):
    """A calendar with its ad-hoc holidays."""

    adhoc: list[HolidayRead]


class CalendarsRead(OpenAnswer):
    """Every calendar, with the file's holidays and the ad-hoc ones."""

    calendars: list[CalendarRead]


class AdminUnitRead(OpenAnswer):
    """A unit with the members in force, and whether an admin set them."""

    id: str
    name: str
    kind: str
    assignment: str
    capacity: int
    supervisor: str | None
    members: list[MemberRead]
    overridden: bool = Field(description="whether an admin's members are in force")


class AdminUnitsRead(OpenAnswer):
    """Every unit with the members in force."""

    units: list[AdminUnitRead]


class SlaPolicyRead(OpenAnswer):
    """An SLA policy: what it matches (None: anything), its targets, calendar and escalation."""

    id: str
    category: str | None
    topic: str | None
    urgency: str | None
    tier: str | None
    targets: dict[str, float] = Field(description="each target's span, in seconds")
    calendar: str
    escalation: list[Any] = Field(description="the steps taken as a target's time is used")


class SlaPoliciesRead(OpenAnswer):
    """The SLA policies in force, the calendars, and which policies an admin overrode."""

    policies: list[SlaPolicyRead]
    calendars: list[CalendarSpecRead]
    overridden: list[str]


class AdminChangeRead(OpenAnswer):
    """One change to routing's administration: what, by whom, when."""

    at: Instant
    by: str
    kind: str = Field(description="rules, calendar, units or sla_policy")
    target: str
    action: str = Field(description="put, delete or revert")
    detail: dict[str, Any]


class AdminChangesRead(OpenAnswer):
    """The changes to routing's administration, newest first."""

    items: list[AdminChangeRead]


# What one of routing's administration paths answers, by path.
RoutingAdminRead = (
    RulesRead
    | CalendarsRead
    | CalendarRead
    | AdminUnitsRead
    | AdminUnitRead
    | SlaPoliciesRead
    | AdminChangesRead
)
