"""Production refuses to start with a development key, secret or password (issue 11): every service's
app creation refuses, naming the setting and never showing its value; a proper configuration starts;
the demo seeds refuse production. (The gateway's own checks: tests/gateway/test_production_checks.py.)"""

from __future__ import annotations

import importlib.util
import json
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from demo.contracts import seed as seed_contracts
from demo.gateway import seed as seed_gateway
from demo.homecare import seed as seed_homecare
from demo.registry import seed as seed_registry
from libs.common.keys import personal_data_cipher
from libs.common.personal_data import generate_key
from libs.common.production import ProductionConfigError
from libs.common.settings import VAR_DIR, ServiceSettings
from libs.common.testing import TestDatabases, make_settings, running
from services.contracts.app import create_app as create_contracts_app
from services.contracts.settings import ContractsSettings
from services.gateway.settings import GatewaySettings
from services.homecare.app import create_app as create_homecare_app
from services.homecare.settings import HomecareSettings
from services.indicators.app import create_app as create_indicators_app
from services.indicators.settings import IndicatorsSettings
from services.registry.app import create_app as create_registry_app
from services.registry.settings import RegistrySettings
from services.residents.app import create_app as create_residents_app
from services.residents.settings import ResidentsSettings

AppFactory = Callable[[Any], FastAPI]
SERVICES: list[tuple[type[ServiceSettings], AppFactory]] = [
    (RegistrySettings, create_registry_app),
    (ContractsSettings, create_contracts_app),
    (HomecareSettings, create_homecare_app),
    (IndicatorsSettings, create_indicators_app),
    (ResidentsSettings, create_residents_app),
]
IDS = ["registry", "contracts", "homecare", "indicators", "residents"]
#: the services that ask the gateway for service tokens (and so need a service-client secret)
CALLERS = SERVICES[1:]
CALLER_IDS = IDS[1:]
STRONG_SECRET = "s3cr3t-" + "x" * 40
REPO = Path(__file__).resolve().parents[2]


def run_py_dev_secrets(data_dir: Path) -> dict[str, dict[str, str]]:
    """What deploy/local/run.py writes into a data directory (its own code, loaded from the file)."""
    spec = importlib.util.spec_from_file_location("local_run", REPO / "deploy/local/run.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    made: dict[str, dict[str, str]] = module._secrets(data_dir)
    return made


def _production(settings_type: type[ServiceSettings], databases: TestDatabases, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "environment": "production",
        "personal_data_keys": {"2026a": generate_key()},
        "personal_data_primary_key_id": "2026a",
        "personal_data_lookup_key": generate_key(),
        "service_client_secret": STRONG_SECRET,
        **overrides,
    }
    return make_settings(settings_type, databases, **values)


def _refusal(factory: AppFactory, settings: ServiceSettings) -> str:
    with pytest.raises(ProductionConfigError) as refused:
        factory(settings)
    return str(refused.value)


@pytest.fixture
def dev_data_dir() -> Iterator[Any]:
    """A data directory under var/ made by deploy/local/run.py (as ``make run --data-dir`` would)."""
    path = VAR_DIR / f"prodcheck-{uuid.uuid4().hex[:8]}"
    path.mkdir(parents=True)
    try:
        yield path
    finally:
        shutil.rmtree(path)


@pytest.mark.parametrize(("settings_type", "factory"), SERVICES, ids=IDS)
async def test_a_proper_production_configuration_starts(
    settings_type: type[ServiceSettings], factory: AppFactory, test_databases: TestDatabases
) -> None:
    app = factory(_production(settings_type, test_databases))
    async with running(app):
        assert app.state.cipher is not None


@pytest.mark.parametrize(("settings_type", "factory"), SERVICES, ids=IDS)
def test_missing_personal_data_keys_are_refused(
    settings_type: type[ServiceSettings], factory: AppFactory, test_databases: TestDatabases
) -> None:
    settings = _production(settings_type, test_databases, personal_data_keys={}, personal_data_lookup_key="")
    message = _refusal(factory, settings)
    prefix = settings.env_name("")
    assert f"{prefix}PERSONAL_DATA_KEYS" in message
    assert f"{prefix}PERSONAL_DATA_LOOKUP_KEY" in message


@pytest.mark.parametrize(("settings_type", "factory"), SERVICES, ids=IDS)
def test_development_personal_data_keys_are_refused(
    settings_type: type[ServiceSettings], factory: AppFactory, test_databases: TestDatabases
) -> None:
    """The keys development makes under var/ (libs/common/keys.py), even under another key id, and any
    key named like development's (``dev1``, as deploy/local/run.py names them in any data directory)."""
    dev_service = f"prodcheck-{uuid.uuid4().hex[:8]}"
    dev_settings = make_settings(settings_type, test_databases, environment="development")
    dev_settings.service_name = dev_service
    personal_data_cipher(dev_settings)  # writes var/<service>.personal_data_keys.json, as development does
    dev_file = VAR_DIR / f"{dev_service}.personal_data_keys.json"
    try:
        stored = json.loads(dev_file.read_text())
        dev_key = stored["keys"]["dev1"]
        from_var = _production(
            settings_type,
            test_databases,
            personal_data_keys={"2026a": dev_key},
            personal_data_lookup_key=stored["lookup"],
        )
        message = _refusal(factory, from_var)
        prefix = from_var.env_name("")
        assert f"{prefix}PERSONAL_DATA_KEYS" in message
        assert f"{prefix}PERSONAL_DATA_LOOKUP_KEY" in message
        assert dev_key not in message
        assert stored["lookup"] not in message
    finally:
        dev_file.unlink()

    named_dev = _production(
        settings_type,
        test_databases,
        personal_data_keys={"dev1": generate_key()},
        personal_data_primary_key_id="dev1",
    )
    assert f"{named_dev.env_name('personal_data_keys')}" in _refusal(factory, named_dev)


@pytest.mark.parametrize(("settings_type", "factory"), SERVICES, ids=IDS)
def test_a_short_lookup_key_is_refused(
    settings_type: type[ServiceSettings], factory: AppFactory, test_databases: TestDatabases
) -> None:
    settings = _production(settings_type, test_databases, personal_data_lookup_key="k" * 31)
    message = _refusal(factory, settings)
    assert settings.env_name("personal_data_lookup_key") in message
    assert "k" * 31 not in message


@pytest.mark.parametrize(("settings_type", "factory"), CALLERS, ids=CALLER_IDS)
@pytest.mark.parametrize(
    "secret",
    ["", "a" * 31, "dev-" + "a" * 40, "Demo@2026", "Demo@2026-platform"],
    ids=["empty", "31-chars", "dev-marked", "demo-password", "demo-platform-secret"],
)
def test_a_weak_or_development_service_client_secret_is_refused(
    settings_type: type[ServiceSettings], factory: AppFactory, secret: str, test_databases: TestDatabases
) -> None:
    settings = _production(settings_type, test_databases, service_client_secret=secret)
    message = _refusal(factory, settings)
    assert settings.env_name("service_client_secret") in message
    if secret:
        assert secret not in message


@pytest.mark.parametrize(("settings_type", "factory"), CALLERS, ids=CALLER_IDS)
def test_the_service_client_secret_run_py_made_under_var_is_refused(
    settings_type: type[ServiceSettings],
    factory: AppFactory,
    test_databases: TestDatabases,
    dev_data_dir: Any,
) -> None:
    made = run_py_dev_secrets(dev_data_dir)
    name = settings_type.model_fields["service_name"].default
    unmarked = made[name]["client_secret"].removeprefix("dev-").ljust(32, "x")
    # an older dev_secrets.json held unmarked secrets: found by its place under var/
    stored = json.loads((dev_data_dir / "dev_secrets.json").read_text())
    stored[name]["client_secret"] = unmarked
    (dev_data_dir / "dev_secrets.json").write_text(json.dumps(stored))
    for secret in (made[name]["client_secret"], unmarked):
        settings = _production(settings_type, test_databases, service_client_secret=secret)
        message = _refusal(factory, settings)
        assert settings.env_name("service_client_secret") in message
        assert secret not in message


@pytest.mark.parametrize(("settings_type", "factory"), CALLERS, ids=CALLER_IDS)
def test_a_32_character_service_client_secret_is_enough(
    settings_type: type[ServiceSettings], factory: AppFactory, test_databases: TestDatabases
) -> None:
    factory(_production(settings_type, test_databases, service_client_secret="Zq9" + "w" * 29))


def test_the_registry_needs_no_service_client_secret(test_databases: TestDatabases) -> None:
    create_registry_app(_production(RegistrySettings, test_databases, service_client_secret=""))


@pytest.mark.parametrize(
    ("settings_type", "seed"),
    [
        (RegistrySettings, seed_registry),
        (ContractsSettings, seed_contracts),
        (HomecareSettings, seed_homecare),
        (GatewaySettings, seed_gateway),
    ],
    ids=["registry", "contracts", "homecare", "gateway"],
)
async def test_demo_seeding_refuses_production(
    settings_type: type[ServiceSettings], seed: Callable[[Any], Any], test_databases: TestDatabases
) -> None:
    settings = make_settings(settings_type, test_databases, environment="production")
    with pytest.raises(SystemExit, match="production"):
        await seed(settings)
