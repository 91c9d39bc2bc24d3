"""Production refuses to start with a development key, secret or password.

``ServiceSettings.production_checks()`` lists what makes a configuration unfit for production; each
problem names the setting (as its environment variable) and never shows its value. A service extends it
with its own checks (the gateway: signing key, service clients). :func:`ensure_production_ready`, called
by ``create_service_app`` when the app is built, raises :class:`ProductionConfigError` listing them all
when ``ENVIRONMENT=production``.

A value is a development one when it is:

- kept under ``var/`` (where development makes its keys: ``var/<service>.personal_data_keys.json``,
  ``var/gateway_signing_key.pem``, and ``deploy/local/run.py``'s ``dev_secrets.json`` in any data
  directory there), or a file path under ``var/``;
- marked as one: personal-data key ids ``dev1`` / ``test1`` (what development and tests name their keys),
  secrets starting with ``dev-`` (what ``deploy/local/run.py`` makes, in any data directory);
- a demo password (``Demo@2026``, ``Demo@2026-platform``).

Secrets (service-client secrets, the blind-index lookup key) must also be at least
:data:`MIN_SECRET_LENGTH` characters: a security floor, deliberately not a setting.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from libs.common.settings import ServiceSettings

MIN_SECRET_LENGTH = 32
DEVELOPMENT_KEY_IDS = frozenset({"dev1", "test1"})
DEVELOPMENT_SECRET_PREFIX = "dev-"
#: the demo accounts' password and the demo city platform's client secret (``demo.gateway`` uses them)
DEMO_PASSWORD = "Demo@2026"
DEMO_CLIENT_SECRET = "Demo@2026-platform"
DEMO_SECRETS = frozenset({DEMO_PASSWORD, DEMO_CLIENT_SECRET})


class ProductionConfigError(RuntimeError):
    """The configuration is unfit for production; the message names the settings, never their values."""


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value.strip()
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def development_values(var_dir: Path) -> frozenset[str]:
    """Every key and secret development keeps under ``var_dir``, and the demo passwords."""
    values = set(DEMO_SECRETS)
    if var_dir.is_dir():
        for path in var_dir.glob("*.personal_data_keys.json"):
            values.update(_strings(_read_json(path)))
        for path in var_dir.rglob("dev_secrets.json"):
            values.update(_strings(_read_json(path)))
        for path in var_dir.glob("*.pem"):
            try:
                values.add(path.read_text(encoding="ascii").strip())
            except (OSError, ValueError):
                continue
    values.discard("")
    return frozenset(values)


def is_under(path: str, directory: Path) -> bool:
    return Path(path).expanduser().resolve().is_relative_to(directory.resolve())


def secret_problem(setting: str, value: str, *, known: frozenset[str]) -> str | None:
    """Why a secret setting is unfit for production, or None; never shows the value."""
    if not value:
        return f"{setting} 未配置 (missing)"
    if value.strip() in known or value.startswith(DEVELOPMENT_SECRET_PREFIX):
        return f"{setting} 是开发环境或演示用的值 (a development or demo value)"
    if len(value) < MIN_SECRET_LENGTH:
        return f"{setting} 少于 {MIN_SECRET_LENGTH} 个字符 (shorter than {MIN_SECRET_LENGTH} characters)"
    return None


def ensure_production_ready(settings: ServiceSettings) -> None:
    """In production, refuse a configuration that ``settings.production_checks()`` finds unfit."""
    if not settings.is_production:
        return
    problems = settings.production_checks()
    if problems:
        raise ProductionConfigError(
            f"{settings.service_name}: 拒绝以生产环境启动 (refusing to start in production): "
            + "; ".join(problems)
        )
