"""Transition endpoints generated from a table: one row per action, the routes are made here.

A state machine moves only by explicit transition endpoints (``POST /{id}/submit`` …). Each service keeps
its state machine (the domain) and declares a :class:`TransitionTable`; :func:`add_transition_routes`
turns every row into a route with the same protocol:

* the row's permission dependency is resolved first (401 / 403 before anything is loaded);
* the table's ``context`` dependency gathers what every row needs (session, the entity's id from the
  path, clock, clients …) — it is a plain FastAPI dependency, so tests override its parts as usual;
* ``If-Match`` is declared on every route and handed to the row's ``perform``, which checks it against the
  entity it loads under lock (428 missing, 412 stale) — see :mod:`libs.common.concurrency`;
  :func:`load_then_move` is that ``perform`` for the usual row (load in scope, check, move);
* ``perform`` raises :class:`~libs.common.errors.IllegalTransition` (409 with the allowed actions) when the
  entity's state does not allow the action, and returns the entity;
* the answer carries the entity's ``ETag``; the table's ``present`` renders the response model.

The operation ids, paths, status codes and schemas are exactly those the rows declare, so a table that
replaces hand-written routes leaves the OpenAPI document unchanged.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, Protocol, TypeVar

from fastapi import APIRouter, Body, Depends, Response
from pydantic import BaseModel

from libs.common.auth import Principal
from libs.common.concurrency import IfMatch, check_if_match, set_etag
from libs.common.errors import problem_responses

ContextT = TypeVar("ContextT")

TRANSITION_ERRORS = problem_responses(401, 403, 404, 409, 412, 422, 428)


class Versioned(Protocol):
    @property
    def version(self) -> int: ...


EntityT = TypeVar("EntityT", bound=Versioned)


Perform = Callable[[ContextT, Principal, Any, str | None], Awaitable[Versioned]]
"""``perform(context, principal, body, if_match)``: load under lock, check If-Match and the state, move,
flush; return the entity whose version goes into the ``ETag``. ``body`` is ``None`` for a row without one."""


def load_then_move(
    load: Callable[[ContextT, Principal], Awaitable[EntityT]],
    move: Callable[[ContextT, Principal, EntityT, Any], Awaitable[object]],
) -> Perform[ContextT]:
    """The usual row's ``perform``: ``load(context, principal)`` the entity in the caller's scope (404
    outside it), check ``If-Match`` against its version (428 missing, 412 stale), then
    ``move(context, principal, entity, body)`` — the domain raises
    :class:`~libs.common.errors.IllegalTransition` (409 with the allowed actions) when the entity's state
    does not allow the action, and flushes, so the answer carries the new version."""

    async def perform(context: ContextT, principal: Principal, body: Any, if_match: str | None) -> Versioned:
        entity = await load(context, principal)
        check_if_match(if_match, entity.version)
        await move(context, principal, entity, body)
        return entity

    return perform


@dataclass(frozen=True, slots=True)
class Transition(Generic[ContextT]):
    """One transition route: ``POST {prefix}/{path}`` (or the row's ``method``)."""

    path: str
    permission: Any  # an ``Annotated[Principal, Depends(...)]`` alias, as in route signatures
    perform: Perform[ContextT]
    summary: str
    operation_id: str
    body: type[BaseModel] | None = None
    body_required: bool = True
    body_name: str = "body"  # the parameter name (the title of an optional body's schema)
    description: str | None = None
    responses: Mapping[int | str, dict[str, Any]] | None = None  # default: the table's
    status_code: int | None = None
    method: str = "POST"  # PUT for a step that records a whole sub-document (a review sheet)


@dataclass(frozen=True, slots=True)
class TransitionTable(Generic[ContextT]):
    """The transition routes of one entity, under ``prefix`` (``/{application_id}``)."""

    prefix: str
    context: Callable[..., Any]  # a dependency returning ContextT
    # (context, principal, entity) -> response model, or an awaitable of it
    present: Callable[[ContextT, Principal, Any], Any]
    response_model: Any
    rows: Sequence[Transition[ContextT]]
    responses: Mapping[int | str, dict[str, Any]] | None = None  # default: TRANSITION_ERRORS


def _body_parameter(row: Transition[Any]) -> inspect.Parameter | None:
    if row.body is None:
        return None
    if row.body_required:
        return inspect.Parameter(row.body_name, inspect.Parameter.KEYWORD_ONLY, annotation=row.body)
    return inspect.Parameter(
        row.body_name,
        inspect.Parameter.KEYWORD_ONLY,
        annotation=Annotated[row.body | None, Body()],
        default=None,
    )


def _endpoint(table: TransitionTable[ContextT], row: Transition[ContextT]) -> Callable[..., Awaitable[Any]]:
    async def endpoint(**values: Any) -> Any:
        context: ContextT = values["context"]
        principal: Principal = values["principal"]
        entity = await row.perform(context, principal, values.get(row.body_name), values["if_match"])
        set_etag(values["response"], entity.version)
        presented = table.present(context, principal, entity)
        return await presented if inspect.isawaitable(presented) else presented

    keyword = inspect.Parameter.KEYWORD_ONLY
    parameters = [
        # the permission first: 401 / 403 come before the context loads anything
        inspect.Parameter("principal", keyword, annotation=row.permission),
        inspect.Parameter("context", keyword, annotation=Annotated[Any, Depends(table.context)]),
        inspect.Parameter("response", keyword, annotation=Response),
    ]
    body = _body_parameter(row)
    if body is not None:
        parameters.append(body)
    parameters.append(inspect.Parameter("if_match", keyword, annotation=IfMatch, default=None))
    endpoint.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    endpoint.__name__ = row.operation_id
    endpoint.__doc__ = None
    return endpoint


def add_transition_routes(router: APIRouter, table: TransitionTable[Any]) -> None:
    """One route per row of ``table``."""
    for row in table.rows:
        router.add_api_route(
            f"{table.prefix}/{row.path}",
            _endpoint(table, row),
            methods=[row.method],
            summary=row.summary,
            description=row.description,
            operation_id=row.operation_id,
            response_model=table.response_model,
            status_code=row.status_code,
            responses=dict(row.responses or table.responses or TRANSITION_ERRORS),
        )
