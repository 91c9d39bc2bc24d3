"""The access log's own line (libs/common/logs.py): the line the logging module writes for its record,
written without the record under configure_logging's set-up, and the record itself under any other."""

from __future__ import annotations

import io
import json
import logging
import random
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from libs.common.logs import (
    ACCESS_LOGGER,
    AccessLogMiddleware,
    JsonFormatter,
    _json_handler,
    configure_logging,
)
from libs.common.request_context import RequestIdMiddleware, _request_id

PATHS = [
    "/api/v1/registry/institutions",
    "/healthz",
    "/api/v1/residents/persons/350203199001011234",  # an ID number: masked
    "/p/350203 19900101 1234/x",
    "/p/13812345678",
    "/p/+86 138-1234-5678",
    "/p/1381234567813812345678",  # a longer run: left alone
    "/p/\x0113812345678",  # JSON's \u0001 is followed by the digits
    '/p/"quoted"\\back\\slash/\t/\u2028',
    "/路径/张三/１３８１２３４５６７８",
    "",
]
REQUEST_IDS: list[str | None] = [
    None,
    "0123456789abcdef0123456789abcdef",
    "13812345678",
    "req-350203199001011234",
    "a" * 128,
]


def record_line(
    formatter: JsonFormatter, created: float, method: str, path: str, status: int, duration_ms: float
) -> str:
    record = logging.getLogger(ACCESS_LOGGER).makeRecord(
        ACCESS_LOGGER,
        logging.INFO,
        __file__,
        1,
        "request",
        (),
        None,
        extra={"method": method, "path": path, "status": status, "duration_ms": duration_ms},
    )
    record.created = created
    return formatter.format(record)


@pytest.mark.parametrize("request_id", REQUEST_IDS)
@pytest.mark.parametrize("path", PATHS)
def test_access_line_is_the_records_line(path: str, request_id: str | None) -> None:
    formatter = JsonFormatter("registry")
    token = _request_id.set(request_id)
    try:
        for created, status, duration in ((1764553000.1234, 200, 0.12), (1.9999996, 404, 12345678901.25)):
            expected = record_line(formatter, created, "GET", path, status, duration)
            assert formatter.access_line(created, "GET", path, status, duration) == expected
    finally:
        _request_id.reset(token)


def test_access_line_is_the_records_line_on_random_paths() -> None:
    rng = random.Random(16)
    alphabet = "0123456789" * 3 + "138" * 3 + ' -+/xX"\\\x01é号１３８'
    formatter = JsonFormatter("服务 13812345678")  # the service's name is scrubbed too
    for _ in range(2_000):
        path = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        method = rng.choice(["GET", "POST", "13812345678"])
        created = rng.uniform(0, 2e9)
        expected = record_line(formatter, created, method, path, 201, 1.5)
        assert formatter.access_line(created, method, path, 201, 1.5) == expected, path


def alone(stream: io.StringIO) -> None:
    """configure_logging's handler alone on the root logger again (pytest adds its capture handlers
    for the test's call, after the fixtures)."""
    root = logging.getLogger()
    root.handlers[:] = [h for h in root.handlers if getattr(h, "stream", None) is stream]


@pytest.fixture
def json_logging() -> Iterator[io.StringIO]:
    """configure_logging's set-up, its stream a StringIO; the logging set-up restored afterwards."""
    root = logging.getLogger()
    saved_root = (root.handlers[:], root.level)
    names = ("uvicorn", "uvicorn.error", "uvicorn.access", ACCESS_LOGGER)
    saved = {
        name: (
            logging.getLogger(name).handlers[:],
            logging.getLogger(name).propagate,
            logging.getLogger(name).disabled,
            logging.getLogger(name).filters[:],
            logging.getLogger(name).level,
        )
        for name in names
    }
    configure_logging("test-service")
    stream = io.StringIO()
    root.handlers[0].setStream(stream)  # type: ignore[attr-defined]
    try:
        yield stream
    finally:
        root.handlers[:], level = saved_root
        root.setLevel(level)
        for name, (handlers, propagate, disabled, filters, level) in saved.items():
            logger = logging.getLogger(name)
            logger.handlers[:] = handlers
            logger.propagate, logger.disabled, logger.filters[:] = propagate, disabled, filters
            logger.setLevel(level)


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    status = 418 if scope["path"].endswith("/teapot") else 200
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def client() -> httpx.AsyncClient:
    stack = RequestIdMiddleware(AccessLogMiddleware(app))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=stack), base_url="http://test")


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [
        line for line in map(json.loads, stream.getvalue().splitlines()) if line["logger"] == ACCESS_LOGGER
    ]


async def test_a_request_writes_the_same_line_with_and_without_the_logging_module(
    json_logging: io.StringIO,
) -> None:
    path = "/p/350203199001011234/teapot"
    alone(json_logging)
    assert _json_handler(logging.getLogger(ACCESS_LOGGER)) is not None  # the line written without a record
    async with client() as http:
        await http.get(path, headers={"X-Request-ID": "fast-1"})
        # a filter on the access logger: the logging module writes the record
        logging.getLogger(ACCESS_LOGGER).addFilter(lambda record: True)
        await http.get(path, headers={"X-Request-ID": "slow-1"})
    fast, slow = lines(json_logging)
    for line in (fast, slow):
        assert set(line) == {
            "ts", "level", "service", "logger", "msg", "request_id", "method", "path", "status", "duration_ms"
        }  # fmt: skip
        assert list(line)[:6] == ["ts", "level", "service", "logger", "msg", "request_id"]
        assert line["path"] == "/p/350203********1234/teapot"
        assert (line["level"], line["service"], line["logger"], line["msg"]) == (
            "info", "test-service", "access", "request"
        )  # fmt: skip
        assert (line["method"], line["status"]) == ("GET", 418)
        assert isinstance(line["duration_ms"], float)
    assert (fast["request_id"], slow["request_id"]) == ("fast-1", "slow-1")
    assert list(fast) == list(slow)


@pytest.mark.parametrize(
    "change",
    ["handler filter", "second handler", "logger disabled", "level warning", "record factory"],
)
async def test_any_other_set_up_gets_the_record(json_logging: io.StringIO, change: str) -> None:
    access = logging.getLogger(ACCESS_LOGGER)
    root = logging.getLogger()
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    factory = logging.getLogRecordFactory()
    alone(json_logging)
    if change == "handler filter":

        def recording_filter(record: logging.LogRecord) -> bool:
            records.append(record)
            return True

        root.handlers[0].addFilter(recording_filter)
    elif change == "second handler":
        root.addHandler(Keep())
    elif change == "logger disabled":
        access.disabled = True
    elif change == "level warning":
        access.setLevel(logging.WARNING)
    else:

        def recording_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            records.append(factory(*args, **kwargs))
            return records[-1]

        logging.setLogRecordFactory(recording_factory)
    try:
        async with client() as http:
            await http.get("/x")
    finally:
        logging.setLogRecordFactory(factory)
    if change in ("logger disabled", "level warning"):
        assert lines(json_logging) == []
        assert records == []
        return
    access_records = [r for r in records if r.name == ACCESS_LOGGER]
    assert [(r.getMessage(), r.path, r.status) for r in access_records] == [("request", "/x", 200)]  # type: ignore[attr-defined]
    if change != "second handler":
        assert lines(json_logging)[0]["path"] == "/x"


async def test_caplog_sees_the_access_record(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        async with client() as http:
            await http.get("/y", headers={"X-Request-ID": "r-1"})
    (record,) = [r for r in caplog.records if r.name == ACCESS_LOGGER]
    assert (record.method, record.path, record.status) == ("GET", "/y", 200)  # type: ignore[attr-defined]
