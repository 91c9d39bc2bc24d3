"""deploy/compose.yaml: valid against the compose-spec schema (vendored in deploy/schemas/compose/), every
variable it gives a service is one that service reads, migrations run as one-shot jobs the services wait
for, secrets come from files that deploy/compose/make-secrets.sh makes and the production checks accept,
and PostgreSQL's init script gives each service its own role and database. No container engine runs here:
these checks read the files, and run the scripts they name outside a container."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from libs.common.settings import ServiceSettings
from libs.common.testing import DEFAULT_POSTGRES_URL
from services.contracts.settings import ContractsSettings
from services.gateway.settings import GatewaySettings
from services.homecare.settings import HomecareSettings
from services.indicators.settings import IndicatorsSettings
from services.registry.settings import RegistrySettings
from services.residents.settings import ResidentsSettings
from tests.deploy.container_files import (
    REPO,
    SECRETS_MOUNT,
    compose,
    dockerfile,
    environment,
    image_command,
    local_services,
    outside,
    run_image_command,
)

SCHEMA = REPO / "deploy" / "schemas" / "compose" / "compose-spec.json"
MAKE_SECRETS = REPO / "deploy" / "compose" / "make-secrets.sh"
INIT_SQL = REPO / "deploy" / "compose" / "postgres-init" / "10-service-databases.sql"
SETTINGS: dict[str, type[ServiceSettings]] = {
    "gateway": GatewaySettings,
    "registry": RegistrySettings,
    "contracts": ContractsSettings,
    "homecare": HomecareSettings,
    "indicators": IndicatorsSettings,
    "residents": ResidentsSettings,
}


def _services() -> dict[str, dict[str, Any]]:
    services = compose()["services"]
    assert isinstance(services, dict)
    return services


def make_secrets(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(MAKE_SECRETS), str(directory)], capture_output=True, text=True, timeout=60, check=False
    )


@pytest.fixture(scope="module")
def secrets_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("compose") / "secrets"
    result = make_secrets(directory)
    assert result.returncode == 0, result.stderr
    return directory


def test_the_compose_file_is_valid_against_the_compose_spec_schema() -> None:
    schema = json.loads(SCHEMA.read_text("utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(compose()), key=str)
    assert errors == [], [f"{list(e.absolute_path)}: {e.message}" for e in errors]


def test_the_vendored_schema_names_its_source_and_licence() -> None:
    source = (SCHEMA.parent / "SOURCE.md").read_text("utf-8")
    assert "https://github.com/compose-spec/compose-spec" in source
    assert "Apache License" in (SCHEMA.parent / "LICENSE").read_text("utf-8")


def test_the_schema_check_catches_a_misspelt_key() -> None:
    schema = json.loads(SCHEMA.read_text("utf-8"))
    broken = compose()
    broken["services"]["registry"]["depends_om"] = broken["services"]["registry"].pop("depends_on")
    assert list(jsonschema.Draft7Validator(schema).iter_errors(broken)) != []


def _allowed_names(service: str) -> set[str]:
    settings = SETTINGS[service]
    prefix = str(settings.model_config.get("env_prefix"))
    fields = {prefix + name.upper() for name in settings.model_fields}
    return fields | {name + "_FILE" for name in fields} | set(dockerfile().env(service))


def test_every_variable_a_service_gets_is_one_it_reads() -> None:
    """A setting of the service (its prefix), a ``<setting>_FILE`` the entrypoint reads, or a variable the
    image declares (ENV in the Dockerfile: WEB_CONCURRENCY, …); the console's are its image's."""
    services = _services()
    for name in local_services():
        for job in (name, f"{name}-migrate"):
            unknown = set(environment(services[job])) - _allowed_names(name)
            assert unknown == set(), f"{job}: {sorted(unknown)}"
    console = set(environment(services["console"])) - set(dockerfile().env("console"))
    assert console == set()


def test_a_misspelt_setting_would_be_caught() -> None:
    assert "REGISTRY_MIGRATE_ON_STRAT" not in _allowed_names("registry")
    assert "REGISTRY_DATABASE_URL_FILE" in _allowed_names("registry")
    assert "HOMECARE_ATTACHMENTS_S3_SECRET_ACCESS_KEY_FILE" in _allowed_names("homecare")
    assert "GATEWAY_SIGNING_KEY_FILE" in _allowed_names("gateway")


def test_each_service_waits_for_its_migration_job_and_never_migrates_itself() -> None:
    services = _services()
    image = dockerfile()
    assert {n for n, s in services.items() if str(s.get("image", "")).startswith("yiyang/")} == {
        *local_services(),
        *(f"{n}-migrate" for n in local_services()),
        "console",
    }
    for name in local_services():
        prefix = name.upper() + "_"
        service, job = services[name], services[f"{name}-migrate"]
        env, job_env = environment(service), environment(job)
        assert env[prefix + "MIGRATE_ON_START"] == "false"
        assert env[prefix + "ENVIRONMENT"] == job_env[prefix + "ENVIRONMENT"] == "production"
        assert service["depends_on"][f"{name}-migrate"] == {"condition": "service_completed_successfully"}
        assert job["depends_on"]["postgres"] == {"condition": "service_healthy"}
        assert job["restart"] == "no"
        assert job["image"] == service["image"] == f"yiyang/{name}:${{YIYANG_TAG:-latest}}"
        assert job["build"] == service["build"] == {"context": "..", "target": name}
        assert name in image.names()
        # the job runs the image's migrate command on the service's own database
        assert image_command(name, job)[-1] == "migrate"
        assert image_command(name, service)[-1] == "serve"
        assert job_env[prefix + "DATABASE_URL_FILE"] == env[prefix + "DATABASE_URL_FILE"]
        assert f"{SECRETS_MOUNT}/{name}_database_url" == env[prefix + "DATABASE_URL_FILE"]


def test_services_reach_each_other_at_their_images_ports() -> None:
    services = _services()
    image = dockerfile()
    port = {name: image.env(name)["PORT"] for name in local_services()}
    gateway = environment(services["gateway"])
    for name in local_services():
        if name == "gateway":
            continue
        assert gateway[f"GATEWAY_{name.upper()}_URL"] == f"http://{name}:{port[name]}"
        assert (
            environment(services[name])[f"{name.upper()}_GATEWAY_URL"] == f"http://gateway:{port['gateway']}"
        )
    assert environment(services["console"])["GATEWAY_UPSTREAM"] == f"http://gateway:{port['gateway']}"
    # only the gateway is on the console's network; the stores are on the internal one only
    networks = compose()["networks"]
    assert networks["backend"] == {"internal": True}
    for name, service in services.items():
        expected = {"gateway": ["backend", "frontend"], "console": ["frontend"]}.get(name, ["backend"])
        assert service["networks"] == expected, name
    assert list(services["console"]["ports"]) == ["${CONSOLE_PORT:-8080}:8080"]


def test_the_consoles_origin_is_configurable() -> None:
    gateway = _services()["gateway"]
    default = environment(gateway)["GATEWAY_CORS_ORIGINS"]
    assert json.loads(default) == ["http://localhost:8080"]
    chosen = environment(gateway, {"CONSOLE_ORIGIN": "https://yiyang.fujian.gov.cn"})["GATEWAY_CORS_ORIGINS"]
    assert GatewaySettings(cors_origins=json.loads(chosen)).cors_origins == ["https://yiyang.fujian.gov.cn"]


def _secret_mounts(service: dict[str, Any]) -> dict[str, str]:
    """A service's secrets: mount name (under /run/secrets) → top-level secret."""
    mounts = {}
    for item in service.get("secrets", []):
        if isinstance(item, str):
            mounts[item] = item
        else:
            mounts[item.get("target", item["source"])] = item["source"]
    return mounts


def test_every_file_variable_names_a_secret_the_service_mounts(secrets_dir: Path) -> None:
    data = compose()
    declared = data["secrets"]
    used: set[str] = set()
    for name, service in data["services"].items():
        mounts = _secret_mounts(service)
        used |= set(mounts.values())
        assert set(mounts.values()) <= set(declared), name
        for variable, value in environment(service).items():
            if variable.endswith("_FILE") and value.startswith(SECRETS_MOUNT):
                assert value.removeprefix(SECRETS_MOUNT + "/") in mounts, f"{name}: {variable}"
    assert used == set(declared), "a secret is declared and never used"
    # every secret file is one make-secrets.sh makes, and it makes no other
    files = {Path(secret["file"]).name for secret in declared.values()}
    assert all(secret["file"].startswith("./compose/secrets/") for secret in declared.values())
    assert files == {p.name for p in secrets_dir.iterdir()}


@pytest.mark.parametrize(
    "service", ["gateway", "registry", "contracts", "homecare", "indicators", "residents"]
)
def test_the_generated_secrets_pass_the_production_checks(service: str, secrets_dir: Path) -> None:
    """The service's compose environment with make-secrets.sh's files, read through the entrypoint as in
    the container: the settings it builds are fit for production (libs/common/production.py)."""
    settings = SETTINGS[service].__name__
    code = (
        f"import json; from services.{service}.settings import {settings}; "
        f"s = {settings}(); print(json.dumps([s.production_checks(), s.is_production, "
        "len(s.personal_data_keys), s.database_url.split('@')[-1]]))"
    )
    env = outside(environment(_services()[service]), secrets_dir)
    result = run_image_command(service, ["python", "-c", code], env)
    assert result.returncode == 0, result.stderr
    problems, production, keys, where = json.loads(result.stdout)
    assert problems == []
    assert production is True
    assert keys == 1
    assert where == f"postgres:5432/{service}"
    assert "BEGIN" not in result.stdout + result.stderr  # no secret is echoed


def test_the_gateway_knows_each_calling_services_client_secret(secrets_dir: Path) -> None:
    clients = json.loads((secrets_dir / "gateway_service_clients").read_text())
    audiences = GatewaySettings().service_client_audiences
    assert set(clients) == set(audiences)
    for name, secret in clients.items():
        assert (secrets_dir / f"{name}_service_client_secret").read_text().strip() == secret


def test_make_secrets_never_overwrites_an_install(secrets_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "secrets"
    shutil.copytree(secrets_dir, copy)
    before = {p.name: p.read_bytes() for p in copy.iterdir()}
    result = make_secrets(copy)
    assert result.returncode == 1
    assert "refusing to overwrite" in result.stderr
    assert {p.name: p.read_bytes() for p in copy.iterdir()} == before


def test_the_postgres_init_script_makes_a_role_and_database_per_service() -> None:
    sql = INIT_SQL.read_text("utf-8")
    postgres = _services()["postgres"]
    assert "./compose/postgres-init:/docker-entrypoint-initdb.d:ro" in postgres["volumes"]
    mounts = _secret_mounts(postgres)
    for name in local_services():
        assert f"CREATE ROLE {name} LOGIN PASSWORD :'password';" in sql
        assert f"CREATE DATABASE {name} OWNER {name}" in sql
        assert f"REVOKE ALL ON DATABASE {name} FROM PUBLIC;" in sql
        assert f"{SECRETS_MOUNT}/{name}_database_url" in sql
        assert f"{name}_database_url" in mounts


@pytest.mark.postgres_only
async def test_the_postgres_init_script_runs_and_each_role_can_migrate_its_database(
    secrets_dir: Path, tmp_path: Path
) -> None:
    """The init script run by psql (as the postgres image does) against the test server, its role and
    database names made unique for the run; then each role migrates its own database and cannot connect to
    another's. The passwords come out of the URLs as the container's script takes them."""
    if shutil.which("psql") is None:
        pytest.fail("psql (Debian's postgresql-client) is needed to run the init script")
    server = make_url(os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    run_id = f"k1{uuid.uuid4().hex[:8]}"
    sql = INIT_SQL.read_text("utf-8").replace(SECRETS_MOUNT + "/", f"{secrets_dir}/")
    names = {name: f"{run_id}_{name}" for name in local_services()}
    for name, unique in names.items():
        sql = re.sub(rf"\b{name}\b(?!_database_url)", unique, sql)
    script = tmp_path / "init.sql"
    script.write_text(sql)
    psql = [
        "psql",
        "-v",
        "ON_ERROR_STOP=1",
        "--no-psqlrc",
        "-h",
        str(server.host),
        "-p",
        str(server.port or 5432),
    ]
    psql += ["-U", str(server.username), "-d", str(server.database)]
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
    try:
        result = await asyncio.to_thread(
            subprocess.run, [*psql, "-f", str(script)], capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
        for name, unique in names.items():
            password = make_url((secrets_dir / f"{name}_database_url").read_text().strip()).password
            own = server.set(username=unique, password=password, database=unique)
            env = {f"{name.upper()}_DATABASE_URL": own.render_as_string(hide_password=False)}
            migrated = await asyncio.to_thread(run_image_command, name, ["migrate"], env)
            assert migrated.returncode == 0, migrated.stderr[-2000:]
            async with admin.connect() as connection:
                owner = await connection.scalar(
                    text("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = :d"), {"d": unique}
                )
                public = await connection.scalar(
                    text("SELECT has_database_privilege('public', :d, 'CONNECT')"), {"d": unique}
                )
            assert owner == unique
            assert public is False
        # a role reaches its own database only
        other = server.set(username=names["registry"], database=names["gateway"])
        stranger = create_async_engine(other)
        try:
            with pytest.raises(Exception, match="permission denied"):
                async with stranger.connect():
                    pass
        finally:
            await stranger.dispose()
    finally:
        async with admin.connect() as connection:
            for unique in names.values():
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{unique}" WITH (FORCE)'))
                await connection.execute(text(f'DROP ROLE IF EXISTS "{unique}"'))
        await admin.dispose()


def test_third_party_images_are_pinned_to_a_release() -> None:
    for name, service in _services().items():
        image = str(service["image"])
        if image.startswith("yiyang/"):
            continue  # ours: the tag is the release being deployed (YIYANG_TAG)
        _, _, tag = image.rpartition(":")
        assert tag != "latest", f"{name}: {image}"
        assert re.search(r"\d+[.-]\d+", tag), f"{name}: {image}"
