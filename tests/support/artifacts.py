"""Where tests leave what a person may want to look at: rendered report pages, screenshots.

``VOCDESK_TEST_ARTIFACTS`` names the folder; by default ``var/test-artifacts``
in the checkout (ignored by git, kept after the run).
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def artifact_dir(name: str) -> Path:
    """Return (and create) the artifacts folder ``name``."""
    root = Path(os.environ.get("VOCDESK_TEST_ARTIFACTS") or REPO / "var" / "test-artifacts")
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder
