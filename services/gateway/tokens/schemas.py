from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = Field(default="Bearer", examples=["Bearer"])
    expires_in: int = Field(description="访问令牌有效秒数", examples=[900])
    refresh_token: str | None = Field(
        default=None, description="刷新令牌（仅 password / refresh_token 授权）"
    )
    refresh_expires_in: int | None = Field(default=None, description="刷新令牌有效秒数")


class LogoutRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"refresh_token": "rt_5Jq2…（登录时返回的刷新令牌）"}]}
    )

    refresh_token: str = Field(min_length=1, max_length=200, description="要注销的会话的刷新令牌")


class Me(BaseModel):
    sub: str = Field(examples=["user:2f1c…"])
    role: str = Field(examples=["county_admin"])
    role_label: str = Field(examples=["县（市、区）管理员"])
    region_code: str = Field(examples=["350206"])
    region_name: str | None = Field(examples=["湖里区"])
    institution_id: uuid.UUID | None
    practitioner_id: uuid.UUID | None
    username: str | None = Field(default=None, description="用户账号（API 客户端与内部服务为空）")
    display_name: str | None = None
    client_id: str | None = Field(default=None, description="API 客户端标识（仅 city_platform / service）")
    expires_at: datetime | None = Field(description="当前访问令牌的过期时间")
    permissions: list[str] = Field(
        default_factory=list,
        description=(
            "调用者的权限代码 `<服务>:<权限>`（按字母排序），来自网关与各服务的权限表；"
            "暂时无法应答的服务不在其中"
        ),
        examples=[["gateway:users:read", "registry:institutions:read", "registry:institutions:update"]],
    )


class Jwk(BaseModel):
    kty: str
    crv: str
    x: str
    y: str
    kid: str
    use: str
    alg: str


class Jwks(BaseModel):
    keys: list[Jwk]
