"""Submitting contacts and finding their cases, as an integrator would."""

from __future__ import annotations

import time
from typing import Any

import httpx

from shared.ids import new_id
from tests.support.cluster import APP_KEY, Cluster


def post_app_contact(
    cluster: Cluster, body: dict[str, Any], key: str | None = None
) -> httpx.Response:
    """Submit a contact on the app channel."""
    return httpx.post(
        cluster.url("intake") + "/v1/app/contacts",
        json=body,
        headers={"Authorization": f"Bearer {APP_KEY}", "Idempotency-Key": key or new_id()},
        timeout=10,
    )


def find_case(cluster: Cluster, token: str, marker: str, timeout: float = 30) -> dict[str, Any]:
    """Wait for the case whose text holds ``marker`` and return it from the list."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = httpx.get(
            cluster.url("console") + "/api/v1/cases",
            params={"q": marker},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        response.raise_for_status()
        items = response.json()["items"]
        if items:
            return dict(items[0])
        time.sleep(0.3)
    raise AssertionError(f"no case for {marker}\n{cluster.logs()[-4000:]}")
