"""Resource rules: the keys a record carries, its enums and `_idx`, and its value types."""

from __future__ import annotations

from typing import Any

from ..spec import ObjectFacts
from .base import NOT_APPLICABLE, Exchange, Problems, is_int, resources, response_check, type_problem


def _object(exchange: Exchange) -> ObjectFacts | None:
    return exchange.spec.objects.get(exchange.facts.data_object)


def _applicable(exchange: Exchange) -> bool:
    return exchange.is_success and exchange.same_method and bool(resources(exchange))


@response_check("twin_resource_keys", "resource",
                "full records carry id, isActive, recordVersion, createdAt, updatedAt, _owner and every required "
                "property non-null; select lists carry only their listed keys; secrets never appear")
def resource_keys(exchange: Exchange) -> bool | None:
    """Which keys each returned record has."""
    if not _applicable(exchange):
        return NOT_APPLICABLE
    facts = exchange.facts
    obj = _object(exchange)
    problems = Problems()
    joins = {j["key"] for j in facts.joins}
    for label, record in resources(exchange):
        if facts.select_list:
            allowed = set(facts.fields) | joins
            extra = sorted(set(record) - allowed)
            problems.expect(not extra, f"{label} has keys outside the guide's select list: {extra}")
        else:
            # A record of a data object carries every system field; the answer of an operation on
            # no data object (a summary, a status) carries what its guide example shows.
            system = exchange.spec.system_fields
            for key in system if obj is not None else [k for k in system if k in facts.fields]:
                problems.expect(key in record, f"{label} lacks the system field {key!r}")
            for key in ("id", "isActive", "recordVersion", "createdAt", "updatedAt"):
                if key in record:
                    problems.expect(record[key] is not None, f"{label}.{key} is null")
            if obj is not None:
                for prop in obj.properties.values():
                    if prop.required and prop.name in facts.fields:
                        present = prop.name in record
                        problems.expect(present, f"{label} lacks the required property {prop.name!r}")
                        if present:
                            problems.expect(record[prop.name] is not None, f"{label}.{prop.name} is required but null")
        if obj is not None:
            for prop in obj.properties.values():
                if prop.secret and prop.name in record:
                    problems.add(f"{label} exposes the secret property {prop.name!r}")
    problems.raise_if_any()
    return None


def _enum_problems(problems: Problems, label: str, record: dict[str, Any], enums: dict[str, tuple[str, ...]],
                   full: bool) -> None:
    for name, options in enums.items():
        if name not in record or record[name] is None:
            continue
        value = record[name]
        values = value if isinstance(value, list) else [value]
        for item in values:
            problems.expect(item in options, f"{label}.{name} is {item!r}, not one of {list(options)}")
        idx_key = f"{name}_idx"
        if idx_key not in record:
            problems.expect(not full, f"{label} has {name} but no {idx_key}")
            continue
        idx = record[idx_key]
        if isinstance(value, list):
            expected: Any = [options.index(v) if v in options else None for v in value]
        else:
            expected = options.index(value) if value in options else None
        if expected is not None and expected != [None] * len(values):
            problems.expect(idx == expected, f"{label}.{idx_key} is {idx!r}; {value!r} is option {expected} of {list(options)}")


@response_check("twin_enum_values", "resource",
                "every enum value is one of its options and its _idx equals the option's position")
def enum_values(exchange: Exchange) -> bool | None:
    """Enum values and their `_idx` companions, in records and in joined records."""
    if not _applicable(exchange):
        return NOT_APPLICABLE
    obj = _object(exchange)
    problems = Problems()
    enums = obj.enums() if obj is not None else {}
    for label, record in resources(exchange):
        _enum_problems(problems, label, record, enums, full=not exchange.facts.select_list)
        for join in exchange.facts.joins:
            target = exchange.spec.objects.get(join.get("target", ""))
            for join_label, joined in _joined(label, record, join):
                if target is not None:
                    _enum_problems(problems, join_label, joined, target.enums(), full=False)
                for key, value in joined.items():
                    if key.endswith("_idx") and value is not None:
                        problems.expect(is_int(value) and value >= 0, f"{join_label}.{key} is {value!r}, expected an integer ≥ 0")
    problems.raise_if_any()
    return None


def _joined(label: str, record: dict[str, Any], join: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    value = record.get(join["key"])
    if isinstance(value, list):
        return [(f"{label}.{join['key']}[{i}]", item) for i, item in enumerate(value) if isinstance(item, dict)]
    if isinstance(value, dict):
        return [(f"{label}.{join['key']}", value)]
    return []


@response_check("twin_value_types", "resource",
                "values have the guide's types: dates ISO-8601, numbers are numbers, booleans, IDs and arrays")
def value_types(exchange: Exchange) -> bool | None:
    """Each property's value against its guide type (and joined objects' fields against theirs)."""
    if not _applicable(exchange):
        return NOT_APPLICABLE
    obj = _object(exchange)
    problems = Problems()
    system = {"id": "ID", "isActive": "Boolean", "recordVersion": "Integer", "createdAt": "Date", "updatedAt": "Date"}
    for label, record in resources(exchange):
        for key, guide_type in system.items():
            if key in record:
                problem = type_problem(guide_type, record[key])
                problems.expect(problem is None, f"{label}.{key} {problem}")
        if is_int(record.get("recordVersion")):
            problems.expect(record["recordVersion"] >= 1, f"{label}.recordVersion is {record['recordVersion']}, expected ≥ 1")
        if "_owner" in record and record["_owner"] is not None:
            problems.expect(isinstance(record["_owner"], str), f"{label}._owner is {record['_owner']!r}, expected an ID or null")
        if obj is not None:
            for prop in obj.properties.values():
                if prop.name not in record:
                    continue
                _typed(problems, f"{label}.{prop.name}", record[prop.name], prop.type, prop.is_array)
                idx = f"{prop.name}_idx"
                if prop.enum and idx in record and record[idx] is not None and not isinstance(record[prop.name], list):
                    problems.expect(is_int(record[idx]), f"{label}.{idx} is {record[idx]!r}, expected an integer")
        for join in exchange.facts.joins:
            value = record.get(join["key"])
            if value is None:
                continue
            if join.get("isArray"):
                problems.expect(isinstance(value, list), f"{label}.{join['key']} is {type(value).__name__}, expected an array of joined records")
            else:
                problems.expect(isinstance(value, dict), f"{label}.{join['key']} is {type(value).__name__}, expected a joined object")
            for join_label, joined in _joined(label, record, join):
                for key, guide_type in (join.get("fields") or {}).items():
                    if key in joined:
                        _typed(problems, f"{join_label}.{key}", joined[key], guide_type, isinstance(joined[key], list))
    problems.raise_if_any()
    return None


def _typed(problems: Problems, label: str, value: Any, guide_type: str, is_array: bool) -> None:
    if value is None:
        return
    if is_array:
        if not problems.expect(isinstance(value, list), f"{label} is {type(value).__name__}, expected an array"):
            return
        for i, item in enumerate(value):
            problem = type_problem(guide_type, item)
            problems.expect(problem is None, f"{label}[{i}] {problem}")
        return
    problem = type_problem(guide_type, value)
    problems.expect(problem is None, f"{label} {problem}")
