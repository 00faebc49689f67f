"""Threading decisions: which contacts join, reopen, rate or open a case, and which do nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from services.routing.cases import threads
from services.routing.cases.domain import Case, Closure
from services.routing.org.config import Threading
from shared.clock import BANGKOK
from shared.ids import new_id
from shared.messages import ContactScreened, ThreadKeys
from tests.support.messages import screened_message

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=BANGKOK)
POLICY = Threading(
    join_window={"line": timedelta(hours=72), "phone": timedelta(hours=24)},
    reopen_within=timedelta(days=7),
)
SUBJECT = "sub_customer"


def case(
    status: str = "routed", *, last_contact: timedelta = timedelta(hours=1), **kw: Any
) -> Case:
    """Return a case of SUBJECT whose last contact was ``last_contact`` ago."""
    fields: dict[str, Any] = {
        "id": new_id(),
        "number": "VOC-2026-000123",
        "org": "pea",
        "status": status,
        "channel": "line",
        "subject_ref": SUBJECT,
        "last_contact_at": NOW - last_contact,
        "created_at": NOW - last_contact,
        "updated_at": NOW - last_contact,
    }
    return Case.model_validate(fields | kw)


def resolved(days_ago: float, status: str = "resolved") -> Case:
    """Return SUBJECT's case resolved ``days_ago``."""
    at = NOW - timedelta(days=days_ago)
    extra: dict[str, Any] = {"resolution": {"summary": "fixed", "by": "a", "at": at}}
    if status == "closed":
        extra["closure"] = Closure(acknowledged_at=at, channel="line", score=5)
    return case(status, last_contact=timedelta(days=days_ago + 1), **extra)


def contact(channel: str = "line", **overrides: Any) -> ContactScreened:
    """Return a contact from SUBJECT."""
    fields: dict[str, Any] = {"channel": channel, "subject_ref": SUBJECT, "received_at": NOW}
    return screened_message(**(fields | overrides))


def decide(
    message: ContactScreened, *, referenced: Case | None = None, mine: tuple[Case, ...] = ()
) -> threads.Decision:
    """Decide with the test policy at NOW."""
    return threads.decide(
        message, referenced=referenced, subject_cases=mine, policy=POLICY, now=NOW
    )


def test_an_email_reply_joins_the_case_its_in_reply_to_names() -> None:
    open_case = case()
    reply = contact(
        "email", thread=ThreadKeys(in_reply_to="<m1@x>", references=("<m0@x>", "<m1@x>"))
    )

    _, ids = threads.references(reply)
    decision = decide(reply, referenced=open_case)

    assert ids == ["<m1@x>", "<m0@x>"]  # the direct parent first
    assert (decision.action, decision.case_id) == ("join", open_case.id)


def test_an_email_subject_tag_names_the_case() -> None:
    reply = contact("email", subject="Re: [VOC-2026-000777] ไฟตก")

    assert threads.references(reply)[0] == ["VOC-2026-000777"]


def recorded(role: str, unit: str | None = None, **overrides: Any) -> ContactScreened:
    """Return a walk-in naming VOC-2026-000123, recorded at a counter by ``role``."""
    meta = {"recorded_by": "counter.staff", "recorded_role": role, "recorded_unit": unit}
    fields: dict[str, Any] = {
        "subject_ref": "sub_other",
        "thread": ThreadKeys(case_number="VOC-2026-000123"),
        "meta": meta,
    }
    return contact("walk_in", **(fields | overrides))


def test_a_walk_in_naming_a_case_number_joins_that_case_when_its_recorder_may_work_it() -> None:
    open_case = case(unit="pea-chiangmai")

    by_agent = recorded("agent")
    by_member = recorded("unit_member", "pea-chiangmai")

    assert threads.references(by_agent)[0] == ["VOC-2026-000123"]
    assert decide(by_agent, referenced=open_case).action == "join"
    assert decide(by_member, referenced=open_case).action == "join"


def test_a_walk_in_a_unit_member_records_never_lands_on_another_units_case() -> None:
    theirs = case(unit="pea-billing")
    resolved_theirs = resolved(1).model_copy(update={"unit": "pea-billing"})

    naming = decide(recorded("unit_member", "pea-chiangmai"), referenced=theirs)
    reopening = decide(
        recorded("unit_member", "pea-chiangmai", subject_ref=SUBJECT), referenced=resolved_theirs
    )

    assert (naming.action, naming.related_case) == ("open", theirs.id)
    assert (reopening.action, reopening.related_case) == ("open", resolved_theirs.id)


def test_a_contact_naming_someone_elses_case_opens_a_new_case_linked_to_it() -> None:
    theirs = case()
    tagged = contact(
        "email", subject_ref="sub_stranger", subject="[VOC-2026-000123] consent granted"
    )
    unrecorded_visit = contact(
        "walk_in", subject_ref="sub_stranger", thread=ThreadKeys(case_number=theirs.number)
    )

    for message in (tagged, unrecorded_visit):
        decision = decide(message, referenced=theirs)
        assert (decision.action, decision.case_id) == ("open", None)
        assert decision.related_case == theirs.id


def test_a_reply_from_the_cases_own_customer_still_joins_by_its_tag() -> None:
    mine = case()

    decision = decide(contact("email", subject="Re: [VOC-2026-000123]"), referenced=mine)

    assert (decision.action, decision.case_id) == ("join", mine.id)


def test_a_line_consent_answer_from_the_customer_sets_their_newest_open_cases_consent() -> None:
    older = case(last_contact=timedelta(hours=5))
    newer = case(last_contact=timedelta(hours=1))
    meta = {"postback_action": "consent", "postback_choice": "granted"}

    decision = decide(contact(flags=("postback",), meta=meta), mine=(older, newer))

    assert (decision.action, decision.case_id, decision.consent) == ("consent", newer.id, "granted")


def test_a_consent_answer_naming_someone_elses_case_changes_nothing() -> None:
    theirs = case(subject_ref="sub_owner")
    meta = {"postback_action": "consent", "postback_choice": "granted", "postback_case": "x"}

    decision = decide(contact(flags=("postback",), meta=meta), referenced=theirs)

    assert decision.action == "ignore"
    assert "someone else" in decision.reason


def test_a_line_message_from_the_same_customer_within_the_window_joins_their_open_case() -> None:
    mine = case(last_contact=timedelta(hours=30))

    decision = decide(contact("line"), mine=(mine,))

    assert (decision.action, decision.case_id) == ("join", mine.id)


def test_a_line_message_after_the_window_opens_a_new_case() -> None:
    mine = case(last_contact=timedelta(hours=80))

    assert decide(contact("line"), mine=(mine,)).action == "open"


def test_a_repeat_call_joins_the_callers_open_case() -> None:
    mine = case(last_contact=timedelta(hours=3), channel="phone")

    decision = decide(contact("phone"), mine=(mine,))

    assert (decision.action, decision.case_id) == ("join", mine.id)


def test_a_follow_up_within_days_of_resolution_reopens_the_case() -> None:
    mine = resolved(days_ago=3)

    decision = decide(contact("line"), mine=(mine,))

    assert (decision.action, decision.case_id) == ("reopen", mine.id)


def test_a_reply_to_a_long_closed_case_opens_a_new_case_linked_to_it() -> None:
    old = resolved(days_ago=30, status="closed")

    decision = decide(contact("email", thread=ThreadKeys(case_number=old.number)), referenced=old)

    assert (decision.action, decision.related_case) == ("open", old.id)


@pytest.mark.parametrize(
    "flag",
    [
        "follow",
        "unfollow",
        "sticker",
        "location",
        "unsend",
        "unknown_event",
        "bulk",
        "auto_reply",
        "bounce",
    ],
)
def test_a_contact_that_is_not_a_complaint_never_opens_a_case(flag: str) -> None:
    decision = decide(contact(flags=(flag,)))

    assert decision.action == "ignore"


@pytest.mark.parametrize("flag", ["sticker", "location"])
def test_a_sticker_or_location_from_a_customer_with_an_open_case_joins_it(flag: str) -> None:
    mine = case(last_contact=timedelta(days=10))  # joins even after the text window

    decision = decide(contact(flags=(flag,)), mine=(mine,))

    assert (decision.action, decision.case_id) == ("join", mine.id)


def test_a_sticker_after_resolution_does_not_reopen_the_case() -> None:
    assert decide(contact(flags=("sticker",)), mine=(resolved(days_ago=1),)).action == "ignore"


def test_an_image_alone_opens_a_case() -> None:
    assert decide(contact(flags=("media",), text="")).action == "open"


def test_an_abandoned_call_becomes_a_callback_and_our_callback_an_attempt() -> None:
    assert decide(contact("phone", flags=("abandoned",))).action == "callback"
    assert decide(contact("phone", flags=("callback_attempt",))).action == "callback_attempt"


def test_an_out_of_office_reply_is_kept_on_the_case_it_names_and_changes_nothing() -> None:
    mine = case("pending_customer")

    decision = decide(contact("email", flags=("auto_reply",)), referenced=mine)

    assert (decision.action, decision.passive) == ("join", True)


def test_a_csat_postback_from_the_cases_customer_rates_it() -> None:
    mine = resolved(days_ago=0.1)
    meta = {"postback_action": "csat", "postback_case": mine.number, "postback_score": 4}
    postback = contact(flags=("postback",), meta=meta)

    rating = threads.rating_of(postback)
    decision = decide(postback, referenced=mine)

    assert rating is not None
    assert (rating.case_number, rating.score) == (mine.number, 4)
    assert (decision.action, decision.case_id) == ("rate", mine.id)


def test_a_csat_postback_from_another_account_or_for_an_open_case_is_ignored() -> None:
    meta = {"postback_action": "csat", "postback_case": "VOC-2026-000123", "postback_score": 5}

    stranger = decide(
        contact(flags=("postback",), meta=meta, subject_ref="sub_x"), referenced=resolved(1)
    )
    early = decide(contact(flags=("postback",), meta=meta), referenced=case())

    assert stranger.action == "ignore"
    assert "someone else" in stranger.reason
    assert early.action == "ignore"


def test_a_subject_flagged_as_an_identity_conflict_is_never_threaded() -> None:
    mine = case(last_contact=timedelta(hours=1))

    assert decide(contact(flags=("identity_conflict",)), mine=(mine,)).action == "open"
