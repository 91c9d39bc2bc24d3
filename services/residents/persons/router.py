from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request, Response, status

from libs.common.audit import record_disclosures
from libs.common.auth import Principal
from libs.common.concurrency import IfMatch, set_etag
from libs.common.database import SessionDep
from libs.common.errors import problem_responses
from libs.common.loading import load_visible
from libs.common.pagination import Page, PageDep
from libs.common.routing import ServiceRouter
from services.residents.assessments import service as assessments
from services.residents.assessments.models import Assessment
from services.residents.assessments.schemas import LatestAssessment
from services.residents.deps import CipherDep, SettingsDep
from services.residents.permissions import PersonsBatch, PersonsIdentityCheck, PersonsRead, PersonsWrite
from services.residents.persons import identity, service
from services.residents.persons.disclosure import DISCLOSED_FIELDS
from services.residents.persons.models import Person
from services.residents.persons.schemas import (
    IdentityCheckRequest,
    IdentityCheckResult,
    PersonBatch,
    PersonBatchItem,
    PersonBatchRead,
    PersonCreate,
    PersonLookup,
    PersonRead,
    PersonUpdate,
)

router = ServiceRouter(prefix="/api/v1/residents/persons", tags=["residents-persons"])

VisiblePerson = Annotated[
    Person, Depends(load_visible(service.get, permission=PersonsRead, id_name="person_id"))
]
CheckedPerson = Annotated[
    Person, Depends(load_visible(service.get, permission=PersonsIdentityCheck, id_name="person_id"))
]
WritablePerson = Annotated[
    Person, Depends(load_visible(service.get, permission=PersonsWrite, id_name="person_id"))
]


async def _whole_or_masked(
    request: Request, session: SessionDep, principal: Principal, cipher: CipherDep, person: Person
) -> PersonRead:
    """Whole to a serving institution (an institution user sees only the persons its institution
    serves), audited; masked to everyone else."""
    whole = principal.is_institution_user and principal.institution_id is not None
    if whole:
        await record_disclosures(
            request,
            session,
            principal,
            fields=DISCLOSED_FIELDS,
            entity_type="person",
            entity_ids=[person.id],
            purpose=f"{request.method} person",
        )
    return service.to_read(person, cipher, whole=whole)


@router.get(
    "",
    summary="居民列表（个人信息脱敏）",
    description="官员与城市平台：辖区内居民；机构用户：本机构服务的居民（登记、签约、体检、评估）。",
    operation_id="residents_list_persons",
    response_model=Page[PersonRead],
    responses=problem_responses(401, 403, 422),
)
async def list_persons(
    session: SessionDep,
    principal: PersonsRead,
    cipher: CipherDep,
    page: PageDep,
    region_code: Annotated[str | None, Query(pattern=r"^\d{6}$", description="县级行政区划代码")] = None,
    township_code: Annotated[str | None, Query(pattern=r"^\d{9}$", description="乡镇（街道）代码")] = None,
) -> Page[PersonRead]:
    rows, next_cursor = await service.list_(
        session, principal, params=page, region_code=region_code, township_code=township_code
    )
    return Page(
        items=[service.to_read(p, cipher, whole=False) for p in rows],
        next_cursor=next_cursor,
        limit=page.limit,
    )


@router.post(
    "",
    summary="按身份证号查找或登记居民（新登记 201，已存在 200；响应脱敏）",
    description=(
        "身份证号唯一标识居民：已存在时返回该居民（已有的联系电话、住址不覆盖，修改请用 PATCH；"
        "居民尚无的由所填补全），"
        "姓名不一致时 409；机构用户登记或查到的居民即由本机构服务。"
    ),
    operation_id="residents_find_or_create_person",
    status_code=status.HTTP_201_CREATED,
    response_model=PersonRead,
    responses={
        200: {"model": PersonRead, "description": "该身份证号的居民已存在"},
        **problem_responses(401, 403, 409, 422),
    },
)
async def find_or_create_person(
    session: SessionDep,
    principal: PersonsWrite,
    cipher: CipherDep,
    data: PersonCreate,
    response: Response,
) -> PersonRead:
    person, created, _ = await service.find_or_create(session, principal, cipher, data)
    if not created:
        response.status_code = status.HTTP_200_OK
    set_etag(response, person.version)
    response.headers["Location"] = f"{router.prefix}/{person.id}"
    # Masked: the caller just sent the values, and a POST's answer is kept for Idempotency-Key
    # replays — whole values are for GET, each disclosure audited.
    return service.to_read(person, cipher, whole=False)


@router.post(
    "/lookup",
    summary="按身份证号精确查找（身份证号放在请求体中，结果脱敏）",
    operation_id="residents_lookup_persons",
    response_model=list[PersonRead],
    responses=problem_responses(401, 403, 422),
)
async def lookup_persons(
    session: SessionDep, principal: PersonsRead, cipher: CipherDep, data: PersonLookup
) -> list[PersonRead]:
    rows = await service.lookup(session, principal, cipher, data.id_number)
    return [service.to_read(p, cipher, whole=False) for p in rows]


@router.post(
    "/batch",
    summary="批量读取居民完整信息（仅限内部服务，逐人记录披露审计）",
    description=(
        "居家护理与签约服务只保存居民 id：列表与详情的个人信息一次调用取回，再按查看者脱敏（官员脱敏，"
        "服务机构完整）。每名居民记录一条向调用服务的披露审计，并记下调用方的当前用户（on_behalf_of）。"
        "任一 id 不存在或不在调用方范围内时 404（不区分二者）；id_numbers 按身份证号查找，"
        "不在主索引中的号码不返回。"
    ),
    operation_id="residents_batch_persons",
    response_model=PersonBatchRead,
    responses=problem_responses(401, 403, 404, 422),
)
async def batch_persons(
    request: Request,
    session: SessionDep,
    principal: PersonsBatch,
    cipher: CipherDep,
    settings: SettingsDep,
    data: PersonBatch,
) -> PersonBatchRead:
    persons = await service.batch(
        session, principal, cipher, data.ids, id_numbers=data.id_numbers, limit=settings.persons_batch_max
    )
    await record_disclosures(
        request,
        session,
        principal,
        fields=DISCLOSED_FIELDS,
        entity_type="person",
        entity_ids=[p.id for p in persons],
        purpose=data.purpose or "batch",
        on_behalf_of=data.on_behalf_of,
    )
    latest = await assessments.latest_of_persons(session, [p.id for p in persons])
    return PersonBatchRead(
        items=[
            PersonBatchItem(
                **service.to_read(p, cipher, whole=True).model_dump(exclude={"sex_label", "region_name"}),
                latest_assessment=_latest(latest.get(p.id)),
            )
            for p in persons
        ]
    )


def _latest(assessment: Assessment | None) -> LatestAssessment | None:
    if assessment is None:
        return None
    return LatestAssessment(
        id=assessment.id,
        assessed_date=assessment.assessed_date,
        level=assessment.level,
        scale_version=assessment.scale_version,
    )


@router.get(
    "/{person_id}",
    summary="居民详情（服务该居民的机构可见完整信息并留痕）",
    operation_id="residents_get_person",
    response_model=PersonRead,
    responses=problem_responses(401, 403, 404, 422),
)
async def get_person(
    request: Request,
    session: SessionDep,
    principal: PersonsRead,
    cipher: CipherDep,
    person: VisiblePerson,
    response: Response,
) -> PersonRead:
    set_etag(response, person.version)
    return await _whole_or_masked(request, session, principal, cipher, person)


@router.patch(
    "/{person_id}",
    summary="修改居民联系方式与住址（需 If-Match）",
    operation_id="residents_update_person",
    response_model=PersonRead,
    responses=problem_responses(401, 403, 404, 412, 422, 428),
)
async def update_person(
    request: Request,
    session: SessionDep,
    principal: PersonsWrite,
    cipher: CipherDep,
    person: WritablePerson,
    data: PersonUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> PersonRead:
    person = await service.update(session, principal, cipher, person, data, if_match)
    set_etag(response, person.version)
    return await _whole_or_masked(request, session, principal, cipher, person)


@router.post(
    "/{person_id}/identity-check",
    summary="核验身份证号末几位（仅限居家护理服务在护士签到时调用；身份证号不出本服务）",
    description=(
        "请求体只含身份证号末几位（位数为 RESIDENTS_IDENTITY_CHECK_SUFFIX_LENGTH，默认 4；其他位数 422 "
        "identity_suffix_invalid），以常数时间比较，回答是否一致。每名居民每天的核验次数有上限"
        "（RESIDENTS_IDENTITY_CHECK_MAX_PER_DAY），超过时 429 identity_check_limit 且不比较。"
        "每次核验记录结果（不记录所送的值）并审计。"
    ),
    operation_id="residents_check_person_identity",
    response_model=IdentityCheckResult,
    responses=problem_responses(401, 403, 404, 422, 429),
)
async def check_identity(
    session: SessionDep,
    principal: PersonsIdentityCheck,
    cipher: CipherDep,
    settings: SettingsDep,
    person: CheckedPerson,
    data: IdentityCheckRequest,
) -> IdentityCheckResult:
    return await identity.check(
        session,
        principal,
        cipher,
        person,
        data,
        suffix_length=settings.identity_check_suffix_length,
        max_per_day=settings.identity_check_max_per_day,
    )
