"""Who may do what in homecare: the role → permission table (walked cell by cell by a test).

Object-level rules come on top (scope by region and institution; the assigned nurse for visit writes;
a doctor of the provider for high-risk assessments and home beds) and live in the services.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from libs.common.access import Policy
from libs.common.auth import Principal, Role

_ADMINISTRATION = {
    "attachments:read",
    "catalog:read",
    "providers:read",
    "recipients:read",
    "orders:read",
    "complaints:read",
    "home_beds:read",
    "reports:read",
    "changes:read",
}

# the historical import of past orders and the recipients they serve (issue 14): the province, and a
# city platform for its city (the province also pushes recipients through the platforms' bulk path)
_HISTORY_IMPORT = {"recipients:bulk", "orders:import"}

# Each internal caller gets only what it needs (its token's ``sub`` is ``service:<client_id>``).
# the indicators follow the feed of home beds, orders and ratings (the feed needs each list's permission)
SERVICE_CALLERS: dict[str, set[str]] = {"indicators": {"changes:read", "home_beds:read", "orders:read"}}
POLICY = Policy(
    {
        # the historical import of home beds (issue 14): the province (not the platforms, which do not
        # sync home beds)
        Role.province_admin: _ADMINISTRATION
        | {"catalog:write", "home_beds:import", "providers:import"}
        | _HISTORY_IMPORT,
        Role.city_admin: _ADMINISTRATION,
        Role.county_admin: _ADMINISTRATION,
        Role.institution_admin: {
            "attachments:read",
            # issue 18: the code an elder holds for the check at check-in (not the nurse who checks it)
            "recipients:elder_code",
            "catalog:read",
            "providers:read",
            "providers:write",
            "recipients:read",
            "recipients:write",
            "orders:read",
            "orders:place",
            "orders:assess",
            "orders:decide",
            "orders:complete",
            "orders:cancel",
            "orders:rate",
            "orders:incident",
            "sos:read",
            "sos:resolve",
            "events:read",
            "complaints:read",
            "complaints:write",
            "complaints:resolve",
            "home_beds:read",
            "home_beds:write",
            "reports:read",
        },
        Role.institution_staff: {
            "attachments:read",
            "attachments:write",
            "catalog:read",
            "providers:read",
            "recipients:read",
            "recipients:write",
            "orders:read",
            "orders:place",
            "orders:assess",
            "orders:visit",
            "orders:complete",
            "orders:cancel",
            "orders:rate",
            "orders:incident",
            "sos:raise",
            "complaints:write",
            "home_beds:read",
            "home_beds:write",
            "assignments:read",
            "events:read",
        },
        Role.city_platform: {
            "attachments:read",
            "catalog:read",
            "providers:read",
            "providers:import",
            "recipients:read",
            "recipients:write",
            "recipients:bulk",
            "orders:read",
            "orders:place",
            "orders:bulk",
            "orders:import",
            "orders:cancel",
            "orders:rate",
            "complaints:read",
            "complaints:write",
            "changes:read",
        },
        Role.service: {
            "catalog:read",
            "providers:read",
            "recipients:read",
            "orders:read",
            "home_beds:read",
            "changes:read",
        },
    },
    service_callers=SERVICE_CALLERS,
)


CatalogRead = Annotated[Principal, Depends(POLICY.require("catalog:read"))]
CatalogWrite = Annotated[Principal, Depends(POLICY.require("catalog:write"))]
ProvidersRead = Annotated[Principal, Depends(POLICY.require("providers:read"))]
ProvidersWrite = Annotated[Principal, Depends(POLICY.require("providers:write"))]
ProvidersImport = Annotated[Principal, Depends(POLICY.require("providers:import"))]
RecipientsRead = Annotated[Principal, Depends(POLICY.require("recipients:read"))]
RecipientsWrite = Annotated[Principal, Depends(POLICY.require("recipients:write"))]
RecipientsElderCode = Annotated[Principal, Depends(POLICY.require("recipients:elder_code"))]
RecipientsBulk = Annotated[Principal, Depends(POLICY.require("recipients:bulk"))]
OrdersRead = Annotated[Principal, Depends(POLICY.require("orders:read"))]
OrdersPlace = Annotated[Principal, Depends(POLICY.require("orders:place"))]
OrdersBulk = Annotated[Principal, Depends(POLICY.require("orders:bulk"))]
OrdersImport = Annotated[Principal, Depends(POLICY.require("orders:import"))]
OrdersAssess = Annotated[Principal, Depends(POLICY.require("orders:assess"))]
OrdersDecide = Annotated[Principal, Depends(POLICY.require("orders:decide"))]
OrdersVisit = Annotated[Principal, Depends(POLICY.require("orders:visit"))]
OrdersComplete = Annotated[Principal, Depends(POLICY.require("orders:complete"))]
OrdersCancel = Annotated[Principal, Depends(POLICY.require("orders:cancel"))]
OrdersRate = Annotated[Principal, Depends(POLICY.require("orders:rate"))]
OrdersIncident = Annotated[Principal, Depends(POLICY.require("orders:incident"))]
SosRaise = Annotated[Principal, Depends(POLICY.require("sos:raise"))]
SosRead = Annotated[Principal, Depends(POLICY.require("sos:read"))]
SosResolve = Annotated[Principal, Depends(POLICY.require("sos:resolve"))]
ComplaintsRead = Annotated[Principal, Depends(POLICY.require("complaints:read"))]
ComplaintsWrite = Annotated[Principal, Depends(POLICY.require("complaints:write"))]
ComplaintsResolve = Annotated[Principal, Depends(POLICY.require("complaints:resolve"))]
HomeBedsRead = Annotated[Principal, Depends(POLICY.require("home_beds:read"))]
HomeBedsWrite = Annotated[Principal, Depends(POLICY.require("home_beds:write"))]
HomeBedsImport = Annotated[Principal, Depends(POLICY.require("home_beds:import"))]
ReportsRead = Annotated[Principal, Depends(POLICY.require("reports:read"))]
EventsRead = Annotated[Principal, Depends(POLICY.require("events:read"))]
AssignmentsRead = Annotated[Principal, Depends(POLICY.require("assignments:read"))]
ChangesRead = POLICY.require("changes:read")
AttachmentsRead = Annotated[Principal, Depends(POLICY.require("attachments:read"))]
AttachmentsWrite = Annotated[Principal, Depends(POLICY.require("attachments:write"))]
