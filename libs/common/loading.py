"""Load-in-scope-or-404 as a validation dependency, not the first line of every route body.

    Application = Annotated[
        DemonstrationApplication,
        Depends(load_visible(service.get, permission=DemonstrationRead, id_name="application_id")),
    ]

    async def get_application(principal: DemonstrationRead, application: Application) -> ...

The dependency takes the session, the permission's principal and the id from the path, and calls the
domain's ``get(session, principal, id)`` — which answers 404 for a record that does not exist or lies
outside the caller's scope (existence is not revealed). A route that names the same permission alias
gets the same principal (FastAPI resolves a dependency once per request), and the permission is checked
before anything is loaded, so 401 / 403 come first.

:func:`load_by_id` is the same for a record without a scope (``get(session, id)``).
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.database import SessionDep

T = TypeVar("T")

Getter = Callable[[AsyncSession, Principal, uuid.UUID], Awaitable[T]]
UnscopedGetter = Callable[[AsyncSession, uuid.UUID], Awaitable[T]]


def _signed(
    dependency: Callable[..., Awaitable[T]], *, permission: Any, id_name: str
) -> Callable[..., Awaitable[T]]:
    keyword = inspect.Parameter.KEYWORD_ONLY
    dependency.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter("principal", keyword, annotation=permission),
            inspect.Parameter("session", keyword, annotation=SessionDep),
            inspect.Parameter(id_name, keyword, annotation=uuid.UUID),
        ]
    )
    dependency.__name__ = f"load_{id_name.removesuffix('_id')}"
    return dependency


def load_visible(get: Getter[T], *, permission: Any, id_name: str) -> Callable[..., Awaitable[T]]:
    """A dependency ``(principal, session, <id_name>: UUID) -> get(session, principal, id)``."""

    async def dependency(**values: Any) -> T:
        return await get(values["session"], values["principal"], values[id_name])

    return _signed(dependency, permission=permission, id_name=id_name)


def load_by_id(get: UnscopedGetter[T], *, permission: Any, id_name: str) -> Callable[..., Awaitable[T]]:
    """The same for a record that has no scope: every holder of ``permission`` may see all of them (the
    province's 示范 batches, the API clients only the province admin manages). The permission is still
    checked first; ``get(session, id)`` answers 404 for an unknown id."""

    async def dependency(**values: Any) -> T:
        return await get(values["session"], values[id_name])

    return _signed(dependency, permission=permission, id_name=id_name)
