"""The parts of a 65+ yearly health check-up and when a year's record is 规范 (standard), as versioned data.

From ``data/checkup_parts.csv`` (our reading of 国家基本公共卫生服务 老年人健康管理, ``likely``): a record is
standard when every part its rule version marks required has been done in the year.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from services.residents.data import read_table


class PartCategory(StrEnum):
    assessment = "assessment"
    physical = "physical"
    auxiliary = "auxiliary"
    guidance = "guidance"


CATEGORY_LABELS = {
    PartCategory.assessment: "健康状况评估",
    PartCategory.physical: "体格检查",
    PartCategory.auxiliary: "辅助检查",
    PartCategory.guidance: "健康指导",
}


@dataclass(frozen=True, slots=True)
class CheckupPart:
    code: str
    name: str
    category: PartCategory
    required: bool


@dataclass(frozen=True, slots=True)
class CheckupRule:
    version: str
    parts: tuple[CheckupPart, ...]

    def part(self, code: str) -> CheckupPart | None:
        return next((part for part in self.parts if part.code == code), None)

    def missing(self, done: Collection[str]) -> list[CheckupPart]:
        """The required parts not in ``done``, in the table's order."""
        return [part for part in self.parts if part.required and part.code not in done]

    def is_standard(self, done: Collection[str]) -> bool:
        return not self.missing(done)


def _load() -> dict[str, CheckupRule]:
    rows: dict[str, list[tuple[int, CheckupPart]]] = {}
    for row in read_table("checkup_parts.csv"):
        if row["required"] not in ("true", "false"):
            raise ValueError(f"checkup_parts.csv: required must be true or false, not {row['required']!r}")
        part = CheckupPart(
            code=row["code"],
            name=row["name"],
            category=PartCategory(row["category"]),
            required=row["required"] == "true",
        )
        rows.setdefault(row["rule_version"], []).append((int(row["sort_order"]), part))
    return {
        version: CheckupRule(version, tuple(part for _, part in sorted(parts, key=lambda pair: pair[0])))
        for version, parts in rows.items()
    }


RULES: dict[str, CheckupRule] = _load()
