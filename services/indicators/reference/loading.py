"""Loading a reference table from its rows: every row checked first, then all written as a new version.

All or nothing: one bad row and nothing is written — a 422 ``import_rejected`` whose ``errors`` name each
bad cell as ``rows.<line>.<field>`` and whose ``extra.rows`` give, per error, the row's ``line`` in the
file (the header is line 1), its ``column`` (the Chinese header), ``field``, ``code`` and ``message``.

Row codes: ``required``, ``invalid_cell``, ``too_long``, ``negative_number``, ``number_too_large`` (a
cell); ``unknown_region``,
``unknown_indicator``, ``invalid_comparison``, ``rate_out_of_range``, ``each_county_needs_area``,
``year_out_of_range``, ``aged_exceeds_residents``, ``duplicate_in_batch`` (a row's rules).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import audit, divisions
from libs.common.auth import Principal
from libs.common.errors import FieldError, Unprocessable
from services.indicators.reference.catalogue import INDICATORS, Comparison, Dataset, Unit
from services.indicators.reference.models import PopulationRecord, ReferenceVersion, TargetRecord
from services.indicators.reference.spreadsheet import POPULATION, TARGETS, CellProblem, Layout, SheetRow

MIN_YEAR: Final = 2000
MAX_YEAR: Final = 2100

COMPARISON_WORDS: Final[dict[str, Comparison]] = {
    **{word: Comparison.gte for word in ("≥", ">=", "＞＝", "≧", "gte", "不低于", "不少于")},
    **{word: Comparison.gt for word in (">", "＞", "gt", "高于", "大于")},
    **{word: Comparison.eq for word in ("=", "＝", "==", "eq", "等于")},
    **{word: Comparison.lte for word in ("≤", "<=", "＜＝", "≦", "lte", "不高于", "不超过")},
}


class ImportRejected(Unprocessable):
    default_code = "import_rejected"


class ImportTooLarge(Unprocessable):
    default_code = "batch_too_large"


def _problem(layout: Layout, row: SheetRow, field: str, code: str, message: str) -> None:
    row.problems.append(CellProblem(layout.column(field).header, field, code, message))


def _reject_duplicates(layout: Layout, rows: Sequence[SheetRow], key: Callable[[SheetRow], Hashable]) -> None:
    first: dict[Hashable, int] = {}
    what = "区划与年份" if layout is POPULATION else "指标、区域、逐县评价与截止日期"
    for row in rows:
        if row.problems:
            continue
        k = key(row)
        if k in first:
            _problem(
                layout,
                row,
                "region_code",
                "duplicate_in_batch",
                f"与第 {first[k]} 行重复（同一{what}）",
            )
        else:
            first[k] = row.line


def _region_problem(code: str, *, county_only: bool) -> str | None:
    division = divisions.get(code)
    if county_only and (division is None or not divisions.is_county(code)):
        return f"「{code}」不是福建省的县级行政区划代码"
    if division is None:
        return f"「{code}」不是福建省的行政区划代码（全省为 350000）"
    return None


def check_population(rows: Sequence[SheetRow]) -> None:
    """A population row: a county of Fujian, a year, residents ≥ 65+ ≥ 0, unique (county, year)."""
    for row in rows:
        values = row.values
        if "region_code" in values and (message := _region_problem(values["region_code"], county_only=True)):
            _problem(POPULATION, row, "region_code", "unknown_region", message)
        if "year" in values and not MIN_YEAR <= values["year"] <= MAX_YEAR:
            _problem(POPULATION, row, "year", "year_out_of_range", f"「年份」应在 {MIN_YEAR}–{MAX_YEAR} 之间")
        residents, aged = values.get("residents"), values.get("aged_65_plus")
        if residents is not None and aged is not None and aged > residents:
            _problem(
                POPULATION,
                row,
                "aged_65_plus",
                "aged_exceeds_residents",
                "「65岁及以上人口」不能大于「常住人口」",
            )
    _reject_duplicates(POPULATION, rows, lambda r: (r.values["region_code"], r.values["year"]))


def check_targets(rows: Sequence[SheetRow]) -> None:
    """A target row: a known indicator and region, a comparison, a value in the indicator's unit, unique
    (indicator, region, each county, due date)."""
    for row in rows:
        values = row.values
        indicator = INDICATORS.get(values.get("indicator") or "")
        if "indicator" in values and indicator is None:
            _problem(
                TARGETS,
                row,
                "indicator",
                "unknown_indicator",
                f"「{values['indicator']}」不是已定义的指标代码",
            )
        region = values.get("region_code")
        if region is not None and (message := _region_problem(region, county_only=False)):
            _problem(TARGETS, row, "region_code", "unknown_region", message)
        elif region is not None and values.get("each_county") and divisions.is_county(region):
            _problem(
                TARGETS,
                row,
                "each_county",
                "each_county_needs_area",
                "「逐县评价」的区域应为全省、设区市或平潭",
            )
        values["each_county"] = bool(values.get("each_county"))
        if "comparison" in values:
            comparison = COMPARISON_WORDS.get(values["comparison"].strip().lower())
            if comparison is None:
                _problem(
                    TARGETS,
                    row,
                    "comparison",
                    "invalid_comparison",
                    "「比较」应为 ≥、>、= 或 ≤（gte、gt、eq、lte）",
                )
            else:
                values["comparison"] = comparison.value
        value = values.get("value")
        if indicator is not None and indicator.unit is Unit.rate and value is not None and value > 1:
            _problem(
                TARGETS,
                row,
                "value",
                "rate_out_of_range",
                f"「{indicator.name}」是比率，目标值以小数或百分数表示（如 0.85 或 85%），不能大于 100%",
            )
    _reject_duplicates(
        TARGETS,
        rows,
        lambda r: (
            r.values["indicator"],
            r.values["region_code"],
            r.values["each_county"],
            r.values["due_date"],
        ),
    )


def reject_bad_rows(rows: Sequence[SheetRow]) -> None:
    """422 ``import_rejected`` naming every bad cell when any row has a problem; nothing is written."""
    bad = [row for row in rows if row.problems]
    if not bad:
        return
    raise ImportRejected(
        f"共 {len(bad)} 行有误，未写入任何数据；请修改后重新导入（{len(bad)} bad rows, nothing written）",
        errors=[
            FieldError(field=f"rows.{row.line}.{p.field}", code=p.code, message=p.message)
            for row in bad
            for p in row.problems
        ],
        extra={
            "total": len(rows),
            "rejected_lines": [row.line for row in bad],
            "rows": [
                {"line": row.line, "column": p.column, "field": p.field, "code": p.code, "message": p.message}
                for row in bad
                for p in row.problems
            ],
        },
    )


def _population_key(values: dict[str, Any]) -> tuple[str, int]:
    return values["region_code"], values["year"]


def _target_key(values: dict[str, Any]) -> tuple[str, str, bool, Any]:
    return values["indicator"], values["region_code"], values["each_county"], values["due_date"]


async def load(
    session: AsyncSession,
    principal: Principal,
    dataset: Dataset,
    rows: Sequence[SheetRow],
    *,
    filename: str | None,
) -> ReferenceVersion:
    """Check every row, then write them all as the dataset's next version (audited)."""
    if not rows:
        raise Unprocessable("文件中没有数据行（no data rows）", code="empty_import")
    if dataset is Dataset.population:
        check_population(rows)
    else:
        check_targets(rows)
    reject_bad_rows(rows)

    values = sorted(
        (row.values for row in rows),
        key=_population_key if dataset is Dataset.population else _target_key,
    )
    sources = Counter(v["source"] for v in values)
    latest = await session.scalar(
        select(func.max(ReferenceVersion.number)).where(ReferenceVersion.dataset == dataset.value)
    )
    version = ReferenceVersion(
        dataset=dataset.value,
        number=(latest or 0) + 1,
        loaded_by=principal.sub,
        loaded_by_role=principal.role.value,
        filename=filename[:255] if filename else None,
        row_count=len(values),
        sources=dict(sources.most_common()),
    )
    session.add(version)
    await session.flush()
    model = PopulationRecord if dataset is Dataset.population else TargetRecord
    await session.execute(
        insert(model),
        [{**v, "version_id": version.id, "position": i} for i, v in enumerate(values, start=1)],
    )
    audit.record(
        session,
        principal,
        action=f"reference.{dataset.value}.load",
        entity_type="reference_version",
        entity_id=version.id,
        changes={
            "dataset": dataset.value,
            "number": version.number,
            "rows": version.row_count,
            "sources": version.sources,
            "filename": version.filename,
        },
    )
    return version


def plain_decimal(value: Decimal) -> Decimal:
    """``value`` without trailing zeros (0.850000 → 0.85, 1.000000 → 1), never in exponent form."""
    return Decimal(format(value.normalize(), "f"))
