"""``GET /nurse/bundle``: the calling nurse's day bundle, with a strong ``ETag`` (a hash of the body) so
a phone syncs cheaply at shift start: ``If-None-Match`` with it answers 304 without the body and without
a new disclosure record."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Query, Request, Response

from libs.common.audit import record_disclosures
from libs.common.concurrency import content_etag, none_match
from libs.common.database import SessionDep
from libs.common.errors import problem_responses
from libs.common.routing import ServiceRouter
from services.homecare.deps import CipherDep, SettingsDep, TemplatesDep
from services.homecare.nurse import people, service
from services.homecare.nurse.schemas import NurseBundle
from services.homecare.permissions import AssignmentsRead

router = ServiceRouter(prefix="/api/v1/homecare/nurse", tags=["homecare-nurse-app"])


@router.get(
    "/bundle",
    summary="护士当日离线包（今天起 N 天的派单、服务对象完整联系方式、注意事项、服务项目、事件游标）",
    description=(
        "仅返回调用护士本人的派单（任何状态，已取消的显示为已取消）；服务对象姓名、电话、住址完整显示并留痕。"
        "ETag 为响应体的哈希；带 If-None-Match 且未变化时返回 304（无响应体，不再留痕）。"
    ),
    operation_id="homecare_nurse_bundle",
    response_model=NurseBundle,
    responses={
        304: {"description": "未变化（If-None-Match 命中）"},
        **problem_responses(401, 403, 404, 422, 503),
    },
)
async def bundle(
    request: Request,
    session: SessionDep,
    principal: AssignmentsRead,
    cipher: CipherDep,
    settings: SettingsDep,
    templates: TemplatesDep,
    days: Annotated[int, Query(ge=1, le=7, description="从今天（Asia/Shanghai）起的天数")] = 2,
    if_none_match: Annotated[str | None, Header(max_length=500)] = None,
) -> Response:
    index = getattr(request.app.state, "person_index", None)
    made = await service.build(
        session, principal, cipher, settings, days=days, templates=templates, index=index
    )
    body = made.model_dump_json().encode()
    tag = content_etag(body)
    headers = {"ETag": tag, "Cache-Control": "private, no-cache"}
    if none_match(if_none_match, tag):
        return Response(status_code=304, headers=headers)
    await record_disclosures(
        request,
        session,
        principal,
        fields=people.DISCLOSED,
        entity_type="recipient",
        entity_ids=sorted({a.person.recipient_id for a in made.assignments}),
        purpose="nurse bundle",
    )
    return Response(body, media_type="application/json", headers=headers)
