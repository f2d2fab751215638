"""`twin verify` against a twin whose control API needs a token (`twin serve --control-token`)."""

from __future__ import annotations

import pytest
from contracts_testing import TUTORHUB
from twin_process import twin_serve

from contracts.target import ConfigError, build_target


def test_a_guarded_twin_is_discovered_with_its_control_token():
    with twin_serve("--spec", str(TUTORHUB), "--control-token", "ctl-token") as twin:
        url = twin.url
        with pytest.raises(ConfigError, match="--control-token"):
            build_target(base_url=url, environ={})
        for target in (build_target(base_url=url, control_token="ctl-token", environ={}),
                       build_target(base_url=url, environ={"TWIN_CONTROL_TOKEN": "ctl-token"}),
                       build_target(base_url=url, config={"controlToken": "ctl-token"}, environ={})):
            [service] = target.services
            assert service.project == "tutorhub" and service.identity("admin") is not None
            slots = service.records("lessonSlots")
            assert slots and all("id" in slot for slot in slots)
