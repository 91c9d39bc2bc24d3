"""Where a service's secrets come from: configuration in production, ``var/`` in development."""

from __future__ import annotations

import json

from libs.common.personal_data import PersonalDataCipher, generate_key
from libs.common.settings import VAR_DIR, ServiceSettings


def personal_data_cipher(settings: ServiceSettings) -> PersonalDataCipher:
    if settings.personal_data_keys:
        primary = settings.personal_data_primary_key_id or next(iter(settings.personal_data_keys))
        return PersonalDataCipher(primary, settings.personal_data_keys, settings.personal_data_lookup_key)
    if settings.is_production:
        raise RuntimeError(f"{settings.service_name}: personal_data_keys must be configured in production")
    if settings.environment == "test":
        return PersonalDataCipher("test1", {"test1": generate_key()}, generate_key())
    path = VAR_DIR / f"{settings.service_name}.personal_data_keys.json"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps({"primary": "dev1", "keys": {"dev1": generate_key()}, "lookup": generate_key()})
        )
        path.chmod(0o600)
    stored = json.loads(path.read_text())
    return PersonalDataCipher(stored["primary"], stored["keys"], stored["lookup"])
