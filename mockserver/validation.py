"""Request validation compiled from the spec: parameters and JSON bodies.

Bodies are validated with fastjsonschema (the spec's schemas compiled once to Python code), whose
failures name the rule and field a message is made of. A body a schema of the generator's keywords
accepts is accepted first by jsonschema-rs (Schemathesis's validator, compiled Rust: five times
faster on a create's body), which agrees with fastjsonschema on every such schema; parameters arrive as strings and are coerced by their schema type. Every failure becomes a 400
whose message follows the guides' `errMsg_<field>isNotAValid…` style and whose detail names the
field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import fastjsonschema
import jsonschema_rs

from specs.values import DATETIME_PATTERN, UUID_PATTERN

from .errors import ApiError

DRAFT = "https://json-schema.org/draft/2019-09/schema"
_TYPE_WORDS = {"integer": "Integer", "number": "Number", "boolean": "Boolean", "string": "String",
               "object": "Object", "array": "Array"}


@dataclass(frozen=True)
class Expectation:
    """A valid value in words: `word` completes `errMsg_<name>isNotAValid<word>`, `phrase` the
    detail `<name> must be <phrase>`."""

    word: str
    phrase: str


@dataclass
class CompiledParam:
    """A path/query/header parameter with its coercion and validation ready."""

    name: str
    location: str
    required: bool
    is_array: bool
    paging: bool
    check: Callable[[Any], None]
    coerce: Callable[[str], Any]
    # What a valid value is, in the user's words, when the schema alone would only say "a pattern"
    # (a list filter's options, a UUID, a date or special): (errMsg word, phrase). See `Expectation`.
    expects: Expectation | None = None

    def parse(self, raw: list[str]) -> Any:
        """Coerce and validate the raw string value(s); raises ApiError (400)."""
        try:
            value: Any = [self.coerce(r) for r in raw] if self.is_array else self.coerce(raw[-1])
        except ValueError:
            raise _type_error(self.name, self._word()) from None
        try:
            self.check(value)
        except fastjsonschema.JsonSchemaValueException as error:
            raise describe(error, self.name, expects=self.expects) from None
        return value

    def _word(self) -> str:
        return "ID" if self.name.endswith("Id") else "Value"


def _scalar_coercer(schema: dict[str, Any]) -> Callable[[str], Any]:
    kind = schema.get("type")
    kind = next((k for k in kind if k != "null"), "string") if isinstance(kind, list) else kind
    if kind == "integer":
        return int
    if kind == "number":
        return float
    if kind == "boolean":
        def boolean(raw: str) -> bool:
            if raw.lower() in ("true", "1"):
                return True
            if raw.lower() in ("false", "0"):
                return False
            raise ValueError(raw)
        return boolean
    return str


def _case_folded(check: Callable[[Any], Any], schema: dict[str, Any]) -> Callable[[Any], Any]:
    """`check`, taking the schema's enum options in any letter case (the guide's case-insensitive
    enum filters: the spec lists the options as written, so generators offer them)."""
    options = (schema.get("items") or schema).get("enum") or []
    canonical = {o.lower(): o for o in options if isinstance(o, str)}

    def fold(value: Any) -> Any:
        return canonical.get(value.lower(), value) if isinstance(value, str) else value

    def folded(value: Any) -> Any:
        return check([fold(v) for v in value] if isinstance(value, list) else fold(value))

    return folded


def compile_param(param: dict[str, Any], *, case_insensitive: bool = False, paging: bool = False) -> CompiledParam:
    """Compile one OpenAPI parameter object; `case_insensitive` (a filter the guide calls
    case-insensitive) takes its options in any letter case, `paging` marks pageNumber/pageRowCount
    (both facts come from the spec's extensions, read by `specindex`)."""
    schema = dict(param.get("schema") or {"type": "string"})
    is_array = schema.get("type") == "array"
    coerce = _scalar_coercer(schema.get("items", {}) if is_array else schema)
    check = fastjsonschema.compile({"$schema": DRAFT, **schema})
    if case_insensitive:
        check = _case_folded(check, schema)
    return CompiledParam(
        name=param["name"], location=param["in"], required=bool(param.get("required")), is_array=is_array,
        paging=paging, check=check, coerce=coerce,
    )


def compile_body(schema: dict[str, Any]) -> Callable[[Any], Any]:
    """Compile a request-body schema; the callable raises ApiError (400) on invalid input and
    answers the body with integral numbers sent for integer fields (`-519500.0`) made integers."""
    check = fastjsonschema.compile({"$schema": DRAFT, **schema})
    integers = integer_fixer(schema) or (lambda value: value)
    accepts = fast_acceptor(schema)

    def validate(body: Any) -> Any:
        if accepts is not None and accepts(body):
            return integers(body)
        try:
            checked = check(body)
        except fastjsonschema.JsonSchemaValueException as error:
            raise describe(error, None, body) from None
        return integers(checked)

    return validate


# The keywords (and, for `pattern` and `format`, the values) whose meaning fastjsonschema and
# jsonschema-rs share for a JSON body: the ones the guide generator writes. `uuid` is a format
# neither checks; the generator's date-time pattern only takes what fastjsonschema's date-time
# format takes. Anything else (a hand-written spec's `default`, which fastjsonschema fills in, a
# regex the two engines may read differently, …) keeps a schema on fastjsonschema alone.
_SHARED_KEYWORDS = frozenset({"type", "properties", "required", "additionalProperties", "items", "enum",
                              "minLength", "maxLength", "minimum", "maximum", "minItems", "maxItems",
                              "pattern", "format", "description", "title", "example", "examples"})
_SHARED_PATTERNS = frozenset({f"^{UUID_PATTERN}$", DATETIME_PATTERN})
_SHARED_FORMATS = {"uuid": None, "date-time": DATETIME_PATTERN}  # format -> the pattern it needs beside it


def _shared_meaning(schema: Any) -> bool:
    if not isinstance(schema, dict):
        return False
    for key, value in schema.items():
        if key.startswith("x-"):
            continue
        if key not in _SHARED_KEYWORDS:
            return False
        if key == "pattern" and value not in _SHARED_PATTERNS:
            return False
        if key == "format" and (value not in _SHARED_FORMATS or
                                _SHARED_FORMATS[value] not in (None, schema.get("pattern"))):
            return False
        if key == "enum" and not all(v is None or isinstance(v, str) for v in value):
            return False  # fastjsonschema compares with Python's ==, where True == 1
        if key == "properties" and not all(_shared_meaning(sub) for sub in value.values()):
            return False
        if key in ("items", "additionalProperties") and not isinstance(value, bool) and not _shared_meaning(value):
            return False
    return True


def fast_acceptor(schema: dict[str, Any]) -> Callable[[Any], bool] | None:
    """jsonschema-rs's `is_valid` for `schema` when it accepts exactly what fastjsonschema accepts
    (see `_SHARED_KEYWORDS`), else None."""
    if not _shared_meaning(schema):
        return None
    validator = jsonschema_rs.Draft7Validator(schema, validate_formats=False)

    def accepts(body: Any) -> bool:
        try:
            return bool(validator.is_valid(body))
        except (ValueError, TypeError, OverflowError):  # a value it cannot take: fastjsonschema decides
            return False

    return accepts


def _as_int(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def integer_fixer(schema: dict[str, Any]) -> Callable[[Any], Any] | None:
    """A function turning the integral floats at a schema's integer positions into ints (None when
    the schema has no integer position). JSON Schema counts `-519500.0` as an integer, so it passes
    validation; stored as a float it would be answered as one, which no Integer field may be."""
    kind = schema.get("type")
    kinds = set(kind) if isinstance(kind, list) else {kind}
    if "integer" in kinds:
        return _as_int
    items = schema.get("items")
    if "array" in kinds and isinstance(items, dict) and (fix_item := integer_fixer(items)) is not None:
        item_fixer = fix_item

        def fix_array(value: Any) -> Any:
            return [item_fixer(item) for item in value] if isinstance(value, list) else value

        return fix_array
    props = schema.get("properties")
    if "object" in kinds and isinstance(props, dict):
        fixers = {name: fix for name, sub in props.items() if isinstance(sub, dict) and (fix := integer_fixer(sub))}
        if fixers:
            def fix_object(value: Any) -> Any:
                if isinstance(value, dict):
                    for name, fix in fixers.items():
                        if name in value:
                            value[name] = fix(value[name])
                return value

            return fix_object
    return None


def _type_error(name: str, word: str) -> ApiError:
    return ApiError(400, f"errMsg_{name}isNotAValid{word}", f"{name} has an invalid value")


def _got(value: Any) -> str:
    """The refused value as the detail quotes it (shortened: a detail is one line)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def describe(error: fastjsonschema.JsonSchemaValueException, name: str | None, body: Any = None,
             expects: Expectation | None = None) -> ApiError:
    """Turn a schema failure into the guides' error message and a detail naming the field, the
    values it takes (never the schema's regex) and the value refused."""
    path = [p for p in (error.path or []) if p != "data"]
    # A parameter's errors name the parameter (its items have numeric paths that mean nothing to a user).
    field = name or ".".join(str(p) for p in path) or "body"
    rule = error.rule
    definition = error.rule_definition
    if rule == "required":
        holder: Any = body
        for part in path:
            holder = holder.get(part) if isinstance(holder, dict) else None
        missing = [k for k in definition if not isinstance(holder, dict) or k not in holder]
        target = ".".join([*map(str, path), missing[0]]) if missing else field
        return ApiError(400, f"errMsg_{target.replace('.', '_')}isRequired", f"{target} is required")
    if expects is not None and rule in ("enum", "pattern", "format"):
        return ApiError(400, f"errMsg_{field}isNotAValid{expects.word}",
                        f"{field} must be {expects.phrase}; got {_got(error.value)}")
    if rule == "enum":
        options = ", ".join(str(o) for o in definition if o is not None)
        return ApiError(400, f"errMsg_{field}isNotAValidEnumOption",
                        f"{field} must be one of: {options}; got {_got(error.value)}")
    if rule == "format" and definition == "uuid":
        return ApiError(400, f"errMsg_{field}isNotAValidID", f"{field} must be a UUID")
    if rule == "format" and definition == "date-time":
        return ApiError(400, f"errMsg_{field}isNotAValidDate", f"{field} must be an ISO-8601 date-time")
    if rule == "type":
        kinds = definition if isinstance(definition, list) else [definition]
        word = next((_TYPE_WORDS[k] for k in kinds if k in _TYPE_WORDS), "Value")
        if field == "body":
            return ApiError(400, "errMsg_bodyMustBeAJsonObject", "the request body must be a JSON object")
        return ApiError(400, f"errMsg_{field}isNotAValid{word}", f"{field} must be {'an' if word[0] in 'AIO' else 'a'} {word.lower()}")
    if rule == "pattern" and definition == DATETIME_PATTERN:
        return ApiError(400, f"errMsg_{field}isNotAValidDate",
                        f"{field} must be an ISO-8601 date-time on a real calendar day, e.g. 2024-03-19T12:13:54.124Z")
    if rule == "pattern" and UUID_PATTERN in str(definition):
        return ApiError(400, f"errMsg_{field}isNotAValidID", f"{field} must be a UUID; got {_got(error.value)}")
    if rule == "pattern":
        # A pattern the twin cannot put in words: still say which field and value.
        return ApiError(400, f"errMsg_{field}isNotAValidValue",
                        f"{field} is not in the form the guide gives (pattern {definition}); got {_got(error.value)}")
    return ApiError(400, f"errMsg_{field}isNotValid", f"{field}: {error.message}")
