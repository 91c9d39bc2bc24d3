from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response, UploadFile, status
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.audit import record_disclosures
from libs.common.auth import Principal
from libs.common.concurrency import IfMatch, check_if_match, set_etag
from libs.common.database import SessionDep
from libs.common.dates import BusinessDate
from libs.common.errors import problem_responses
from libs.common.loading import load_visible
from libs.common.pagination import Page, PageDep
from libs.common.personal_data import PersonalDataCipher
from libs.common.routing import ServiceRouter
from libs.common.row_pages import page_response
from libs.common.transitions import (
    Perform,
    Transition,
    TransitionTable,
    add_transition_routes,
    load_then_move,
)
from services.contracts.agreements import listing, printing, service
from services.contracts.agreements.models import Agreement, AgreementState
from services.contracts.agreements.schemas import (
    AgreementCreate,
    AgreementRead,
    AgreementUpdate,
    File,
    Renew,
    ServiceKindRead,
    Terminate,
    service_kinds,
)
from services.contracts.clients.registry import RegistryDep
from services.contracts.clock import Clock, ClockDep
from services.contracts.deps import CipherDep, SettingsDep
from services.contracts.permissions import AgreementsFile, AgreementsRead, AgreementsWrite

router = ServiceRouter(prefix="/api/v1/contracts", tags=["agreements"])

VisibleAgreement = Annotated[
    Agreement, Depends(load_visible(service.get, permission=AgreementsRead, id_name="agreement_id"))
]
PartyAgreement = Annotated[
    Agreement, Depends(load_visible(service.get_as_party, permission=AgreementsWrite, id_name="agreement_id"))
]


def _answer(response: Response, agreement: Agreement, read: AgreementRead) -> AgreementRead:
    set_etag(response, agreement.version)
    return read


@router.get(
    "/service-kinds",
    summary="签约服务项目（代码与中文名称）",
    operation_id="contracts_list_service_kinds",
    response_model=list[ServiceKindRead],
    responses=problem_responses(401, 403),
)
async def list_service_kinds(principal: AgreementsRead) -> list[ServiceKindRead]:
    return service_kinds()


@router.get(
    "/agreements",
    summary="签约协议列表",
    operation_id="contracts_list_agreements",
    response_model=Page[AgreementRead],
    responses=problem_responses(401, 403, 422),
)
async def list_agreements(
    session: SessionDep,
    principal: AgreementsRead,
    page: PageDep,
    clock: ClockDep,
    cipher: CipherDep,
    status_: Annotated[AgreementState | None, Query(alias="status", description="实际状态")] = None,
    institution_id: Annotated[uuid.UUID | None, Query(description="任一方机构")] = None,
    region_code: Annotated[
        str | None,
        Query(pattern=r"^35\d{4}$", description="行政区划（含下级）：任一方机构所在县区属于该区划的协议"),
    ] = None,
    ending_before: Annotated[BusinessDate | None, Query(description="终止日期不晚于")] = None,
    awaiting_filing: Annotated[
        bool,
        Query(
            description="只列待备案的协议：已签署（已会签、生效中、已到期）、尚未备案；"
            "卫生健康部门只得到本辖区负责备案的协议（乙方养老机构在本辖区）"
        ),
    ] = False,
) -> Response:
    # Straight from the rows to the page's bytes (libs/common/row_pages.py): the JSON of
    # Page[AgreementRead], documented by response_model. Lists never disclose the contacts' phones.
    today = clock.today()
    rows, next_cursor = await listing.list_rows(
        session,
        principal,
        params=page,
        today=today,
        status=status_,
        institution_id=institution_id,
        region_code=region_code,
        ending_before=ending_before,
        awaiting_filing=awaiting_filing,
    )
    context = listing.ListContext(today=today, cipher=cipher)
    return page_response(listing.LIST_SHAPE.items(rows, context), next_cursor=next_cursor, limit=page.limit)


@router.post(
    "/agreements",
    summary="起草签约协议（双方机构经注册库核验）",
    operation_id="contracts_create_agreement",
    status_code=status.HTTP_201_CREATED,
    response_model=AgreementRead,
    responses=problem_responses(401, 403, 409, 422, 502, 504),
)
async def create_agreement(
    session: SessionDep,
    principal: AgreementsWrite,
    data: AgreementCreate,
    response: Response,
    registry: RegistryDep,
    cipher: CipherDep,
    clock: ClockDep,
) -> AgreementRead:
    agreement = await service.create(session, principal, data, registry=registry, cipher=cipher, clock=clock)
    response.headers["Location"] = f"{router.prefix}/agreements/{agreement.id}"
    return _answer(response, agreement, service.present(agreement, today=clock.today(), cipher=cipher))


@router.get(
    "/agreements/{agreement_id}",
    summary="签约协议详情",
    operation_id="contracts_get_agreement",
    response_model=AgreementRead,
    responses=problem_responses(401, 403, 404),
)
async def get_agreement(
    session: SessionDep,
    principal: AgreementsRead,
    agreement: VisibleAgreement,
    response: Response,
    request: Request,
    clock: ClockDep,
    cipher: CipherDep,
) -> AgreementRead:
    disclose = service.is_party(principal, agreement) and (
        agreement.medical_contact_phone_enc is not None or agreement.elderly_contact_phone_enc is not None
    )
    if disclose:
        await record_disclosures(
            request,
            session,
            principal,
            entity_type="agreement",
            entity_ids=[agreement.id],
            fields=service.PERSONAL_FIELDS,
        )
    return _answer(
        response, agreement, service.present(agreement, today=clock.today(), cipher=cipher, disclose=disclose)
    )


@router.patch(
    "/agreements/{agreement_id}",
    summary="修改协议草稿",
    operation_id="contracts_update_agreement",
    response_model=AgreementRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
)
async def update_agreement(
    session: SessionDep,
    principal: AgreementsWrite,
    agreement: PartyAgreement,
    data: AgreementUpdate,
    response: Response,
    if_match: IfMatch,
    cipher: CipherDep,
    clock: ClockDep,
) -> AgreementRead:
    check_if_match(if_match, agreement.version)
    await service.update(session, principal, agreement, data, cipher=cipher, clock=clock)
    return _answer(response, agreement, service.present(agreement, today=clock.today(), cipher=cipher))


@router.post(
    "/agreements/{agreement_id}/renew",
    summary="续签：以原协议内容起草新协议并关联原协议",
    operation_id="contracts_renew_agreement",
    status_code=status.HTTP_201_CREATED,
    response_model=AgreementRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428, 502, 504),
)
async def renew_agreement(
    session: SessionDep,
    principal: AgreementsWrite,
    agreement: PartyAgreement,
    data: Renew,
    response: Response,
    if_match: IfMatch,
    registry: RegistryDep,
    cipher: CipherDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> AgreementRead:
    check_if_match(if_match, agreement.version)
    renewal = await service.renew(
        session,
        principal,
        agreement,
        data,
        registry=registry,
        cipher=cipher,
        clock=clock,
        term_months=settings.agreement_default_term_months,
    )
    response.headers["Location"] = f"{router.prefix}/agreements/{renewal.id}"
    return _answer(response, renewal, service.present(renewal, today=clock.today(), cipher=cipher))


@router.post(
    "/agreements/{agreement_id}/document",
    summary="上传签署的协议文本（PDF）",
    operation_id="contracts_upload_agreement_document",
    response_model=AgreementRead,
    responses=problem_responses(401, 403, 404, 409, 412, 413, 422, 428),
)
async def upload_document(
    session: SessionDep,
    principal: AgreementsWrite,
    agreement: PartyAgreement,
    file: UploadFile,
    response: Response,
    if_match: IfMatch,
    cipher: CipherDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> AgreementRead:
    check_if_match(if_match, agreement.version)
    content = await file.read(settings.document_max_bytes + 1)
    await service.attach_document(
        session,
        principal,
        agreement,
        filename=file.filename or "agreement.pdf",
        content=content,
        max_bytes=settings.document_max_bytes,
        clock=clock,
    )
    return _answer(response, agreement, service.present(agreement, today=clock.today(), cipher=cipher))


@router.get(
    "/agreements/{agreement_id}/document",
    summary="下载签署的协议文本（PDF）",
    operation_id="contracts_download_agreement_document",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, **problem_responses(401, 403, 404)},
)
async def download_document(
    session: SessionDep, principal: AgreementsRead, agreement: VisibleAgreement
) -> Response:
    document = await service.get_document(session, agreement)
    return Response(
        content=document.content,
        media_type=document.content_type,
        headers={
            "Content-Disposition": f'attachment; filename="agreement-{agreement.id}.pdf"',
            "ETag": f'"{document.sha256}"',
            "X-Content-SHA256": document.sha256,
        },
    )


@router.get(
    "/agreements/{agreement_id}/print",
    summary="打印版协议（HTML，按协议范本章节）",
    operation_id="contracts_print_agreement",
    response_class=HTMLResponse,
    responses=problem_responses(401, 403, 404),
)
async def print_agreement(
    principal: AgreementsRead,
    agreement: VisibleAgreement,
    clock: ClockDep,
    cipher: CipherDep,
) -> HTMLResponse:
    read = service.present(agreement, today=clock.today(), cipher=cipher)
    return HTMLResponse(printing.render_html(read))


@dataclass(frozen=True, slots=True)
class AgreementStep:
    session: AsyncSession
    agreement_id: uuid.UUID
    cipher: PersonalDataCipher
    clock: Clock


async def agreement_step(
    session: SessionDep, agreement_id: uuid.UUID, cipher: CipherDep, clock: ClockDep
) -> AgreementStep:
    return AgreementStep(session, agreement_id, cipher, clock)


Move = Callable[[AsyncSession, Principal, Agreement, Any, Clock], Awaitable[object]]


def _step(move: Move, *, as_party: bool = True) -> Perform[AgreementStep]:
    """Load the agreement (a party's, or one of the county's for its filing), check If-Match, move."""
    get = service.get_as_party if as_party else service.get_to_file

    async def load(step: AgreementStep, principal: Principal) -> Agreement:
        return await get(step.session, principal, step.agreement_id)

    async def apply(step: AgreementStep, principal: Principal, agreement: Agreement, body: Any) -> None:
        await move(step.session, principal, agreement, body, step.clock)

    return load_then_move(load, apply)


def _present(step: AgreementStep, principal: Principal, agreement: Agreement) -> AgreementRead:
    return service.present(agreement, today=step.clock.today(), cipher=step.cipher)


TRANSITIONS = TransitionTable(
    prefix="/agreements/{agreement_id}",
    context=agreement_step,
    present=_present,
    response_model=AgreementRead,
    rows=(
        Transition(
            "submit",
            AgreementsWrite,
            _step(
                lambda session, principal, agreement, _, clock: service.submit(
                    session, principal, agreement, clock=clock
                )
            ),
            summary="提交协议（一方签署，待对方会签）",
            operation_id="contracts_submit_agreement",
        ),
        Transition(
            "countersign",
            AgreementsWrite,
            _step(
                lambda session, principal, agreement, _, clock: service.countersign(
                    session, principal, agreement, clock=clock
                )
            ),
            summary="会签协议（另一方）；到起始日自动生效",
            operation_id="contracts_countersign_agreement",
        ),
        Transition(
            "terminate",
            AgreementsWrite,
            _step(
                lambda session, principal, agreement, data, clock: service.terminate(
                    session, principal, agreement, data, clock=clock
                )
            ),
            summary="提前终止协议（须说明原因）",
            operation_id="contracts_terminate_agreement",
            body=Terminate,
            body_name="data",
        ),
        Transition(
            "file",
            AgreementsFile,
            _step(
                lambda session, principal, agreement, data, clock: service.file(
                    session, principal, agreement, data, clock=clock
                ),
                as_party=False,
            ),
            summary="县级卫健部门备案",
            operation_id="contracts_file_agreement",
            body=File,
            body_name="data",
        ),
    ),
)
add_transition_routes(router, TRANSITIONS)
