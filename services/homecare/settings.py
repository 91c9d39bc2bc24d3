"""Homecare settings (env prefix ``HOMECARE_``); thresholds come from config_defaults.csv."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from libs.common.settings import ServiceSettings


class HomecareSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="HOMECARE_", extra="ignore")
    # asks the gateway for service tokens (the registry's): production requires its client secret
    calls_other_services: ClassVar[bool] = True

    service_name: str = "homecare"

    # config_defaults.csv: homecare.checkin_radius_m (unconfirmed)
    checkin_radius_m: int = 300
    # config_defaults.csv: homecare.max_speed_kmh (unconfirmed)
    max_speed_kmh: float = 120.0
    # config_defaults.csv: homecare.visit_fee_ceiling_yuan (unconfirmed; empty means no ceiling)
    visit_fee_ceiling_yuan: Decimal | None = None
    # config_defaults.csv: homecare.nurse_min_title (confirmed)
    nurse_min_title: str = "护师"
    # config_defaults.csv: home_bed.period_days (unconfirmed)
    home_bed_period_days: int = 90
    # config_defaults.csv: home_bed.round_interval_days (unconfirmed)
    home_bed_round_interval_days: int = 7
    # config_defaults.csv: home_bed.requires_family_doctor_contract (likely)
    home_bed_requires_family_doctor_contract: bool = True
    # config_defaults.csv: demo.satisfaction_min_pct (likely) — the province's satisfaction bar
    satisfaction_min_pct: int = 95

    # Not in config_defaults.csv (our own operational choices):
    # how far a nurse app's clock may run ahead of the server before its timestamps are refused
    client_clock_skew_seconds: int = 300
    # records per city-platform bulk request (issue 7)
    bulk_max_records: int = 1000
    # the longest wanted time window of one order (bounds the nurse booking check)
    order_max_window_hours: int = 12

    # Order events (issue 18, events/): the SSE stream's heartbeat comment — below the gateway's read
    # timeout for each chunk (upstream_timeout_seconds, 10 s), or the gateway cuts an idle stream; the
    # stream's lifetime (the client reconnects with Last-Event-ID, and the token is verified again); how
    # often a stream reads the database for events other workers wrote (this worker's own writes wake it
    # at once); the events one read returns at most.
    events_heartbeat_seconds: float = Field(default=5.0, gt=0)
    events_stream_seconds: float = Field(default=300.0, gt=0)
    events_poll_seconds: float = Field(default=1.0, gt=0)
    events_batch: int = Field(default=200, ge=1, le=1000)

    # Visit record templates (issue 18, catalog/templates.py): true — every new visit record is checked
    # against the template version it names, else the current one; false (the migration period) — only a
    # record naming a template_version or sending template fields is checked (for a city platform's
    # client still sending records without template fields; the nurse app builds its form from them).
    record_template_enforced: bool = True
    # Identity check at check-in (issue 18): how many last characters of the ID number the nurse sends
    # (the residents service compares them; its identity_check_suffix_length must be the same).
    identity_suffix_length: int = Field(default=4, ge=4, le=6)
    # whether a check-in without an identity proof is flagged identity_unchecked
    identity_proof_required: bool = False
    # the length of the code an elder holds (digits), issued by the serving institution
    elder_code_length: int = Field(default=6, ge=6, le=12)

    # Attachments of visit records (issue 18): the S3-compatible object store's URL
    # (MinIO in deploy/compose.yaml: http://minio:9000); empty: none (the filesystem store of `make run`).
    attachments_s3_endpoint_url: str = ""
    # The bucket that holds the attachments (private; made by deploy/compose's minio-init job).
    attachments_s3_bucket: str = "yiyang-attachments"
    # The object store's region (MinIO accepts any; us-east-1 is its default).
    attachments_s3_region: str = "us-east-1"
    # The key pair of the homecare service at the object store (secret), limited to the bucket.
    attachments_s3_access_key_id: str = Field(default="", repr=False)
    # The secret half of that key pair (secret).
    attachments_s3_secret_access_key: str = Field(default="", repr=False)

    # Attachments (issue 18): the filesystem store's directory when no S3 endpoint is set (under var/,
    # git-ignored, for `make run` and tests) and the largest file accepted. A raw PUT and each resumable
    # chunk are also bounded by max_body_json_bytes (1 MiB), a multipart upload by max_body_upload_bytes.
    attachments_dir: str = "var/homecare/attachments"
    attachments_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    # A resumable upload begun this many hours ago and not completed is dropped (its partial bytes and its
    # row) by a periodic pass every retention_interval_seconds (attachments/cleanup.py).
    attachments_upload_abandoned_hours: int = Field(default=24, ge=1)
