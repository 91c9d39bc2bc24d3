"""Prometheus metrics of one service process, served as text at ``GET /metrics``.

Every app has its own :class:`ServiceMetrics` (``app.state.metrics``) with its own registry, so that
several apps in one test process never share a counter. Every series carries ``service``.

    yiyang_http_requests_total{service,method,route,status}          counter
    yiyang_http_request_duration_seconds{service,method,route}       histogram (start → last body byte)
    yiyang_http_problems_total{service,method,route,status,code}     counter (problem+json answers)
    yiyang_http_requests_in_progress{service}                        gauge
    yiyang_db_pool_size / _checked_out / _overflow / _max{service,engine}   gauges, read at scrape
    yiyang_changes_head_seq{service}                                 gauge: the last seq of the change feed
    yiyang_job_runs_total / _failures_total{service,job}             counters (scheduled jobs)
    yiyang_job_last_success_timestamp_seconds{service,job}           gauge
    yiyang_job_interval_seconds / _lease_held{service,job}           gauges
    yiyang_job_duration_seconds{service,job}                         histogram
    yiyang_feed_*{service,feed}                                      the indicators' followers (FEED_METRICS)

``route`` is the route's TEMPLATE (``/api/v1/registry/institutions/{institution_id}``), never the raw
path: no ids and no personal data in a label, and a bounded number of series. A request no route
matched is ``<unmatched>``. ``code`` is the problem's stable ``code`` (read from the problem+json body,
which is small; other bodies are not looked at).

``/metrics`` is not behind auth on the service's port, and the gateway never forwards it: the proxy
answers only ``/api/v1/{service}/...`` and a service serves its metrics at ``/metrics``. The gateway's
own ``/metrics`` is for the cluster's Prometheus: the Ingress must not route it (deploy/observability/).

Several uvicorn workers (``WEB_CONCURRENCY`` > 1) share their numbers through prometheus-client's
multiprocess mode: set ``PROMETHEUS_MULTIPROC_DIR`` to a directory of their own, emptied before uvicorn
starts (deploy/docker/entrypoint.sh); any worker's ``/metrics`` then answers for all of them (counters
and histograms summed; gauges as their ``multiprocess_mode`` says). Without it, each worker counts alone
and a scrape sees one of them: run one worker per pod.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)
from prometheus_client.exposition import generate_latest
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from libs.common.jobs import JobPass

log = logging.getLogger("libs.common.metrics")

PREFIX = "yiyang_"
UNMATCHED_ROUTE = "<unmatched>"
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
PROBLEM_MEDIA_TYPE = b"application/problem+json"
# A problem body is a few hundred bytes; past this the code is not looked for.
PROBLEM_BODY_LIMIT = 16 * 1024
# Latency buckets (seconds): fine below a second, where this platform's requests are.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
JOB_BUCKETS = (0.01, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0)

Refresher = Callable[[], Awaitable[None]]
MULTIPROCESS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> str | None:
    """The directory the workers share their metrics through, when prometheus-client's multiprocess
    mode is on (the variable must be set before the process starts)."""
    return os.environ.get(MULTIPROCESS_DIR_ENV) or None


class ServiceMetrics:
    """The registry and metrics of one app; :meth:`add_refresher` adds a coroutine run before each
    scrape (gauges read from the database or the process's state)."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            PREFIX + "http_requests",
            "HTTP requests answered, by method, route template and status",
            ["service", "method", "route", "status"],
            registry=r,
        )
        self.duration = Histogram(
            PREFIX + "http_request_duration_seconds",
            "Time from the request's arrival to the response's last byte, by method and route template",
            ["service", "method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.problems = Counter(
            PREFIX + "http_problems",
            "problem+json answers by method, route template, status and problem code",
            ["service", "method", "route", "status", "code"],
            registry=r,
        )
        self.in_progress = Gauge(
            PREFIX + "http_requests_in_progress",
            "Requests being served",
            ["service"],
            registry=r,
            multiprocess_mode="livesum",
        )
        pool_labels = ["service", "engine"]
        # pool gauges are summed over the live workers: the pod's connections
        self.pool_size = Gauge(
            PREFIX + "db_pool_size",
            "Connections the pool keeps",
            pool_labels,
            registry=r,
            multiprocess_mode="livesum",
        )
        self.pool_checked_out = Gauge(
            PREFIX + "db_pool_checked_out",
            "Connections in use",
            pool_labels,
            registry=r,
            multiprocess_mode="livesum",
        )
        self.pool_overflow = Gauge(
            PREFIX + "db_pool_overflow",
            "Connections open beyond the pool size",
            pool_labels,
            registry=r,
            multiprocess_mode="livesum",
        )
        self.pool_max = Gauge(
            PREFIX + "db_pool_max",
            "Most connections the pool hands out at once (size + max overflow)",
            pool_labels,
            registry=r,
            multiprocess_mode="livesum",
        )
        self.changes_head = Gauge(
            PREFIX + "changes_head_seq",
            "The last sequence number of this service's change feed",
            ["service"],
            registry=r,
            multiprocess_mode="max",
        )
        job_labels = ["service", "job"]
        self.job_runs = Counter(
            PREFIX + "job_runs", "Passes of a scheduled job run here", job_labels, registry=r
        )
        self.job_failures = Counter(
            PREFIX + "job_failures", "Passes of a scheduled job that failed", job_labels, registry=r
        )
        self.job_last_success = Gauge(
            PREFIX + "job_last_success_timestamp_seconds",
            "Unix time of the job's last successful pass here",
            job_labels,
            registry=r,
            multiprocess_mode="max",
        )
        self.job_duration = Histogram(
            PREFIX + "job_duration_seconds",
            "Time one pass of a scheduled job took",
            job_labels,
            buckets=JOB_BUCKETS,
            registry=r,
        )
        self.job_interval = Gauge(
            PREFIX + "job_interval_seconds",
            "How often the job runs (its passes run in the replica holding its lease)",
            job_labels,
            registry=r,
            multiprocess_mode="max",
        )
        self.job_lease_held = Gauge(
            PREFIX + "job_lease_held",
            "1 when this replica held the job's lease at its last turn, 0 when it stood by",
            job_labels,
            registry=r,
            multiprocess_mode="livesum",
        )
        self.in_progress_child = self.in_progress.labels(service)
        self._request_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self._refreshers: list[Refresher] = []

    # ------------------------------------------------------------------------------------ requests
    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        children = self._request_children.get(key)
        if children is None:
            children = (
                self.requests.labels(self.service, method, route, str(status)),
                self.duration.labels(self.service, method, route),
            )
            self._request_children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def observe_problem(self, method: str, route: str, status: int, code: str) -> None:
        self.problems.labels(self.service, method, route, str(status), code).inc()

    # ---------------------------------------------------------------------------------------- jobs
    def declare_job(self, job: str, interval_seconds: float) -> None:
        """A job this app schedules (its series exist from the start, at zero)."""
        self.job_interval.labels(self.service, job).set(interval_seconds)
        self.job_runs.labels(self.service, job)
        self.job_failures.labels(self.service, job)
        self.job_lease_held.labels(self.service, job).set(0)

    def observe_job(
        self, job: str, *, outcome: str, seconds: float, finished_at: float | None = None
    ) -> None:
        """One turn of a scheduled job: ``done``, ``failed`` or ``standby`` (another replica holds its
        lease; nothing ran here)."""
        self.job_lease_held.labels(self.service, job).set(0 if outcome == "standby" else 1)
        if outcome == "standby":
            return
        self.job_runs.labels(self.service, job).inc()
        self.job_duration.labels(self.service, job).observe(seconds)
        if outcome == "done":
            self.job_last_success.labels(self.service, job).set(finished_at or time.time())
        else:
            self.job_failures.labels(self.service, job).inc()

    def on_job_pass(self, event: JobPass) -> None:
        """The listener libs/common/jobs.py calls after each turn of a job loop."""
        if event.service != self.service:
            return
        self.observe_job(
            event.job,
            outcome=event.outcome,
            seconds=event.duration_seconds,
            finished_at=event.started_at + event.duration_seconds,
        )

    # -------------------------------------------------------------------------------------- scrape
    def add_refresher(self, refresher: Refresher) -> None:
        self._refreshers.append(refresher)

    async def render(self) -> bytes:
        for refresher in self._refreshers:
            try:
                await refresher()
            except Exception:  # a gauge that cannot be read must not take the scrape down
                log.warning("metrics refresher failed", exc_info=True)
        directory = multiprocess_dir()
        if directory is None:
            return generate_latest(self.registry)
        merged = CollectorRegistry()
        MultiProcessCollector(merged, path=directory)  # type: ignore[no-untyped-call]
        return generate_latest(merged)

    def process_stopped(self) -> None:
        """Drop this process's live gauges from the shared directory (the app's shutdown)."""
        if multiprocess_dir() is not None:
            mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]

    def observe_pool(self, engine_name: str, engine: AsyncEngine) -> None:
        """The pool's numbers now (a pool without a size, e.g. SQLite's NullPool, is left out)."""
        pool: Any = engine.pool
        if not all(hasattr(pool, name) for name in ("size", "checkedout", "overflow")):
            return
        size = int(pool.size())
        labels = (self.service, engine_name)
        self.pool_size.labels(*labels).set(size)
        self.pool_checked_out.labels(*labels).set(int(pool.checkedout()))
        self.pool_overflow.labels(*labels).set(max(0, int(pool.overflow())))
        max_overflow = int(getattr(pool, "_max_overflow", 0))
        self.pool_max.labels(*labels).set(size + max_overflow if max_overflow >= 0 else float("inf"))


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return str(template) if template else UNMATCHED_ROUTE


def _problem_code(body: bytes) -> str:
    try:
        code = json.loads(body).get("code")
    except (ValueError, AttributeError):
        return "unreadable"
    return code if isinstance(code, str) and code else "unreadable"


class MetricsMiddleware:
    """Counts and times every HTTP request by method, route template and status; counts problem
    answers by code. Pure ASGI: nothing is built per request but the closure."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        metrics = self.metrics
        started = time.perf_counter()
        status = 500
        problem: bytearray | None = None

        async def measured_send(message: Message) -> None:
            nonlocal status, problem
            if message["type"] == "http.response.start":
                status = message["status"]
                for name, value in message.get("headers", ()):
                    if name.lower() == b"content-type" and value.startswith(PROBLEM_MEDIA_TYPE):
                        problem = bytearray()
                        break
            elif problem is not None and message["type"] == "http.response.body":
                if len(problem) < PROBLEM_BODY_LIMIT:
                    problem += message.get("body", b"")
            await send(message)

        metrics.in_progress_child.inc()
        try:
            await self.app(scope, receive, measured_send)
        finally:
            metrics.in_progress_child.dec()
            method = scope["method"] if scope["method"] in KNOWN_METHODS else "OTHER"
            route = _route_template(scope)
            metrics.observe_request(method, route, status, time.perf_counter() - started)
            if problem is not None:
                code = _problem_code(bytes(problem))
                scope.setdefault("state", {})["problem_code"] = code
                metrics.observe_problem(method, route, status, code)


# ------------------------------------------------------------------------------------ scrape hooks
def pool_refresher(app: FastAPI, metrics: ServiceMetrics) -> Refresher:
    """The database pool of the app, at each scrape."""

    async def refresh() -> None:
        database = getattr(app.state, "database", None)
        if database is None:
            return
        metrics.observe_pool("primary", database.engine)
        if database.read_engine is not database.engine:
            metrics.observe_pool("read", database.read_engine)

    return refresh


def change_feed_refresher(app: FastAPI, metrics: ServiceMetrics) -> Refresher:
    """The last ``seq`` of the service's change feed (one indexed ``max``), for the followers' lag
    (``yiyang:feed_items_behind`` in deploy/observability/). Services without a change feed table
    (the gateway) are found out once and not asked again."""
    has_table: bool | None = None

    async def refresh() -> None:
        nonlocal has_table
        database = getattr(app.state, "database", None)
        if database is None or has_table is False:
            return
        try:
            async with database.read_engine.connect() as connection:
                if has_table is None:
                    has_table = await connection.run_sync(
                        lambda sync: sa_inspect(sync).has_table("change_record")
                    )
                    if not has_table:
                        return
                head = await connection.scalar(text("SELECT max(seq) FROM change_record"))
        except SQLAlchemyError:
            log.warning("change feed head unreadable", exc_info=True)
            return
        metrics.changes_head.labels(metrics.service).set(int(head or 0))

    return refresh


router = APIRouter(tags=["health"])


@router.get(
    "/metrics",
    summary="Prometheus 指标（仅供集群内抓取，网关不对外转发）",
    operation_id="metrics",
    include_in_schema=False,
)
async def metrics_endpoint(request: Request) -> Response:
    metrics: ServiceMetrics = request.app.state.metrics
    return Response(await metrics.render(), media_type=CONTENT_TYPE_LATEST)


def install(app: FastAPI, service: str) -> ServiceMetrics:
    """``/metrics``, the middleware's metrics and the scrape-time gauges of an app (the middleware
    itself is added by the caller, in its place in the stack)."""
    disable_created_metrics()  # type: ignore[no-untyped-call]  # no ``*_created`` series: half the output, and no dashboard reads them
    metrics = ServiceMetrics(service)
    app.state.metrics = metrics
    metrics.add_refresher(pool_refresher(app, metrics))
    metrics.add_refresher(change_feed_refresher(app, metrics))
    app.include_router(router)
    return metrics
