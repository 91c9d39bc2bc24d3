from __future__ import annotations

from libs.common.errors import Conflict, Forbidden, NotFound, Unprocessable


class ReferralNotFound(NotFound):
    default_code = "referral_not_found"

    def __init__(self) -> None:
        super().__init__("转诊记录不存在")


class AgreementNotEligible(Unprocessable):
    default_code = "agreement_not_eligible"

    def __init__(self) -> None:
        super().__init__("双方之间没有包含「双向转诊」或「急诊急救绿色通道」的生效协议")


class OpenReferralExists(Conflict):
    default_code = "open_referral_exists"

    def __init__(self) -> None:
        super().__init__("该老人已有未结束的转诊，请先完成或取消")


class WrongSide(Forbidden):
    default_code = "wrong_side"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
