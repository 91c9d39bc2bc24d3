"""The 500 answer to an exception no handler knows, without losing the connection.

Starlette's ``ServerErrorMiddleware`` answers such an exception and then re-raises it, and uvicorn closes
the connection of a request whose application raised. Behind the gateway that connection is a pooled
keep-alive one: the next request sent on it — often another user's — failed with 502. This middleware
(inside the request-id and access-log middlewares) logs the exception with the request id, answers a
500 problem and returns normally, so the error stays with its own request.

Only when the response had already started can nothing be answered: the exception then propagates and
the server cuts the connection (a half-sent response cannot be completed).
"""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from libs.common.errors import internal_error_response

log = logging.getLogger("libs.common.errors")


class UnhandledErrorMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            if started:
                raise
            log.exception("unhandled error", extra={"method": scope["method"], "path": scope["path"]})
            await internal_error_response(scope["path"])(scope, receive, send)
