"""Realistic examples for a service's operations: request bodies, parameters and answers.

Values come from the seeded fixtures where the guide points at another object (a `coursePackId` is
a course pack the twin really seeds, a tenant header a company it knows) and from a seeded Faker
otherwise (names, emails, dates, enum options), so the same guide always gives the same examples,
docs show values instead of `"string"`, and Schemathesis' examples phase sends requests that mean
something. One example record per data object, shared by every operation on it: the id a create
answers is the id the get, update and delete examples address.
"""

from __future__ import annotations

from typing import Any

import fixtures
from fixtures.base import FixtureFactory

from .model import Api, DataObject, GuideType, Join, Parameter, Property, Service
from .prose import required_keys

APP_VERSION = "twin-0.1.0"
SYSTEM_EXAMPLE_DAYS = -7  # records in examples were created a week before the fixtures' anchor date


class ServiceExamples:
    """The examples of one service (build once per emitted document)."""

    def __init__(self, service: Service, foreign_objects: dict[str, dict[str, str]]) -> None:
        self.service = service
        self.factory = FixtureFactory(f"{service.slug}:examples")
        seeded = fixtures.load(service.project, foreign_objects, 0)
        self.personas = seeded.personas
        self.foreign: dict[str, list[dict[str, Any]]] = dict(seeded.objects)
        self.companies = seeded.companies
        self._records: dict[str, dict[str, Any]] = {}

    # -- values ---------------------------------------------------------------------------------
    def user_id(self) -> str:
        """The first seeded persona: examples act as a real user of the twin."""
        return self.personas[0]["userId"] if self.personas else self.factory.uuid()

    def tenant(self) -> str:
        """A company the twin seeds (for the tenant header)."""
        return self.companies[0]["codename"] if self.companies else "acme"

    def reference(self, target: str) -> str | None:
        """The id of a record of `target`: a seeded fixture, or this service's own example record."""
        if self.foreign.get(target):
            return str(self.foreign[target][0]["id"])
        obj = self.service.data_object(target)
        return self.record(obj)["id"] if obj is not None else None

    def scalar(self, name: str, type_: GuideType, options: list[str] | None = None) -> Any:
        """One realistic value of a guide type for a field called `name`."""
        if type_ == "Enum":
            return options[0] if options else "active"
        if type_ == "Object":
            return {"note": self.factory.faker.sentence(nb_words=4)}
        if type_ == "String" and name.lower() in ("currency", "currencycode"):
            return "USD"
        return self.factory.value(name, type_, options)

    def property_value(self, obj: DataObject, prop: Property) -> Any:
        rel = next((r for r in obj.relations if r.property == prop.name), None)
        ref = self.reference(rel.target) if rel is not None and rel.target != obj.name else None
        value = ref if ref is not None else self.scalar(prop.name, prop.type, prop.enum)
        return [value] if prop.is_array else value

    def record(self, obj: DataObject) -> dict[str, Any]:
        """The example record of a data object (every property, `_idx` and system fields)."""
        if obj.name in self._records:
            return self._records[obj.name]
        record: dict[str, Any] = {"id": self.factory.uuid()}
        self._records[obj.name] = record  # before the properties: a self-reference finds it
        for prop in obj.properties:
            record[prop.name] = self.property_value(obj, prop)
            if prop.type == "Enum" and prop.enum:
                record[f"{prop.name}_idx"] = prop.enum.index(record[prop.name]) if not prop.is_array else 0
        created = self.factory.iso(SYSTEM_EXAMPLE_DAYS)
        record.update({"isActive": True, "recordVersion": 1, "createdAt": created, "updatedAt": created,
                       "_owner": self.user_id()})
        return record

    def join(self, join: Join) -> Any:
        seeded = self.foreign.get(join.target or "") or []
        source = seeded[0] if seeded else {}
        item = {name: source.get(name, self.scalar(name, type_)) for name, type_ in join.fields.items()}
        return [item] if join.is_array else item

    # -- operations -----------------------------------------------------------------------------
    def parameter(self, api: Api, param: Parameter, obj: DataObject | None) -> Any:
        """A path/query/header parameter's example: the record it addresses, a real reference, …"""
        name = param.name
        if obj is not None:
            if name == "id" or name.lower() == f"{obj.name.lower()}id":
                return self.record(obj)["id"]
            prop = obj.find_property(name)
            if prop is not None:
                value = self.record(obj)[name]
                return value[0] if isinstance(value, list) and param.location != "body" else value
        for other in self.service.data_objects:
            if name.lower() == f"{other.name.lower()}id":
                return self.record(other)["id"]
        if name.lower().endswith("userid"):
            return self.user_id()
        return self.scalar(name, param.type, param.enum)

    def body(self, api: Api, params: list[Parameter], obj: DataObject | None) -> dict[str, Any]:
        """A request body: the example record's values for its properties."""
        out: dict[str, Any] = {}
        for param in params:
            if param.type == "Object" and obj is not None and obj.find_property(param.name) is None:
                out[param.name] = self.object_parameter(param)
            else:
                out[param.name] = self.parameter(api, param, obj)
        return out

    def object_parameter(self, param: Parameter) -> dict[str, Any]:
        """A free-form object parameter (`paymentUserParams`) with the keys its description requires."""
        keys = required_keys(param.description)
        # A Stripe test card is what a payment method id means in the guides' payment APIs.
        return {k: "pm_card_visa" if k == "paymentMethodId" else self.scalar(k, "String") for k in keys} or \
            {"note": self.factory.faker.sentence(nb_words=4)}

    def resource(self, api: Api, obj: DataObject | None) -> Any:
        """The resource under the answer's dataName (a one-item list for lists)."""
        shape = api.response
        full = self.record(obj) if obj is not None else {}
        item: dict[str, Any] = {}
        for name, type_ in shape.fields.items():
            item[name] = full[name] if name in full else self.scalar(name, type_)
        for join in shape.joins:
            item[join.key] = self.join(join)
        return [item] if shape.is_list else item

    def extra(self, key: str, example: Any, obj: DataObject | None) -> Any:
        """An extra top-level key's value from the guide's example of it (type names → values)."""
        if isinstance(example, dict):
            return {k: self.extra(k, v, obj) for k, v in example.items()}
        if isinstance(example, bool):
            return example
        if isinstance(example, list):
            return [self.extra(key, example[0], obj)] if example else []
        from .tables import normalize_type

        type_, _ = normalize_type(str(example))
        if key == "orderId" and obj is not None:
            return self.record(obj)["id"]
        return self.scalar(key, type_ or "String")

    def answer(self, api: Api, obj: DataObject | None, extras: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """The whole success answer, envelope included, as the twin would send it."""
        shape = api.response
        data = self.resource(api, obj)
        request_id = self.factory.uuid()
        body: dict[str, Any] = {
            "status": "OK", "statusCode": shape.status, "elapsedMs": 12, "ssoTime": 0, "source": "db",
            "cacheKey": request_id.replace("-", ""), "userId": self.user_id(), "sessionId": self.factory.uuid(),
            "requestId": request_id, "dataName": shape.data_name, "method": api.method, "action": shape.action,
            "appVersion": APP_VERSION, "rowCount": len(data) if isinstance(data, list) else 1,
            shape.data_name: data,
        }
        if shape.is_list:
            body["paging"] = {"pageNumber": 1, "pageRowCount": 25, "totalRowCount": 1, "pageCount": 1}
            body["filters"] = []
            body["uiPermissions"] = []
        for key, schema in extras.items():
            if key in shape.extra_keys:
                body[key] = self.extra(key, shape.extra_keys[key], obj)
            else:
                body[key] = self.described(key, schema)
        return body

    def described(self, key: str, schema: dict[str, Any]) -> Any:
        """A value for a key the API's description promises (`checkoutUrl`)."""
        if schema.get("format") == "uri":
            return f"https://checkout.twin.test/c/pay/cs_test_{self.factory.uuid().replace('-', '')[:24]}"
        return f"cs_test_{self.factory.uuid().replace('-', '')[:24]}"


def error_example(code: int, message: str) -> dict[str, Any]:
    """An error envelope as the guides show it."""
    return {"result": "ERR", "status": code, "message": message, "errCode": code,
            "date": "2027-01-04T09:30:00.000Z", "detail": None}
