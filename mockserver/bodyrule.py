"""What a request body may carry into a handler: one rule for every operation, generic or
workflow-owned, applied by the engine before any handler runs.

1. The body is validated against the operation's request schema (400 naming the field).
2. Only the fields that schema declares reach the handler (`ctx.body`); everything else is dropped.
3. System and ownership fields never do, even when declared: `id`, the tenant field (`companyId`…),
   `_owner`, `recordVersion`, `isActive`, `createdAt`, `updatedAt` and every `<enum>_idx`. The twin
   sets those itself, from the path, the tenant header and the caller.
4. A dropped field that names a property of the operation's data object must still be a valid value
   of that property (400 naming it), so a client sending junk hears so; it is never applied.

A signed Stripe webhook is the exception: its body is Stripe's event, not a record, and its handler
reads it whole (after checking the signature).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import fastjsonschema

from specs.extensions import SYSTEM_FIELDS

from .validation import DRAFT, describe


class BodyRule:
    """The rule for one operation: which body fields reach its handler, which are checked and dropped."""

    def __init__(self, declared: frozenset[str] | None, record_properties: dict[str, dict[str, Any]],
                 tenant_field: str | None, system_fields: frozenset[str] = frozenset(SYSTEM_FIELDS)) -> None:
        # declared is None for a free-form body (no `properties` in the schema): keep all but system fields.
        self.declared = declared
        self.tenant_field = tenant_field
        self.record_properties = record_properties
        # The fields only the twin sets (rule 3): the spec's system fields and the tenant field.
        self.fixed = system_fields | ({tenant_field} if tenant_field else frozenset())
        self._checks: dict[str, Callable[[Any], Any]] = {}
        # The declared fields that pass as they are (rule 2 without rule 3), so the common body —
        # only declared, non-system fields — costs one set look-up per field.
        self._passing = frozenset(n for n in declared or () if not self.is_system_field(n))

    def is_system_field(self, name: str) -> bool:
        """True for a field only the twin may set (see the module's rule 3)."""
        return name in self.fixed or name.endswith("_idx")

    def apply(self, body: dict[str, Any]) -> dict[str, Any]:
        """The fields the handler may see; raises ApiError (400) for a dropped property with an invalid value."""
        passing = self._passing
        if body.keys() <= passing:
            return body  # the common body: only declared, non-system fields, all kept
        kept: dict[str, Any] = {}
        for name, value in body.items():
            if name in passing:
                kept[name] = value
            elif self.is_system_field(name):
                continue
            elif self.declared is None:
                kept[name] = value
            elif name in self.record_properties:
                self._check(name, value)
        return kept

    def _check(self, name: str, value: Any) -> None:
        check = self._checks.get(name)
        if check is None:  # compiled on first use: most properties are never sent where they do not belong
            check = self._checks[name] = fastjsonschema.compile({"$schema": DRAFT, **self.record_properties[name]})
        try:
            check(value)
        except fastjsonschema.JsonSchemaValueException as error:
            raise describe(error, name) from None
