"""Institutions in bulk: ``POST .../bulk`` (city platforms), ``POST .../import`` and ``GET .../export``.

Mounted before the institutions router, whose ``/{institution_id}`` would otherwise catch ``/export``.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Annotated

from fastapi import File, Query, Response, UploadFile

from libs.common.bulk import BulkMaxRecords, BulkResponse
from libs.common.database import SessionDep
from libs.common.downloads import attachment
from libs.common.errors import FieldError, Unprocessable, problem_responses
from libs.common.models import utcnow
from libs.common.routing import ServiceRouter
from services.registry.deps import CipherDep, SettingsDep
from services.registry.institutions import bulk, spreadsheet, spreadsheet_import
from services.registry.institutions.deps import InstitutionFilterDep
from services.registry.institutions.schemas import InstitutionBulkRequest
from services.registry.institutions.spreadsheet_import import ImportMode, ImportResponse
from services.registry.permissions import InstitutionsBulkUpsert, InstitutionsExport, InstitutionsImport

router = ServiceRouter(prefix="/api/v1/registry/institutions", tags=["institutions-bulk"])
EXPORT_LIMIT = 50_000


@router.post(
    "/bulk",
    summary="城市平台批量上报机构（按 source_system + external_id 新增或更新）",
    operation_id="registry_bulk_upsert_institutions",
    description=(
        "每条记录单独返回 created / updated / unchanged / rejected（附稳定代码 code 与字段错误）；"
        "每条记录的规则与 POST /institutions（新增）、PATCH /institutions/{id}（更新）相同；"
        "坏记录不影响其他记录；重放同一批次不产生任何变化；每批最多 bulk_max_records 条（默认 1000），"
        "超出则整批 422 batch_too_large。"
    ),
    response_model=BulkResponse,
    responses=problem_responses(401, 403, 422),
)
async def bulk_upsert_institutions(
    session: SessionDep,
    principal: InstitutionsBulkUpsert,
    data: InstitutionBulkRequest,
    cipher: CipherDep,
    max_records: BulkMaxRecords,
) -> BulkResponse:
    return await bulk.upsert_from_platform(session, principal, data, cipher=cipher, max_records=max_records)


@router.post(
    "/import",
    summary="从 XLSX/CSV 批量导入机构（先校验全部行；默认有错则不写入）",
    operation_id="registry_import_institutions",
    response_model=ImportResponse,
    responses=problem_responses(401, 403, 413, 422),
)
async def import_institutions(
    session: SessionDep,
    principal: InstitutionsImport,
    cipher: CipherDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="机构名录（.xlsx 或 .csv，中文表头，一行一个机构）")],
    mode: Annotated[
        ImportMode,
        Query(
            description=(
                "all：全部无误才写入（默认，有误则 422 import_rejected）；"
                "partial：写入无误的行，有误的行 outcome 为 rejected"
            )
        ),
    ] = ImportMode.all,
) -> ImportResponse:
    content = await file.read(settings.import_max_bytes + 1)
    if len(content) > settings.import_max_bytes:
        raise Unprocessable(
            f"文件超过 {settings.import_max_bytes // (1024 * 1024)} MB（file too large）",
            code="file_too_large",
        )
    try:
        reader = spreadsheet.reader_for(file.filename, file.content_type)
        # parsing is CPU work: off the event loop
        rows = await asyncio.to_thread(
            lambda: list(itertools.islice(reader(content), settings.import_max_rows + 1))
        )
    except spreadsheet.SheetError as exc:
        rows_field = (
            [FieldError(field=f"rows.{exc.line}", message=str(exc), code=exc.code)] if exc.line else None
        )
        raise Unprocessable(str(exc), code=exc.code, errors=rows_field) from None
    return await spreadsheet_import.import_rows(
        session, principal, iter(rows), mode=mode, cipher=cipher, max_rows=settings.import_max_rows
    )


@router.get(
    "/export",
    summary="导出机构名录（XLSX/CSV，与导入同一格式）",
    operation_id="registry_export_institutions",
    response_class=Response,
    responses={
        200: {
            "description": "机构名录文件",
            "content": {spreadsheet.XLSX_MEDIA_TYPE: {}, "text/csv": {}},
        },
        **problem_responses(401, 403, 422),
    },
)
async def export_institutions(
    session: SessionDep,
    principal: InstitutionsExport,
    filters: InstitutionFilterDep,
    format: Annotated[str, Query(pattern="^(xlsx|csv)$", description="xlsx 或 csv")] = "xlsx",
) -> Response:
    rows = await spreadsheet_import.export_rows(session, principal, filters, limit=EXPORT_LIMIT)
    filename = f"机构名录_{utcnow():%Y%m%d}.{format}"
    if format == "csv":
        content, media_type = spreadsheet.write_csv(rows), spreadsheet.CSV_MEDIA_TYPE
    else:
        content, media_type = spreadsheet.write_xlsx(rows), spreadsheet.XLSX_MEDIA_TYPE
    return attachment(content, filename, media_type)
