from __future__ import annotations

from libs.common.errors import Conflict, NotFound, PayloadTooLarge, Unprocessable


class AttachmentNotFound(NotFound):
    default_code = "attachment_not_found"

    def __init__(self) -> None:
        super().__init__("附件不存在或无权查看")


class AttachmentHashMismatch(Unprocessable):
    default_code = "attachment_hash_mismatch"

    def __init__(self, declared: str, actual: str) -> None:
        super().__init__("附件内容与声明的 SHA-256 不符", extra={"declared": declared, "actual": actual})


class AttachmentTooLarge(PayloadTooLarge):
    default_code = "attachment_too_large"

    def __init__(self, limit: int) -> None:
        super().__init__(f"附件超过大小上限（{limit} 字节）", extra={"max_bytes": limit})


class AttachmentTypeUnsupported(Unprocessable):
    status = 415
    title = "Unsupported Media Type"
    default_code = "attachment_type_unsupported"

    def __init__(self) -> None:
        super().__init__(
            "仅支持 JPEG、PNG、WebP 图片", extra={"allowed": ["image/jpeg", "image/png", "image/webp"]}
        )


class AttachmentMissing(Unprocessable):
    default_code = "attachment_missing"

    def __init__(self, hashes: list[str]) -> None:
        super().__init__("记录引用的附件尚未上传", extra={"sha256": hashes})


class UploadNotFound(NotFound):
    default_code = "attachment_upload_not_found"

    def __init__(self) -> None:
        super().__init__("上传不存在或已完成")


class UploadOffsetMismatch(Conflict):
    default_code = "attachment_upload_offset_mismatch"

    def __init__(self, received: int) -> None:
        super().__init__(f"分片须从第 {received} 字节起续传", extra={"received": received})


class BadContentRange(Unprocessable):
    default_code = "attachment_bad_content_range"

    def __init__(self) -> None:
        super().__init__("Content-Range 须为 bytes 起-止/总长，且与分片长度和声明的大小一致")
