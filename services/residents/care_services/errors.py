"""Care-service errors, each with its stable code."""

from __future__ import annotations

from libs.common.errors import Conflict, NotFound, Unprocessable


class CareServiceNotFound(NotFound):
    default_code = "care_service_not_found"

    def __init__(self) -> None:
        super().__init__("医养结合服务记录不存在")


class CareServiceNotOwed(Unprocessable):
    default_code = "care_service_not_owed"

    def __init__(self, min_level: int, level: int | None) -> None:
        found = "尚无能力评估" if level is None else f"服务日最近一次能力评估等级为 {level}"
        super().__init__(
            f"医养结合服务面向经评估的失能老年人（等级 ≥ {min_level}）：该居民{found}",
            extra={"min_level": min_level, "level": level},
        )


class ClientRecordReused(Conflict):
    default_code = "client_record_id_reused"

    def __init__(self) -> None:
        super().__init__("client_record_id 已用于另一居民的服务记录")


class WindowUnknown(Unprocessable):
    default_code = "care_window_unknown"

    def __init__(self, count: int) -> None:
        super().__init__(f"每年有 {count} 个服务周期，window 须在 1–{count} 之间", extra={"windows": count})
