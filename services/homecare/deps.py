"""Request-scoped dependencies of the homecare service: settings, the personal-data cipher, clients."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from libs.common.personal_data import PersonalDataCipher
from services.homecare.catalog.templates import RecordTemplates
from services.homecare.clients.registry import RegistryClient
from services.homecare.settings import HomecareSettings


async def get_settings(request: Request) -> HomecareSettings:
    settings: HomecareSettings = request.app.state.settings
    return settings


async def get_cipher(request: Request) -> PersonalDataCipher:
    cipher: PersonalDataCipher = request.app.state.cipher
    return cipher


async def get_registry(request: Request) -> RegistryClient:
    registry: RegistryClient = request.app.state.registry
    return registry


async def get_record_templates(request: Request) -> RecordTemplates:
    """The visit record templates read at start-up (app.py, catalog/templates.py)."""
    templates: RecordTemplates = request.app.state.record_templates
    return templates


SettingsDep = Annotated[HomecareSettings, Depends(get_settings)]
CipherDep = Annotated[PersonalDataCipher, Depends(get_cipher)]
RegistryDep = Annotated[RegistryClient, Depends(get_registry)]
TemplatesDep = Annotated[RecordTemplates, Depends(get_record_templates)]
