"""The configuration reference of docs/OPERATIONS.md, generated from the services' settings classes.

Every setting is an environment variable ``<PREFIX><FIELD>`` (``REGISTRY_DATABASE_URL``); the table lists
each one with its default, the value production wants and what it does — the comment written above the
field in its settings class, so the reference cannot drift from the code. ``tests/deploy/
test_settings_reference.py`` fails when docs/OPERATIONS.md is stale.

    .venv/bin/python deploy/settings_reference.py --write   # rewrite the section in docs/OPERATIONS.md
"""

from __future__ import annotations

import ast
import inspect
import json
import sys
import textwrap
from pathlib import Path
from typing import Any, Final

from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

REPO: Final = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(REPO))

from libs.common.settings import ServiceSettings  # noqa: E402
from services.contracts.settings import ContractsSettings  # noqa: E402
from services.gateway.settings import GatewaySettings  # noqa: E402
from services.homecare.settings import HomecareSettings  # noqa: E402
from services.indicators.settings import IndicatorsSettings  # noqa: E402
from services.registry.settings import RegistrySettings  # noqa: E402
from services.residents.settings import ResidentsSettings  # noqa: E402

DOC: Final = REPO / "docs" / "OPERATIONS.md"
BEGIN: Final = "<!-- settings-reference:begin (deploy/settings_reference.py --write) -->"
END: Final = "<!-- settings-reference:end -->"

SERVICES: Final[tuple[type[ServiceSettings], ...]] = (
    GatewaySettings,
    RegistrySettings,
    ContractsSettings,
    HomecareSettings,
    IndicatorsSettings,
    ResidentsSettings,
)

#: what production sets where it differs from the default (by field name, any service); "secret" means
#: a value from the deployment's secret store (Kubernetes Secret, compose secret file), never committed
PRODUCTION: Final[dict[str, str]] = {
    "environment": "`production` (turns on the start-up checks of libs/common/production.py)",
    "database_url": "secret: `postgresql+asyncpg://…` of the service's own database (CNPG `<cluster>-app`)",
    "migrate_on_start": "`false` (the default in production: migrations run as a Job before a rollout)",
    "log_json": "`true`",
    "gateway_url": "the gateway's in-cluster address, e.g. `http://gateway:8000`",
    "service_client_secret": "secret (one per calling service; the gateway's `service_clients` holds it)",
    "personal_data_keys": (
        "secret: JSON `{key id: key}`; add a key to rotate, keep old ones until re-encrypted"
    ),
    "personal_data_primary_key_id": "the newest key id (see Key rotation)",
    "personal_data_lookup_key": "secret (never rotated without a re-index: it makes the blind indexes)",
    "cors_origins": 'the console\'s origin only, e.g. `["https://yiyang.example.gov.cn"]`',
    "signing_key_pem": "secret (or `signing_key_file` pointing at a mounted secret)",
    "signing_key_file": "the mounted secret's path, e.g. `/run/secrets/signing-key.pem`",
    "extra_public_jwks": "the previous signing key's public JWK during a rotation, else empty",
    "service_clients": "secret: JSON `{client id: secret}` of the five calling services",
    "registry_url": "`http://registry:8001`",
    "contracts_url": "`http://contracts:8002`",
    "homecare_url": "`http://homecare:8003`",
    "indicators_url": "`http://indicators:8004`",
    "residents_url": "`http://residents:8005`",
    "trusted_proxy_count": "the number of proxies in front of the gateway (ingress: usually `1`)",
    "session_cookie_secure": "`true` (HTTPS only)",
    "console_dir": "empty when the console is served by its own image (nginx)",
    "otlp_traces_endpoint": "the collector's traces URL (`http://<collector>:4318/v1/traces`), or empty",
    "trace_sample_ratio": "`0.1`–`1.0` by traffic (every trace is kept by default)",
}

#: what a setting does where its settings class has no comment of its own above it
DESCRIPTIONS: Final[dict[str, str]] = {
    "environment": "`development`, `test` or `production`; production refuses development keys and secrets.",
    "database_url": "SQLAlchemy async URL; empty: a SQLite file under var/ named after the service.",
    "database_pool_size": "Connections the service keeps open to its database (per worker process).",
    "log_level": "Python logging level.",
    "log_json": "One JSON object per log line (request id, route, status; never personal data).",
    "gateway_url": "Where a service asks the gateway for service tokens (and its JWKS, by default).",
    "jwks_url": "The gateway's public keys; empty: `<gateway_url>/.well-known/jwks.json`.",
    "jwks_cache_seconds": "How long a service keeps the gateway's public keys before asking again.",
    "jwt_issuer": "The `iss` every token must carry.",
    "jwt_audience": "The `aud` of user tokens.",
    "cors_origins": "Browser origins allowed to call the APIs directly (the console is same-origin).",
    "upstream_timeout_seconds": "Timeout of a call to another service (registry lookups, feeds).",
    "access_token_ttl_seconds": "Lifetime of a user's access token.",
    "refresh_token_ttl_seconds": "Lifetime of a refresh token (rotated on every use).",
    "client_token_ttl_seconds": "Lifetime of a city platform's client-credentials token.",
    "service_token_ttl_seconds": "Lifetime of a service-to-service token.",
    "registry_url": "Where the gateway routes `/api/v1/registry/*`.",
    "contracts_url": "Where the gateway routes `/api/v1/contracts/*`.",
    "homecare_url": "Where the gateway routes `/api/v1/homecare/*`.",
    "indicators_url": "Where the gateway routes `/api/v1/indicators/*`.",
    "residents_url": "Where the gateway routes `/api/v1/residents/*`.",
    "openapi_cache_seconds": "How long the merged OpenAPI document is cached.",
    "openapi_fetch_timeout_seconds": "Timeout of fetching one service's OpenAPI document for the merge.",
    "proxy_max_connections": "Connections the gateway's proxy keeps to each service.",
    "nearby_max_radius_km": "Largest radius the directory's nearby search accepts.",
    "password_min_length": "Shortest password an account may be given.",
}

GROUPED: Final = "(with the setting above)"


def _comments(settings: type[ServiceSettings]) -> dict[str, str]:
    """The comment lines written right above each field of the class body (not inherited ones)."""
    source = textwrap.dedent(inspect.getsource(settings))
    lines = source.splitlines()
    found: dict[str, str] = {}
    previous: str | None = None
    tree = ast.parse(source)
    body = tree.body[0]
    assert isinstance(body, ast.ClassDef)
    for node in body.body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue
        above: list[str] = []
        row = node.lineno - 2
        while row >= 0 and lines[row].strip().startswith("#"):
            above.insert(0, lines[row].strip().lstrip("#").strip())
            row -= 1
        if above:
            found[node.target.id] = " ".join(above)
        elif previous is not None and row >= 0 and lines[row].strip() and previous in found:
            found[node.target.id] = GROUPED  # a group under one comment
        previous = node.target.id
    return found


def _default(info: FieldInfo) -> str:
    if info.repr is False:
        return "(secret; none)"
    if info.default_factory is not None:
        value: Any = info.default_factory()  # type: ignore[call-arg]
    elif info.default is PydanticUndefined:
        return "(required)"
    else:
        value = info.default
    if isinstance(value, Path):
        value = value.relative_to(REPO) if value.is_relative_to(REPO) else value
    if isinstance(value, str):
        return f"`{value}`" if value else "(empty)"
    if isinstance(value, (dict, list)):
        return f"`{json.dumps(value, ensure_ascii=False)}`" if value else "(empty)"
    return f"`{value}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(prefix: str, settings: type[ServiceSettings], fields: list[str]) -> list[str]:
    comments: dict[str, str] = {}
    for cls in reversed(settings.__mro__):
        if isinstance(cls, type) and issubclass(cls, ServiceSettings):
            comments.update({k: v for k, v in _comments(cls).items() if v})
    rows = ["| Variable | Default | Production | What it does |", "|---|---|---|---|"]
    for name in fields:
        info = settings.model_fields[name]
        what = comments.get(name, "")
        if name in DESCRIPTIONS and what in ("", GROUPED):
            what = DESCRIPTIONS[name]
        production = PRODUCTION.get(name, "default")
        rows.append(
            f"| `{prefix}{name.upper()}` | {_cell(_default(info))} | {_cell(production)} | {_cell(what)} |"
        )
    return rows


def render() -> str:
    shared = list(ServiceSettings.model_fields)
    out = [
        BEGIN,
        "",
        "### Every service",
        "",
        "`<PREFIX>` is the service's: "
        + ", ".join(f"`{s.model_config.get('env_prefix')}`" for s in SERVICES)
        + " (`service_name` and the defaults derived from it are the service's own).",
        "",
        *_table("<PREFIX>", ServiceSettings, [f for f in shared if f != "service_name"]),
    ]
    for settings in SERVICES:
        prefix = str(settings.model_config.get("env_prefix") or "")
        own = [f for f in settings.model_fields if f not in shared]
        if not own:
            continue
        out += ["", f"### {settings.__name__.removesuffix('Settings')} (`{prefix}`)", ""]
        out += _table(prefix, settings, own)
    out += ["", END]
    return "\n".join(out)


def updated(document: str) -> str:
    """``document`` with its generated section replaced by :func:`render`'s."""
    start, end = document.index(BEGIN), document.index(END) + len(END)
    return document[:start] + render() + document[end:]


def main(argv: list[str]) -> int:
    if "--write" in argv:
        DOC.write_text(updated(DOC.read_text("utf-8")), "utf-8")
        return 0
    print(render())  # noqa: T201
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
