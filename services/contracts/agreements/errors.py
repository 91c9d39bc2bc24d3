from __future__ import annotations

from libs.common.errors import Conflict, DomainError, FieldError, Forbidden, NotFound, Unprocessable


class AgreementNotFound(NotFound):
    default_code = "agreement_not_found"

    def __init__(self) -> None:
        super().__init__("协议不存在")


class PartyInvalid(Unprocessable):
    """A party that the registry does not know, that is inactive, or of the wrong kind."""

    default_code = "party_invalid"

    def __init__(self, *, field: str, code: str, message: str) -> None:
        super().__init__(message, code=code, errors=[FieldError(field=field, message=message, code=code)])


class DuplicateAgreement(Conflict):
    default_code = "duplicate_agreement"

    def __init__(self) -> None:
        super().__init__("该医疗机构与养老机构之间已有生效中或待签署的协议")


class NotAParty(Forbidden):
    default_code = "not_a_party"

    def __init__(self) -> None:
        super().__init__("只能以本机构身份操作本机构作为一方的协议")


class OutOfScope(Forbidden):
    default_code = "out_of_scope"

    def __init__(self) -> None:
        super().__init__("养老机构不在调用方所属行政区域内")


class PartiesChanged(Conflict):
    default_code = "parties_changed"

    def __init__(self) -> None:
        super().__init__("已上报协议的双方机构不能更改")


class TerminatedFinal(Conflict):
    default_code = "terminated_final"

    def __init__(self) -> None:
        super().__init__("已终止的协议不能重新生效")


class CountersignBySameParty(Forbidden):
    default_code = "countersign_by_other_party"

    def __init__(self) -> None:
        super().__init__("协议须由提交方以外的另一方会签")


class TermInvalid(Unprocessable):
    default_code = "term_invalid"


class AlreadyFiled(Conflict):
    default_code = "already_filed"

    def __init__(self) -> None:
        super().__init__("该协议已备案")


class NotFileable(Conflict):
    default_code = "not_fileable"

    def __init__(self) -> None:
        super().__init__("只有已会签（生效中、待生效或已到期）的协议可以备案")


class DocumentTooLarge(DomainError):
    status, title, default_code = 413, "Content Too Large", "document_too_large"


class DocumentNotPdf(Unprocessable):
    default_code = "document_not_pdf"

    def __init__(self) -> None:
        super().__init__("协议文本须为 PDF 文件")


class DocumentNotFound(NotFound):
    default_code = "document_not_found"

    def __init__(self) -> None:
        super().__init__("该协议尚未上传签署文本")


class AlreadyRenewed(Conflict):
    default_code = "already_renewed"

    def __init__(self) -> None:
        super().__init__("该协议已有续签协议")


class RenewedNotFound(Unprocessable):
    default_code = "renews_not_found"

    def __init__(self) -> None:
        message = "所续签的原协议未上报（须已上报，或在本批中位于其前）"
        super().__init__(
            message,
            errors=[FieldError(field="body.renews_external_id", message=message, code="renews_not_found")],
        )


class RenewalPairMismatch(Unprocessable):
    default_code = "renewal_pair_mismatch"

    def __init__(self) -> None:
        message = "续签协议的双方须与原协议相同"
        super().__init__(
            message,
            errors=[
                FieldError(field="body.renews_external_id", message=message, code="renewal_pair_mismatch")
            ],
        )


class AgreementChanged(Conflict):
    """A pushed visit or referral cannot move to another agreement."""

    default_code = "agreement_changed"

    def __init__(self) -> None:
        super().__init__("已上报记录所属的协议不能更改")
