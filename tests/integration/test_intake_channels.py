"""Intake builds its channels through one interface, each contact channel exactly once."""

from __future__ import annotations

from typing import get_args

from pydantic import SecretStr

from services.intake.app import CHANNELS, create_app
from services.intake.channels.phone import PhoneChannel
from services.intake.settings import IntakeSettings
from shared.bus.inproc import InProcessBus
from shared.messages import Channel as ContactChannel
from shared.store import Store
from tests.support.mail import runtime_on


def test_every_contact_channel_comes_in_through_one_intake_channel(store: Store) -> None:
    runtime = runtime_on(store, InProcessBus())
    names = [open_channel(runtime, IntakeSettings()).name for open_channel in CHANNELS]
    assert sorted(names) == sorted(get_args(ContactChannel))


def test_intake_serves_every_route_its_channels_declare(store: Store) -> None:
    runtime = runtime_on(store, InProcessBus())
    declared = {
        route.path
        for open_channel in CHANNELS
        for router in open_channel(runtime, IntakeSettings()).routers()
        for route in router.routes
    }
    served = set(create_app(runtime).openapi()["paths"])
    assert {"/v1/line/webhook", "/v1/fax/inbound", "/internal/v1/walk-in"} <= declared
    assert declared <= served


def test_ami_listener_runs_only_when_an_ami_host_and_user_are_set(store: Store) -> None:
    runtime = runtime_on(store, InProcessBus())
    assert PhoneChannel(runtime, IntakeSettings(ami_host=None)).background() == []
    configured = IntakeSettings(
        ami_host="127.0.0.1", ami_user="vocdesk", ami_secret=SecretStr("not-a-real-secret")
    )
    assert len(PhoneChannel(runtime, configured).background()) == 1
