"""Leave no trace: what a run created is deleted again where the API allows it, and what it cannot
delete (immutable records, payments, records without a delete operation) is reported as left
behind, with ids.

Two sources say what the run created:

- the `Ledger`: every record a scenario's create call answered (`Api.call` writes it down);
- a before/after `Snapshot` of every list the suite's identities can read: rows that appeared
  during the run and belong to it — created by one of its identities (`_owner`), or pointing at a
  record the ledger holds (the payment records of its orders) — were made by the run too (webhooks,
  Schemathesis' generated creates, a workflow's side effects).

The sweep runs after every layer of a service; a row of another user that appeared meanwhile is
never touched.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import requests

from .results import Ledger, Tally
from .spec import OperationFacts
from .target import Identity, ServiceTarget


def _readers(service: ServiceTarget) -> list[tuple[Identity, str | None]]:
    """(identity, tenant) pairs that together see every row the suite's identities can see."""
    tenants = sorted({i.tenant for i in service.identities.values() if i.tenant})
    out: list[tuple[Identity, str | None]] = []
    seen: set[tuple[str, str | None]] = set()
    for identity in service.identities.values():
        if not identity.token:
            continue
        candidates: list[str | None] = [identity.tenant] if identity.tenant or not service.spec.tenant_header else [*tenants] or [None]
        for tenant in candidates:
            key = (identity.role, tenant) if identity.role not in ("student", "guest", "host", "tutor", "tenantUser") \
                else (identity.name, tenant)
            if key in seen:
                continue
            seen.add(key)
            out.append((identity, tenant))
    return out


def _list_ops(service: ServiceTarget) -> list[OperationFacts]:
    return [op for op in service.spec.operations.values()
            if op.is_list and op.method == "GET" and op.action == "list" and op.data_object in service.spec.objects]


def _headers(service: ServiceTarget, identity: Identity, tenant: str | None) -> dict[str, str]:
    headers = {"Accept": "application/json", "Authorization": f"Bearer {identity.token}"}
    if service.spec.tenant_header and tenant:
        headers[service.spec.tenant_header] = tenant
    return headers


def _path(op: OperationFacts, identity: Identity) -> str | None:
    route = op.path
    for name in op.path_params:
        if name == "userId" and identity.user_id:
            route = route.replace("{userId}", identity.user_id)
        else:
            return None
    return route


@dataclass
class Snapshot:
    """Every row the suite's identities can list, by data object: {object: {id: (row, identity, tenant)}}."""

    rows: dict[str, dict[str, tuple[dict[str, Any], str, str | None]]] = field(default_factory=dict)

    @classmethod
    def take(cls, service: ServiceTarget, session: requests.Session, timeout: float) -> Snapshot:
        snap = cls()
        size = service.spec.max_page_size
        for op in _list_ops(service):
            table = snap.rows.setdefault(op.data_object, {})
            for identity, tenant in _readers(service):
                route = _path(op, identity)
                if route is None:
                    continue
                page = 1
                while page <= 50:
                    try:
                        response = session.get(service.base_url.rstrip("/") + route, headers=_headers(service, identity, tenant),
                                               params={"pageNumber": page, "pageRowCount": size}, timeout=timeout)
                        body = response.json() if response.status_code == 200 else None
                    except (requests.RequestException, ValueError):
                        body = None
                    rows = body.get(op.data_name) if isinstance(body, dict) else None
                    if not isinstance(rows, list):
                        break
                    for row in rows:
                        if isinstance(row, dict) and isinstance(row.get("id"), str):
                            table.setdefault(row["id"], (row, identity.name, tenant))
                    if len(rows) < size:
                        break
                    page += 1
        return snap


@dataclass
class LeftBehind:
    """A record the run created and could not delete, and why."""

    object: str
    id: str
    reason: str


def _references(row: dict[str, Any], ids: set[str]) -> bool:
    for value in row.values():
        if isinstance(value, str) and value in ids:
            return True
        if isinstance(value, list) and any(isinstance(v, str) and v in ids for v in value):
            return True
    return False


def sweep(service: ServiceTarget, ledger: Ledger, before: Snapshot, session: requests.Session, timeout: float,
          tally: Tally | None = None) -> list[LeftBehind]:
    """Delete what the run created on `service` and still lives; answer what could not be deleted."""
    after = Snapshot.take(service, session, timeout)
    own_users = {i.user_id for i in service.identities.values() if i.user_id}
    created_ids = ledger.ids(service.name)
    # id → (object, creator, tenant, record)
    candidates: dict[str, tuple[str, str | None, str | None, dict[str, Any]]] = {}
    for item in ledger.live(service.name):
        candidates[item.id] = (item.object, item.identity, item.tenant, item.record or {})
    for obj, rows in after.rows.items():
        for record_id, (row, reader, tenant) in rows.items():
            if record_id in candidates and not candidates[record_id][3]:
                candidates[record_id] = (*candidates[record_id][:3], row)
            if record_id in before.rows.get(obj, {}) or record_id in candidates or ledger.is_deleted(service.name, record_id):
                continue
            if row.get("_owner") in own_users or _references(row, created_ids):
                candidates[record_id] = (obj, reader, tenant, row)
    left: list[LeftBehind] = []
    # children before their parents: a nested route needs its parent alive to address the child
    order = sorted(candidates.items(), key=lambda kv: -len(service.spec.op(_delete_api(service, kv[1][0]) or "").path_params)
                   if _delete_api(service, kv[1][0]) else 0)
    for record_id, (obj, creator, tenant, record) in order:
        delete_api = _delete_api(service, obj)
        if not delete_api:  # seen after the run, or created by it and never deleted
            left.append(LeftBehind(obj, record_id, "the guide has no delete operation for it"))
            continue
        outcome = _delete(service, service.spec.op(delete_api), record_id, record, creator, tenant, session, timeout)
        if outcome is None:
            ledger.deleted(service.name, record_id)
        else:
            left.append(LeftBehind(obj, record_id, outcome))
    return left


def _delete_api(service: ServiceTarget, obj: str) -> str | None:
    facts = service.spec.objects.get(obj)
    api = facts.default_apis.get("delete") if facts else None
    return api if api in service.spec.operations else None


def _delete(service: ServiceTarget, op: OperationFacts, record_id: str, record: dict[str, Any], creator: str | None,
            tenant: str | None, session: requests.Session, timeout: float) -> str | None:
    """Delete one record, trying its creator first, then every other identity; None when done (or
    already gone: 404 to its own creator), else why not."""
    tenants = sorted({i.tenant for i in service.identities.values() if i.tenant})
    order: list[Identity] = []
    first = service.identities.get(creator or "")
    generated = service.generated_identity()
    for identity in [first, generated, *service.identities.values()]:
        if identity is not None and identity.token and identity not in order:
            order.append(identity)
    route = op.path
    own = next((n for n in op.path_params if n in ("id", f"{op.data_object}Id")), op.path_params[-1])
    for name in op.path_params:
        value = record_id if name == own else record.get(name)
        if not isinstance(value, str):
            return f"{op.api} needs {name}, which the record does not show"
        route = route.replace("{" + name + "}", value)
    url = service.base_url.rstrip("/") + route
    last = "no identity may delete it"
    for identity in order:
        options: Iterable[str | None] = [identity.tenant] if identity.tenant or not service.spec.tenant_header \
            else ([tenant] if tenant else []) + [t for t in tenants if t != tenant]
        for option in options:
            try:
                response = session.request(op.method, url, headers=_headers(service, identity, option), timeout=timeout)
            except requests.RequestException as error:
                return f"{op.method} failed: {error}"
            if 200 <= response.status_code < 300:
                return None
            if response.status_code == 404 and identity is first:
                return None  # its creator no longer finds it: deleted meanwhile (e.g. with its parent)
            last = f"{op.api} answered {response.status_code} to every identity"
    return last
