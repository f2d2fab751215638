"""Body validation: a fast validator (jsonschema-rs) may accept a body first, but only one that the
validator whose failures make the messages (fastjsonschema) accepts too, so the twin's verdict is
fastjsonschema's — checked here on every request body of the committed specs, with bodies a
client could send, valid and not."""

from __future__ import annotations

import string
from typing import Any

import fastjsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver.errors import ApiError
from mockserver.validation import DRAFT, compile_body, fast_acceptor
from specs.build import default_spec_paths, load_spec
from specs.values import DATETIME_PATTERN, UUID_PATTERN


def _body_schemas() -> list[tuple[str, dict[str, Any]]]:
    schemas = []
    for path in default_spec_paths():
        document = load_spec(path)
        for route, item in document["paths"].items():
            for method, op in item.items():
                schema = (op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
                          if isinstance(op, dict) else None)
                if schema:
                    schemas.append((f"{path.stem} {method.upper()} {route}", schema))
    return schemas


SCHEMAS = _body_schemas()

# Strings near the generator's patterns: valid ones, and ones a client gets slightly wrong.
_near = st.sampled_from([
    "2024-03-19T12:13:54.124Z", "2024-03-19T12:13:54Z", "2024-02-29T00:00:00+05:30", "2023-02-29T00:00:00Z",
    "2024-03-19t12:13:54z", "2024-03-19T12:13:60Z", "2024-03-19T12:13:54+0530", "2024-03-19T12:13:54.1234567Z",
    "2024-03-19", "2024-03-19T12:13:54.124Z\n", "٢٠٢٤-03-19T12:13:54Z", "3fbc6b68-32a6-4e4b-91f6-2e4ba9239f9d",
    "3FBC6B68-32A6-4E4B-91F6-2E4BA9239F9D", "3fbc6b68-32a6-4e4b-91f6-2e4ba9239f9", "3fbc6b68-32a6-4e4b-91f6-2e4ba9239f9d\n",
    "3fbc6b6832a64e4b91f62e4ba9239f9d", "", "active", "Active", "ACTIVE",
])
_scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=False, allow_infinity=False),
                     st.text(string.printable, max_size=12), _near, st.from_regex(f"^{UUID_PATTERN}$", fullmatch=True),
                     st.from_regex(DATETIME_PATTERN, fullmatch=True))
_json = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                     max_leaves=8)


@st.composite
def _bodies(draw: st.DrawFn, schema: dict[str, Any]) -> Any:
    """An object with the schema's properties, each valid-looking or not, some left out, maybe an extra."""
    if draw(st.integers(0, 9)) == 0:
        return draw(_json)
    body: dict[str, Any] = {}
    for name, sub in (schema.get("properties") or {}).items():
        if draw(st.integers(0, 5)) == 0:
            continue
        options = [o for o in sub.get("enum", []) if o is not None]
        choices = [_json, _scalars] + ([st.sampled_from(options)] if options else [])
        if sub.get("type") == "array" or "array" in (sub.get("type") or []):
            choices.append(st.lists(st.one_of(*choices), max_size=3))
        body[name] = draw(st.one_of(*choices))
    if draw(st.booleans()):
        body[draw(st.text(max_size=6))] = draw(_scalars)
    return body


@pytest.mark.parametrize(("where", "schema"), SCHEMAS, ids=[where for where, _ in SCHEMAS])
def test_the_fast_validator_accepts_only_what_fastjsonschema_accepts_on_every_body_schema_of_the_specs(
        where: str, schema: dict[str, Any]) -> None:
    accepts = fast_acceptor(schema)
    assert accepts is not None, f"{where}: the generator's keywords should all be shared"
    check = fastjsonschema.compile({"$schema": DRAFT, **schema})
    validate = compile_body(schema)

    @settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(_bodies(schema))
    def agree(body: Any) -> None:
        try:
            check(body)
            expected = True
        except fastjsonschema.JsonSchemaValueException:
            expected = False
        if accepts(body):  # it may refuse more (non-ASCII digits in a date): fastjsonschema then decides
            assert expected, body
        try:
            validate(body)
            verdict = True
        except ApiError:
            verdict = False
        assert verdict == expected, body

    agree()


def test_a_schema_with_keywords_the_engines_may_read_differently_stays_on_fastjsonschema() -> None:
    assert fast_acceptor({"type": "object", "properties": {"n": {"type": "integer", "default": 3}}}) is None
    assert fast_acceptor({"type": "string", "pattern": "^\\w+$"}) is None  # a regex the generator does not write
    assert fast_acceptor({"type": "string", "format": "email"}) is None
    assert fast_acceptor({"enum": [1, 2]}) is None
    assert fast_acceptor({"type": "object", "properties": {"a": {"$ref": "#/x"}}}) is None


def test_an_invalid_body_is_still_described_by_field_and_rule() -> None:
    validate = compile_body({"type": "object", "properties": {"orderId": {"type": "string", "format": "uuid",
                                                                          "pattern": f"^{UUID_PATTERN}$"}},
                             "required": ["orderId"]})
    assert validate({"orderId": "3fbc6b68-32a6-4e4b-91f6-2e4ba9239f9d"}) == {"orderId": "3fbc6b68-32a6-4e4b-91f6-2e4ba9239f9d"}
    with pytest.raises(ApiError) as missing:
        validate({})
    assert missing.value.message == "errMsg_orderIdisRequired"
    with pytest.raises(ApiError) as wrong:
        validate({"orderId": "nope"})
    assert wrong.value.message == "errMsg_orderIdisNotAValidID"


def test_integral_numbers_for_integer_fields_come_back_as_integers_on_the_fast_path_too() -> None:
    validate = compile_body({"type": "object", "properties": {"count": {"type": "integer", "minimum": 0}}})
    assert fast_acceptor({"type": "object", "properties": {"count": {"type": "integer", "minimum": 0}}}) is not None
    body = validate({"count": 3.0})
    assert body == {"count": 3} and isinstance(body["count"], int)


@pytest.mark.parametrize("value", ["٢٠٢٤-03-19T12:13:54Z", "２０２４-03-19T12:13:54Z", "2024-03-19T12:13:5\u0664Z"])
def test_a_date_written_with_another_scripts_digits_is_refused_as_a_backend_refuses_it(value: str) -> None:
    schema = {"type": "object", "properties": {"scheduledAt": {"type": "string", "pattern": DATETIME_PATTERN}}}
    validate = compile_body(schema)
    assert validate({"scheduledAt": "2024-03-19T12:13:54Z"}) == {"scheduledAt": "2024-03-19T12:13:54Z"}
    with pytest.raises(ApiError) as refused:
        validate({"scheduledAt": value})
    assert (refused.value.status, refused.value.message) == (400, "errMsg_scheduledAtisNotAValidDate")
