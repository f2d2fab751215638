"""Records for data objects no API of their service creates (an AI evaluation, a computed summary).

The backend makes them in its business logic; a twin without a workflow module for the service
cannot, so without seeds their get and list operations could only ever answer 404 and empty
pages. Projects with a fixture module of their own shape their data by hand and get none.

`seed_world` is a `World` seeder: whoever builds the world passes it (`World(..., seeders=[seed_world])`),
and the world runs it after every reset.
"""

from __future__ import annotations

from typing import Any

from fixtures.base import FixtureFactory

from .context import Context
from .crud import new_record
from .specindex import DataObjectSpec
from .world import ServiceState, World

SEEDED = 5


def seed_world(world: World) -> None:
    """Seed every service of a project without a fixture module of its own (see `seed_uncreatable`)."""
    for state in world.services.values():
        project = world.projects.get(state.spec.project)
        if project is not None and project.generic:
            seed_uncreatable(world, state)


def uncreatable(state: ServiceState) -> list[DataObjectSpec]:
    """The service's data objects that none of its operations creates."""
    created = {op.data_object for op in state.spec.operations if op.action == "create"}
    return [obj for name, obj in state.spec.data_objects.items() if name not in created]


def seed_uncreatable(world: World, state: ServiceState) -> None:
    """Insert `SEEDED` records of every data object no operation of the service creates: values by
    type (seeded), references to existing records, users and fixtures, tenants taken in turn."""
    project = world.projects.get(state.spec.project)
    if project is None:
        return
    ctx = Context.system(world, state)
    tenants = list(project.companies.values())
    for obj in uncreatable(state):
        factory = FixtureFactory(f"{state.spec.slug}:{obj.name}", world.seed)
        for number in range(SEEDED):
            values = {name: _value(world, state, obj, name, prop, factory, number)
                      for name, prop in obj.properties.items()}
            if obj.tenant_field and tenants:
                values[obj.tenant_field] = tenants[number % len(tenants)]["id"]
            state.tables[obj.name].insert(new_record(ctx, values, obj))


def _value(world: World, state: ServiceState, obj: DataObjectSpec, name: str, prop: dict[str, Any],
           factory: FixtureFactory, number: int) -> Any:
    rel = obj.relation(name)
    if rel is not None:
        ids = _ids(world, state, rel["target"])
        value: Any = ids[number % len(ids)] if ids else factory.uuid()
    else:
        value = factory.value(name, prop["type"], prop.get("options") or prop.get("enum"))
    return [value] if prop.get("isArray") else value


def _ids(world: World, state: ServiceState, target: str) -> list[str]:
    """Ids of existing records of `target`: this service's, another served service's, fixtures'."""
    if target in state.tables:
        return [r["id"] for r in state.tables[target].records(include_inactive=False)]
    elsewhere = world.owned_elsewhere(state.spec.project, target, state.spec.slug)
    table = elsewhere[0] if elsewhere is not None else world.foreign(state.spec.project, target)
    return [r["id"] for r in table.records(include_inactive=False)] if table is not None else []
