"""Production refuses to start while a demo credential still works.

The demo seed refuses production, but a database seeded in development and then promoted, or a demo
account left behind, would let anyone sign in with the published password. At startup in production the
gateway verifies the active demo accounts and clients — those with a demo username or client id, and
any row the seed created — against the demo passwords, and refuses to start if one still matches.
(Bounded to those rows: verifying every user's argon2 hash would make startup take minutes.)
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI
from sqlalchemy import or_, select

from libs.common.database import Database, session_scope
from libs.common.production import DEMO_SECRETS, ProductionConfigError
from services.gateway import passwords
from services.gateway.accounts.models import User
from services.gateway.api_clients.models import ApiClient

#: ``created_by`` of every row the demo seed (``demo.gateway``) writes
SEED_CREATOR = "seed"
#: the usernames of the demo accounts and the client id of the demo city platform: production never imports
#: the demo, so it keeps their names here; ``demo.gateway`` refuses to load when its accounts differ
DEMO_USERNAMES = frozenset(
    {
        "prov_admin",
        "fz_admin",
        "xm_admin",
        "huli_admin",
        "siming_admin",
        "lanxin_admin",
        "xinkaiyuan_admin",
        "xinkaiyuan_nurse",
        "xinkaiyuan_doctor",
        "lianhua_admin",
        "lianhua_nurse",
        "hongai_admin",
        "fzfly_admin",
    }
)
DEMO_CLIENT_ID = "xm_city_platform"


async def usable_demo_credentials(database: Database) -> list[str]:
    """The active demo users and clients that a demo password still signs in (usernames, client ids)."""
    async with session_scope(database, write=False) as session:
        users = (
            await session.execute(
                select(User.username, User.password_hash).where(
                    User.active.is_(True),
                    or_(
                        User.username.in_(sorted(DEMO_USERNAMES)),
                        User.created_by == SEED_CREATOR,
                    ),
                )
            )
        ).all()
        clients = (
            await session.execute(
                select(ApiClient.client_id, ApiClient.secret_hash).where(
                    ApiClient.active.is_(True),
                    or_(ApiClient.client_id == DEMO_CLIENT_ID, ApiClient.created_by == SEED_CREATOR),
                )
            )
        ).all()
    usable: list[str] = []
    for name, stored_hash in [*users, *clients]:
        for secret in sorted(DEMO_SECRETS):
            if await passwords.verify(stored_hash, secret):
                usable.append(name)
                break
    return usable


@contextlib.asynccontextmanager
async def refuse_demo_credentials(app: FastAPI) -> AsyncIterator[None]:
    """Lifespan extension: in production, refuse to start while a demo credential works."""
    if app.state.settings.is_production:
        usable = await usable_demo_credentials(app.state.database)
        if usable:
            raise ProductionConfigError(
                "gateway: 拒绝以生产环境启动，演示账号仍可用演示密码登录 (refusing to start in production: "
                f"demo credentials still sign in): {', '.join(usable)}"
            )
    yield
