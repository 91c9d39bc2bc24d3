"""Drives 示范 applications through the real HTTP API, level by level, for the tests.

Registry facts (institutions and their yearly figures) are written straight into the test's transaction:
they belong to the institutions domain, and the criteria must be tested against exact figures.
"""

from __future__ import annotations

import calendar
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Role
from libs.common.testing import Tokens
from services.registry.institutions.models import Institution, InstitutionYearStat

BATCHES = "/api/v1/registry/demonstration-batches"
APPLICATIONS = "/api/v1/registry/demonstration-applications"

STAGES: dict[str, tuple[str, str]] = {
    "preparation": ("2026-01-01", "2026-02-28"),
    "application": ("2026-03-01", "2026-04-30"),
    "city_recommendation": ("2026-05-01", "2026-05-31"),
    "provincial_review": ("2026-06-01", "2026-06-30"),
    "national_assessment": ("2026-07-01", "2026-09-30"),
    "public_notice": ("2026-10-01", "2026-10-15"),
    "naming": ("2026-10-16", "2026-12-31"),
}
# a day inside the window each level works in
ON_APPLICATION = date(2026, 4, 15)
ON_CITY = date(2026, 5, 15)
ON_PROVINCE = date(2026, 6, 15)
ON_NATIONAL = date(2026, 8, 1)
ON_NAMING = date(2026, 10, 20)
ON_MANAGEMENT = date(2027, 1, 10)

COUNTY_TEXTS = {
    "leadership": "区委区政府建立医养结合联席会议制度，卫健、民政、医保分工协作",
    "policy": "出台医养结合专项政策，纳入政府工作报告",
    "services": "医养签约覆盖全部养老机构，开展家庭病床",
    "supervision": "建立医养结合机构质量评估与联合检查制度",
    "support": "财政每年安排专项资金，医养结合从业人员每年培训两次以上",
    "public_approval": "群众满意度调查达到 96%",
}
INSTITUTION_TEXTS = {
    "facilities": "医疗、养老两块执照齐全，床位 300 张，无障碍设施达标",
    "staffing": "医护人员 80 人，护理员持证上岗",
    "management": "制度健全，信息化管理",
    "service_quality": "开设康复、护理、安宁疗护科室，近五年无重大安全责任事故",
    "service_outcomes": "入住老人及家属满意度 97%",
}
MOVE_DAYS = {
    "submit": ON_APPLICATION,
    "county-recommend": ON_APPLICATION,
    "city-recommend": ON_CITY,
    "province-approve": ON_PROVINCE,
    "send-to-nation": ON_PROVINCE,
    "national-result": ON_NATIONAL,
    "name": ON_NAMING,
    "reassess": ON_MANAGEMENT,
    "revoke": ON_MANAGEMENT,
}


@dataclass
class Clock:
    today: date


@dataclass(frozen=True)
class YearStat:
    operating_beds: int
    occupied_bed_days: int
    residents: int
    disabled_or_dementia_residents: int


def bed_days_for(pct: int, beds: int, year: int) -> int:
    """Occupied bed-days giving exactly ``pct`` % occupancy (integral for these inputs)."""
    days = 366 if calendar.isleap(year) else 365
    total = pct * beds * days
    assert total % 100 == 0, "choose beds so that the percentage is exact"
    return total // 100


def good_stats() -> dict[int, YearStat]:
    return {
        2024: YearStat(100, bed_days_for(80, 100, 2024), 90, 70),
        2025: YearStat(100, bed_days_for(75, 100, 2025), 90, 70),
    }


def body_for(action: str, **overrides: Any) -> dict[str, Any] | None:
    bodies: dict[str, dict[str, Any] | None] = {
        "submit": None,
        "county-recommend": {"opinion": "经县级审核，同意推荐"},
        "city-recommend": {"opinion": "经市级评审，同意推荐"},
        "province-approve": {"reasons": "材料齐全，现场核查属实，专家评分优秀"},
        "send-to-nation": {"note": "随省卫健委函报送"},
        "national-result": {"result": "candidate", "result_date": "2026-08-01", "note": "进入公示名单"},
        "name": {"named_date": "2026-10-20", "document_no": "国卫老龄函〔2026〕88号"},
        "reassess": {"assessed_date": "2027-01-10", "passed": True, "opinion": "复核合格"},
        "revoke": {"reason": "发生重大安全责任事故"},
        "return": {"reason": "材料不全，请补充"},
        "decline": {"reason": "综合评价排名靠后"},
    }
    body = bodies[action]
    if body is not None:
        body = {**body, **overrides}
    return body


class Flow:
    def __init__(self, client: httpx.AsyncClient, tokens: Tokens, db: AsyncSession, clock: Clock) -> None:
        self.client = client
        self.tokens = tokens
        self.db = db
        self.clock = clock

    # ------------------------------------------------------------------ who

    def province(self) -> dict[str, str]:
        return self.tokens.headers(Role.province_admin, "350000")

    def city(self, code: str = "350200") -> dict[str, str]:
        return self.tokens.headers(Role.city_admin, code)

    def county(self, code: str = "350206") -> dict[str, str]:
        return self.tokens.headers(Role.county_admin, code)

    def institution_admin(self, institution_id: uuid.UUID | str, region: str = "350206") -> dict[str, str]:
        return self.tokens.headers(
            Role.institution_admin, region, institution_id=uuid.UUID(str(institution_id))
        )

    def as_role(self, role: Role, application: dict[str, Any]) -> dict[str, str]:
        """The principal of ``role`` whose jurisdiction holds the application."""
        institution_id = application.get("institution_id")
        region = application["region_code"]
        if role is Role.province_admin or role is Role.service:
            return self.tokens.headers(role, "350000")
        if role in (Role.city_admin, Role.city_platform):
            return self.tokens.headers(role, application["city_code"])
        if role is Role.county_admin:
            return self.tokens.headers(role, region)
        other = uuid.uuid4() if institution_id is None else uuid.UUID(institution_id)
        return self.tokens.headers(role, region, institution_id=other)

    def applicant(self, application: dict[str, Any]) -> dict[str, str]:
        if application["kind"] == "county":
            return self.county(application["region_code"])
        return self.institution_admin(application["institution_id"], application["region_code"])

    def holder_headers(self, action: str, application: dict[str, Any]) -> dict[str, str]:
        """Who performs ``action`` on the application in its current state (the legal actor)."""
        state = application["state"]
        if action == "submit":
            return self.applicant(application)
        if action == "county-recommend":
            return self.county(application["region_code"])
        if action == "city-recommend":
            return self.city(application["city_code"])
        if action in ("return", "decline"):
            if state == "submitted" and application["kind"] == "institution":
                return self.county(application["region_code"])
            if state in ("submitted", "county_recommended"):
                return self.city(application["city_code"])
        return self.province()

    # ------------------------------------------------------------------ data

    async def batch(self, **overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": f"第二批全国医养结合示范项目（测试 {uuid.uuid4().hex[:8]}）",
            "county_quota": 3,
            "institution_quota": 2,
            "stages": {k: {"start_date": s, "end_date": e} for k, (s, e) in STAGES.items()},
        }
        body.update(overrides)
        response = await self.client.post(BATCHES, json=body, headers=self.province())
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def institution(
        self,
        *,
        name: str | None = None,
        region: str = "350206",
        kind: str = "integrated",
        medical_since: date | None = date(2015, 3, 1),
        elderly_since: date | None = date(2015, 3, 1),
        stats: dict[int, YearStat] | None = None,
        national_demonstration_year: int | None = None,
    ) -> uuid.UUID:
        institution = Institution(
            name=name or f"测试医养结合机构{uuid.uuid4().hex[:6]}",
            kind=kind,
            category="integrated_institution" if kind == "integrated" else "elderly_care_home",
            region_code=region,
            medical_operating_since=medical_since,
            elderly_care_operating_since=elderly_since,
            beds_integrated=100,
            national_demonstration_year=national_demonstration_year,
        )
        self.db.add(institution)
        await self.db.flush()
        for year, stat in (good_stats() if stats is None else stats).items():
            self.db.add(
                InstitutionYearStat(
                    institution_id=institution.id,
                    year=year,
                    operating_beds=stat.operating_beds,
                    occupied_bed_days=stat.occupied_bed_days,
                    residents=stat.residents,
                    disabled_residents=stat.disabled_or_dementia_residents,
                    dementia_residents=0,
                    disabled_or_dementia_residents=stat.disabled_or_dementia_residents,
                )
            )
        await self.db.commit()
        return institution.id

    async def institution_state(self, institution_id: uuid.UUID) -> Institution:
        self.db.expire_all()
        institution = await self.db.get(Institution, institution_id)
        assert institution is not None
        return institution

    async def apply_institution(
        self,
        batch_id: str,
        institution_id: uuid.UUID,
        *,
        region: str = "350206",
        on: date | None = ON_APPLICATION,
        **body: Any,
    ) -> dict[str, Any]:
        """A draft with a complete self-assessment, created on ``on`` (a day of the application stage)."""
        if on is not None:
            self.clock.today = on
        payload = {
            "batch_id": batch_id,
            "kind": "institution",
            "self_assessment": INSTITUTION_TEXTS,
            "declared_satisfaction_pct": 97.5,
            "declared_no_major_incident": True,
            **body,
        }
        response = await self.client.post(
            APPLICATIONS, json=payload, headers=self.institution_admin(institution_id, region)
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def apply_county(
        self, batch_id: str, region: str = "350206", *, on: date | None = ON_APPLICATION, **body: Any
    ) -> dict[str, Any]:
        if on is not None:
            self.clock.today = on
        payload = {"batch_id": batch_id, "kind": "county", "self_assessment": COUNTY_TEXTS, **body}
        response = await self.client.post(APPLICATIONS, json=payload, headers=self.county(region))
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def new_application(self, batch_id: str, kind: str, *, region: str = "350206") -> dict[str, Any]:
        if kind == "county":
            return await self.apply_county(batch_id, region)
        return await self.apply_institution(batch_id, await self.institution(region=region), region=region)

    # ------------------------------------------------------------------ moving

    async def get(self, application_id: str) -> dict[str, Any]:
        response = await self.client.get(f"{APPLICATIONS}/{application_id}", headers=self.province())
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def act(
        self,
        application_id: str,
        action: str,
        headers: dict[str, str],
        body: dict[str, Any] | None = None,
        *,
        on: date | None = None,
        if_match: str | None = None,
    ) -> httpx.Response:
        if on is not None:
            self.clock.today = on
        if if_match is None:
            current = await self.get(application_id)
            if_match = f'"{current["version"]}"'
        return await self.client.post(
            f"{APPLICATIONS}/{application_id}/{action}",
            json=body,
            headers={**headers, "If-Match": if_match},
        )

    async def province_review(
        self, application_id: str, *, version: int | None = None, **overrides: Any
    ) -> httpx.Response:
        if version is None:
            version = (await self.get(application_id))["version"]
        self.clock.today = ON_PROVINCE
        body: dict[str, Any] = {
            "document_review_passed": True,
            "document_review_opinion": "材料齐全，数据与登记一致",
            "site_visit_date": "2026-06-10",
            "site_visit_findings": "现场核查属实",
            "expert_scores": [
                {"expert_name": "王专家", "score": 92, "comment": "特色鲜明"},
                {"expert_name": "李专家", "score": 88.5},
            ],
            **overrides,
        }
        return await self.client.put(
            f"{APPLICATIONS}/{application_id}/province-review",
            json=body,
            headers={**self.province(), "If-Match": f'"{version}"'},
        )

    async def step(self, application: dict[str, Any], action: str, **body: Any) -> dict[str, Any]:
        """Take ``action`` as its legal actor, on a day inside its window; assert success."""
        version = application["version"]
        if action == "province-approve" and application["province_review"]["document_review_passed"] is None:
            reviewed = await self.province_review(application["id"], version=version)
            assert reviewed.status_code == 200, reviewed.text
            version = reviewed.json()["version"]
        response = await self.act(
            application["id"],
            action,
            self.holder_headers(action, application),
            body_for(action, **body),
            on=MOVE_DAYS.get(action),
            if_match=f'"{version}"',
        )
        assert response.status_code == 200, f"{action}: {response.text}"
        return dict(response.json())

    async def drive(self, application: dict[str, Any], state: str) -> dict[str, Any]:
        """Move a draft along the happy path until it is in ``state``."""
        path = {
            "draft": [],
            "submitted": ["submit"],
            "county_recommended": ["submit", "county-recommend"],
            "city_recommended": ["submit", "county-recommend", "city-recommend"],
            "province_approved": ["submit", "county-recommend", "city-recommend", "province-approve"],
        }
        up_to_sent = [*path["province_approved"], "send-to-nation"]
        path["sent_to_nation"] = up_to_sent
        path["national_candidate"] = [*up_to_sent, "national-result"]
        path["named"] = [*up_to_sent, "national-result", "name"]
        path["revoked"] = [*path["named"], "revoke"]
        path["declined"] = ["submit", "decline"]
        path["not_named"] = [*up_to_sent, "national-result:not_named"]
        for action in path[state]:
            if action == "county-recommend" and application["kind"] == "county":
                continue
            if action == "national-result:not_named":
                application = await self.step(
                    application, "national-result", result="not_named", note="国家评估未通过"
                )
                continue
            application = await self.step(application, action)
        assert application["state"] == state, application["state"]
        return application
