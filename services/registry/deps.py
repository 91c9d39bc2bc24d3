"""Dependencies shared by the registry's routes: the personal-data cipher and the settings."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Request

from libs.common.personal_data import PersonalDataCipher
from services.registry.settings import RegistrySettings


async def get_cipher(request: Request) -> PersonalDataCipher:
    return cast(PersonalDataCipher, request.app.state.cipher)


async def get_settings(request: Request) -> RegistrySettings:
    return cast(RegistrySettings, request.app.state.settings)


CipherDep = Annotated[PersonalDataCipher, Depends(get_cipher)]
SettingsDep = Annotated[RegistrySettings, Depends(get_settings)]
