from __future__ import annotations

from decimal import Decimal

from libs.common.errors import FieldError, Forbidden, NotFound, Unprocessable


class ProviderNotFound(NotFound):
    default_code = "provider_not_found"

    def __init__(self) -> None:
        super().__init__("该机构尚未开通互联网+护理服务")


class NotAProvider(Unprocessable):
    default_code = "not_an_internet_nursing_provider"

    def __init__(self) -> None:
        super().__init__("该机构不是在册的上门服务医疗机构（机构注册信息未开通互联网+护理服务或家庭病床）")


class NotOwnInstitution(Forbidden):
    default_code = "not_own_institution"

    def __init__(self) -> None:
        super().__init__("只能设置本机构的服务项目和价格")


class PriceOutsideGuidance(Unprocessable):
    default_code = "price_outside_guidance"

    def __init__(self, low: Decimal | None, high: Decimal | None, *, field: str = "body.price_yuan") -> None:
        shown = [str(v) if v is not None else "—" for v in (low, high)]
        super().__init__(
            f"价格须在指导价范围内（{shown[0]} – {shown[1]} 元）",
            errors=[FieldError(field=field, message="超出指导价范围", code="outside_guidance")],
            extra={
                "price_min_yuan": str(low) if low is not None else None,
                "price_max_yuan": str(high) if high is not None else None,
            },
        )


class VisitFeeAboveCeiling(Unprocessable):
    default_code = "visit_fee_above_ceiling"

    def __init__(self, ceiling: Decimal) -> None:
        super().__init__(
            f"上门服务费不得高于省定上限 {ceiling} 元",
            errors=[FieldError(field="body.visit_fee_yuan", message="高于上限", code="above_ceiling")],
            extra={"visit_fee_ceiling_yuan": str(ceiling)},
        )


class ItemNotOffered(Unprocessable):
    default_code = "item_not_offered"

    def __init__(self, codes: list[str]) -> None:
        super().__init__(
            f"该机构未开通这些项目：{', '.join(codes)}",
            errors=[FieldError(field="body.item_codes", message="机构未开通的项目", code="not_offered")],
            extra={"item_codes": codes},
        )
