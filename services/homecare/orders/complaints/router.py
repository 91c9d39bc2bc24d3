from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Response

from libs.common.concurrency import IfMatch, set_etag
from libs.common.database import SessionDep
from libs.common.errors import problem_responses
from libs.common.loading import load_visible
from libs.common.pagination import Page, PageDep
from libs.common.routing import ServiceRouter
from services.homecare.orders import service as orders
from services.homecare.orders.complaints import service
from services.homecare.orders.complaints.models import Complaint, ComplaintStatus
from services.homecare.orders.complaints.schemas import ComplaintCreate, ComplaintRead, ComplaintResolve
from services.homecare.orders.models import Order
from services.homecare.permissions import ComplaintsRead, ComplaintsResolve, ComplaintsWrite

router = ServiceRouter(prefix="/api/v1/homecare", tags=["homecare-complaints"])

ComplainedOrder = Annotated[
    Order, Depends(load_visible(orders.get, permission=ComplaintsWrite, id_name="order_id"))
]
ResolvableComplaint = Annotated[
    Complaint, Depends(load_visible(service.get, permission=ComplaintsResolve, id_name="complaint_id"))
]


@router.post(
    "/orders/{order_id}/complaints",
    summary="登记投诉",
    operation_id="homecare_file_complaint",
    status_code=201,
    response_model=ComplaintRead,
    responses=problem_responses(401, 403, 404, 422),
)
async def file_complaint(
    session: SessionDep,
    principal: ComplaintsWrite,
    order: ComplainedOrder,
    data: ComplaintCreate,
    response: Response,
) -> ComplaintRead:
    complaint = await service.file(session, principal, order, data)
    set_etag(response, complaint.version)
    return ComplaintRead.model_validate(complaint)


@router.get(
    "/complaints",
    summary="投诉列表",
    operation_id="homecare_list_complaints",
    response_model=Page[ComplaintRead],
    responses=problem_responses(401, 403, 422),
)
async def list_complaints(
    session: SessionDep,
    principal: ComplaintsRead,
    page: PageDep,
    status_: Annotated[ComplaintStatus | None, Query(alias="status")] = None,
) -> Page[ComplaintRead]:
    rows, next_cursor = await service.list_(session, principal, params=page, status=status_)
    return Page(
        items=[ComplaintRead.model_validate(r) for r in rows], next_cursor=next_cursor, limit=page.limit
    )


@router.post(
    "/complaints/{complaint_id}/resolve",
    summary="办结投诉",
    operation_id="homecare_resolve_complaint",
    response_model=ComplaintRead,
    responses=problem_responses(401, 403, 404, 409, 412, 428),
)
async def resolve_complaint(
    session: SessionDep,
    principal: ComplaintsResolve,
    complaint: ResolvableComplaint,
    data: ComplaintResolve,
    response: Response,
    if_match: IfMatch = None,
) -> ComplaintRead:
    complaint = await service.resolve(session, principal, complaint, data, if_match)
    set_etag(response, complaint.version)
    return ComplaintRead.model_validate(complaint)
