"""A guide reads the same in both of its forms: the generator's Markdown and the page text.

One source (`SyntheticGuide`) renders the made-up `vetclinic` guide in both forms; the two must give
the same spec (the same operations, parameters, schemas and `x-twin-*` content) and report the same
quirks. Only line numbers differ (the Markdown has blank lines, fences and bold labels the page text
has not): the warnings' lines and each operation's `x-twin-guide-line`, which point into their own file.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate as validate_openapi
from specs_testing import APPOINTMENT_RECORD, SyntheticGuide, operations

from specs.emitter import emit_openapi
from specs.markdown import guide_form, markdown_to_text
from specs.model import Service
from specs.parser import parse_guide, parse_guide_file

# `../shared` next to the repository (TWIN_SHARED names another place, e.g. from a git worktree).
SHARED = Path(os.environ.get("TWIN_SHARED") or Path(__file__).resolve().parents[2].parent / "shared")
SHARED_MARKDOWN = SHARED / "guides" / "md"


def both(**fields: Any) -> tuple[SyntheticGuide, SyntheticGuide]:
    return SyntheticGuide(form="text", **fields), SyntheticGuide(form="markdown", **fields)


def parse(guide: SyntheticGuide) -> Service:
    return parse_guide(guide.text(), source=f"{guide.slug}.guide")


def without_lines(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec with its line numbers taken out (warnings keep their code and message)."""
    spec = copy.deepcopy(spec)
    spec["info"]["x-twin-warnings"] = [_unlined(re.sub(r"^line \d+: ", "", w)) for w in spec["info"].get("x-twin-warnings", [])]
    for _, _, operation in operations(spec):
        operation.pop("x-twin-guide-line")
    return spec


def _unlined(message: str) -> str:
    return re.sub(r"\bline \d+", "line N", message)


def quirks(service: Service) -> list[tuple[str, str]]:
    """The warnings' codes and messages, line numbers left out."""
    return [(w.code, _unlined(w.message)) for w in service.warnings]


# -- telling the forms apart -------------------------------------------------------------------------
def test_the_form_is_told_from_the_content() -> None:
    text, markdown = both()
    assert (guide_form(text.text()), guide_form(markdown.text())) == ("text", "markdown")


def test_markdown_becomes_one_text_line_per_line_with_its_markup_gone() -> None:
    markdown = "\n".join([
        "# **FITCHECK**", "**`macroTarget` Data Object**: Stores targets", "| Update | _none_ | - | Auto |",
        "| ---------- | ---- |", "* **Preview:** `https://x.test/a-api`", "Relation to `user`.id",
        "To access the api you can use the **REST** controller with the path **POST  /v1/x**",
        "Project Introduction &amp; Setup", "```json", '{"a":  "b_c_"}', "```", "sys_payment _owner {fieldName_idx}",
    ])
    assert markdown_to_text(markdown).splitlines() == [
        "FITCHECK", "macroTarget Data Object: Stores targets", "| Update | none | - | Auto |", "|---|---|",
        "- Preview: https://x.test/a-api", "Relation to user.id",
        "To access the api you can use the REST controller with the path POST /v1/x",
        "Project Introduction & Setup", "", '{"a":  "b_c_"}', "", "sys_payment _owner {fieldName_idx}",
    ]


# -- the same guide, the same spec -------------------------------------------------------------------
def model_without_lines(value: Any) -> Any:
    """A model dump with every `line` field (a position in its own file) taken out."""
    if isinstance(value, dict):
        return {k: model_without_lines(v) for k, v in value.items() if k != "line"}
    if isinstance(value, list):
        return [model_without_lines(v) for v in value]
    return value


def test_both_forms_of_a_guide_give_the_same_service() -> None:
    text, markdown = (parse(guide) for guide in both())
    assert model_without_lines(markdown.model_dump()) == model_without_lines(text.model_dump())
    assert [a.name for a in markdown.apis] == ["createAppointment", "getAppointment", "listAppointments", "updateAppointment", "deletePet"]


def test_both_forms_of_a_guide_give_the_same_spec() -> None:
    text, markdown = (emit_openapi(parse(guide)) for guide in both())
    validate_openapi(markdown)
    assert without_lines(markdown) == without_lines(text)
    assert markdown["x-twin-tenant"] == {"header": "x-clinic-code", "required": True, "object": "clinic"}
    assert markdown["x-twin-data-objects"]["appointment"]["properties"]["visitStatus"]["options"] == [
        "scheduled", "checkedIn", "completed", "noShow"]


def test_the_markdown_warnings_point_at_the_markdown_lines() -> None:
    text, markdown = both()
    service = parse(markdown)
    broken = next(w for w in service.warnings if w.code == "bad-json")
    assert markdown.text().splitlines()[broken.line - 1].strip() == "{"
    assert broken.line == markdown.line_of('"status": "OK",', after="`Delete Pet` API") - 1
    assert broken.line != next(w.line for w in parse(text).warnings if w.code == "bad-json")


def _typo(guide: SyntheticGuide) -> None:
    guide.objects["pet"] = guide.objects["pet"].replace("String | false | Yes | No | Dog, cat", "Strng | false | Yes | No | Dog, cat")


def _missing_isarray(guide: SyntheticGuide) -> None:
    guide.objects["pet"] = guide.objects["pet"].replace("String | false | Yes | No | Dog, cat", "String | Yes | No | Dog, cat")


def _string_status(guide: SyntheticGuide) -> None:
    guide.apis["createAppointment"] = guide.apis["createAppointment"].replace('"statusCode": 201', '"statusCode": "201"')


def _missing_required_cell(guide: SyntheticGuide) -> None:
    guide.apis["deletePet"] = guide.api_section(
        "Delete Pet", "deletePet", "DELETE", "/v1/pets/:petId", params=[("petId", "ID", None, "path")],
        response=guide.envelope("pet", "DELETE", "delete", {"id": "ID", "name": "String"}),
    )


def _miscounted_parameters_and_mixed_case_route(guide: SyntheticGuide) -> None:
    guide.apis["rescheduleAppointment"] = guide.api_section(
        "Reschedule Appointment", "rescheduleAppointment", "PATCH", "/v1/appointmentReschedule/:appointmentId",
        params=[("appointmentId", "ID", "true", "path"), ("scheduledAt", "Date", "true", "body")], declared=3,
        response=guide.envelope("appointment", "PATCH", "update", APPOINTMENT_RECORD),
    )


def _duplicate_route_and_unknown_join(guide: SyntheticGuide) -> None:
    guide.apis["getAppointment"] = guide.apis["getAppointment"].replace('"pet": {', '"clinicRoom": {')
    guide.apis["fetchAppointment"] = guide.api_section(
        "Fetch Appointment", "fetchAppointment", "GET", "/v1/appointments/:appointmentId",
        params=[("appointmentId", "ID", "true", "path")],
        response=guide.envelope("appointment", "GET", "get", APPOINTMENT_RECORD),
    )


QUIRKS: dict[str, tuple[Callable[[SyntheticGuide], None], set[str]]] = {
    "type typo": (_typo, {"type-typo"}),
    "missing IsArray column": (_missing_isarray, {"missing-column"}),
    "statusCode as a string": (_string_status, {"statuscode-string"}),
    "missing Required cell": (_missing_required_cell, {"missing-column"}),
    "miscounted parameters, mixed-case route": (_miscounted_parameters_and_mixed_case_route, {"parameter-count", "mixed-case-route"}),
    "duplicate route, unknown join": (_duplicate_route_and_unknown_join, {"duplicate-route", "unresolved-join"}),
}


@pytest.mark.parametrize("quirk", list(QUIRKS))
def test_quirks_are_read_and_reported_the_same_in_both_forms(quirk: str) -> None:
    change, codes = QUIRKS[quirk]
    text, markdown = both()
    for guide in (text, markdown):
        change(guide)
    parsed_text, parsed_markdown = parse(text), parse(markdown)
    assert codes <= {w.code for w in parsed_markdown.warnings}
    assert quirks(parsed_markdown) == quirks(parsed_text)
    assert without_lines(emit_openapi(parsed_markdown)) == without_lines(emit_openapi(parsed_text))


def test_both_forms_build_from_files_with_their_own_suffix(tmp_path: Path) -> None:
    text, markdown = both()
    from_text = parse_guide_file(text.write(tmp_path))
    from_markdown = parse_guide_file(markdown.write(tmp_path))
    assert (from_text.source, from_markdown.source) == ("vetclinic-appointmentmanagement.txt", "vetclinic-appointmentmanagement.md")
    assert from_markdown.slug == from_text.slug


# -- the generator's own Markdown guides, when the shared folder is there ------------------------------
def _shared_markdown_guides() -> list[Path]:
    return sorted(SHARED_MARKDOWN.glob("*.md")) if SHARED_MARKDOWN.is_dir() else []


def _listed_apis(markdown: str) -> set[str]:
    """The API names a Markdown guide lists, read off its text without the parser."""
    return set(re.findall(r"^The `(\w+)` API REST controller can be triggered", markdown, re.M))


@pytest.mark.skipif(not _shared_markdown_guides(), reason=f"no generator Markdown guides at {SHARED_MARKDOWN}")
@pytest.mark.parametrize("path", _shared_markdown_guides(), ids=lambda path: path.name)
def test_every_shared_markdown_guide_builds_a_valid_spec_with_all_its_apis(path: Path) -> None:
    service = parse_guide_file(path)
    spec = emit_openapi(service)
    validate_openapi(spec)
    listed = _listed_apis(path.read_text(encoding="utf-8"))
    assert listed, f"{path.name} lists no API"
    assert {operation["operationId"] for _, _, operation in operations(spec)} == listed
    assert all(api.title.endswith(" API") for api in service.apis)
    assert spec["servers"] and all(s["url"].startswith("https://") for s in spec["servers"])
