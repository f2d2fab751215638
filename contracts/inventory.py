"""The rule inventory: every rule a guide states (as its spec carries it), each mapped to the checks
and scenario rules that hold a backend to it.

Generic rules come from the spec's facts alone, so they exist for every guide, including ones the
project has never seen: the success and error envelopes its examples show, the system fields of
every record and how they evolve over create, update and delete, paging, each documented form of
each filter (single with its matching, repeated = any of, `null`, date specials), the bearer token,
the tenant header, and the role table (`x-twin-access`: who may call each API, pair by pair). The
business rules of a known project's guide (tenancy, workflow transitions) are its scenarios' rules. A rule with no check holding it is listed as unchecked.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .checks import REGISTRY
from .client import STATEFUL_CHECKS
from .scenarios.access import pair_rule, roles_of
from .scenarios.base import SCENARIOS
from .scenarios.common import filter_forms, has_paging
from .spec import FilterFacts
from .target import ServiceTarget


@dataclass
class InventoryRule:
    """One rule of a guide and what checks it."""

    guide: str
    kind: str  # envelope | error | record | system-fields | paging | filter | auth | tenancy | roles | business
    statement: str
    checks: list[str] = field(default_factory=list)  # check names or "<scenario>/<rule>" ids
    line: int | None = None

    @property
    def checked(self) -> bool:
        return bool(self.checks)


def _guide(target: ServiceTarget) -> str:
    return target.spec.guide or target.spec.path.name


def _scenario_rules(target: ServiceTarget, name: str) -> list[str]:
    item = SCENARIOS.get(name)
    if item is None or not item.applies_to(target):
        return []
    return [f"{name}/{rule}" for rule in item.declared_rules(target)]


def inventory(target: ServiceTarget) -> list[InventoryRule]:
    """Every rule the service's guide states, with its checks (empty: unchecked)."""
    spec = target.spec
    guide = _guide(target)
    checks = set(REGISTRY) | set(STATEFUL_CHECKS)
    checks |= {rule for name in SCENARIOS for rule in _scenario_rules(target, name)}
    rules: list[InventoryRule] = []

    def add(kind: str, statement: str, held_by: list[str], line: int | None = None) -> None:
        """A rule, held by those of `held_by` that exist for this target (none: unchecked)."""
        rules.append(InventoryRule(guide, kind, statement, [c for c in held_by if c in checks], line))

    add("envelope", "a success answers status OK, statusCode = HTTP status, dataName naming the resource's key, method, "
        "action, rowCount, requestId, elapsedMs (the guide's 'successful response' example)",
        ["twin_success_envelope"])
    add("envelope", "create answers 201, every other success 200", ["twin_success_status"])
    add("error", "every error answers the error envelope: result ERR, status = errCode = HTTP status, message, ISO date",
        ["twin_error_envelope"])
    add("error", "only the success status or a documented error status (400, 401, 403, 404, 500)", ["twin_documented_status"])
    add("envelope", "every answer is JSON", ["twin_json_answer"])
    add("auth", "every operation needs a bearer token: 401 without one or with a forged one",
        [r for r in _scenario_rules(target, "auth.required")])
    crud = set(_scenario_rules(target, "crud.lifecycle"))
    for name, obj in spec.objects.items():
        ops = [o for o in spec.operations.values() if o.data_object == name]
        line = next((o.guide_line for o in ops if o.guide_line), None)
        add("record", f"{name}: records carry id, isActive, recordVersion, createdAt, updatedAt, _owner and every required "
            "property; select lists only their keys", ["twin_resource_keys"], line)
        add("record", f"{name}: values have the guide's types (dates ISO-8601, numbers, booleans, ids)", ["twin_value_types"], line)
        if obj.enums():
            add("record", f"{name}: enum values are options of {sorted(obj.enums())} and <name>_idx is the option's position",
                ["twin_enum_values"], line)
        apis = obj.default_apis

        def lifecycle(rule: str, obj_name: str = name) -> list[str]:
            wanted = f"crud.lifecycle/{rule}[{obj_name}]"
            return [wanted] if wanted in crud else []

        stateful = ["twin_system_fields"]
        if apis.get("create"):
            add("system-fields", f"{name}: create answers the new record with recordVersion 1, isActive true, keeping what was sent",
                lifecycle("create-201") + stateful, line)
        if apis.get("update"):
            add("system-fields", f"{name}: an update increments recordVersion, moves updatedAt, keeps createdAt",
                lifecycle("update-increments-version") + stateful, line)
            add("system-fields", f"{name}: an update keeps id and _owner", lifecycle("owner-unchanged") + stateful, line)
        if apis.get("delete"):
            add("system-fields", f"{name}: delete is soft (answers isActive false) and keeps id and _owner; the record then "
                "answers 404 and leaves the list", lifecycle("delete-is-soft") + lifecycle("get-after-delete-404") + stateful, line)
        get_op = spec.operations.get(apis.get("get") or "")
        if get_op is not None and len(get_op.path_params) == 1:
            add("system-fields", f"{name}: an unknown id answers 404",
                [*lifecycle("unknown-id-404"), f"records.unknown-id/unknown-id-404[{apis['get']}]"], line)
    for op in spec.operations.values():
        if has_paging(op):
            add("paging", f"{op.api}: paging (pageNumber, pageRowCount, totalRowCount, pageCount) counts every row; pages "
                "partition the list", ["twin_list_paging", f"paging.consistent/pages-partition-the-list[{op.api}]"], op.guide_line)
            for flt in op.filters:
                if flt.match == "any":
                    continue
                for form in filter_forms(flt):
                    add("filter", f"{op.api}: {_form_text(form, flt)}", [f"filters.exact/{form}[{op.api}.{flt.name}]"],
                        op.guide_line)
        if op.extra_keys:
            add("envelope", f"{op.api}: the answer carries {list(op.extra_keys)} as its example shows", ["twin_success_envelope"],
                op.guide_line)
    if spec.tenant_header:
        held = [r for n in SCENARIOS if n.endswith((".tenant-isolation", "tenancy.isolation")) for r in _scenario_rules(target, n)]
        add("tenancy", f"requests name their tenant in {spec.tenant_header}; one tenant never reads another's records", held)
    roles = roles_of(spec)
    for op in spec.operations.values() if roles else ():
        if op.access is None:
            statement = f"{op.api}: every role ({', '.join(roles)}) may call it (the role table leaves it open)"
        else:
            refused = [role for role in roles if role not in op.access]
            statement = (f"{op.api}: only {', '.join(r for r in roles if r in op.access)} may call it (the role table); "
                         f"{', '.join(refused) or 'no other role'} answer 403")
        add("roles", statement, [f"roles.table/{pair_rule(op, role)}" for role in roles], op.guide_line)
    for item in SCENARIOS.values():
        if item.projects is None or not item.applies_to(target):
            continue
        for rule in item.declared_rules(target):
            add("business", f"{item.title} — {rule}", [f"{item.name}/{rule}"])
    return rules


def _form_text(form: str, flt: FilterFacts) -> str:
    """How the guide states one form of a filter."""
    name = flt.name
    if form == "returns-exactly-matching":
        how = {"partial": " (partial, case-insensitive)", "enum": " (case-insensitive)", "date": " (a whole day)"}.get(flt.match, "")
        return f"?{name}=<value> returns exactly the matching records{how}"
    if form == "repeated-means-any-of":
        return f"?{name}=<a>&{name}=<b> returns the records matching any of the values"
    if form == "null-matches-unset":
        return f"?{name}=null returns the records where it is unset"
    if form.startswith("date-special-"):
        special = next((s for s in flt.specials if s.lstrip("$").startswith(form[len("date-special-"):])), form)
        return f"?{name}={special} returns the records in that date range"
    return f"?{name}: {form}"


def render_inventory(targets: list[ServiceTarget], unchecked_only: bool = False) -> str:
    """The inventory as text: per guide, each rule with what checks it (or UNCHECKED)."""
    lines = []
    total = unchecked = 0
    for target in targets:
        rules = inventory(target)
        lines.append(f"{_guide(target)} ({target.name}): {len(rules)} rules")
        for rule in rules:
            total += 1
            unchecked += not rule.checked
            if unchecked_only and rule.checked:
                continue
            held = ", ".join(rule.checks[:4]) + (f" (+{len(rule.checks) - 4})" if len(rule.checks) > 4 else "")
            where = f" [line {rule.line}]" if rule.line else ""
            lines.append(f"  [{rule.kind}] {rule.statement}{where}")
            lines.append(f"      {'held by ' + held if rule.checked else 'UNCHECKED'}")
        lines.append("")
    lines.append(f"{total} rules, {total - unchecked} checked, {unchecked} unchecked")
    return "\n".join(lines)
