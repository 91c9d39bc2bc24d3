from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SessionLogin(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"username": "huli_admin", "password": "…"}]}
    )

    username: str = Field(min_length=1, max_length=64, description="用户账号（不区分大小写）")
    password: str = Field(min_length=1, max_length=4096, repr=False)


class SessionToken(BaseModel):
    """The access token for the console's memory; the refresh token travels only in its cookie."""

    access_token: str
    token_type: str = Field(default="Bearer", examples=["Bearer"])
    expires_in: int = Field(description="访问令牌有效秒数", examples=[900])
