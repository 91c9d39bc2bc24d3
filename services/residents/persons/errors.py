from __future__ import annotations

import uuid

from libs.common.errors import Conflict, FieldError, Forbidden, NotFound, TooManyRequests, Unprocessable


class PersonNotFound(NotFound):
    default_code = "person_not_found"

    def __init__(self) -> None:
        super().__init__("居民不存在")


class PersonsNotFound(NotFound):
    """Some persons of a batch are unknown to the caller (absent or out of its scope: not told apart)."""

    default_code = "person_not_found"

    def __init__(self, ids: list[uuid.UUID]) -> None:
        super().__init__(f"{len(ids)} 名居民不存在", extra={"person_ids": [str(i) for i in ids]})


class PersonsBatchTooLarge(Unprocessable):
    default_code = "batch_too_large"

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"一次最多读取 {limit} 名居民",
            errors=[FieldError(field="body.ids", message=f"不超过 {limit} 个", code="too_many")],
        )


class PersonIdentityMismatch(Conflict):
    """The ID number is in the index under another name: a typo in one of them, or someone else's
    number. The stored name is not revealed."""

    default_code = "person_identity_mismatch"

    def __init__(self) -> None:
        super().__init__(
            "该身份证号已登记的居民姓名与所填姓名不一致，请核对身份证号与姓名",
            errors=[FieldError(field="body.name", message="与已登记的姓名不一致", code="mismatch")],
        )


class BirthDateMismatch(Unprocessable):
    default_code = "birth_date_mismatch"

    def __init__(self) -> None:
        super().__init__(
            "出生日期与身份证号不一致",
            errors=[FieldError(field="body.birth_date", message="与身份证号不一致", code="mismatch")],
        )


class SexMismatch(Unprocessable):
    default_code = "sex_mismatch"

    def __init__(self) -> None:
        super().__init__(
            "性别与身份证号不一致",
            errors=[FieldError(field="body.sex", message="与身份证号不一致", code="mismatch")],
        )


class RegionNotAllowed(Forbidden):
    default_code = "out_of_scope"


class TownshipNotInCounty(Unprocessable):
    default_code = "township_not_in_county"

    def __init__(self) -> None:
        super().__init__(
            "乡镇（街道）代码须属于居民所在县级行政区划",
            errors=[FieldError(field="body.township_code", message="不属于该县", code="not_in_county")],
        )


class IdentitySuffixInvalid(Unprocessable):
    default_code = "identity_suffix_invalid"

    def __init__(self, length: int) -> None:
        super().__init__(
            f"须为身份证号的后 {length} 位",
            errors=[FieldError(field="body.id_suffix", message=f"须为 {length} 位", code="length")],
            extra={"length": length},
        )


class IdentityCheckLimit(TooManyRequests):
    default_code = "identity_check_limit"

    def __init__(self, limit: int) -> None:
        super().__init__(f"该居民今日的身份核验次数已达上限（{limit} 次）", extra={"limit": limit})
