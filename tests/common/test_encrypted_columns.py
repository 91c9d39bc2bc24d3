"""Encrypted personal-data columns are named alike in every service (issue 12): ``<field>_enc``.

An encrypted column is a binary column (``LargeBinary``) holding ``PersonalDataCipher.encrypt``'s output;
the only other binary columns hold uploaded documents and are listed here by name.
"""

from __future__ import annotations

import pytest
from sqlalchemy import LargeBinary, MetaData

import services.contracts.models  # noqa: F401  (each import fills its service's metadata)
import services.gateway.models  # noqa: F401
import services.homecare.models  # noqa: F401
import services.registry.models  # noqa: F401
import services.residents.models  # noqa: F401
from services.contracts.base import Base as ContractsBase
from services.gateway.base import Base as GatewayBase
from services.homecare.base import Base as HomecareBase
from services.registry.base import Base as RegistryBase
from services.residents.base import Base as ResidentsBase

SUFFIX = "_enc"
#: binary columns that hold a document's bytes, not a person's data
DOCUMENTS = {
    "registry.demonstration_attachment.content",
    "contracts.agreement_document.content",
}
METADATA: dict[str, MetaData] = {
    "registry": RegistryBase.metadata,
    "contracts": ContractsBase.metadata,
    "homecare": HomecareBase.metadata,
    "gateway": GatewayBase.metadata,
    "residents": ResidentsBase.metadata,
}


def _binary_columns(service: str) -> set[str]:
    return {
        f"{service}.{table.name}.{column.name}"
        for table in METADATA[service].tables.values()
        for column in table.columns
        if isinstance(column.type, LargeBinary)
    }


@pytest.mark.parametrize("service", sorted(METADATA))
def test_every_encrypted_column_ends_in_enc(service: str) -> None:
    columns = _binary_columns(service)
    misnamed = sorted(c for c in columns - DOCUMENTS if not c.endswith(SUFFIX))
    assert not misnamed, f"encrypted personal-data columns must be named <field>{SUFFIX}: {misnamed}"


def test_the_exception_lists_are_not_stale() -> None:
    every = set().union(*(_binary_columns(service) for service in METADATA))
    assert DOCUMENTS <= every, sorted((DOCUMENTS) - every)
