"""The JSON API's plumbing: declared operations, auth, parsing, one transaction per request.

Each operation declares its roles and its pydantic models for query, body and response; the
same declarations produce the OpenAPI document (`telehealth.kernel.openapi`), so the document cannot
drift from what the code accepts.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pydantic
import pydantic_core
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from telehealth.kernel import idempotency
from telehealth.kernel.auth.cache import Principal
from telehealth.kernel.auth.models import Role
from telehealth.kernel.auth.service import authenticate_token
from telehealth.kernel.config import Settings
from telehealth.kernel.db import table_of, violated_constraint
from telehealth.kernel.errors import BadRequest, Forbidden, InvalidInput, Unauthenticated
from telehealth.kernel.inputs import path_id, refuse_nul
from telehealth.kernel.transactions import run_in_transaction
from telehealth.kernel.validation import invalid_from

log = logging.getLogger("telehealth.kernel.api")

ALL_STAFF = tuple(Role)
PATIENT_FACING = (Role.ADMIN, Role.CLINICIAN, Role.NAVIGATOR, Role.RECEPTION)
ADMIN_ONLY = (Role.ADMIN,)


@dataclass(slots=True)
class Context:
    """What a handler gets: the request, who is asking and the request's session."""

    request: Request
    user: Principal
    session: AsyncSession
    settings: Settings

    def path_int(self, name: str) -> int:
        return path_id(self.request, name)


Handler = Callable[..., Awaitable[Any]]
M = TypeVar("M", bound=pydantic.BaseModel)


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str
    handler: Handler
    summary: str
    roles: tuple[Role, ...]
    tag: str
    query: type[pydantic.BaseModel] | None = None
    body: type[pydantic.BaseModel] | None = None
    response: Any = None
    status: int = 200
    idempotent: bool = False
    errors: tuple[int, ...] = ()
    # Other success statuses the handler may answer with (same response schema): a handler
    # returning one builds its own Response.
    also: tuple[int, ...] = ()
    # Given the request's JSON body (None when it has none, or none that parses), whether the
    # handler writes with at most one statement, after its reads, and raises nothing after
    # it: then, without an Idempotency-Key (whose row would be another write), each statement
    # may commit by itself (`transactions.run_in_transaction`'s `single_write`).
    single_write: Callable[[Any], bool] | None = None


@dataclass
class ApiRouter:
    prefix: str = "/api/v1"
    operations: list[Operation] = field(default_factory=list)

    def operation(
        self, method: str, path: str, *, summary: str, roles: Sequence[Role], tag: str, **kw: Any
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.operations.append(
                Operation(method, self.prefix + path, handler, summary, tuple(roles), tag, **kw)
            )
            return handler

        return register

    def routes(self) -> list[Route]:
        by_path: dict[str, dict[str, Operation]] = {}
        for op in self.operations:
            by_path.setdefault(op.path, {})[op.method] = op
        # Fixed paths first: /appointments/to-rebook before /appointments/{appointment_id},
        # which would otherwise take it for an id (a stable sort keeps the rest in order).
        ordered = sorted(by_path.items(), key=lambda item: "{" in item[0])
        return [Route(path, _dispatcher(ops), methods=list(ops)) for path, ops in ordered]


def json_response(
    content: Any, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        pydantic_core.to_json(content),
        status_code=status_code,
        media_type="application/json",
        headers=headers,
    )


def _dispatcher(operations: dict[str, Operation]) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await run_operation(operations[request.method], request)

    return endpoint


def _parse_path(request: Request) -> None:
    """Every parameter in an operation's path is an id (the document says so): checked here,
    before any handler reads one, so none can reach a query out of the columns' range."""
    for name in request.path_params:
        path_id(request, name)


def parse_input(model: type[M], raw: dict[str, Any]) -> M:
    """`raw` (a query, a JSON body, a page's query or form) as `model`: the one place input is
    validated, so a NUL anywhere is refused and every error is an InvalidInput naming its field."""
    refuse_nul(raw)
    try:
        return model.model_validate(raw)
    except pydantic.ValidationError as exc:
        raise invalid_from(exc) from None


def _parse_query(op: Operation, request: Request) -> pydantic.BaseModel | None:
    if op.query is None:
        return None
    raw: dict[str, Any] = {}
    for key in request.query_params:
        values = request.query_params.getlist(key)
        raw[key] = values if len(values) > 1 else values[0]
    return parse_input(op.query, raw)


# What `_json_body` answers for a body that is not JSON: reported after authentication.
_NOT_JSON = object()


async def _json_body(request: Request) -> Any:
    """The request's JSON body, parsed once per request (`_NOT_JSON` if it does not parse):
    `Operation.single_write` looks at it before the caller is known, the body's check after."""
    raw = await request.body()
    try:
        return pydantic_core.from_json(raw or b"{}")
    except ValueError:
        return _NOT_JSON


def _parse_body(op: Operation, data: Any) -> pydantic.BaseModel | None:
    if op.body is None:
        return None
    if data is _NOT_JSON:
        raise BadRequest("the request body is not valid JSON", code="invalid_json")
    if not isinstance(data, dict):
        raise InvalidInput(
            "the request body must be a JSON object", fields={"body": "not an object"}
        )
    return parse_input(op.body, data)


async def _authenticate(request: Request, session: AsyncSession) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("send an API token as 'Authorization: Bearer <token>'")
    # An app built without a cache (a test's, a tool's) looks every token up.
    cache = getattr(request.app.state, "token_cache", None)
    return await authenticate_token(session, token.strip(), cache)


def _serialise(op: Operation, result: Any) -> Response:
    if isinstance(result, Response):
        return result
    if isinstance(result, pydantic.BaseModel):
        # Straight to JSON: no intermediate dict of the whole response.
        return Response(
            result.model_dump_json(), status_code=op.status, media_type="application/json"
        )
    return json_response(result, status_code=op.status)


# The key's primary key: what a concurrent request with the same Idempotency-Key collides on.
_KEY_TAKEN = table_of(idempotency.IdempotencyRecord).primary_key.name


async def run_operation(op: Operation, request: Request) -> Response:
    """Run the operation in the request's transaction (`transactions.run_in_transaction`,
    which runs it again if the database aborted it to break a deadlock)."""
    settings: Settings = request.app.state.settings
    key = request.headers.get(idempotency.HEADER)
    if op.idempotent and key is not None:
        key = idempotency.validate_key(key)

        async def idempotent(session: AsyncSession) -> Response:
            return await _run_idempotent(op, request, session, settings, key)

        try:
            return await run_in_transaction(request, idempotent)
        except IntegrityError as exc:
            if violated_constraint(exc) != _KEY_TAKEN:
                raise
            # A concurrent request with the same key committed first: answer with its result.
            return await run_in_transaction(request, idempotent)

    data = await _json_body(request) if op.body is not None else None

    async def plain(session: AsyncSession) -> Response:
        # Who is asking comes first: an anonymous caller learns nothing about what we accept.
        context = await _context(op, request, session, settings)
        _parse_path(request)
        query = _parse_query(op, request)
        body = _parse_body(op, data)
        result = await op.handler(context, *_arguments(query, body))
        return _serialise(op, result)

    single_write = op.single_write is not None and op.single_write(data)
    return await run_in_transaction(request, plain, single_write=single_write)


async def _context(
    op: Operation, request: Request, session: AsyncSession, settings: Settings
) -> Context:
    user = await _authenticate(request, session)
    if user.role not in op.roles:
        raise Forbidden(f"the {user.role} role cannot {op.summary[0].lower() + op.summary[1:]}")
    return Context(request=request, user=user, session=session, settings=settings)


def _arguments(*parsed: pydantic.BaseModel | None) -> list[pydantic.BaseModel]:
    return [p for p in parsed if p is not None]


async def _run_idempotent(
    op: Operation, request: Request, session: AsyncSession, settings: Settings, key: str
) -> Response:
    endpoint = f"{op.method} {request.url.path}"
    context = await _context(op, request, session, settings)
    _parse_path(request)
    query = _parse_query(op, request)
    data = await _json_body(request) if op.body is not None else None
    body = _parse_body(op, data)
    fingerprint = idempotency.request_fingerprint(endpoint, data)
    stored = await idempotency.find(
        session, user_id=context.user.id, key=key, endpoint=endpoint, fingerprint=fingerprint
    )
    if stored is not None:
        return json_response(
            stored.response, stored.status_code, headers={"Idempotent-Replayed": "true"}
        )
    # Claim the key before doing the work: a concurrent duplicate now waits on this row
    # and fails on its primary key instead of racing us to the booking.
    record = idempotency.claim(
        session, user_id=context.user.id, key=key, endpoint=endpoint, fingerprint=fingerprint
    )
    await session.flush()
    response = _serialise(op, await op.handler(context, *_arguments(query, body)))
    record.status_code = response.status_code
    record.response = pydantic_core.from_json(bytes(response.body))
    return response
