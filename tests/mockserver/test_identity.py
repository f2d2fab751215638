"""Bearer tokens (mockserver/identity.py): a token's `exp` holds on every call, not only the first."""

from __future__ import annotations

import jwt
import pytest

from mockserver.errors import ApiError
from mockserver.identity import DEFAULT_SECRET, Authenticator

START = 1_800_000_000.0


def header(**claims: object) -> str:
    token = jwt.encode({"userId": "u-1", "role": "admin", "project": "tutorhub", **claims}, DEFAULT_SECRET,
                       algorithm="HS256")
    return f"Bearer {token}"


def test_a_token_already_seen_is_refused_once_its_exp_has_passed() -> None:
    clock = [START]
    auth = Authenticator([], now=lambda: clock[0])
    authorization = header(exp=int(START) + 60)
    assert auth.authenticate(authorization, "tutorhub").user_id == "u-1"
    clock[0] = START + 59
    assert auth.authenticate(authorization, "tutorhub").user_id == "u-1"

    clock[0] = START + 60
    with pytest.raises(ApiError) as refused:
        auth.authenticate(authorization, "tutorhub")
    assert (refused.value.status, refused.value.message) == (401, "errMsg_invalidToken")
    assert refused.value.detail is not None and refused.value.detail.startswith("the token has expired")


def test_a_token_without_exp_does_not_expire() -> None:
    clock = [START]
    auth = Authenticator([], now=lambda: clock[0])
    authorization = header()
    auth.authenticate(authorization, "tutorhub")
    clock[0] = START * 2
    assert auth.authenticate(authorization, "tutorhub").user_id == "u-1"


@pytest.mark.parametrize("exp", ["tomorrow", True, [1]])
def test_an_exp_that_is_not_a_number_is_refused_naming_it(exp: object) -> None:
    with pytest.raises(ApiError) as refused:
        Authenticator([]).authenticate(header(exp=exp), "tutorhub")
    assert refused.value.status == 401
    assert refused.value.detail == f"the token's exp must be a number of seconds since 1970, not {exp!r}"
