"""Attachments of visit records: upload in one request (multipart or a raw PUT), read by hash."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, File, Form, Header, Request, Response, UploadFile
from fastapi import Path as PathParam

from libs.common.database import SessionDep
from libs.common.errors import problem_responses
from libs.common.routing import ServiceRouter
from services.homecare.attachments import service
from services.homecare.attachments.errors import AttachmentNotFound
from services.homecare.attachments.models import Attachment, AttachmentUpload
from services.homecare.attachments.schemas import AttachmentRead, UploadBegin, UploadStatus
from services.homecare.attachments.storage import AttachmentStore, make_store
from services.homecare.deps import SettingsDep
from services.homecare.permissions import AttachmentsRead, AttachmentsWrite
from services.homecare.recipients.schemas import SHA256_PATTERN

router = ServiceRouter(prefix="/api/v1/homecare", tags=["homecare-attachments"])

Sha256 = Annotated[str, PathParam(pattern=SHA256_PATTERN, description="内容的 SHA-256（小写十六进制）")]


async def get_store(request: Request, settings: SettingsDep) -> AttachmentStore:
    """The app's attachment store (made at start-up, app.py; or set by a test as
    ``app.state.attachment_store``), else one made from the settings now."""
    store: AttachmentStore | None = getattr(request.app.state, "attachment_store", None)
    if store is None:
        store = make_store(settings)
        request.app.state.attachment_store = store
    return store


_IMAGE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}, "description": "附件内容"}
}

StoreDep = Annotated[AttachmentStore, Depends(get_store)]


def _answer(response: Response, created: bool) -> None:
    response.status_code = 201 if created else 200


@router.post(
    "/attachments",
    summary="上传附件（照片、签名图片；multipart：file + sha256）",
    operation_id="homecare_upload_attachment",
    status_code=201,
    response_model=AttachmentRead,
    responses=problem_responses(401, 403, 413, 415, 422),
)
async def upload(
    session: SessionDep,
    principal: AttachmentsWrite,
    settings: SettingsDep,
    storage: StoreDep,
    response: Response,
    file: Annotated[UploadFile, File(description="JPEG、PNG 或 WebP 图片")],
    sha256: Annotated[str, Form(pattern=SHA256_PATTERN, description="客户端计算的 SHA-256")],
) -> AttachmentRead:
    data = await file.read(settings.attachments_max_bytes + 1)
    attachment, created = await service.store(
        session, storage, principal, data, sha256, settings.attachments_max_bytes
    )
    _answer(response, created)
    return AttachmentRead.model_validate(attachment)


@router.put(
    "/attachments/{sha256}",
    summary="上传附件（请求体为文件原始字节）",
    operation_id="homecare_put_attachment",
    status_code=201,
    response_model=AttachmentRead,
    responses=problem_responses(401, 403, 413, 415, 422),
)
async def put(
    session: SessionDep,
    principal: AttachmentsWrite,
    settings: SettingsDep,
    storage: StoreDep,
    request: Request,
    response: Response,
    sha256: Sha256,
) -> AttachmentRead:
    data = await request.body()
    attachment, created = await service.store(
        session, storage, principal, data, sha256, settings.attachments_max_bytes
    )
    _answer(response, created)
    return AttachmentRead.model_validate(attachment)


@router.get(
    "/attachments/{sha256}",
    summary="读取附件（上传者，或可查看引用它的服务记录者）",
    operation_id="homecare_get_attachment",
    response_class=Response,
    responses={**_IMAGE, **problem_responses(401, 403, 404, 422)},
)
async def get(session: SessionDep, principal: AttachmentsRead, storage: StoreDep, sha256: Sha256) -> Response:
    attachment = await service.readable(session, principal, sha256)
    data = await storage.get(attachment.sha256)
    if data is None:
        raise AttachmentNotFound()
    return Response(
        content=data,
        media_type=attachment.content_type,
        headers={
            "ETag": f'"{attachment.sha256}"',
            "Cache-Control": "private, max-age=31536000, immutable",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _status(item: AttachmentUpload | Attachment) -> UploadStatus:
    if isinstance(item, Attachment):
        return UploadStatus(
            upload_id=None,
            sha256=item.sha256,
            size=item.size,
            received=item.size,
            complete=True,
            content_type=item.content_type,
        )
    return UploadStatus(
        upload_id=item.id, sha256=item.sha256, size=item.size, received=item.received, complete=False
    )


@router.post(
    "/attachments/uploads",
    summary="开始可续传上传（同一文件重复开始得到同一续传 ID；文件已存在则直接完成）",
    operation_id="homecare_begin_attachment_upload",
    status_code=201,
    response_model=UploadStatus,
    responses=problem_responses(401, 403, 413, 422),
)
async def begin_upload(
    session: SessionDep,
    principal: AttachmentsWrite,
    settings: SettingsDep,
    data: UploadBegin,
    response: Response,
) -> UploadStatus:
    item = await service.begin(session, principal, data.sha256, data.size, settings.attachments_max_bytes)
    if isinstance(item, Attachment):
        response.status_code = 200
    return _status(item)


@router.get(
    "/attachments/uploads/{upload_id}",
    summary="续传进度（中断后从 received 处继续）",
    operation_id="homecare_get_attachment_upload",
    response_model=UploadStatus,
    responses=problem_responses(401, 403, 404),
)
async def upload_status(
    session: SessionDep, principal: AttachmentsWrite, upload_id: uuid.UUID
) -> UploadStatus:
    return _status(await service.get_upload(session, principal, upload_id))


@router.patch(
    "/attachments/uploads/{upload_id}",
    summary="上传一个分片（Content-Range: bytes 起-止/总长；收齐即完成）",
    operation_id="homecare_append_attachment_upload",
    response_model=UploadStatus,
    responses=problem_responses(401, 403, 404, 409, 413, 415, 422),
)
async def append_upload(
    session: SessionDep,
    principal: AttachmentsWrite,
    settings: SettingsDep,
    storage: StoreDep,
    request: Request,
    response: Response,
    upload_id: uuid.UUID,
    content_range: Annotated[str | None, Header()] = None,
) -> UploadStatus:
    upload = await service.get_upload(session, principal, upload_id)
    status = _status(upload)
    attachment = await service.append(
        session,
        storage,
        principal,
        upload,
        content_range,
        await request.body(),
        settings.attachments_max_bytes,
    )
    if attachment is None:
        return status.model_copy(update={"received": upload.received})
    response.status_code = 201
    return _status(attachment)
