"""One running system shared by the end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS
from tests.support.cluster import Cluster, running_cluster

# The browser, the five services and their store share two cores with the rest
# of the suite: a change can take a few seconds to reach the page under load.
expect.set_options(timeout=15_000)


@pytest.fixture(scope="session")
def cluster(mongo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """The five services as processes on RabbitMQ and the embedded store."""
    with running_cluster(mongo_url, Path(tmp_path_factory.mktemp("cluster"))) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, one per test module."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
