"""Errors of the browser session (problem+json, stable codes).

    Forbidden 403
    ├── CrossSiteRequest   cross_site_request (an ``Origin`` or ``Sec-Fetch-Site`` of another site)
    └── CsrfFailed         csrf_failed (the ``X-CSRF-Token`` header missing or unlike the ``yy_csrf`` cookie)
    Unauthorized 401
    └── MissingSession     missing_session (no ``yy_refresh`` cookie: sign in again)

A refresh token that is unknown, expired, revoked or reused answers the token endpoint's errors
(tokens/errors.py: ``invalid_grant``, ``refresh_token_reused``, …).
"""

from __future__ import annotations

from libs.common.errors import Forbidden, Unauthorized


class CrossSiteRequest(Forbidden):
    default_code = "cross_site_request"

    def __init__(self) -> None:
        super().__init__("拒绝来自其他站点的会话请求（Origin / Sec-Fetch-Site 不是本站）")


class CsrfFailed(Forbidden):
    default_code = "csrf_failed"

    def __init__(self) -> None:
        super().__init__("CSRF 校验失败：请求头 X-CSRF-Token 须与 Cookie yy_csrf 一致，请刷新页面后重试")


class MissingSession(Unauthorized):
    default_code = "missing_session"

    def __init__(self) -> None:
        super().__init__("没有登录会话（缺少会话 Cookie），请重新登录")
