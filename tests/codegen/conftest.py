"""Fixtures of the generator tests: the npm tools scripts/test installs (npm ci in tests/codegen)."""

from __future__ import annotations

from pathlib import Path

import pytest
from codegen_testing import npm_tools


@pytest.fixture(scope="session")
def tools() -> Path:
    """The folder of the npm tools' executables; without npm the tests that need them are skipped."""
    found = npm_tools()
    if found is None:
        pytest.skip("npm is not installed: the generators and linters cannot run (scripts/test installs them)")
    return found
