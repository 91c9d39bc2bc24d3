"""Dependencies shared by the contracts service's routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from libs.common.personal_data import PersonalDataCipher
from services.contracts.settings import ContractsSettings


async def get_cipher(request: Request) -> PersonalDataCipher:
    cipher: PersonalDataCipher = request.app.state.cipher
    return cipher


async def get_settings(request: Request) -> ContractsSettings:
    settings: ContractsSettings = request.app.state.settings
    return settings


CipherDep = Annotated[PersonalDataCipher, Depends(get_cipher)]
SettingsDep = Annotated[ContractsSettings, Depends(get_settings)]
