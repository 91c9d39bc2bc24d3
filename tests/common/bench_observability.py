"""What the metrics and tracing middlewares cost a request (measured, not asserted; issue 17).

Run: ``.venv/bin/python -m tests.common.bench_observability [--requests N] [--rounds R]``

Three apps built by ``create_service_app`` (a throwaway SQLite service, no migration): as served
(metrics middleware, tracing middleware with tracing off), without the two middlewares, and as served
with tracing on (an SDK provider whose spans go nowhere — the cost of making them). Each round sends
``--requests`` sequential ``GET /healthz`` through ``httpx.ASGITransport`` to each app in turn; prints
the median per-request time of each over the rounds and the ratios to the bare app. ``/healthz`` is the
cheapest route there is, so the ratio is the worst case: on a route that touches the database the same
absolute overhead is a smaller share. Not collected by pytest (not ``test_*``).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider

from libs.common import tracing
from libs.common.metrics import MetricsMiddleware
from libs.common.service_app import create_service_app
from libs.common.settings import ServiceSettings
from libs.common.tracing import TracingMiddleware


def build(root: Path, *, observed: bool) -> FastAPI:
    settings = ServiceSettings(
        service_name="bench",
        environment="test",
        database_url=f"sqlite+aiosqlite:///{root / 'bench.db'}",
        migrate_on_start=False,
        log_json=False,
        retention_interval_seconds=0,
    )
    app = create_service_app(settings, title="bench", description="bench", routers=[])
    if not observed:
        left_out: tuple[Any, ...] = (MetricsMiddleware, TracingMiddleware)
        app.user_middleware = [m for m in app.user_middleware if m.cls not in left_out]
    return app


async def per_request(app: FastAPI, requests: int) -> float:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        started = time.perf_counter()
        for _ in range(requests):
            response = await client.get("/healthz")
            assert response.status_code == 200
        return (time.perf_counter() - started) / requests


async def main(requests: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        apps = {"bare": build(root, observed=False), "observed": build(root, observed=True)}
        times: dict[str, list[float]] = {"bare": [], "observed": [], "traced": []}
        async with (
            apps["bare"].router.lifespan_context(apps["bare"]),
            apps["observed"].router.lifespan_context(apps["observed"]),
        ):
            for app in apps.values():  # warm up (middleware stack, route cache, label children)
                await per_request(app, 200)
            provider = TracerProvider()
            for _ in range(rounds):
                times["bare"].append(await per_request(apps["bare"], requests))
                times["observed"].append(await per_request(apps["observed"], requests))
                tracing.install_provider(provider)
                times["traced"].append(await per_request(apps["observed"], requests))
                tracing.install_provider(None)
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, value in medians.items():
        ratio = value / medians["bare"]
        extra = (value - medians["bare"]) * 1e6
        print(f"{name:9s} {value * 1e6:8.1f} µs/request  ×{ratio:.3f}  (+{extra:.1f} µs)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.requests, arguments.rounds))
