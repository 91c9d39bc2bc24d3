"""Request-scoped dependencies of the residents service: settings, the personal-data cipher, clients."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from libs.common.personal_data import PersonalDataCipher
from services.residents.clients.registry import RegistryClient
from services.residents.settings import ResidentsSettings


async def get_settings(request: Request) -> ResidentsSettings:
    settings: ResidentsSettings = request.app.state.settings
    return settings


async def get_cipher(request: Request) -> PersonalDataCipher:
    cipher: PersonalDataCipher = request.app.state.cipher
    return cipher


async def get_registry(request: Request) -> RegistryClient:
    registry: RegistryClient = request.app.state.registry
    return registry


SettingsDep = Annotated[ResidentsSettings, Depends(get_settings)]
CipherDep = Annotated[PersonalDataCipher, Depends(get_cipher)]
RegistryDep = Annotated[RegistryClient, Depends(get_registry)]
