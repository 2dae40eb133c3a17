"""Headless Chromium for the browser tests: Debian's package at /usr/bin/chromium driven by Playwright
(Playwright's own browser download is not used), and where screenshots go."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "tests" / "output" / "screenshots"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
VIEWPORT: Any = {"width": 1440, "height": 1000}
READY_MS = 20_000

E2E = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's Chromium at /usr/bin/chromium (apt-get install -y chromium; CI installs it)",
    ),
]
"""The marks every browser test module sets as its `pytestmark`."""
