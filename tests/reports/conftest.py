"""Fixtures of the report tests."""

from __future__ import annotations

import importlib.util

import pytest

from benchmarks.screenshot_report import chromium_path
from tests.conftest import unavailable


@pytest.fixture(scope="session")
def chromium() -> None:
    """Skip (locally) or fail (CI=true) without playwright and a Chromium."""
    if importlib.util.find_spec("playwright") is None:
        unavailable("browser", "playwright is not installed (pip install -e .[dev])")
    if chromium_path() is None:
        unavailable("browser", "no Chromium (apt-get install chromium, or set QREPRO_CHROMIUM)")
