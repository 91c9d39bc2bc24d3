"""Who may do what in residents: the role → permission table (walked cell by cell by a test).

- ``persons:read`` — the person index: officials (province, city, county) in their region, masked; an
  institution user the persons its institution serves (registered, signed, examined, assessed: the
  ``person_institution`` links), whole and audited on a detail read; a city platform its city, masked.
- ``persons:write`` — find-or-create by ID number and contact updates: users of an institution (a
  person registered by an institution user lives in its county; an existing person is linked to it),
  a city platform within its city, and internal callers (homecare and contracts link their records to
  the person).
- ``persons:batch`` — several persons whole in one call (``POST /persons/batch``): only the internal
  callers that keep records of persons without their personal data (homecare's recipients, contracts'
  referrals); each call audited as a disclosure to that service, with the acting user's subject.
- ``persons:bulk`` — find-or-create a batch of persons by ID number (``POST /persons/bulk``): the city
  platform, homecare's city bulk sync of recipients and contracts' import of referrals (one call a batch,
  issue 19).
- ``persons:identity_check`` — whether the last characters of a person's ID number match (issue 18): only
  homecare, at a nurse's check-in; the number never leaves this service.
- ``teams:read`` / ``packages:read`` / ``signings:read`` — 家庭医生签约: officials and city platforms in
  their region, institution users their institution's (the signing and renewal figures are
  ``signings:read``); ``teams:write`` / ``packages:write`` — the institution's admin manages its teams
  and packages; ``signings:write`` — its admin and staff sign, renew, transfer and terminate.
- ``changes:read`` — the feed (each entity type also needs its list's permission).

Object-level rules come on top (libs/common/scope.py; the persons' ``visible``) and live in the services.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from libs.common.access import Policy
from libs.common.auth import Principal, Role

_OFFICIALS = {"persons:read", "changes:read"}
_INSTITUTION = {"persons:read", "persons:write"}
# check-ups, ability assessments and 医养结合 services (R3): officials and city platforms read in their
# region, the institution records what it does; nobody edits an assessment (a new one supersedes it)
_R3_READ = {"checkups:read", "assessments:read", "care_services:read"}
_R3_WRITE = {"checkups:write", "assessments:write", "care_services:write"}
# 家庭医生签约 (R2): everyone in scope reads teams, packages and contracts; an institution's admin manages
# its teams and packages, its admin and staff sign, renew, transfer and terminate contracts
_R2_READ = {"teams:read", "packages:read", "signings:read"}
_R2_ADMIN = {"teams:write", "packages:write", "signings:write"}

# Each internal caller gets only what it needs (its token's ``sub`` is ``service:<client_id>``).
SERVICE_CALLERS: dict[str, set[str]] = {
    # homecare recipients and contracts' referral residents are linked to their person (find-or-create)
    # homecare's disability rules also read a person's latest ability assessment
    # both read a page's persons whole in one call (persons:batch) and mask them per viewer themselves
    # and, at a nurse's check-in, whether the ID number's last characters match (persons:identity_check)
    # homecare's city bulk sync of recipients finds or registers a batch's persons in one call (persons:bulk)
    "homecare": {
        "persons:read",
        "persons:write",
        "persons:batch",
        "persons:bulk",
        "assessments:read",
        "persons:identity_check",
    },
    # contracts' import of referrals finds or registers a batch's residents in one call (persons:bulk)
    "contracts": {"persons:read", "persons:write", "persons:batch", "persons:bulk"},
    # the indicators follow the feed
    "indicators": {
        "changes:read",
        "persons:read",
        "checkups:read",
        "assessments:read",
        "care_services:read",
        "teams:read",
        "signings:read",
    },
}

POLICY = Policy(
    {
        Role.province_admin: _OFFICIALS | _R3_READ | _R2_READ,
        Role.city_admin: _OFFICIALS | _R3_READ | _R2_READ,
        Role.county_admin: _OFFICIALS | _R3_READ | _R2_READ,
        Role.institution_admin: _INSTITUTION | _R3_READ | _R3_WRITE | _R2_READ | _R2_ADMIN,
        Role.institution_staff: _INSTITUTION | _R3_READ | _R3_WRITE | _R2_READ | {"signings:write"},
        # the city platform also bulk-syncs its city's persons and check-ups (sync/, R4)
        Role.city_platform: {"persons:read", "persons:write", "persons:bulk", "changes:read", "sync:write"}
        | _R3_READ
        | _R2_READ,
        Role.service: {
            "persons:read",
            "persons:write",
            "persons:batch",
            "persons:bulk",
            "persons:identity_check",
            "changes:read",
        }
        | _R3_READ
        | _R2_READ,
    },
    service_callers=SERVICE_CALLERS,
)

PersonsRead = Annotated[Principal, Depends(POLICY.require("persons:read"))]
SyncWrite = Annotated[Principal, Depends(POLICY.require("sync:write"))]
# POST /persons/bulk: the city platform, homecare's recipients bulk sync and contracts' referrals import
PersonsBulk = Annotated[Principal, Depends(POLICY.require("persons:bulk"))]
# issue 18: another service asks whether an ID number's last characters match (homecare only)
PersonsIdentityCheck = Annotated[Principal, Depends(POLICY.require("persons:identity_check"))]
PersonsWrite = Annotated[Principal, Depends(POLICY.require("persons:write"))]
PersonsBatch = Annotated[Principal, Depends(POLICY.require("persons:batch"))]
ChangesRead = POLICY.require("changes:read")
CheckupsRead = Annotated[Principal, Depends(POLICY.require("checkups:read"))]
CheckupsWrite = Annotated[Principal, Depends(POLICY.require("checkups:write"))]
AssessmentsRead = Annotated[Principal, Depends(POLICY.require("assessments:read"))]
AssessmentsWrite = Annotated[Principal, Depends(POLICY.require("assessments:write"))]
CareServicesRead = Annotated[Principal, Depends(POLICY.require("care_services:read"))]
CareServicesWrite = Annotated[Principal, Depends(POLICY.require("care_services:write"))]
TeamsRead = Annotated[Principal, Depends(POLICY.require("teams:read"))]
TeamsWrite = Annotated[Principal, Depends(POLICY.require("teams:write"))]
PackagesRead = Annotated[Principal, Depends(POLICY.require("packages:read"))]
PackagesWrite = Annotated[Principal, Depends(POLICY.require("packages:write"))]
SigningsRead = Annotated[Principal, Depends(POLICY.require("signings:read"))]
SigningsWrite = Annotated[Principal, Depends(POLICY.require("signings:write"))]
