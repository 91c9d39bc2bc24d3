from __future__ import annotations

from libs.common.errors import UpstreamError, UpstreamTimeout


class UpstreamUnavailable(UpstreamError):
    default_code = "upstream_unavailable"

    def __init__(self, service: str) -> None:
        super().__init__(f"上游服务 {service} 不可用（无法连接）", extra={"service": service})


class UpstreamFailed(UpstreamError):
    default_code = "upstream_error"

    def __init__(self, service: str) -> None:
        super().__init__(f"上游服务 {service} 连接异常中断", extra={"service": service})


class UpstreamTooSlow(UpstreamTimeout):
    default_code = "upstream_timeout"

    def __init__(self, service: str) -> None:
        super().__init__(f"上游服务 {service} 响应超时", extra={"service": service})
