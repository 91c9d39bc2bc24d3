"""Demo accounts and the 厦门 city-platform client (development only; refuses production).

    .venv/bin/python -m demo.gateway

Idempotent: accounts and clients that exist already are left as they are. Institution and practitioner
ids are the shared demo ids (``demo_id("institution", name)``) that the registry's seed uses too.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

from sqlalchemy import select

from demo import DEMO_PASSWORD, demo_id, refuse_in_production
from libs.common.auth import Role
from libs.common.database import Database, session_scope
from libs.common.production import DEMO_CLIENT_SECRET
from services.gateway import passwords
from services.gateway.accounts.models import User
from services.gateway.api_clients.models import ApiClient
from services.gateway.demo_credentials import DEMO_CLIENT_ID, DEMO_USERNAMES, SEED_CREATOR
from services.gateway.settings import GatewaySettings

PLATFORM_CLIENT_ID = DEMO_CLIENT_ID
PLATFORM_CLIENT_SECRET = DEMO_CLIENT_SECRET


@dataclass(frozen=True, slots=True)
class DemoAccount:
    username: str
    display_name: str
    role: Role
    region_code: str
    institution: str | None = None
    practitioner: str | None = None

    @property
    def institution_id(self) -> uuid.UUID | None:
        return demo_id("institution", self.institution) if self.institution else None

    @property
    def practitioner_id(self) -> uuid.UUID | None:
        return demo_id("practitioner", self.practitioner) if self.practitioner else None


DEMO_ACCOUNTS = (
    DemoAccount("prov_admin", "省卫健委管理员", Role.province_admin, "350000"),
    DemoAccount("fz_admin", "福州市卫健委管理员", Role.city_admin, "350100"),
    DemoAccount("xm_admin", "厦门市卫健委管理员", Role.city_admin, "350200"),
    DemoAccount("huli_admin", "湖里区卫健局管理员", Role.county_admin, "350206"),
    DemoAccount("siming_admin", "思明区卫健局管理员", Role.county_admin, "350203"),
    DemoAccount("lanxin_admin", "兰馨颐养院管理员", Role.institution_admin, "350206", "兰馨颐养院"),
    DemoAccount(
        "xinkaiyuan_admin", "厦门新开元医院管理员", Role.institution_admin, "350206", "厦门新开元医院"
    ),
    DemoAccount("xinkaiyuan_nurse", "林晓燕", Role.institution_staff, "350206", "厦门新开元医院", "林晓燕"),
    DemoAccount("xinkaiyuan_doctor", "张建国", Role.institution_staff, "350206", "厦门新开元医院", "张建国"),
    DemoAccount("lianhua_admin", "厦门莲花医院管理员", Role.institution_admin, "350203", "厦门莲花医院"),
    DemoAccount("lianhua_nurse", "陈美玲", Role.institution_staff, "350203", "厦门莲花医院", "陈美玲"),
    DemoAccount("hongai_admin", "厦门弘爱养护院管理员", Role.institution_admin, "350206", "厦门弘爱养护院"),
    DemoAccount(
        "fzfly_admin", "福州市社会福利院管理员", Role.institution_admin, "350104", "福州市社会福利院"
    ),
)
if {account.username for account in DEMO_ACCOUNTS} != DEMO_USERNAMES:
    # the gateway refuses to start in production while one of these still signs in: it must know them all
    raise RuntimeError("demo accounts and services.gateway.demo_credentials.DEMO_USERNAMES differ")


async def seed(settings: GatewaySettings) -> None:
    refuse_in_production(settings)
    database = Database(settings)
    try:
        async with session_scope(database) as session:
            existing = set(
                (
                    await session.scalars(
                        select(User.username).where(User.username.in_([a.username for a in DEMO_ACCOUNTS]))
                    )
                ).all()
            )
            missing = [a for a in DEMO_ACCOUNTS if a.username not in existing]
            if missing:
                password_hash = await passwords.hash_(DEMO_PASSWORD)
                session.add_all(
                    User(
                        username=account.username,
                        display_name=account.display_name,
                        password_hash=password_hash,
                        role=account.role.value,
                        region_code=account.region_code,
                        institution_id=account.institution_id,
                        practitioner_id=account.practitioner_id,
                        active=True,
                        created_by=SEED_CREATOR,
                    )
                    for account in missing
                )
            has_client = await session.scalar(
                select(ApiClient.id).where(ApiClient.client_id == PLATFORM_CLIENT_ID)
            )
            if has_client is None:
                session.add(
                    ApiClient(
                        client_id=PLATFORM_CLIENT_ID,
                        name="厦门市 i健康 城市平台",
                        role=Role.city_platform.value,
                        region_code="350200",
                        secret_hash=await passwords.hash_(PLATFORM_CLIENT_SECRET),
                        active=True,
                        created_by=SEED_CREATOR,
                    )
                )
    finally:
        await database.dispose()


if __name__ == "__main__":
    asyncio.run(seed(GatewaySettings()))
