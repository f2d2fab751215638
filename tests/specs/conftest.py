"""Fixtures for the spec deriver's tests: the three guides parsed once (`services`), their specs as
emitted now (`specs`) and as committed (`committed_specs`), and a fresh `synthetic` guide."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from specs_testing import SLUGS, SyntheticGuide, guide_path

from specs.build import OPENAPI_DIR, load_spec, render_yaml
from specs.emitter import emit_openapi
from specs.model import Service
from specs.overlay import with_overlay
from specs.parser import parse_guide_file

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@pytest.fixture(scope="session")
def services() -> dict[str, Service]:
    """Each guide parsed once, by slug."""
    return {slug: parse_guide_file(guide_path(slug)) for slug in SLUGS}


@pytest.fixture(scope="session")
def specs(services: dict[str, Service]) -> dict[str, dict[str, Any]]:
    """Each guide's spec as the deriver emits it now (with its role overlay, through its YAML text, as
    `build` writes it), by slug. `test_specs_cli` proves the committed files are exactly this text."""
    return {slug: yaml.load(render_yaml(emit_openapi(with_overlay(service, guide_path(slug)))), Loader=_LOADER)
            for slug, service in services.items()}


@pytest.fixture(scope="session")
def committed_specs() -> dict[str, dict[str, Any]]:
    """Each committed spec (`specs/openapi/<slug>.yaml`) loaded once, by slug."""
    return {slug: load_spec(OPENAPI_DIR / f"{slug}.yaml") for slug in SLUGS}


@pytest.fixture
def synthetic() -> SyntheticGuide:
    """A fresh synthetic guide; vary its parts, then call `.text()` or `.write(folder)`."""
    return SyntheticGuide()
