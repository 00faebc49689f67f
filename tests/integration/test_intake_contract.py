"""Intake answers as its OpenAPI description says, for whatever schemathesis sends.

Every built-in check (``--checks all``) runs against intake in process over
ASGI, on the real store and a real RabbitMQ virtual host of this module's
own, with valid credentials on each generated request so the bodies reach
the code behind authentication: app key, PBX token, the service token and a
fresh acting assertion, and LINE and fax signatures computed over the exact
bytes sent. Schemathesis' own probes remove or spoil those credentials to see
that they are enforced. Examples are bounded and the seed fixed, so a failure
found once is found on every run.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from pymongo import MongoClient
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import positive_data_acceptance

from services.intake.app import create_app
from services.intake.channels.fax import channel as fax_channel
from services.intake.limits import Limit
from shared.bus.amqp import AmqpBus
from shared.embedded import free_port
from shared.ids import new_id
from shared.runtime import Runtime, open_store
from shared.settings import Settings
from tests.support.acting import acting_headers
from tests.support.broker import private_vhost

pytestmark = pytest.mark.integration

APP_KEY = "app-key-contract"
PBX_TOKEN = "pbx-token-contract"
LINE_SECRET = "line-secret-contract"
FAX_SECRET = "fax-secret-contract"
SERVICE_TOKEN = "service-token-contract"
# Asks the signing session for a signature over the bytes it is about to send.
SIGN = "sign-me"
EXAMPLES = 50
# Positive (schema-valid) bodies that the doors still refuse with 422. The
# schemas cannot say everything the doors check: an app contact needs text or
# an attachment, a time must not be a day ahead of intake's clock, a hangup
# needs a cause and only a hangup has one, a fax's metadata part is JSON.
POSITIVE_STATUSES = ["2xx", "401", "403", "404", "409", "413", "422", "429"]
UNLIMITED = {
    f"rate_{who}_{what}": 1_000_000.0 if what == "per_s" else 1_000_000
    for who in ("app", "app_user", "line", "line_user", "pbx", "caller")
    for what in ("per_s", "burst")
}


class SigningClient(asgi.ASGIClient):
    """Schemathesis' ASGI client that signs LINE and fax bodies marked for signing."""

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        body = request.body or b""
        raw = body.encode() if isinstance(body, str) else body
        if request.headers.get("x-line-signature") == SIGN:
            digest = hmac.new(LINE_SECRET.encode(), raw, hashlib.sha256).digest()
            request.headers["x-line-signature"] = base64.b64encode(digest).decode()
        if request.headers.get("X-Fax-Signature") == SIGN:
            request.headers["X-Fax-Signature"] = hmac.new(
                FAX_SECRET.encode(), raw, hashlib.sha256
            ).hexdigest()
        return super().send(request, **kwargs)


@pytest.fixture(scope="module")
def settings() -> Settings:
    return Settings(
        mongo_db_prefix=f"c{new_id().lower()[-10:]}",
        app_api_keys=[APP_KEY],
        cti_tokens=[PBX_TOKEN],
        line_channel_secret=LINE_SECRET,
        line_channel_token="line-token-contract",
        line_api_base="http://127.0.0.1:9",  # media fetches fail fast, on this host
        fax_hmac_secret=FAX_SECRET,
        service_token=SERVICE_TOKEN,
        smtp_port=free_port(),  # intake's own listener; 2525 may be taken
        **UNLIMITED,
    )


@pytest.fixture(scope="module")
def intake_schema(mongo_url: str, settings: Settings) -> Iterator[Any]:
    with private_vhost("intake-contract") as amqp_url, pytest.MonkeyPatch.context() as patch:
        patch.setattr(fax_channel, "FAX_LIMIT", Limit(per_second=1_000_000, burst=1_000_000))
        runtime = Runtime(
            service="intake",
            settings=settings,
            bus=AmqpBus(amqp_url),
            store=open_store(settings, "intake", mongo_url),
        )
        app = create_app(runtime)
        # Loading the schema starts the app's lifespan (bus, indexes, loops) on
        # schemathesis' event loop thread, where every request then runs.
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        schema.config.seed = 20261202
        schema.config.generation.update(max_examples=EXAMPLES)
        schema.config.checks.update(included_check_names=["all"])
        schema.config.checks.positive_data_acceptance.expected_statuses = POSITIVE_STATUSES
        try:
            yield schema
        finally:
            # Ends this app's lifespan only (bus and store closed before the vhost
            # goes); shutdown_lifespans() would end other modules' apps too.
            lifespan = asgi._LIFESPANS.pop(id(app), None)
            if lifespan is not None:
                lifespan.stop()
            with MongoClient(mongo_url) as raw:
                raw.drop_database(f"{settings.mongo_db_prefix}_intake")


schema = schemathesis.pytest.from_fixture("intake_schema")


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    # Schemathesis 4's fixture-loaded schemas name each operation's subtest by
    # rewriting ``Node._nodeid``, which pytest 9 no longer sets.
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


SUBMISSIONS = itertools.count()
# The credential header each door declares, and the valid value to send in it.
CREDENTIALS = {
    "/v1/app/contacts": ("Authorization", f"Bearer {APP_KEY}"),
    "/v1/phone/events": ("Authorization", f"Bearer {PBX_TOKEN}"),
    "/v1/line/webhook": ("x-line-signature", SIGN),
    "/v1/fax/inbound": ("X-Fax-Signature", SIGN),
}


def credentials(case: Any, settings: Settings) -> None:
    """Make the credentials schemathesis put on ``case`` valid ones.

    A case schemathesis left without its credential header (a missing-header
    test) stays without one.
    """
    path = case.operation.path
    headers = dict(case.headers or {})
    if path in CREDENTIALS:
        name, value = CREDENTIALS[path]
        for sent in [h for h in headers if h.lower() == name.lower()]:
            headers[sent] = value
    elif path.startswith("/internal/"):
        # The service token and the acting assertion are not in the description.
        headers |= acting_headers(
            audience="intake",
            token=SERVICE_TOKEN,
            role="agent",
            acting_key=settings.acting_key.get_secret_value(),
        )
    for sent in [h for h in headers if h.lower() == "idempotency-key"]:
        key = headers[sent]
        if isinstance(key, str) and 1 <= len(key) <= 200:
            # A valid key made unique, so a generated body is a new submission
            # rather than a conflict with another case's "0".
            headers[sent] = f"{key[:160]}~{next(SUBMISSIONS)}"
    case.headers = headers


# ``/readyz`` answers 503 with its reasons while the bus or the store is slow to
# answer (a loaded machine): its documented answer, not a server error. Its body
# is still checked against the description.
NOT_READY_IS_AN_ANSWER = {"/readyz"}


@schema.parametrize()
def test_intake_answers_as_its_openapi_says(case: Any, settings: Settings) -> None:
    credentials(case, settings)
    excluded = []
    if case.operation.path in NOT_READY_IS_AN_ANSWER:
        excluded = [not_a_server_error, positive_data_acceptance]
    with SigningClient(case.operation.app) as client:
        response = case.call_and_validate(session=client, excluded_checks=excluded)
    if response.status_code == 503 and case.operation.path in NOT_READY_IS_AN_ANSWER:
        report = response.json()
        assert report["ready"] is False, response.text
        assert report["reasons"], response.text
        return
    assert response.status_code < 500, response.text
