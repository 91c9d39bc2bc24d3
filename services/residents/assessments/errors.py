"""Assessment errors, each with its stable code."""

from __future__ import annotations

from collections.abc import Sequence

from libs.common.errors import FieldError, NotFound, Unprocessable
from services.residents.assessments.scale import ScoreProblem

_CODES = {
    "unknown": "assessment_item_unknown",
    "missing": "assessment_item_missing",
    "out_of_range": "assessment_score_out_of_range",
}
_DETAILS = {
    "unknown": "评分中有量表之外的评估项目",
    "missing": "评分须覆盖量表的全部评估项目",
    "out_of_range": "评估项目的得分超出其分值范围",
}


class AssessmentNotFound(NotFound):
    default_code = "assessment_not_found"

    def __init__(self) -> None:
        super().__init__("能力评估记录不存在")


class ScoresInvalid(Unprocessable):
    """The scores against the item table: unknown items first, then missing ones, then out-of-range
    scores — one kind per answer, each item of that kind named in ``errors``."""

    def __init__(self, scale_version: str, problems: Sequence[ScoreProblem]) -> None:
        kind = problems[0].kind
        mine = [p for p in problems if p.kind == kind]
        super().__init__(
            f"{_DETAILS[kind]}（量表 {scale_version}）",
            code=_CODES[kind],
            errors=[
                FieldError(field=f"body.scores.{p.item_code}", message=p.message, code=kind) for p in mine
            ],
            extra={"scale_version": scale_version, "items": [p.item_code for p in mine]},
        )
