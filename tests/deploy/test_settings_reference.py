"""docs/OPERATIONS.md's configuration reference lists every setting of every service, as generated."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

from services.contracts.settings import ContractsSettings
from services.gateway.settings import GatewaySettings
from services.homecare.settings import HomecareSettings
from services.indicators.settings import IndicatorsSettings
from services.registry.settings import RegistrySettings
from services.residents.settings import ResidentsSettings

REPO = Path(__file__).resolve().parents[2]


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "settings_reference", REPO / "deploy" / "settings_reference.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_reference_in_operations_md_is_up_to_date() -> None:
    generator = _generator()
    document = (REPO / "docs" / "OPERATIONS.md").read_text("utf-8")
    assert generator.updated(document) == document, (
        "docs/OPERATIONS.md is stale: run .venv/bin/python deploy/settings_reference.py --write"
    )


def test_every_environment_variable_of_every_service_is_documented() -> None:
    document = (REPO / "docs" / "OPERATIONS.md").read_text("utf-8")
    documented = set(re.findall(r"\| `([A-Z0-9<>_]+)` \|", document))
    for settings in (
        GatewaySettings,
        RegistrySettings,
        ContractsSettings,
        HomecareSettings,
        IndicatorsSettings,
        ResidentsSettings,
    ):
        prefix = str(settings.model_config.get("env_prefix"))
        for field in settings.model_fields:
            if field == "service_name":
                continue
            names = {prefix + field.upper(), "<PREFIX>" + field.upper()}
            assert names & documented, f"{prefix}{field.upper()} is not in docs/OPERATIONS.md"
