"""Debian's chromium, as Playwright launches it here (`playwright install` cannot download a browser)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# What this machine's chromium needs headless; without the background-networking flags it keeps
# trying Google's hosts, which the closed network refuses. Playwright gives each launch a fresh,
# empty user-data dir of its own.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail("Browser tests need Debian's chromium: `apt-get install chromium` (bin/setup --dev does it).")
    return path
