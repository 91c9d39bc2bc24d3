"""Who may call which residents endpoint: the expected table, written from the domain rules (issue 19,
ARCHITECTURE.md "Regions and scope" and "Personal data") — never from ``permissions.py`` — and walked over
HTTP for every cell.

Each module of the service adds its rows here (teams, packages, signings, check-ups, assessments, 医养结合
services): an endpoint without a row fails ``test_every_endpoint_has_a_row``.
"""

from __future__ import annotations

from tests.access_matrix import AccessMatrixWalk, parse

# Columns: province, city, county admin · institution admin, institution staff (doctor/nurse) · city platform.
# Officials supervise (read masked, the feed) and do not record residents; the primary-care institution
# registers and serves them; the city platform syncs its city's records through the API.
PERSONS = """
    #                                                     pv ct co ia is pl
    # the person index: officials read masked, an institution the persons it serves
    GET    /persons                                       Y  Y  Y  Y  Y  Y
    # find-or-create by ID number: the institution that serves the resident, or the city's platform
    POST   /persons                                       -  -  -  Y  Y  Y
    POST   /persons/lookup                                Y  Y  Y  Y  Y  Y
    GET    /persons/{person_id}                           Y  Y  Y  Y  Y  Y
    # contact data: whoever may register
    PATCH  /persons/{person_id}                           -  -  -  Y  Y  Y
    # several persons whole at once: only homecare and contracts (service role), which keep the person's
    # id alone and mask per viewer themselves — no user role
    POST   /persons/batch                                 -  -  -  -  -  -
    # issue 18: whether an ID number's last characters match — homecare only (service role), at check-in
    POST   /persons/{person_id}/identity-check            -  -  -  -  -  -
"""
SIGNING = """
    #                                                     pv ct co ia is pl
    # 家庭医生签约: officials supervise (read), the primary-care institution's admin forms its teams and
    # publishes its packages; its admin and doctors/nurses sign, renew, transfer and terminate; the city
    # platform reads (its bulk sync is separate)
    GET    /teams                                         Y  Y  Y  Y  Y  Y
    POST   /teams                                         -  -  -  Y  -  -
    GET    /teams/{team_id}                               Y  Y  Y  Y  Y  Y
    PATCH  /teams/{team_id}                               -  -  -  Y  -  -
    POST   /teams/{team_id}/members                       -  -  -  Y  -  -
    DELETE /teams/{team_id}/members/{practitioner_id}     -  -  -  Y  -  -
    POST   /teams/{team_id}/deactivate                    -  -  -  Y  -  -
    GET    /packages                                      Y  Y  Y  Y  Y  Y
    POST   /packages                                      -  -  -  Y  -  -
    GET    /packages/{package_id}                         Y  Y  Y  Y  Y  Y
    POST   /packages/{package_id}/revise                  -  -  -  Y  -  -
    POST   /packages/{package_id}/retire                  -  -  -  Y  -  -
    GET    /signings                                      Y  Y  Y  Y  Y  Y
    POST   /signings                                      -  -  -  Y  Y  -
    POST   /signings/transfers                            -  -  -  Y  Y  -
    # the signing and renewal figures by county: whoever reads the contracts
    GET    /signings/rates                                Y  Y  Y  Y  Y  Y
    GET    /signings/{signing_id}                         Y  Y  Y  Y  Y  Y
    POST   /signings/{signing_id}/renew                   -  -  -  Y  Y  -
    POST   /signings/{signing_id}/terminate               -  -  -  Y  Y  -
"""
HEALTH_MANAGEMENT = """
    #                                                     pv ct co ia is pl
    # 65+ check-ups, ability assessments and 医养结合 services: officials supervise (read, the yearly
    # figures), the primary-care institution records what it did (its admin and doctors/nurses); the city
    # platform reads its city's; homecare reads the latest assessment (service role, not a column here)
    GET    /checkups                                      Y  Y  Y  Y  Y  Y
    POST   /checkups                                      -  -  -  Y  Y  -
    GET    /checkups/rules                                Y  Y  Y  Y  Y  Y
    GET    /checkups/summary                              Y  Y  Y  Y  Y  Y
    GET    /checkups/{checkup_id}                         Y  Y  Y  Y  Y  Y
    GET    /assessments                                   Y  Y  Y  Y  Y  Y
    POST   /assessments                                   -  -  -  Y  Y  -
    GET    /assessments/scale                             Y  Y  Y  Y  Y  Y
    GET    /assessments/summary                           Y  Y  Y  Y  Y  Y
    GET    /assessments/{assessment_id}                   Y  Y  Y  Y  Y  Y
    GET    /persons/{person_id}/assessments/latest        Y  Y  Y  Y  Y  Y
    GET    /care-services                                 Y  Y  Y  Y  Y  Y
    POST   /care-services                                 -  -  -  Y  Y  -
    GET    /care-services/owed                            Y  Y  Y  Y  Y  Y
    GET    /care-services/summary                         Y  Y  Y  Y  Y  Y
    GET    /care-services/{care_service_id}               Y  Y  Y  Y  Y  Y
"""
SYNC = """
    #                                                     pv ct co ia is pl
    # ARCHITECTURE: a city platform pushes its city's records in bulk (source_system + external_id); no
    # one else does (an institution records one at a time, officials do not record)
    POST   /persons/bulk                                  -  -  -  -  -  Y
    POST   /checkups/bulk                                 -  -  -  -  -  Y
    POST   /assessments/bulk                              -  -  -  -  -  Y
    POST   /signings/bulk                                 -  -  -  -  -  Y
"""
PLATFORM = """
    # ARCHITECTURE: feeds serve city platforms (and officials' tools)
    GET    /changes                                       Y  Y  Y  -  -  Y
    # issue 15: every caller may ask what it may do here (the console's menus)
    GET    /access/me                                     Y  Y  Y  Y  Y  Y
"""

MATRIX = parse("/api/v1/residents", PERSONS + SIGNING + HEALTH_MANAGEMENT + SYNC + PLATFORM)


class TestAccessMatrix(AccessMatrixWalk):
    app_fixture = "residents_app"
    matrix = MATRIX
    unauthenticated = "/api/v1/residents/persons"
