"""Who may do what in the registry: the role → permission table (walked cell by cell by a test).

Object-level scope (region, own institution) is checked in the services: county admins manage their
county, city and province admins read their area, an institution's users their own institution.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from libs.common.access import Policy
from libs.common.auth import Principal, Role

_ADMIN_READ = {
    "institutions:read",
    "institutions:history",
    "institutions:export",
    "year_stats:read",
    "filings:read",
    "practitioners:read",
    "stats:read",
    "changes:read",
}

POLICY = Policy(
    {
        Role.province_admin: _ADMIN_READ | {"institutions:import", "institutions:bulk_upsert"},
        Role.city_admin: set(_ADMIN_READ),
        Role.county_admin: _ADMIN_READ
        | {
            "institutions:create",
            "institutions:update",
            "institutions:deactivate",
            "institutions:import",
            "year_stats:write",
            "filings:submit",
            "filings:review",
            "practitioners:write",
        },
        Role.institution_admin: {
            "institutions:read",
            "institutions:update",
            "institutions:history",
            "year_stats:read",
            "year_stats:write",
            "filings:read",
            "filings:submit",
            "practitioners:read",
            "practitioners:write",
        },
        Role.institution_staff: {"institutions:read", "practitioners:read"},
        Role.city_platform: {"institutions:read", "institutions:bulk_upsert", "changes:read"},
        Role.service: {
            "institutions:read",
            "year_stats:read",
            "filings:read",
            "practitioners:read",
            "stats:read",
            "changes:read",
        },
    }
)

# 示范创建 (issue 8): its cells of the table, added to the registry's (aliases in demonstration/deps.py).
DEMONSTRATION_GRANTS: dict[Role, set[str]] = {
    Role.province_admin: {
        "demonstration:read",
        "demonstration:batches",
        "demonstration:review",
        "demonstration:province-review",
        "demonstration:summaries",
    },
    Role.city_admin: {
        "demonstration:read",
        "demonstration:review",
        "demonstration:city-review",
        "demonstration:summaries",
    },
    Role.county_admin: {
        "demonstration:read",
        "demonstration:apply",
        "demonstration:review",
        "demonstration:county-review",
    },
    Role.institution_admin: {"demonstration:read", "demonstration:apply"},
    Role.institution_staff: {"demonstration:read"},
    Role.city_platform: {"demonstration:read"},
    Role.service: {"demonstration:read"},
}
# 伙伴机构目录 (issue 15): institutions find a partner to sign a 医养签约 with; officials browse it in scope.
DIRECTORY_GRANTS: dict[Role, set[str]] = {
    role: {"directory:read"}
    for role in (
        Role.province_admin,
        Role.city_admin,
        Role.county_admin,
        Role.institution_admin,
        Role.institution_staff,
    )
}
# Historical import (issue 14): past filings, practitioners and year figures in bulk, keyed by
# (source_system, external_id), with the scope of each record checked on the server. Filings: the
# province and the county/city over its region; practitioners and year figures: the province, the county
# and a city platform within its city (as they write or sync those records).
HISTORY_IMPORT_GRANTS: dict[Role, set[str]] = {
    Role.province_admin: {"filings:import", "practitioners:import", "year_stats:import"},
    Role.city_admin: {"filings:import"},
    Role.county_admin: {"filings:import", "practitioners:import", "year_stats:import"},
    Role.city_platform: {"practitioners:import", "year_stats:import"},
}
# Each internal caller gets only what it needs (its token's ``sub`` is ``service:<client_id>``).
SERVICE_CALLERS: dict[str, set[str]] = {
    "gateway": {"institutions:read", "practitioners:read"},  # staff accounts link a practitioner
    # the contracts' coverage follows the feed of institutions (its snapshot of the elderly-care ones)
    "contracts": {"changes:read", "institutions:read"},
    "homecare": {"institutions:read", "practitioners:read"},
    # the indicators follow the feed of institutions, their year figures and filings (the feed needs each
    # list's permission)
    "indicators": {"changes:read", "institutions:read", "year_stats:read", "filings:read"},
}
POLICY = Policy(
    {
        role: POLICY.grants.get(role, frozenset())
        | DEMONSTRATION_GRANTS.get(role, set())
        | DIRECTORY_GRANTS.get(role, set())
        | HISTORY_IMPORT_GRANTS.get(role, set())
        for role in Role
    },
    service_callers=SERVICE_CALLERS,
)

InstitutionsRead = Annotated[Principal, Depends(POLICY.require("institutions:read"))]
InstitutionsCreate = Annotated[Principal, Depends(POLICY.require("institutions:create"))]
InstitutionsUpdate = Annotated[Principal, Depends(POLICY.require("institutions:update"))]
InstitutionsDeactivate = Annotated[Principal, Depends(POLICY.require("institutions:deactivate"))]
InstitutionsHistory = Annotated[Principal, Depends(POLICY.require("institutions:history"))]
InstitutionsImport = Annotated[Principal, Depends(POLICY.require("institutions:import"))]
InstitutionsExport = Annotated[Principal, Depends(POLICY.require("institutions:export"))]
InstitutionsBulkUpsert = Annotated[Principal, Depends(POLICY.require("institutions:bulk_upsert"))]
YearStatsRead = Annotated[Principal, Depends(POLICY.require("year_stats:read"))]
YearStatsWrite = Annotated[Principal, Depends(POLICY.require("year_stats:write"))]
YearStatsImport = Annotated[Principal, Depends(POLICY.require("year_stats:import"))]
FilingsRead = Annotated[Principal, Depends(POLICY.require("filings:read"))]
FilingsSubmit = Annotated[Principal, Depends(POLICY.require("filings:submit"))]
FilingsReview = Annotated[Principal, Depends(POLICY.require("filings:review"))]
FilingsImport = Annotated[Principal, Depends(POLICY.require("filings:import"))]
PractitionersRead = Annotated[Principal, Depends(POLICY.require("practitioners:read"))]
PractitionersWrite = Annotated[Principal, Depends(POLICY.require("practitioners:write"))]
PractitionersImport = Annotated[Principal, Depends(POLICY.require("practitioners:import"))]
StatsRead = Annotated[Principal, Depends(POLICY.require("stats:read"))]
DirectoryRead = Annotated[Principal, Depends(POLICY.require("directory:read"))]
ChangesRead = POLICY.require("changes:read")
