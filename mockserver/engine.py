"""The generic request path: authenticate, resolve the tenant, check the role, parse and validate
parameters and body, run the handler (the workflow's or the generic action), wrap the envelope.
"""

from __future__ import annotations

import json
import time
from typing import Any

import orjson
from aiohttp import web
from multidict import MultiMapping

from . import envelope, mutants
from .context import Context, Result
from .crud import generic_handler, shaped_answer
from .errors import ApiError, bad_request, forbidden, not_found
from .identity import Identity, cookie_token, system_identity
from .keys import CORS_POLICY
from .projection import present
from .readcache import Answer, ReadCache, answer
from .samples import sample
from .specindex import Operation
from .store import RawJson
from .workflows.base import Workflow
from .world import ServiceState, World

AUTH_OPTIONAL = mutants.rule_mutant("auth-optional", "a request without a token is served as the project's first persona")
ROLE_BYPASS = mutants.rule_mutant("role-bypass", "the role table is not enforced")
JSON = "application/json"
MAX_BODY_BYTES = 64 * 1024 * 1024  # the largest request body the twin reads (bulk loads included)


def _raw_fragment(value: Any) -> Any:
    if isinstance(value, RawJson):
        return orjson.Fragment(value.json)
    raise TypeError


def _raw_decoded(value: Any) -> Any:
    return orjson.loads(value.json) if isinstance(value, RawJson) else str(value)


def encode(body: Any) -> bytes:
    """orjson, splicing stored records (`RawJson`) in as they are, with the stdlib encoder for what
    orjson refuses (such as integers beyond 64 bits inside a client's Object value)."""
    try:
        return orjson.dumps(body, default=_raw_fragment)
    except TypeError:
        return json.dumps(body, default=_raw_decoded).encode()


def elapsed_ms(started: float) -> float:
    """Milliseconds since `started` (a `time.perf_counter()`), to the microsecond (integer
    arithmetic: `round(x, 3)` formats the float as text to round it)."""
    return int((time.perf_counter() - started) * 1_000_000) / 1000


def body_at_hand(request: web.Request) -> bytes | None:
    """The request's body when it arrived whole with its headers (a JSON body usually does): taken
    from the stream as it is, without awaiting (`request.read()` would wait once more, for the end
    of a stream that has already ended). None when some of it is still to come. Over
    MAX_BODY_BYTES: 413."""
    if not request.body_exists:
        return b""
    content = request.content
    if not content.is_eof():
        return None
    raw = content.read_nowait()
    if len(raw) > MAX_BODY_BYTES:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_BODY_BYTES, actual_size=len(raw))
    return raw


def json_response(body: Any, status: int, headers: dict[str, str] | None = None) -> web.Response:
    """An orjson-encoded JSON response."""
    return web.Response(body=encode(body), status=status, content_type=JSON, headers=headers)


class ApiResponse(web.Response):
    """The answer of a service operation, carrying what the request journal records about it
    (attributes rather than request keys: this is the hot path)."""

    api: str | None = None
    user_id: str | None = None


class OperationHandler:
    """The aiohttp handler of one operation (everything it needs is resolved at start-up)."""

    def __init__(self, world: World, state: ServiceState, op: Operation, workflow: Workflow, *,
                 read_cache: bool = True) -> None:
        self.world = world
        self.mutants = world.mutants  # switched by the control API, but always this same object
        self.state = state
        self.op = op
        self.workflow = workflow
        self.action = workflow.handlers.get(op.api) or (generic_handler(op.action) if op.data_object else shaped_answer)
        # Keys of the guide's example no workflow computes are answered in the example's shape.
        self.filled_extras = {} if op.api in workflow.handlers else op.extra_schemas
        self.project = state.spec.project
        self.tenant_header = state.spec.tenant_header
        self.reads_query = bool(op.query_params or op.filters or op.paging_params)
        # The role table's entry for this API (None: open to every role): most calls pass on one
        # set look-up; a refusal asks the workflow, which knows the loosening mutants.
        self.roles = workflow.access.get(op.api)
        self.declared_query = frozenset([*(p.name for p in op.query_params), *(f.name for f in op.filters),
                                         *op.paging_params])
        # The generic reads are memoized between writes (see readcache.py); a workflow's own
        # handlers may depend on more than the tables (Stripe, time), so they always run.
        generic_read = op.method == "GET" and op.action in ("get", "list") and op.api not in workflow.handlers
        self.read_cache = ReadCache(world) if read_cache and generic_read else None

    async def handle(self, request: web.Request) -> web.Response:
        started = time.perf_counter()
        op = self.op
        cache, key = self.read_cache, None
        if cache is not None:
            raw_path = request.raw_path  # as sent: the route with its query string, still %-encoded
            if "$" not in raw_path and "%24" not in raw_path and not self.mutants.any_active():
                headers = request.headers
                # Without an Authorization header the session cookie identifies the caller: key on it.
                key = (raw_path, headers.get("Authorization") or headers.get("Cookie"),
                       headers.get(self.tenant_header) if self.tenant_header else None)
                kept = cache.get(key)
                if kept is not None:
                    return self._replay(kept, started)
                stamp = cache.stamp()
        identity: Identity | None = None
        try:
            identity = self._authenticate(request)
            ctx = await self._context(request, identity)
            result = await self.action(ctx)
            status = op.status
            body = self._success(ctx, result, started)
            if key is not None and cache is not None:
                kept = answer(stamp, status, identity.user_id, body, encode)
                if kept is not None:
                    cache.put(key, kept)
        except ApiError as error:
            status = error.status
            body = envelope.error(error.status, error.message, error.detail, self.world.clock.now())
        for rewrite in self.mutants.active_rewrites():
            status, body = rewrite(op.facts, status, body)
        response = ApiResponse(body=encode(body), status=status, content_type=JSON)
        response.api = op.api
        if identity is not None:
            response.user_id = identity.user_id
        return response

    def _replay(self, kept: Answer, started: float) -> web.Response:
        """A kept answer, with this request's own requestId and elapsedMs."""
        body = kept.body(elapsed_ms(started), self.world.request_id())
        response = ApiResponse(body=body, status=kept.status, content_type=JSON)
        response.api = self.op.api
        response.user_id = kept.user_id
        return response

    # -- steps -----------------------------------------------------------------------------------
    def _authenticate(self, request: web.Request) -> Identity:
        header = request.headers.get("Authorization")
        if not header and self.op.api in self.workflow.webhook_apis and "Stripe-Signature" in request.headers:
            return system_identity(self.project)
        if not header and "Cookie" in request.headers:
            # A browser's session cookie stands in for the Bearer header (only looked at without one).
            token = cookie_token(request.cookies, self.project,
                                 request.headers.get(self.tenant_header) if self.tenant_header else None)
            if token:
                policy = request.app.get(CORS_POLICY)
                if policy is not None and policy.cookie_use_refused(request):
                    raise forbidden("errMsg_crossSiteRequestRefused",
                                    f"a page from {request.headers['Origin']} may not act with the session cookie "
                                    "(allow its origin with twin serve --cors-origin, or send a Bearer token)")
                header = f"Bearer {token}"
        if not header and self.mutants.is_active(AUTH_OPTIONAL):
            persona = self.world.personas(self.project)[0]
            header = f"Bearer {self.world.auth.token_for(persona)}"
        return self.world.auth.authenticate(header, self.project)

    def _company(self, request: web.Request, identity: Identity) -> dict[str, Any] | None:
        if self.tenant_header is None:
            return None
        codename = request.headers.get(self.tenant_header, "").strip()
        if not codename:
            raise bad_request("errMsg_tenantCodenameIsRequired", f"the {self.tenant_header} header is required")
        platform = identity.tenant is None or identity.role in self.workflow.platform_roles
        if not platform and codename.lower() != (identity.tenant or "").lower():
            raise forbidden("errMsg_tenantAccessDenied", f"this user belongs to tenant {identity.tenant}, not {codename}")
        company = self.world.company(self.project, codename.lower())
        if company is None:
            raise not_found("errMsg_tenantNotFound", f"{self.tenant_header}: no tenant {codename!r}")
        return company

    async def _context(self, request: web.Request, identity: Identity) -> Context:
        op = self.op
        role = identity.role
        system = role == "system"
        company = None if system or self.tenant_header is None else self._company(request, identity)
        roles = self.roles
        if not system and roles is not None and role not in roles \
                and not self.workflow.allows(op.api, role, self.mutants.is_active) \
                and not self.mutants.is_active(ROLE_BYPASS):
            raise forbidden("errMsg_roleNotAllowed", f"role {role} may not call {op.api}")
        if op.path_params:
            match = request.match_info
            path = {p.name: p.parse([match[p.name]]) for p in op.path_params}
        else:
            path = {}
        # Parsing the query string costs even when empty: skip it for operations that read none.
        if self.reads_query:
            query, filters, page_number, page_size = self._query(request.query)
        else:
            query, filters, page_number, page_size = {}, {}, 1, self.state.spec.default_page_size
        if op.body is not None or request.body_exists:
            # The body at hand is taken without a coroutine of its own (this is every write's path).
            raw_body = body_at_hand(request)
            if raw_body is None:
                raw_body = await request.read()
            body = self._body(raw_body)
            if not system:
                # What a body may change: one rule for every operation (bodyrule.py). A signed
                # webhook's body is Stripe's event, read whole by its handler.
                body = op.body_rule.apply(body)
        else:
            raw_body, body = b"", {}
        ignored = self._ignored(request) if op.is_list and request.query_string else []
        # Positional, in the order Context declares its fields: binding 17 keyword arguments cost
        # 8 k instructions, 4 % of a create (mypy checks each argument's type against its field).
        return Context(self.world, self.state, op, self.workflow, identity, company, path, query, filters, body,
                       page_number, page_size, self.world.clock.now(), request.app, request.headers, raw_body, ignored)

    def _query(self, args: MultiMapping[str]) -> tuple[dict[str, Any], dict[str, list[Any]], int, int]:
        """The declared query parameters, filters and paging of a request's query string."""
        op = self.op
        query: dict[str, Any] = {}
        for param in op.query_params:
            raw = args.getall(param.name, None)
            if raw:
                query[param.name] = param.parse(raw)
            elif param.required:
                raise bad_request(f"errMsg_{param.name}isRequired", f"{param.name} is required")
        filters = {}
        for flt in op.filters:
            raw = args.getall(flt.name, None)
            if raw:
                value = flt.param.parse(raw)
                filters[flt.name] = value if isinstance(value, list) else [value]
        page_number, page_size = 1, self.state.spec.default_page_size
        for name, param in op.paging_params.items():
            raw = args.getall(name, None)
            if raw and name == "pageNumber":
                page_number = param.parse(raw)
            elif raw and name == "pageRowCount":
                page_size = param.parse(raw)
        return query, filters, page_number, page_size

    def _ignored(self, request: web.Request) -> list[dict[str, Any]]:
        """The query parameters the guide does not declare for this list, as `filters` echoes them:
        ignored, like the backends ignore them, but shown, so a misspelt filter is not a mystery."""
        args = request.query
        return [{"name": name, "values": args.getall(name), "ignored": True}
                for name in dict.fromkeys(args) if name not in self.declared_query]

    def _body(self, raw: bytes) -> dict[str, Any]:
        """The request body `raw` as the operation takes it: parsed, and validated against its
        request schema when it has one."""
        op = self.op
        if not raw or raw.isspace():
            data: Any = {}
        else:
            try:
                data = orjson.loads(raw)
            except orjson.JSONDecodeError as error:
                raise bad_request("errMsg_invalidJsonBody", f"the body is not valid JSON: {error}") from None
        if op.body is None:
            return data if isinstance(data, dict) else {}
        if not isinstance(data, dict):
            raise bad_request("errMsg_bodyMustBeAJsonObject", "the request body must be a JSON object")
        validated: dict[str, Any] = op.body(data)
        return validated

    def _success(self, ctx: Context, result: Result, started: float) -> dict[str, Any]:
        op = self.op
        data = result.data
        if not result.presented:
            data = [present(ctx, r) for r in data] if isinstance(data, list) else present(ctx, data)
        if op.is_list and not isinstance(data, list):
            data = [] if data is None else [data]  # the guide shows an array: answer one
        elif not op.is_list and isinstance(data, list):
            data = data[0] if data else sample(op.resource_schema, self.world.now_iso())
        extra = result.extra
        if self.filled_extras:
            now = self.world.now_iso()
            missing = {k: sample(schema, now) for k, schema in self.filled_extras.items() if k not in extra}
            extra = {**extra, **missing} if missing else extra
        page = None
        if op.is_list:
            total = result.total if result.total is not None else len(data)
            size = result.page_size or ctx.page_size
            page = envelope.paging(result.page_number, size, total)
        return envelope.success(
            status=op.status, elapsed_ms=elapsed_ms(started), user_id=ctx.identity.user_id,
            session_id=ctx.identity.session_id, request_id=self.world.request_id(), data_name=op.data_name,
            method=op.method, action=op.action, data=data, page=page,
            filters=[*result.filters, *ctx.ignored] if ctx.ignored else result.filters, extra=extra,
        )
