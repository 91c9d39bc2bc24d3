from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Query, Request, Response, status

from libs.common.audit import record_disclosures
from libs.common.auth import Principal
from libs.common.concurrency import IfMatch, set_etag
from libs.common.database import SessionDep
from libs.common.errors import problem_responses
from libs.common.loading import load_visible
from libs.common.pagination import Page, PageDep
from libs.common.person_index import PersonIndex, PersonIndexDep
from libs.common.routing import ServiceRouter
from services.homecare.clients.residents import ResidentsClient, get_residents
from services.homecare.deps import CipherDep, SettingsDep
from services.homecare.permissions import RecipientsElderCode, RecipientsRead, RecipientsWrite
from services.homecare.recipients import elder_code, service
from services.homecare.recipients.disclosure import DISCLOSED_FIELDS
from services.homecare.recipients.identity import Identity, identities, identity
from services.homecare.recipients.models import Recipient
from services.homecare.recipients.schemas import (
    ElderCodeIssued,
    RecipientCreate,
    RecipientLookup,
    RecipientRead,
    RecipientUpdate,
)

router = ServiceRouter(prefix="/api/v1/homecare/recipients", tags=["homecare-recipients"])

VisibleRecipient = Annotated[
    Recipient, Depends(load_visible(service.get, permission=RecipientsRead, id_name="recipient_id"))
]
CodedRecipient = Annotated[
    Recipient, Depends(load_visible(service.get, permission=RecipientsElderCode, id_name="recipient_id"))
]
WritableRecipient = Annotated[
    Recipient, Depends(load_visible(service.get, permission=RecipientsWrite, id_name="recipient_id"))
]


def _index(request: Request) -> PersonIndex | None:
    index: PersonIndex | None = getattr(request.app.state, "person_index", None)
    return index


async def _whole_or_masked(
    request: Request, session: SessionDep, principal: Principal, cipher: CipherDep, recipient: Recipient
) -> RecipientRead:
    """Whole to the serving institution (every institution user who can see the record serves the
    person), audited; masked to everyone else. The identity is read from the person index (503 when it
    cannot be reached)."""
    person = await identity(
        _index(request), cipher, recipient, principal=principal, purpose=f"{request.method} recipient"
    )
    whole = principal.is_institution_user and principal.institution_id is not None
    if whole:
        await record_disclosures(
            request,
            session,
            principal,
            fields=DISCLOSED_FIELDS,
            entity_type="recipient",
            entity_ids=[recipient.id],
            purpose=f"{request.method} recipient",
        )
    return service.to_read(recipient, person, cipher, whole=whole)


@router.get(
    "",
    summary="服务对象列表（个人信息脱敏）",
    description=(
        "一页服务对象的姓名、身份证号等取自居民主索引（每页一次调用）；居民服务不可用时仍返回列表，"
        "这些字段为空。"
    ),
    operation_id="homecare_list_recipients",
    response_model=Page[RecipientRead],
    responses=problem_responses(401, 403, 422),
)
async def list_recipients(
    request: Request,
    session: SessionDep,
    principal: RecipientsRead,
    cipher: CipherDep,
    page: PageDep,
    region_code: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    institution_id: uuid.UUID | None = None,
) -> Page[RecipientRead]:
    rows, next_cursor = await service.list_(
        session, principal, params=page, region_code=region_code, institution_id=institution_id
    )
    persons = await identities(
        _index(request), cipher, rows, principal=principal, purpose="GET recipients", required=False
    )
    return Page(
        items=[service.to_read(r, persons.get(r.id), cipher, whole=False) for r in rows],
        next_cursor=next_cursor,
        limit=page.limit,
    )


@router.post(
    "",
    summary="登记服务对象（响应脱敏；完整信息经 GET 查看并留痕）",
    description=(
        "先在居民主索引中按身份证号查找或登记该老人（一人一档），再登记服务对象。居民服务不可用时 503 "
        "residents_unavailable（不登记）；身份证号已登记为其他姓名的居民时 409 person_name_mismatch。"
    ),
    operation_id="homecare_create_recipient",
    status_code=status.HTTP_201_CREATED,
    response_model=RecipientRead,
    responses=problem_responses(401, 403, 409, 422, 503),
)
async def create_recipient(
    session: SessionDep,
    principal: RecipientsWrite,
    cipher: CipherDep,
    index: PersonIndexDep,
    data: RecipientCreate,
    response: Response,
) -> RecipientRead:
    # the person of the residents' index first (no database statement yet): one elder, one person
    person_id = await index.resolve(
        name=data.name,
        id_number=data.id_number,
        region_code=data.region_code,
        phone=data.phone,
        address=data.address,
    )
    recipient = await service.create(session, principal, cipher, data, person_id=person_id)
    set_etag(response, recipient.version)
    response.headers["Location"] = f"{router.prefix}/{recipient.id}"
    # Masked: the caller just sent the values, and a POST's answer is kept (in plain text) for
    # Idempotency-Key replays — whole values are for GET, each disclosure audited.
    sent = Identity.of(name=data.name, id_number=data.id_number, phone=data.phone, address=data.address)
    return service.to_read(recipient, sent, cipher, whole=False)


@router.post(
    "/lookup",
    summary="按身份证号精确查找（身份证号放在请求体中，结果脱敏）",
    description="经居民主索引按身份证号找到居民，再列出其服务对象记录；居民服务不可用时 503。",
    operation_id="homecare_lookup_recipients",
    response_model=list[RecipientRead],
    responses=problem_responses(401, 403, 422, 503),
)
async def lookup_recipients(
    request: Request,
    session: SessionDep,
    principal: RecipientsRead,
    cipher: CipherDep,
    residents: Annotated[ResidentsClient, Depends(get_residents)],
    data: RecipientLookup,
) -> list[RecipientRead]:
    person_id = await residents.person_by_id_number(data.id_number)
    rows = await service.lookup(session, principal, cipher, data.id_number, person_id=person_id)
    persons = await identities(
        _index(request), cipher, rows, principal=principal, purpose="lookup recipients", required=True
    )
    return [service.to_read(r, persons.get(r.id), cipher, whole=False) for r in rows]


@router.get(
    "/{recipient_id}",
    summary="服务对象详情（服务机构可见完整信息并留痕）",
    description="姓名、身份证号、电话、住址取自居民主索引；居民服务不可用时 503 residents_unavailable。",
    operation_id="homecare_get_recipient",
    response_model=RecipientRead,
    responses=problem_responses(401, 403, 404, 503),
)
async def get_recipient(
    request: Request,
    session: SessionDep,
    principal: RecipientsRead,
    cipher: CipherDep,
    recipient: VisibleRecipient,
    response: Response,
) -> RecipientRead:
    set_etag(response, recipient.version)
    return await _whole_or_masked(request, session, principal, cipher, recipient)


@router.patch(
    "/{recipient_id}",
    summary="修改服务对象（服务地址、健康状况、紧急联系人）",
    description=(
        "联系电话与住址属于居民本人的身份信息，由居民主索引维护：请求中带 phone 或 address 时 422 "
        "identity_held_by_residents（extra.person_id 指明应修改的居民，PATCH /api/v1/residents/persons/"
        "{person_id}）。"
    ),
    operation_id="homecare_update_recipient",
    response_model=RecipientRead,
    responses=problem_responses(401, 403, 404, 412, 422, 428, 503),
)
async def update_recipient(
    request: Request,
    session: SessionDep,
    principal: RecipientsWrite,
    cipher: CipherDep,
    recipient: WritableRecipient,
    data: RecipientUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> RecipientRead:
    recipient = await service.update(session, principal, cipher, recipient, data, if_match)
    set_etag(response, recipient.version)
    return await _whole_or_masked(request, session, principal, cipher, recipient)


@router.post(
    "/{recipient_id}/elder-code",
    summary="签发或重新签发老人核验码（仅此一次显示；护士签到时据此核验服务对象身份）",
    description=(
        "服务该对象的机构管理员签发：返回一个 HOMECARE_ELDER_CODE_LENGTH（默认 6）位的数字码，仅在本响应中"
        "显示一次，服务端只保存其带密钥的散列；重新签发使旧码作废。"
    ),
    operation_id="homecare_issue_elder_code",
    status_code=status.HTTP_201_CREATED,
    response_model=ElderCodeIssued,
    responses=problem_responses(401, 403, 404, 422),
)
async def issue_elder_code(
    session: SessionDep,
    principal: RecipientsElderCode,
    cipher: CipherDep,
    settings: SettingsDep,
    recipient: CodedRecipient,
    response: Response,
) -> ElderCodeIssued:
    response.headers["Cache-Control"] = "no-store"
    return await elder_code.issue(session, principal, cipher, recipient, length=settings.elder_code_length)
