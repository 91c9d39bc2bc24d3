"""``/metrics`` (libs/common/metrics.py) on the sample service: Prometheus text that parses, series by
route TEMPLATE (no id, no raw path), problems by code, the pool and change-feed gauges, job metrics."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from sqlalchemy import text

from libs.common.auth import Role
from libs.common.database import Database
from libs.common.jobs import JobPass, Outcome, notify
from libs.common.metrics import MULTIPROCESS_DIR_ENV, UNMATCHED_ROUTE, ServiceMetrics
from libs.common.retention import idempotency_retention_job
from libs.common.testing import Tokens, live_client
from services.indicators.followers.metrics import feed_lag_refresher

NOTE_ROUTE = "/api/v1/sample/notes/{note_id}"


async def scrape(client: httpx.AsyncClient) -> list[Sample]:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return [s for family in text_string_to_metric_families(response.text) for s in family.samples]


def value(samples: list[Sample], name: str, **labels: str) -> float:
    """The sum of the samples called ``name`` whose labels include ``labels`` (0 when none)."""
    return sum(s.value for s in samples if s.name == name and labels.items() <= s.labels.items())


async def test_metrics_parse_as_prometheus_text_and_name_every_family(client: httpx.AsyncClient) -> None:
    response = await client.get("/metrics")
    families = {family.name for family in text_string_to_metric_families(response.text)}
    assert {
        "yiyang_http_requests",
        "yiyang_http_request_duration_seconds",
        "yiyang_http_problems",
        "yiyang_http_requests_in_progress",
        "yiyang_db_pool_size",
        "yiyang_db_pool_checked_out",
        "yiyang_db_pool_max",
        "yiyang_changes_head_seq",
        "yiyang_job_runs",
        "yiyang_job_failures",
        "yiyang_job_last_success_timestamp_seconds",
        "yiyang_job_interval_seconds",
    } <= families


async def test_requests_are_counted_by_route_template_never_by_raw_path(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    headers = tokens.headers(Role.province_admin)
    before = await scrape(client)
    ids = [uuid.uuid4(), uuid.uuid4()]
    for note_id in ids:
        response = await client.get(f"/api/v1/sample/notes/{note_id}", headers=headers)
        assert response.status_code == 404
    after = await scrape(client)

    labels = {"service": "sample", "method": "GET", "route": NOTE_ROUTE}
    counted = value(after, "yiyang_http_requests_total", status="404", **labels)
    assert counted - value(before, "yiyang_http_requests_total", status="404", **labels) == 2
    timed = value(after, "yiyang_http_request_duration_seconds_count", **labels)
    assert timed - value(before, "yiyang_http_request_duration_seconds_count", **labels) == 2
    problems = value(after, "yiyang_http_problems_total", code="note_not_found", status="404", **labels)
    assert problems - value(before, "yiyang_http_problems_total", code="note_not_found", **labels) == 2
    exposition = (await client.get("/metrics")).text
    assert all(str(note_id) not in exposition for note_id in ids)


async def test_a_path_no_route_matches_is_one_series(client: httpx.AsyncClient) -> None:
    secret = "350203199001011234"
    before = await scrape(client)
    response = await client.get(f"/api/v1/sample/nowhere/{secret}")
    assert response.status_code == 404
    after = await scrape(client)
    labels = {"method": "GET", "route": UNMATCHED_ROUTE, "status": "404"}
    assert (
        value(after, "yiyang_http_requests_total", **labels)
        - value(before, "yiyang_http_requests_total", **labels)
        == 1
    )
    assert secret not in (await client.get("/metrics")).text


async def test_validation_errors_and_unknown_methods_are_counted_with_their_code(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    headers = tokens.headers(Role.province_admin)
    before = await scrape(client)
    response = await client.get("/api/v1/sample/notes/not-a-uuid", headers=headers)
    assert response.status_code == 422
    code = response.json()["code"]
    response = await client.request("PROPFIND", "/api/v1/sample/notes", headers=headers)
    assert response.status_code == 405
    after = await scrape(client)
    labels = {"method": "GET", "route": NOTE_ROUTE, "status": "422", "code": code}
    assert (
        value(after, "yiyang_http_problems_total", **labels)
        - value(before, "yiyang_http_problems_total", **labels)
        == 1
    )
    other = {"method": "OTHER", "status": "405"}
    assert (
        value(after, "yiyang_http_requests_total", **other)
        - value(before, "yiyang_http_requests_total", **other)
        == 1
    )


async def test_pool_gauges_describe_the_service_database(
    sample_app: FastAPI, client: httpx.AsyncClient
) -> None:
    samples = await scrape(client)
    database: Database = sample_app.state.database
    settings = database.settings
    size = value(samples, "yiyang_db_pool_size", engine="primary")
    assert size == (1 if settings.is_sqlite else settings.database_pool_size)
    assert value(samples, "yiyang_db_pool_max", engine="primary") >= size
    assert 0 <= value(samples, "yiyang_db_pool_checked_out", engine="primary") <= size + 10


async def test_change_feed_head_is_the_last_committed_seq(sample_app: FastAPI, tokens: Tokens) -> None:
    headers = tokens.headers(Role.province_admin)
    async with live_client(sample_app) as client:
        created = await client.post(
            "/api/v1/sample/notes",
            json={"title": f"metrics-{uuid.uuid4().hex[:12]}", "region_code": "350203"},
            headers=headers,
        )
        assert created.status_code == 201, created.text
        database: Database = sample_app.state.database
        async with database.read_engine.connect() as connection:
            head = await connection.scalar(text("SELECT max(seq) FROM change_record"))
        samples = await scrape(client)
    assert head
    assert value(samples, "yiyang_changes_head_seq", service="sample") == head


async def test_scheduled_jobs_are_declared_with_their_interval(
    sample_app: FastAPI, client: httpx.AsyncClient
) -> None:
    retention = idempotency_retention_job(sample_app.state.settings)
    samples = await scrape(client)
    job = {"service": "sample", "job": retention.name}
    declared = [s for s in samples if s.name == "yiyang_job_interval_seconds" and s.labels == job]
    assert [s.value for s in declared] == [retention.interval_seconds]
    assert [s for s in samples if s.name == "yiyang_job_runs_total" and s.labels == job]


def _turn(service: str, outcome: Outcome, started_at: float, seconds: float) -> JobPass:
    return JobPass(service, "calendar", "test", outcome, None, started_at, seconds)


def test_job_turns_move_runs_failures_and_last_success() -> None:
    metrics = ServiceMetrics("sample")
    metrics.declare_job("calendar", 60)
    metrics.on_job_pass(_turn("sample", "done", 1000.0, 0.5))
    metrics.on_job_pass(_turn("sample", "failed", 1060.0, 0.25))
    metrics.on_job_pass(_turn("sample", "standby", 1120.0, 0.0))
    metrics.on_job_pass(_turn("other", "done", 1180.0, 0.1))  # another app's job
    samples = [s for family in metrics.registry.collect() for s in family.samples]
    job = {"service": "sample", "job": "calendar"}
    assert value(samples, "yiyang_job_runs_total", **job) == 2
    assert value(samples, "yiyang_job_failures_total", **job) == 1
    assert value(samples, "yiyang_job_last_success_timestamp_seconds", **job) == 1000.5
    assert value(samples, "yiyang_job_lease_held", **job) == 0  # its last turn was in standby
    assert value(samples, "yiyang_job_interval_seconds", **job) == 60
    assert value(samples, "yiyang_job_duration_seconds_count", **job) == 2


async def test_a_job_turn_reported_by_the_job_loop_shows_in_the_app_metrics(
    client: httpx.AsyncClient,
) -> None:
    before = await scrape(client)
    job = {"service": "sample", "job": "metrics_probe"}
    notify(
        JobPass(
            service="sample",
            job="metrics_probe",
            holder="test",
            outcome="done",
            count=3,
            started_at=2000.0,
            duration_seconds=0.5,
        )
    )
    after = await scrape(client)
    assert value(after, "yiyang_job_runs_total", **job) - value(before, "yiyang_job_runs_total", **job) == 1
    assert value(after, "yiyang_job_last_success_timestamp_seconds", **job) == 2000.5
    assert value(after, "yiyang_job_lease_held", **job) == 1


# ------------------------------------------------------------ deploy/observability: dashboard and rules
OBSERVABILITY = Path(__file__).resolve().parents[2] / "deploy" / "observability"
_NAME = re.compile(r"\b(yiyang_[a-z0-9_]+|yiyang:[a-z0-9_:]+)")
_MATCHER = re.compile(r"([a-z_]+)\s*(?:=~|!~|!=|=)\s*\"")
_GROUPING = re.compile(r"\b(?:by|on)\s*\(([^)]*)\)")
# labels Prometheus adds to every scraped series
TARGET_LABELS = {"instance", "job"}


def _exported() -> tuple[set[str], set[str]]:
    """Every series name the services export (counters with ``_total``, histograms with their parts) and
    every label they carry: the shared metrics and the indicators' feed gauges."""
    metrics = ServiceMetrics("probe")
    feed_lag_refresher(FastAPI(), metrics)
    names: set[str] = set()
    for family in metrics.registry.collect():  # a labelled family without series is listed too
        suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_count", "_sum"]}.get(family.type, [""])
        names.update(family.name + suffix for suffix in suffixes)
    # prometheus_client lists no label names publicly: its metric objects hold them
    collectors: Any = metrics.registry._collector_to_names
    labels = {"le"} | {label for c in collectors for label in getattr(c, "_labelnames", ())}
    return names, labels


def _rules() -> list[dict[str, Any]]:
    document = yaml.safe_load((OBSERVABILITY / "prometheus-rules.yaml").read_text(encoding="utf-8"))
    return [rule for group in document["groups"] for rule in group["rules"]]


def _dashboard_expressions() -> list[str]:
    dashboard = json.loads((OBSERVABILITY / "grafana-dashboard.json").read_text(encoding="utf-8"))
    expressions = [t["expr"] for panel in dashboard["panels"] for t in panel.get("targets", [])]
    expressions += [v["definition"] for v in dashboard["templating"]["list"] if "definition" in v]
    return expressions


def test_the_dashboard_and_the_rules_use_only_series_the_services_export() -> None:
    exported, labels = _exported()
    rules = _rules()
    recorded = {rule["record"] for rule in rules if "record" in rule}
    expressions = [rule["expr"] for rule in rules] + _dashboard_expressions()
    assert len(expressions) > 20
    used = {name for expression in expressions for name in _NAME.findall(expression)}
    assert {n for n in used if n.startswith("yiyang_")} - exported == set()
    assert {n for n in used if n.startswith("yiyang:")} - recorded == set()
    known_labels = labels | TARGET_LABELS | {"feed"}
    for expression in expressions:
        matched = set(_MATCHER.findall(expression))
        grouped = {label.strip() for group in _GROUPING.findall(expression) for label in group.split(",")}
        assert (matched | grouped) - {""} <= known_labels, expression
    # the dashboard shows each family the issue asks for
    dashboard_names = {name for e in _dashboard_expressions() for name in _NAME.findall(e)}
    for wanted in (
        "yiyang_http_requests_total",
        "yiyang_http_request_duration_seconds_bucket",
        "yiyang_http_problems_total",
        "yiyang_db_pool_checked_out",
        "yiyang_feed_seconds_behind",
        "yiyang:feed_items_behind",
        "yiyang_job_last_success_timestamp_seconds",
        "yiyang_job_failures_total",
    ):
        assert wanted in dashboard_names


def test_every_alert_has_a_severity_a_summary_and_covers_the_issue() -> None:
    alerts = {rule["alert"]: rule for rule in _rules() if "alert" in rule}
    for name, rule in alerts.items():
        assert rule["labels"]["severity"] in {"page", "warning"}, name
        assert rule["annotations"]["summary"], name
        assert rule["annotations"]["description"], name
    assert {
        "YiyangHighErrorRatio",
        "YiyangHighLatencyP99",
        "YiyangFeedLagging",
        "YiyangJobNotSucceeding",
        "YiyangDbPoolExhausted",
    } <= set(alerts)


# --------------------------------------------------------------- several uvicorn workers (multiprocess)
_WORKER = """
import asyncio, sys
from libs.common.metrics import ServiceMetrics
metrics = ServiceMetrics("sample")
for _ in range(int(sys.argv[1])):
    metrics.observe_request("GET", "/api/v1/sample/notes/{note_id}", 200, 0.01)
metrics.in_progress_child.inc()
metrics.observe_job("calendar", outcome="done", seconds=0.1, finished_at=float(sys.argv[2]))
metrics.declare_job("calendar", 60)
metrics.changes_head.labels("sample").set(int(sys.argv[1]))
for gauge in (metrics.pool_size, metrics.pool_checked_out, metrics.pool_overflow, metrics.pool_max):
    gauge.labels("sample", "primary").set(5)
if sys.argv[3] == "stop":
    metrics.process_stopped()
else:
    sys.stdout.write(asyncio.run(metrics.render()).decode())
"""


def test_workers_sharing_a_multiprocess_directory_answer_for_all_of_them(tmp_path: Path) -> None:
    """Two worker processes (``PROMETHEUS_MULTIPROC_DIR`` set): the second's /metrics sums both workers'
    requests, keeps the latest job success, and leaves out the first's live gauges once it stopped."""
    environment = {**os.environ, MULTIPROCESS_DIR_ENV: str(tmp_path)}
    root = Path(__file__).resolve().parents[2]

    def worker(*arguments: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", _WORKER, *arguments],
            env=environment,
            cwd=root,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return done.stdout

    worker("3", "1000", "stop")
    exposition = worker("2", "900", "render")
    samples = [s for family in text_string_to_metric_families(exposition) for s in family.samples]
    labels = {"service": "sample", "route": NOTE_ROUTE, "status": "200"}
    assert value(samples, "yiyang_http_requests_total", **labels) == 5
    assert value(samples, "yiyang_http_request_duration_seconds_count", route=NOTE_ROUTE) == 5
    assert value(samples, "yiyang_http_requests_in_progress", service="sample") == 1  # the stopped one left
    assert value(samples, "yiyang_job_last_success_timestamp_seconds", job="calendar") == 1000
    assert value(samples, "yiyang_job_runs_total", job="calendar") == 2
    assert value(samples, "yiyang_db_pool_size", engine="primary") == 5  # the live worker's pool only
    assert value(samples, "yiyang_changes_head_seq", service="sample") == 3  # the largest
    # no gauge is left in the default mode, which would add a ``pid`` label per worker
    assert all("pid" not in s.labels for s in samples)


# ------------------------------------------------------------------ promtool: the rules parse and fire
PROMTOOL = Path(__file__).resolve().parents[2] / "var" / "tools" / "prometheus" / "usr" / "bin" / "promtool"


def _promtool(*arguments: str | Path) -> subprocess.CompletedProcess[str]:
    if not PROMTOOL.is_file():
        message = f"promtool not found at {PROMTOOL}: run `make observability-tools`"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return subprocess.run(
        [str(PROMTOOL), *map(str, arguments)], capture_output=True, text=True, timeout=120, check=False
    )


def test_promtool_accepts_the_rules_and_the_dashboard_expressions(tmp_path: Path) -> None:
    checked = _promtool("check", "rules", OBSERVABILITY / "prometheus-rules.yaml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # the dashboard panels' queries, as recording rules (Grafana's $__rate_interval and $service filled
    # in; the variable's label_values() is Grafana's, not PromQL)
    expressions = [
        e.replace("$__rate_interval", "5m").replace("$service", ".*")
        for e in _dashboard_expressions()
        if not e.startswith("label_values(")
    ]
    rules = [{"record": f"dashboard:query_{i}", "expr": e} for i, e in enumerate(expressions)]
    wrapped = tmp_path / "dashboard-rules.yaml"
    wrapped.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}), encoding="utf-8")
    checked = _promtool("check", "rules", wrapped)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_alerts_fire_on_series_shaped_like_the_services_ones() -> None:
    """deploy/observability/prometheus-rules.test.yaml: error ratio, entries behind, a job not
    succeeding or run twice, an exhausted pool — and no alert where none is due."""
    tested = _promtool("test", "rules", OBSERVABILITY / "prometheus-rules.test.yaml")
    assert tested.returncode == 0, tested.stdout + tested.stderr
