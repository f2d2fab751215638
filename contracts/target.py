"""Where the suite points and as whom: a `Target` is one `ServiceTarget` per spec, each with its base
URL, its identities (a bearer token per role, and the tenant codename for multi-tenant services),
its hooks (HTTP calls that set up preconditions the API itself cannot, e.g. "mark this lesson
completed") and static data.

Everything comes from a config file (YAML or JSON, `${VAR}` expanded) and environment variables
(`TWIN_TOKEN_<PROJECT>_<IDENTITY>`, `TWIN_TENANT_<PROJECT>_<IDENTITY>`), never from code. Against a
twin (`GET /__twin/services` answers), services, personas, tokens and hooks are discovered.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
import yaml

from .spec import ServiceSpec, default_spec_paths, load_spec, load_specs, parse_spec

ENV_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class ConfigError(ValueError):
    """The config file or environment is unusable (message says why)."""


@dataclass
class Identity:
    """A caller: a token, its role, and (multi-tenant services) the tenant it belongs to."""

    name: str
    role: str
    token: str | None
    tenant: str | None = None
    user_id: str | None = None

    def describe(self) -> str:
        tenant = f"@{self.tenant}" if self.tenant else ""
        return f"{self.name} ({self.role}{tenant})"


def _substitute(template: Any, values: Mapping[str, Any]) -> Any:
    """Fill `{name}` placeholders in strings (a string that is only `{name}` takes the value's type)."""
    if isinstance(template, str):
        whole = PLACEHOLDER.fullmatch(template)
        if whole and whole.group(1) in values:
            return values[whole.group(1)]
        return PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), template)
    if isinstance(template, list):
        return [_substitute(item, values) for item in template]
    if isinstance(template, dict):
        return {key: _substitute(value, values) for key, value in template.items()}
    return template


@dataclass
class Hook:
    """An HTTP call that sets a precondition up (URL and body are templates: `{id}`, `{status}`, …)."""

    name: str
    method: str
    url: str
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def call(self, session: requests.Session | None = None, timeout: float = 10.0, **values: Any) -> Any:
        """Make the call; answers the JSON body (None when empty). Raises on a non-2xx answer."""
        url = _substitute(self.url, values)
        body = _substitute(self.body, values) if self.body is not None else values.get("body")
        sender = session or requests
        response = sender.request(self.method.upper(), url, json=body, headers=self.headers, timeout=timeout)
        if not 200 <= response.status_code < 300:
            raise RuntimeError(f"hook {self.name}: {self.method.upper()} {url} answered {response.status_code}: {response.text[:200]}")
        try:
            return response.json() if response.content else None
        except ValueError:
            return None

    @classmethod
    def from_config(cls, name: str, raw: Any) -> Hook:
        if isinstance(raw, str):
            method, _, url = raw.partition(" ")
            return cls(name=name, method=method if url else "GET", url=url or method)
        if not isinstance(raw, dict) or "url" not in raw:
            raise ConfigError(f"hook {name!r}: expected {{method, url, body?, headers?}} or 'METHOD URL'")
        return cls(name=name, method=str(raw.get("method", "GET")), url=str(raw["url"]), body=raw.get("body"),
                   headers={str(k): str(v) for k, v in (raw.get("headers") or {}).items()})


@dataclass
class ServiceTarget:
    """One service under test."""

    spec: ServiceSpec
    base_url: str
    identities: dict[str, Identity] = field(default_factory=dict)
    hooks: dict[str, Hook] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    generated_as: str | None = None
    twin_url: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.spec.slug

    @property
    def project(self) -> str:
        return self.spec.project

    def identity(self, name: str) -> Identity | None:
        """An identity by name (`student2`) or, failing that, the first of that role."""
        if name in self.identities:
            return self.identities[name]
        found = self.by_role(name)
        return found[0] if found else None

    def by_role(self, role: str) -> list[Identity]:
        """Identities of `role`, in name order (`student`, `student2`, …)."""
        return [i for i in self.identities.values() if i.role == role]

    def generated_identity(self) -> Identity | None:
        """Whom Schemathesis calls as."""
        if self.generated_as:
            return self.identity(self.generated_as)
        for role in generated_roles(self.spec):
            found = self.identity(role)
            if found is not None:
                return found
        return next(iter(self.identities.values()), None)

    def records(self, name: str, session: requests.Session | None = None) -> list[dict[str, Any]] | None:
        """Records of a precondition set (`lessonSlots`, `coursePacks`, `listings`): from the hook of that
        name, else the config's static data, else None (the scenario then skips)."""
        hook = self.hooks.get(name)
        if hook is not None:
            answer = hook.call(session)
            if isinstance(answer, dict):  # {"records": […]}, {"data": […]} or a guide envelope naming its dataName
                data_name = answer.get("dataName")
                answer = answer.get("records", answer.get("data", answer.get(data_name, []) if isinstance(data_name, str) else []))
            return [r for r in answer or [] if isinstance(r, dict)]
        data = self.data.get(name)
        return [r for r in data if isinstance(r, dict)] if isinstance(data, list) else None


@dataclass
class Settings:
    """How much and how the suite runs."""

    max_examples: int = 5
    seed: int = 1
    # The examples phase is left out: the coverage phase already sends each operation's documented
    # examples ("Example value" cases) along with its boundary and negative cases; on the three known
    # services it added no rule check and no success, only 4 of 29 s of CPU.
    phases: tuple[str, ...] = ("coverage", "fuzzing", "stateful")
    stateful_steps: int = 10
    # Built-in Schemathesis checks whose expectations the guides do not state (a right deployment
    # may answer 400 to well-formed data a business rule refuses, 404 to an undeclared method, …).
    # ensure_resource_availability reads the guides' 404 for a missing *referenced* record (a line naming
    # a food item nobody has: errMsg_foodItemNotFound) as "the parent just created is gone";
    # crud.lifecycle and the stateful system-field rule judge that created records stay available.
    exclude_checks: tuple[str, ...] = ("positive_data_acceptance", "object_level_authorization", "unsupported_method",
                                       "allow_header_conformance", "ensure_resource_availability")
    layers: tuple[str, ...] = ("probes", "scenarios", "generated")
    only: tuple[str, ...] = ()
    timeout: float = 10.0
    payment_wait: float = 10.0
    jobs: int = 3
    cleanup: bool = True  # delete what the run created (and report what it cannot)


@dataclass
class Target:
    """Every service under test, and the run's settings."""

    services: list[ServiceTarget]
    settings: Settings = field(default_factory=Settings)
    twin_url: str | None = None


# -- config file and environment -----------------------------------------------------------------
def _expand(value: Any, env: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        def replace(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if name in env:
                return env[name]
            if default is not None:
                return default
            raise ConfigError(f"the config refers to ${{{name}}}, which is not set")
        return ENV_VAR.sub(replace, value)
    if isinstance(value, list):
        return [_expand(v, env) for v in value]
    if isinstance(value, dict):
        return {k: _expand(v, env) for k, v in value.items()}
    return value


def load_config(path: str | Path | None, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The config file as a dict (`{}` without one), `${VAR}` and `${VAR:-default}` expanded."""
    if path is None:
        return {}
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read the config ({getattr(error, 'strerror', None) or error})") from None
    try:
        data = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as error:
        raise ConfigError(f"{path}: not valid YAML/JSON: {error}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping")
    expanded: dict[str, Any] = _expand(data, os.environ if env is None else env)
    return expanded


def generated_roles(spec: ServiceSpec) -> list[str]:
    """The roles Schemathesis calls as by default, best first: a tenant's role when the service has
    tenants (the calls then act inside a tenant, as most of its users do), else any role of the
    guide's; among those, the roles the role table lets call the most operations, ties in the guide's
    order (tutorhub: admin; workforceos: tenantOwner, tenantAdmin, tenantUser)."""
    tenant_roles = [role for role, of_tenant in spec.roles.items() if of_tenant]
    candidates = tenant_roles or list(spec.roles)
    reach = {role: sum(1 for op in spec.operations.values() if op.access is None or role in op.access)
             for role in candidates}
    return sorted(candidates, key=lambda role: -reach[role])


def _role_of(roles: Iterable[str], key: str) -> tuple[str, str]:
    """(identity name, role) for an environment variable's identity part (`STUDENT2`, `TENANTOWNER`):
    the guide's role it starts with, in the guide's spelling; else the part in lower case."""
    lowered = key.lower()
    for role in sorted(roles, key=len, reverse=True):
        if lowered.startswith(role.lower()):
            suffix = key[len(role):]
            if suffix == "" or suffix.lstrip("_").isdigit():
                number = suffix.lstrip("_")
                return role + (number if number not in ("", "1") else ""), role
    return lowered, lowered


def identities_from_env(spec: ServiceSpec, env: Mapping[str, str]) -> dict[str, Identity]:
    """`TWIN_TOKEN_<PROJECT>_<IDENTITY>` (+ `TWIN_TENANT_…`, `TWIN_ROLE_…`, `TWIN_USER_…`) as identities
    of `spec`'s service, named and typed by the roles its guide names."""
    project = spec.project
    prefix = f"TWIN_TOKEN_{project.upper()}_"
    found: dict[str, Identity] = {}
    for var, token in env.items():
        if not var.startswith(prefix) or not token:
            continue
        key = var[len(prefix):]
        name, role = _role_of(spec.roles, key)
        role = env.get(f"TWIN_ROLE_{project.upper()}_{key}", role)
        found[name] = Identity(name=name, role=role, token=token,
                               tenant=env.get(f"TWIN_TENANT_{project.upper()}_{key}") or None,
                               user_id=env.get(f"TWIN_USER_{project.upper()}_{key}") or None)
    return found


def _identities_from_config(raw: Any) -> dict[str, Identity]:
    found = {}
    for name, value in (raw or {}).items():
        if isinstance(value, str):
            value = {"token": value}
        if not isinstance(value, dict):
            raise ConfigError(f"identity {name!r}: expected {{role, token, tenant?, userId?}}")
        token = value.get("token")
        if token is None and value.get("tokenEnv"):
            token = os.environ.get(str(value["tokenEnv"]))
        found[str(name)] = Identity(name=str(name), role=str(value.get("role", name)), token=token,
                                    tenant=value.get("tenant"), user_id=value.get("userId"))
    return found


# -- twin discovery --------------------------------------------------------------------------------
def control_headers(control_token: str | None) -> dict[str, str]:
    """Headers for a twin's control API: its bearer token when the twin guards it (`--control-token`)."""
    return {"Authorization": f"Bearer {control_token}"} if control_token else {}


def probe_twin(base_url: str, timeout: float = 3.0, control_token: str | None = None) -> dict[str, Any] | None:
    """The twin's `/__twin/services` answer, or None when `base_url` is not a twin.

    A twin that guards its control API with a token answers 401 without it: that is a ConfigError
    (the twin is there, the suite cannot discover it), not "no twin"."""
    try:
        response = requests.get(f"{twin_root(base_url)}/__twin/services", timeout=timeout,
                                headers=control_headers(control_token))
    except requests.RequestException:
        return None
    if response.status_code == 401 and "controlToken" in response.text:
        raise ConfigError(f"{twin_root(base_url)} is a twin whose control API needs its token: "
                          "pass --control-token (or set TWIN_CONTROL_TOKEN)")
    if response.status_code != 200:
        return None
    try:
        data = response.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) and isinstance(data.get("services"), list) else None


def twin_specs(root: str, twin: dict[str, Any], timeout: float = 10.0,
               control_token: str | None = None) -> list[ServiceSpec]:
    """The specs of a twin's services: a committed spec by its file name; any other (a spec or guide
    of the team's own, built by the twin) as the document the twin serves at `/__twin/specs/<slug>`."""
    known = {p.name: p for p in default_spec_paths()}
    out = []
    for service in twin["services"]:
        if service.get("spec") in known:
            out.append(load_spec(known[service["spec"]]))
            continue
        response = requests.get(f"{root}/__twin/specs/{service['slug']}", timeout=timeout,
                                headers=control_headers(control_token))
        response.raise_for_status()
        out.append(parse_spec(response.json(), Path(str(service.get("spec") or service["slug"]))))
    return out


def twin_root(base_url: str) -> str:
    """scheme://host:port of a URL."""
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}"


def twin_personas(root: str, timeout: float = 5.0, control_token: str | None = None) -> list[dict[str, Any]]:
    """Every persona the twin offers, with its token."""
    response = requests.get(f"{root}/__twin/personas", timeout=timeout, headers=control_headers(control_token))
    response.raise_for_status()
    return list(response.json().get("personas", []))


def identities_from_personas(project: str, personas: list[dict[str, Any]]) -> dict[str, Identity]:
    """Personas of a project as identities named by role: the first `student`, the next `student2`, …"""
    found: dict[str, Identity] = {}
    counts: dict[str, int] = {}
    for persona in personas:
        if persona.get("project") != project or not persona.get("token"):
            continue
        role = str(persona.get("role"))
        counts[role] = counts.get(role, 0) + 1
        name = role if counts[role] == 1 else f"{role}{counts[role]}"
        found[name] = Identity(name=name, role=role, token=persona["token"], tenant=persona.get("tenant"),
                               user_id=persona.get("userId"))
    return found


def twin_hooks(root: str, project: str, control_token: str | None = None) -> dict[str, Hook]:
    """The hooks a twin offers through its control API."""
    fixtures = f"{root}/__twin/fixtures/{project}"
    headers = control_headers(control_token)
    hooks = {
        "fixtures": Hook("fixtures", "GET", fixtures + "/{object}", headers=headers),
        "patchFixture": Hook("patchFixture", "PATCH", fixtures + "/{object}/{id}", headers=headers),
    }
    if project == "tutorhub":
        hooks.update({
            "coursePacks": Hook("coursePacks", "GET", fixtures + "/coursePack", headers=headers),
            "lessonSlots": Hook("lessonSlots", "GET", fixtures + "/lessonSlot", headers=headers),
            "completeLessonSlot": Hook("completeLessonSlot", "PATCH", fixtures + "/lessonSlot/{id}",
                                       {"status": "completed"}, headers),
            "setLessonSlotStatus": Hook("setLessonSlotStatus", "PATCH", fixtures + "/lessonSlot/{id}",
                                        {"status": "{status}"}, headers),
        })
    elif project == "airbnb":
        hooks["listings"] = Hook("listings", "GET", fixtures + "/listing", headers=headers)
    return hooks


# -- building the target ---------------------------------------------------------------------------
def _join_url(base: str, base_path: str) -> str:
    base = base.rstrip("/")
    if base_path and urlsplit(base).path.rstrip("/").endswith(base_path.rstrip("/")):
        return base
    return base + base_path


def _service_config(config: dict[str, Any], spec: ServiceSpec) -> dict[str, Any]:
    services = config.get("services") or {}
    for key in (spec.slug, spec.project, spec.path.name):
        if key in services:
            return dict(services[key] or {})
    return {}


def _settings(config: dict[str, Any], overrides: Mapping[str, Any]) -> Settings:
    settings = Settings()
    mapping = {"maxExamples": "max_examples", "seed": "seed", "phases": "phases", "statefulSteps": "stateful_steps",
               "excludeChecks": "exclude_checks", "layers": "layers", "only": "only", "timeout": "timeout",
               "paymentWait": "payment_wait", "jobs": "jobs", "cleanup": "cleanup"}
    for key, attr in mapping.items():
        if key in config:
            value = config[key]
            setattr(settings, attr, tuple(value) if isinstance(value, list) else value)
    for attr, value in overrides.items():
        if value is not None:
            setattr(settings, attr, tuple(value) if isinstance(value, list) else value)
    return settings


def build_target(*, base_url: str | None = None, env_name: str | None = None, specs: list[str] | None = None,
                 config: dict[str, Any] | None = None, environ: Mapping[str, str] | None = None,
                 discover: bool = True, settings: Mapping[str, Any] | None = None,
                 control_token: str | None = None) -> Target:
    """Resolve services, URLs, identities and hooks from the options, the config and the environment.

    `control_token` (else the config's `controlToken`, else $TWIN_CONTROL_TOKEN) is sent to a twin's
    control API when discovering it."""
    config = config or {}
    environ = os.environ if environ is None else environ
    base_url = base_url or config.get("baseUrl") or environ.get("TWIN_BASE_URL")
    env_name = env_name or config.get("env") or environ.get("TWIN_ENV")
    control_token = control_token or config.get("controlToken") or environ.get("TWIN_CONTROL_TOKEN") or None
    twin = probe_twin(base_url, control_token=control_token) \
        if (base_url and discover and config.get("discover", True)) else None
    spec_names = specs or config.get("specs") or []
    root = twin_root(base_url) if twin is not None and base_url else None
    if spec_names:
        loaded = load_specs([str(name) for name in spec_names])
    elif twin is not None and root is not None:
        loaded = twin_specs(root, twin, control_token=control_token)
    else:
        loaded = [load_spec(path) for path in default_spec_paths()]
    personas = twin_personas(root, control_token=control_token) if root else []
    services = []
    for spec in loaded:
        own = _service_config(config, spec)
        if own.get("baseUrl"):
            url = str(own["baseUrl"]).rstrip("/")
        elif base_url:
            url = _join_url(base_url, spec.base_path)
        elif env_name:
            if env_name not in spec.servers:
                raise ConfigError(f"{spec.slug}: no {env_name!r} server in the spec (has {sorted(spec.servers)})")
            url = spec.servers[env_name].rstrip("/")
        else:
            raise ConfigError("say where to verify: --base-url URL, --env preview|staging|production, or baseUrl in the config")
        identities: dict[str, Identity] = {}
        hooks: dict[str, Hook] = {}
        if root:
            identities.update(identities_from_personas(spec.project, personas))
            hooks.update(twin_hooks(root, spec.project, control_token))
        identities.update(identities_from_env(spec, environ))
        identities.update(_identities_from_config(own.get("identities")))
        hooks.update({name: Hook.from_config(name, raw) for name, raw in (own.get("hooks") or {}).items()})
        services.append(ServiceTarget(
            spec=spec, base_url=url, identities=identities, hooks=hooks, data=dict(own.get("data") or {}),
            generated_as=own.get("generatedAs"), twin_url=root, options=own,
        ))
    return Target(services=services, settings=_settings(config, settings or {}), twin_url=root)
