"""Response defects the twin can be started with (`twin serve --mutant NAME`), to judge the
conformance suite: each rewrites one kind of answer the way a drifting deployment might — a wrong
status, a missing envelope key, a wrong `_idx`, a broken error envelope, a list that forgets its
newest row. `tests/contracts/test_mutants.py` switches them on one at a time and asserts that
`twin verify` fails (and names the rule that caught it).

A rewrite gets the operation's facts (`api`, `method`, `action`, `dataName`, `list`, `status`,
`service`), the HTTP status and the body the engine produced, and answers the (status, body) to
send. It never changes the twin's state, only what one answer says.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from typing import Any

from .mutants import response_mutant

Facts = dict[str, Any]
Rewrite = Callable[[Facts, int, Any], tuple[int, Any]]


# -- helpers ---------------------------------------------------------------------------------------
def _success(status: int, body: Any) -> bool:
    return 200 <= status < 300 and isinstance(body, dict)


def _error(status: int, body: Any) -> bool:
    return status >= 400 and isinstance(body, dict)


def _records(facts: Facts, body: dict[str, Any]) -> list[dict[str, Any]]:
    data = body.get(facts.get("dataName", ""))
    if isinstance(data, list):
        return [r for r in data if isinstance(r, dict)]
    return [data] if isinstance(data, dict) else []


def on_success(change: Callable[[Facts, dict[str, Any]], None]) -> Rewrite:
    """A rewrite that edits (a copy of) every success body."""
    def rewrite(facts: Facts, status: int, body: Any) -> tuple[int, Any]:
        if not _success(status, body):
            return status, body
        body = copy.deepcopy(body)
        change(facts, body)
        return status, body
    return rewrite


def on_records(change: Callable[[dict[str, Any]], None]) -> Rewrite:
    """A rewrite that edits every record of every success body."""
    def edit(facts: Facts, body: dict[str, Any]) -> None:
        for record in _records(facts, body):
            change(record)
    return on_success(edit)


def on_error(change: Callable[[int, dict[str, Any]], None]) -> Rewrite:
    """A rewrite that edits (a copy of) every error body."""
    def rewrite(facts: Facts, status: int, body: Any) -> tuple[int, Any]:
        if not _error(status, body):
            return status, body
        body = copy.deepcopy(body)
        change(status, body)
        return status, body
    return rewrite


def remap_error(source: int, target: int) -> Rewrite:
    """Answer `target` (consistently in the envelope too) where the guide answers `source`."""
    def rewrite(facts: Facts, status: int, body: Any) -> tuple[int, Any]:
        if status != source or not isinstance(body, dict):
            return status, body
        return target, {**body, "status": target, "errCode": target}
    return rewrite


def register(name: str, rewrite: Rewrite) -> None:
    response_mutant(name)(rewrite)


# -- statuses --------------------------------------------------------------------------------------
def _create_answers_200(facts: Facts, status: int, body: Any) -> tuple[int, Any]:
    if status == 201 and isinstance(body, dict):
        return 200, {**body, "statusCode": 200}
    return status, body


def _update_answers_201(facts: Facts, status: int, body: Any) -> tuple[int, Any]:
    if status == 200 and facts.get("action") == "update" and isinstance(body, dict):
        return 201, {**body, "statusCode": 201}
    return status, body


def _error_as_200(facts: Facts, status: int, body: Any) -> tuple[int, Any]:
    return (200, body) if status >= 400 else (status, body)


def _list_server_error(facts: Facts, status: int, body: Any) -> tuple[int, Any]:
    if facts.get("list") and 200 <= status < 300:
        return 500, {"result": "ERR", "status": 500, "message": "errMsg_internalServerError", "errCode": 500,
                     "date": "2026-01-01T00:00:00.000Z", "detail": "list query failed"}
    return status, body


register("create-answers-200", _create_answers_200)
register("update-answers-201", _update_answers_201)
register("error-as-200", _error_as_200)
register("not-found-as-400", remap_error(404, 400))
register("forbidden-as-404", remap_error(403, 404))
register("unauthorized-as-403", remap_error(401, 403))
register("validation-as-500", remap_error(400, 500))
register("list-server-error", _list_server_error)


# -- the success envelope --------------------------------------------------------------------------
def _set(key: str, value: Callable[[Any], Any]) -> Callable[[Facts, dict[str, Any]], None]:
    def change(facts: Facts, body: dict[str, Any]) -> None:
        body[key] = value(body.get(key))
    return change


def _drop(key: str) -> Callable[[Facts, dict[str, Any]], None]:
    def change(facts: Facts, body: dict[str, Any]) -> None:
        body.pop(key, None)
    return change


def _data_under_data(facts: Facts, body: dict[str, Any]) -> None:
    body["data"] = body.pop(facts.get("dataName", ""), None)


def _dataname_wrong(facts: Facts, body: dict[str, Any]) -> None:
    body["dataName"] = f"{facts.get('dataName')}Data"


ACTION_TYPOS = {"create": "insert", "get": "read", "list": "getList", "update": "patch", "delete": "remove"}


def _single_as_array(facts: Facts, body: dict[str, Any]) -> None:
    name = facts.get("dataName", "")
    if not facts.get("list") and isinstance(body.get(name), dict):
        body[name] = [body[name]]


def _list_as_object(facts: Facts, body: dict[str, Any]) -> None:
    name = facts.get("dataName", "")
    if facts.get("list") and isinstance(body.get(name), list):
        body[name] = body[name][0] if body[name] else {}


register("envelope-status-lowercase", on_success(_set("status", lambda v: "ok")))
register("envelope-statuscode-string", on_success(_set("statusCode", lambda v: str(v))))
register("envelope-statuscode-200", on_success(_set("statusCode", lambda v: 200)))
register("envelope-no-dataname", on_success(_drop("dataName")))
register("envelope-dataname-wrong", on_success(_dataname_wrong))
register("envelope-data-under-data", on_success(_data_under_data))
register("envelope-method-lowercase", on_success(_set("method", lambda v: str(v).lower())))
register("envelope-action-wrong", on_success(_set("action", lambda v: ACTION_TYPOS.get(v, f"{v}Op"))))
register("envelope-rowcount-off", on_success(_set("rowCount", lambda v: (v or 0) + 1)))
register("envelope-no-requestid", on_success(_drop("requestId")))
register("envelope-elapsed-string", on_success(_set("elapsedMs", lambda v: f"{v}ms")))
register("single-as-array", on_success(_single_as_array))
register("list-as-object", on_success(_list_as_object))


# -- paging ----------------------------------------------------------------------------------------
def _paging(change: Callable[[dict[str, Any], dict[str, Any]], None]) -> Rewrite:
    def edit(facts: Facts, body: dict[str, Any]) -> None:
        if facts.get("list") and isinstance(body.get("paging"), dict):
            change(body["paging"], body)
    return on_success(edit)


def _pagecount_off(paging: dict[str, Any], body: dict[str, Any]) -> None:
    paging["pageCount"] = (paging.get("pageCount") or 0) + 1


def _total_below_rows(paging: dict[str, Any], body: dict[str, Any]) -> None:
    rows = body.get("rowCount") or 0
    if rows:
        paging["totalRowCount"] = rows - 1


def _page_number_one(paging: dict[str, Any], body: dict[str, Any]) -> None:
    paging["pageNumber"] = 1


register("paging-missing", on_success(lambda facts, body: body.pop("paging", None) if facts.get("list") else None))
register("paging-pagecount-off", _paging(_pagecount_off))
register("paging-total-below-rows", _paging(_total_below_rows))
register("paging-page-number-stuck", _paging(_page_number_one))


# -- records ---------------------------------------------------------------------------------------
def _idx_off_by_one(record: dict[str, Any]) -> None:
    for key, value in list(record.items()):
        if key.endswith("_idx") and isinstance(value, int):
            record[key] = value + 1


def _enum_uppercase(record: dict[str, Any]) -> None:
    for key in list(record):
        if key.endswith("_idx") and isinstance(record.get(key[:-4]), str):
            record[key[:-4]] = record[key[:-4]].upper()


def _rfc1123(value: Any) -> Any:
    from datetime import datetime

    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).strftime("%a, %d %b %Y %H:%M:%S GMT")
    except ValueError:
        return value


def _dates_not_iso(record: dict[str, Any]) -> None:
    for key in ("createdAt", "updatedAt"):
        if key in record:
            record[key] = _rfc1123(record[key])


def _numbers_as_strings(record: dict[str, Any]) -> None:
    for key, value in list(record.items()):
        if isinstance(value, (int, float)) and not isinstance(value, bool) and not key.endswith("_idx"):
            record[key] = str(value)


def _foreign_keys_dropped(record: dict[str, Any]) -> None:
    for key in [k for k in record if k.endswith("Id") and k != "id"]:
        del record[key]


register("idx-off-by-one", on_records(_idx_off_by_one))
register("enum-uppercase", on_records(_enum_uppercase))
register("record-version-missing", on_records(lambda r: r.pop("recordVersion", None)))
register("owner-missing", on_records(lambda r: r.pop("_owner", None)))
register("id-null", on_records(lambda r: r.update(id=None) if "id" in r else None))
register("created-at-null", on_records(lambda r: r.update(createdAt=None) if "createdAt" in r else None))
register("dates-not-iso", on_records(_dates_not_iso))
register("numbers-as-strings", on_records(_numbers_as_strings))
register("isactive-string", on_records(lambda r: r.update(isActive=str(r["isActive"]).lower()) if "isActive" in r else None))
register("foreign-keys-dropped", on_records(_foreign_keys_dropped))
register("extra-key-in-record", on_records(lambda r: r.update(internalNote="leaked")))


# -- errors ----------------------------------------------------------------------------------------
def _error_set(key: str, value: Callable[[int, Any], Any]) -> Rewrite:
    return on_error(lambda status, body: body.update({key: value(status, body.get(key))}))


register("error-result-ok", _error_set("result", lambda s, v: "OK"))
register("error-errcode-500", _error_set("errCode", lambda s, v: 500))
register("error-status-string", _error_set("status", lambda s, v: str(v)))
register("error-no-message", on_error(lambda status, body: body.pop("message", None)))
register("error-date-epoch", _error_set("date", lambda s, v: 1767225600000))


def _error_bare_text(facts: Facts, status: int, body: Any) -> tuple[int, Any]:
    return (status, "Something went wrong") if status >= 400 else (status, body)


register("error-bare-text", _error_bare_text)


# -- stateful answers ------------------------------------------------------------------------------
def _payment_result_missing(facts: Facts, body: dict[str, Any]) -> None:
    body.pop("paymentResult", None)


def _updated_at_frozen(facts: Facts, body: dict[str, Any]) -> None:
    if facts.get("action") == "update":
        for record in _records(facts, body):
            if "createdAt" in record:
                record["updatedAt"] = record["createdAt"]


def _list_omits_newest(facts: Facts, body: dict[str, Any]) -> None:
    name = facts.get("dataName", "")
    rows = body.get(name)
    if facts.get("list") and isinstance(rows, list) and rows:
        body[name] = rows[:-1]
        body["rowCount"] = len(rows) - 1
        paging = body.get("paging")
        if isinstance(paging, dict) and isinstance(paging.get("totalRowCount"), int):
            size = paging.get("pageRowCount") or 1
            paging["totalRowCount"] -= 1
            paging["pageCount"] = -(-paging["totalRowCount"] // size)


def _get_wrong_id(facts: Facts, body: dict[str, Any]) -> None:
    if facts.get("action") == "get":
        for record in _records(facts, body):
            if "id" in record:
                record["id"] = str(uuid.uuid4())


def _delete_not_soft(facts: Facts, body: dict[str, Any]) -> None:
    if facts.get("action") == "delete":
        for record in _records(facts, body):
            record["isActive"] = True


def _owner_changes_on_update(facts: Facts, body: dict[str, Any]) -> None:
    if facts.get("action") == "update":
        for record in _records(facts, body):
            if "_owner" in record:
                record["_owner"] = str(uuid.uuid4())


register("payment-result-missing", on_success(_payment_result_missing))
register("owner-changes-on-update", on_success(_owner_changes_on_update))
register("updated-at-frozen", on_success(_updated_at_frozen))
register("list-omits-newest", on_success(_list_omits_newest))
register("get-wrong-id", on_success(_get_wrong_id))
register("delete-not-soft", on_success(_delete_not_soft))
