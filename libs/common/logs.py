"""Structured JSON logs: one object per line, with the service, the request id, and personal data scrubbed.

Every record passes through :func:`libs.common.personal_data.scrub_text`, so an ID number or a mobile
number that slips into a message or an extra field is masked before it reaches any handler.

The access log (:class:`AccessLogMiddleware`, a line per request) writes its line itself while the
logging set-up is :func:`configure_logging`'s, unchanged: the same line the logging module would write,
without its record, caller lookup and handler walk (a third of a cached answer's cost, issue 16).
Any other set-up (tests capturing logs, another handler, a filter, a record factory, the logger
disabled or above INFO) gets the record as before.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import UTC, datetime
from json.encoder import encode_basestring  # json.dumps' string encoder (ensure_ascii=False)
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from libs.common.personal_data import scrub_text
from libs.common.request_context import current_request_id

_STANDARD_ATTRS = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}
ACCESS_LOGGER = "access"
#: the shortest text scrub_text can change (an 11-digit mobile number)
_SHORTEST_SCRUBBED = 11


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service
        self._access_prefix: tuple[str, str] | None = None

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": current_request_id(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return scrub_text(json.dumps(payload, ensure_ascii=False, default=str))

    def access_line(self, created: float, method: str, path: str, status: int, duration_ms: float) -> str:
        """What :meth:`format` makes of the access log's INFO record ``request`` (``created`` its time,
        the other arguments its extra fields), built from its parts. ``scrub_text`` runs on each value's
        JSON text instead of the whole line: no match can span two values (quotes, commas and colons end
        every match) and the keys hold no digit, so the line is the same; a text shorter than any match
        is not scanned."""
        level = logging.getLevelName(logging.INFO).lower()
        if self._access_prefix is None or self._access_prefix[0] != level:
            prefix = (
                f', "level": {_scrub(encode_basestring(level))}, "service": '
                f"{_scrub(json.dumps(self.service, ensure_ascii=False, default=str))}, "
                f'"logger": "{ACCESS_LOGGER}", "msg": "request", "request_id": '
            )
            self._access_prefix = (level, prefix)
        ts = datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")
        request_id = current_request_id()
        status_text, duration_text = _scrub(int.__repr__(status)), _scrub(float.__repr__(duration_ms))
        return (
            f'{{"ts": {_scrub(encode_basestring(ts))}{self._access_prefix[1]}'
            f"{'null' if request_id is None else _scrub(encode_basestring(request_id))}, "
            f'"method": {_scrub(encode_basestring(method))}, "path": {_scrub(encode_basestring(path))}, '
            f'"status": {status_text}, "duration_ms": {duration_text}}}'
        )


def _scrub(fragment: str) -> str:
    return scrub_text(fragment) if len(fragment) >= _SHORTEST_SCRUBBED else fragment


def configure_logging(service: str, level: str = "INFO") -> None:
    """Route the root logger (and uvicorn's) to one JSON handler on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    # Our access log replaces uvicorn's (it knows the request id and never prints query strings).
    logging.getLogger("uvicorn.access").disabled = True


def _json_handler(log: logging.Logger) -> logging.StreamHandler[Any] | None:
    """The one handler an INFO record of ``log`` would reach, when it is :func:`configure_logging`'s
    and nothing on the way could change or stop the record (else None: the logging module logs it)."""
    if (
        log.disabled
        or log.handlers
        or log.filters
        or not log.propagate
        or type(log) is not logging.Logger
        or logging.getLogRecordFactory() is not logging.LogRecord
        or not log.isEnabledFor(logging.INFO)
    ):
        return None
    parent = log.parent
    if parent is None or parent is not logging.root or len(parent.handlers) != 1:
        return None
    handler = parent.handlers[0]
    if (
        type(handler) is not logging.StreamHandler
        or type(handler.formatter) is not JsonFormatter
        or handler.filters
        or handler.level > logging.INFO
    ):
        return None
    return handler


class AccessLogMiddleware:
    """One line per request: method, path (no query string: it may hold personal data), status, time."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.log = logging.getLogger(ACCESS_LOGGER)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            self.write(scope["method"], scope["path"], status, time.perf_counter() - started)

    def write(self, method: str, path: str, status: int, seconds: float) -> None:
        """The request's line: written here under :func:`configure_logging`'s set-up (the module's
        docstring), else logged as an INFO record ``request`` with the fields as extras."""
        duration_ms = round(seconds * 1000, 2)
        handler = _json_handler(self.log)
        if (
            handler is None
            or type(method) is not str
            or type(path) is not str
            or type(status) is not int
            or type(duration_ms) is not float
        ):
            self.log.info(
                "request",
                extra={"method": method, "path": path, "status": status, "duration_ms": duration_ms},
            )
            return
        formatter: JsonFormatter = handler.formatter  # type: ignore[assignment]
        created = time.time()
        handler.acquire()
        try:
            # StreamHandler.emit, with the line made without a record
            handler.stream.write(
                formatter.access_line(created, method, path, status, duration_ms) + handler.terminator
            )
            handler.flush()
        except RecursionError:
            raise
        except Exception:
            record = self.log.makeRecord(
                self.log.name,
                logging.INFO,
                "(unknown file)",
                0,
                "request",
                (),
                None,
                extra={"method": method, "path": path, "status": status, "duration_ms": duration_ms},
            )
            handler.handleError(record)
        finally:
            handler.release()
