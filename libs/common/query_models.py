"""Query models (``Annotated[Model, Query()]``) read in one pass (issue 16, 16g).

FastAPI reads a query model field by field and, for each field and each request, works out again from
its annotation whether it is a list, which names it goes by and whether it is JSON: for the registry's
22 list filters that was ~1,900 Python calls a request, a third of the list's dependency chain. The
answers do not change between requests, so :class:`QueryModelRoute` works them out once, when the route
is built, and reads a valid query in one pass:

- the route's handler is built twice: as FastAPI builds it (the *documented* handler, whose dependant
  also gives the OpenAPI document), and with each query model of its dependency tree replaced by a
  dependency that reads ``request.query_params`` with the plan made here and validates the values with
  FastAPI's own field of that model — so a valid query gives the very same model;
- a query the model refuses is answered by the documented handler, from the start: the same 422, with
  every other parameter's errors beside it, in FastAPI's order, whatever the dependencies' order.

Only what is sure to read the same is accelerated: GET/HEAD routes (a refused query re-runs the
dependencies, which must not write), a query model as the whole annotation (not ``Model | None``)
whose fields have no alias and no ``Json``. Anything else keeps FastAPI's path unchanged.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response, params
from fastapi._compat import ModelField, field_annotation_is_sequence
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel, Json

READ_ONLY = frozenset({"GET", "HEAD"})
_QUERY_LOC = ("query",)


class QueryNeedsFullValidation(Exception):  # noqa: N818 — a signal, not an error
    """The fast reading refused the query: the documented handler answers the request."""


@dataclasses.dataclass(frozen=True, slots=True)
class QueryPlan:
    """How FastAPI reads one query model: its field (validation), its list fields and its single ones."""

    field: ModelField
    lists: frozenset[str]
    singles: frozenset[str]

    async def read(self, request: Request) -> Any:
        """The model from the request's query, read as FastAPI reads it; refused: the documented path."""
        values: dict[str, Any] = {}
        grouped: dict[str, list[str]] = {}
        for key, value in request.query_params.multi_items():
            grouped.setdefault(key, []).append(value)
        lists, singles = self.lists, self.singles
        for key, items in grouped.items():
            if key in lists:
                values[key] = items
            elif key in singles:
                values[key] = items[-1]  # a repeated single parameter: FastAPI takes the last
            else:
                values[key] = items[0] if len(items) == 1 else items  # the model's extra policy decides
        model, errors = self.field.validate(values, {}, loc=_QUERY_LOC)
        if errors:
            raise QueryNeedsFullValidation
        return model


def query_plan(field: ModelField) -> QueryPlan | None:
    """The plan of a query parameter that is a whole query model FastAPI would read field by field,
    else ``None`` (an ordinary parameter, or a model this module does not read the same for sure)."""
    info = field.field_info
    model = info.annotation
    if not isinstance(info, params.Query) or not (isinstance(model, type) and issubclass(model, BaseModel)):
        return None
    if any(type(item) is Json for item in info.metadata):
        return None
    lists: set[str] = set()
    singles: set[str] = set()
    for name, model_field in model.model_fields.items():
        if model_field.alias is not None or model_field.validation_alias is not None:
            return None
        if any(type(item) is Json for item in model_field.metadata):
            return None
        (lists if field_annotation_is_sequence(model_field.annotation) else singles).add(name)
    return QueryPlan(field, frozenset(lists), frozenset(singles))


_ONE_PASS: dict[tuple[Callable[..., Any], str], Callable[..., Any]] = {}


def _reading_and_calling(dependant: Dependant, plan: QueryPlan, name: str) -> Dependant | None:
    """A dependency whose only parameter is a query model (``async def f(query: Annotated[M, Query()])``)
    as one dependency that reads the query and calls it — FastAPI solves one dependency instead of two.
    One such function a dependency and parameter, whatever the route: FastAPI caches a request's values by
    the function, and a dependency met twice is still called once."""
    call = dependant.call
    if (
        call is None
        or not inspect.iscoroutinefunction(call)
        or dependant.dependencies
        or len(dependant.query_params) != 1
        or dependant.path_params
        or dependant.header_params
        or dependant.cookie_params
        or dependant.body_params
        or dependant.request_param_name
        or dependant.websocket_param_name
        or dependant.http_connection_param_name
        or dependant.response_param_name
        or dependant.background_tasks_param_name
        or dependant.security_scopes_param_name
    ):
        return None
    key = (call, name)
    if key not in _ONE_PASS:
        target = call

        async def read_and_call(request: Request) -> Any:
            return await target(**{name: await plan.read(request)})

        _ONE_PASS[key] = read_and_call
    return dataclasses.replace(dependant, call=_ONE_PASS[key], query_params=[], request_param_name="request")


def accelerated(dependant: Dependant) -> Dependant | None:
    """``dependant`` with each query model of its tree read by its :class:`QueryPlan` (a dependency of
    the same name, solved after the other sub-dependencies, as FastAPI reads parameters after them; or,
    for a dependency that only takes the model, one dependency that reads and calls it), or ``None``
    when there is none."""
    if len(dependant.query_params) == 1 and (plan := query_plan(dependant.query_params[0])) is not None:
        one_pass = _reading_and_calling(dependant, plan, dependant.query_params[0].name)
        if one_pass is not None:
            return one_pass
    changed = False
    dependencies = []
    for sub in dependant.dependencies:
        replaced = accelerated(sub)
        changed = changed or replaced is not None
        dependencies.append(replaced or sub)
    query_params = []
    for field in dependant.query_params:
        plan = query_plan(field)
        if plan is None:
            query_params.append(field)
            continue
        changed = True
        dependencies.append(get_dependant(path=dependant.path or "", call=plan.read, name=field.name))
    if not changed:
        return None
    return dataclasses.replace(dependant, dependencies=dependencies, query_params=query_params)


Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class QueryModelRoute(APIRoute):
    """A route whose query models are read in one pass (module docstring); others as FastAPI does."""

    def get_route_handler(self) -> Handler:
        documented = super().get_route_handler()
        if not self.methods or not self.methods <= READ_ONLY:
            return documented
        accelerated_handler = self._accelerated_handler()
        if accelerated_handler is None:
            return documented
        fast, overrides = accelerated_handler

        async def handler(request: Request) -> Response:
            if overrides is not None and getattr(overrides, "dependency_overrides", None):
                # FastAPI rebuilds each dependency from the app's overrides (tests): its own path
                return await documented(request)
            try:
                return await fast(request)
            except QueryNeedsFullValidation:
                return await documented(request)

        return handler

    def _accelerated_handler(self) -> tuple[Handler, Any] | None:
        """The handler FastAPI builds, from the accelerated dependant, and the provider of dependency
        overrides it would consult (``None``: nothing to accelerate).

        FastAPI builds a route's handler from the route's own dependant, or, for a route of an included
        router, from the dependant of its inclusion (the router's dependencies and prefix added), which
        it names in a context variable while it builds: whichever it is, it is swapped for the
        accelerated copy while the handler is built, and put back."""
        from fastapi import routing  # the inclusion's context: FastAPI's, read as FastAPI reads it

        context = routing._effective_route_context_var.get()
        if context is not None and context.original_route is self:
            runtime = accelerated(context.dependant)
            if runtime is None:
                return None
            token = routing._effective_route_context_var.set(dataclasses.replace(context, dependant=runtime))
            try:
                return super().get_route_handler(), context.dependency_overrides_provider
            finally:
                routing._effective_route_context_var.reset(token)
        runtime = accelerated(self.dependant)
        if runtime is None:
            return None
        own = self.dependant
        self.dependant = runtime
        try:
            return super().get_route_handler(), self.dependency_overrides_provider
        finally:
            self.dependant = own
