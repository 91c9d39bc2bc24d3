"""``create_service_app``: the one way a service's FastAPI app is built.

It wires what every service shares — settings, logging, database, migrations on start, token
verification, error rendering, request ids, access logs, CORS, health — and mounts the service's routers.
Nothing connects at import time: the lifespan opens connections, and tests build apps explicitly.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from libs.common import api_docs, route_lookup, tracing
from libs.common import metrics as service_metrics
from libs.common.auth import TokenVerifier
from libs.common.body_guard import BodyGuardMiddleware, BodyLimits
from libs.common.database import Database
from libs.common.errors import install_error_handlers
from libs.common.health import router as health_router
from libs.common.http_client import make_http_client
from libs.common.jobs import PeriodicJob, add_pass_listener, periodic_jobs
from libs.common.keys import personal_data_cipher
from libs.common.leases import Leases
from libs.common.logs import AccessLogMiddleware, configure_logging
from libs.common.migrations import upgrade_head_async
from libs.common.openapi import install as install_openapi
from libs.common.production import ensure_production_ready
from libs.common.request_context import RequestIdMiddleware
from libs.common.retention import idempotency_retention_job
from libs.common.settings import ServiceSettings
from libs.common.unhandled_errors import UnhandledErrorMiddleware

Extension = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def create_service_app(
    settings: ServiceSettings,
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter],
    verifier: TokenVerifier | None = None,
    extensions: Sequence[Extension] = (),
    jobs: Sequence[PeriodicJob] = (),
) -> FastAPI:
    """Build a service app. ``extensions`` are async context managers run inside the lifespan, after
    the database and before serving (e.g. outbound clients of other services). ``jobs`` run
    periodically while the app serves, each in one replica at a time (``app.state.leases``,
    libs/common/jobs.py), after the pruning of idempotency records
    every service has. In production, a configuration with development keys or secrets is refused here
    (libs/common/production.py)."""
    ensure_production_ready(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.log_json:
            configure_logging(settings.service_name, settings.log_level)
        if settings.migrate_on_start:
            await upgrade_head_async(settings)
        async with AsyncExitStack() as stack:
            database = Database(settings)
            stack.push_async_callback(database.dispose)
            app.state.database = database
            tracing.configure(settings)
            stack.callback(tracing.shutdown)
            tracing.instrument_engine(database.engine)
            tracing.instrument_engine(database.read_engine)
            stack.callback(add_pass_listener(metrics.on_job_pass))  # job runs in /metrics
            stack.callback(metrics.process_stopped)
            # the scheduled jobs' leases (one runner per job across replicas), given up at shutdown
            leases = Leases(settings)
            stack.push_async_callback(leases.close)
            app.state.leases = leases
            app.state.cipher = personal_data_cipher(settings)
            gateway_http = make_http_client(settings.gateway_url, settings.upstream_timeout_seconds)
            stack.push_async_callback(gateway_http.aclose)
            app.state.gateway_http = gateway_http
            app.state.verifier = verifier or TokenVerifier(
                issuer=settings.jwt_issuer,
                audience=settings.jwt_audience,
                jwks_url=settings.jwks_url,
                http_client=gateway_http,
                cache_seconds=settings.jwks_cache_seconds,
                clock_skew_seconds=settings.jwt_clock_skew_seconds,
                verified_cache_size=settings.jwt_verified_cache_size,
            )
            for extension in extensions:
                await stack.enter_async_context(extension(app))
            await stack.enter_async_context(
                periodic_jobs(database, [idempotency_retention_job(settings), *jobs], leases=leases)
            )
            if settings.gc_freeze_after_start:
                gc.collect()
                gc.freeze()
                stack.callback(gc.unfreeze)
            yield

    # /docs and /redoc are api_docs' pages, whose assets the service serves itself (no CDN).
    app = FastAPI(
        title=title,
        description=description,
        version="1.0.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        # FastAPI's own OpenTelemetry spans are off: they record the query string (personal data) and
        # would double ours (libs/common/tracing.py: route template, request id, no query)
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.settings = settings
    install_error_handlers(app)
    app.include_router(health_router)
    metrics = service_metrics.install(app, settings.service_name)
    for job in (idempotency_retention_job(settings), *jobs):
        metrics.declare_job(job.name, job.interval_seconds)
    api_docs.install(app)
    for router in routers:
        app.include_router(router)
    install_openapi(app, settings.service_name)
    # Outermost first: request id, the server span (tracing), metrics, access log, CORS, unhandled
    # errors (500 without dropping the connection), body guard (caps; the token before the body), then
    # Starlette's exception handlers.
    app.add_middleware(BodyGuardMiddleware, limits=BodyLimits.from_settings(settings))
    app.add_middleware(UnhandledErrorMiddleware)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "If-Match", "Idempotency-Key", "X-Request-ID"],
        expose_headers=["ETag", "Location", "X-Request-ID", "Idempotent-Replayed"],
    )
    app.add_middleware(AccessLogMiddleware)
    app.add_middleware(service_metrics.MetricsMiddleware, metrics=metrics)
    app.add_middleware(tracing.TracingMiddleware, service=settings.service_name)
    app.add_middleware(RequestIdMiddleware)
    # the router's first full match per method and path, remembered (libs/common/route_lookup.py)
    route_lookup.install(app.router)
    return app
