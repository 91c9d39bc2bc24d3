from __future__ import annotations

from libs.common.errors import Conflict, FieldError, NotFound, Unprocessable


class ApiClientNotFound(NotFound):
    default_code = "api_client_not_found"

    def __init__(self) -> None:
        super().__init__("接口客户端不存在")


class ClientIdTaken(Conflict):
    default_code = "client_id_taken"

    def __init__(self, client_id: str) -> None:
        super().__init__(f"客户端标识 {client_id} 已被使用", extra={"client_id": client_id})


class InvalidClientRegion(Unprocessable):
    default_code = "invalid_region"

    def __init__(self) -> None:
        message = "城市平台客户端须绑定福建省的一个设区市（或平潭综合实验区 350128）"
        super().__init__(
            message, errors=[FieldError(field="body.region_code", message=message, code="invalid_region")]
        )
