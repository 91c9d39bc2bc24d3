from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field

from services.homecare.recipients.schemas import SHA256_PATTERN


class AttachmentRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "sha256": "55c64d0fcd6f9d5f7c828093857e3fdfda68478bb4e9bd24d481ef391c7804e8",
                    "size": 48213,
                    "content_type": "image/jpeg",
                }
            ]
        },
    )

    sha256: str = Field(description="内容的 SHA-256（小写十六进制）")
    size: int = Field(description="字节数")
    content_type: str = Field(description="按内容识别的类型：image/jpeg、image/png 或 image/webp")


class UploadBegin(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "sha256": "55c64d0fcd6f9d5f7c828093857e3fdfda68478bb4e9bd24d481ef391c7804e8",
                    "size": 48213,
                    "content_type": "image/jpeg",
                }
            ]
        }
    )

    sha256: str = Field(pattern=SHA256_PATTERN, description="整个文件的 SHA-256")
    size: int = Field(ge=1, description="整个文件的字节数")
    content_type: str | None = Field(
        default=None, max_length=40, description="客户端声明的类型（以内容识别为准）"
    )


class UploadStatus(BaseModel):
    upload_id: uuid.UUID | None = Field(description="续传 ID（文件已存在时为空）")
    sha256: str
    size: int
    received: int = Field(description="已连续收到的字节数：下一分片从此处开始")
    complete: bool
    content_type: str | None = Field(default=None, description="完成后按内容识别的类型")
