"""Who may do what in the contracts service: the role → permission table (walked cell by cell by a test).

Object-level scope comes on top: institution users act only for their own institution (a party of the
agreement or referral), administrators only within their region (the elderly-care party's county).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from libs.common.access import Policy
from libs.common.auth import Principal, Role

_ADMIN_READ = {
    "agreements:read",
    "visits:read",
    "referrals:read",
    "reports:read",
    "coverage:read",
    "changes:read",
}

# Each internal caller gets only what it needs (its token's ``sub`` is ``service:<client_id>``).
# the indicators follow the feed of agreements, visits and referrals (the feed needs each list's
# permission; a referral's payload carries no resident data — see feed.py)
SERVICE_CALLERS: dict[str, set[str]] = {
    "indicators": {"changes:read", "agreements:read", "visits:read", "referrals:read"}
}
POLICY = Policy(
    {
        # bulk writes (city platforms, and the province's historical import, issue 14)
        Role.province_admin: _ADMIN_READ | {"agreements:bulk", "visits:bulk", "referrals:bulk"},
        Role.city_admin: set(_ADMIN_READ),
        Role.county_admin: _ADMIN_READ | {"agreements:file"},
        Role.institution_admin: {
            "agreements:read",
            "agreements:write",
            "visits:read",
            "visits:write",
            "referrals:read",
            "referrals:write",
            "reports:read",
        },
        Role.institution_staff: {
            "agreements:read",
            "visits:read",
            "visits:write",
            "referrals:read",
            "referrals:write",
        },
        Role.city_platform: {
            "agreements:read",
            "agreements:bulk",
            "visits:read",
            "visits:bulk",
            "referrals:bulk",
            "changes:read",
        },
        # referrals:read for the indicators' feed (双向转诊 counts); a list or feed read by a service shows
        # no resident data (masked in the list, left out of the feed payload)
        Role.service: {
            "agreements:read",
            "visits:read",
            "referrals:read",
            "reports:read",
            "coverage:read",
            "changes:read",
        },
    },
    service_callers=SERVICE_CALLERS,
)

AgreementsRead = Annotated[Principal, Depends(POLICY.require("agreements:read"))]
AgreementsWrite = Annotated[Principal, Depends(POLICY.require("agreements:write"))]
AgreementsFile = Annotated[Principal, Depends(POLICY.require("agreements:file"))]
AgreementsBulk = Annotated[Principal, Depends(POLICY.require("agreements:bulk"))]
VisitsBulk = Annotated[Principal, Depends(POLICY.require("visits:bulk"))]
ReferralsBulk = Annotated[Principal, Depends(POLICY.require("referrals:bulk"))]
VisitsRead = Annotated[Principal, Depends(POLICY.require("visits:read"))]
VisitsWrite = Annotated[Principal, Depends(POLICY.require("visits:write"))]
ReferralsRead = Annotated[Principal, Depends(POLICY.require("referrals:read"))]
ReferralsWrite = Annotated[Principal, Depends(POLICY.require("referrals:write"))]
ReportsRead = Annotated[Principal, Depends(POLICY.require("reports:read"))]
CoverageRead = Annotated[Principal, Depends(POLICY.require("coverage:read"))]
ChangesRead = POLICY.require("changes:read")
