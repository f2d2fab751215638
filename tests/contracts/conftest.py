"""A `twin serve` subprocess shared by the suite's end-to-end tests, and a helper to verify it with
one defect switched on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from contracts_testing import get
from twin_process import twin_serve


@pytest.fixture(scope="session")
def twin_url() -> Iterator[str]:
    """A twin serving all three specs (the mutant endpoint switches its defects)."""
    with twin_serve() as twin:
        yield twin.url


@pytest.fixture(scope="session")
def available_mutants(twin_url: str) -> set[str]:
    return set(get(f"{twin_url}/__twin/mutants")["available"])
