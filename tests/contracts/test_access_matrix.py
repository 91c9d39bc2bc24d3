"""Who may call which contracts endpoint (医养签约, 巡诊, 双向转诊, coverage): the expected table, written
from the domain rules (shared/domain/rules.md "医养签约 agreements and 巡诊"), ARCHITECTURE.md and
services/contracts/README.md — never from ``permissions.py`` — and walked over HTTP for every cell."""

from __future__ import annotations

from tests.access_matrix import AccessMatrixWalk, parse

# Columns: province, city, county admin · institution admin, institution staff · city platform.
# An agreement binds two institutions: their admins sign it; the county files (备案) it; officials read
# and count (签约对数, coverage); the medical party's staff record 巡诊 and both sides' staff refer.
MATRIX = parse(
    "/api/v1/contracts",
    """
    #                                                   pv ct co ia is pl
    # README: city platforms and the province
    POST   /agreements/bulk                             Y  -  -  -  -  Y
    # issue 14: historical import of visits and referrals (the province; a city platform in its city)
    POST   /visits/bulk                                 Y  -  -  -  -  Y
    POST   /referrals/bulk                              Y  -  -  -  -  Y
    GET    /service-kinds                               Y  Y  Y  Y  Y  Y
    GET    /agreements                                  Y  Y  Y  Y  Y  Y
    # rules: binds two institutions (their admins)
    POST   /agreements                                  -  -  -  Y  -  -
    GET    /agreements/{agreement_id}                   Y  Y  Y  Y  Y  Y
    PATCH  /agreements/{agreement_id}                   -  -  -  Y  -  -
    POST   /agreements/{agreement_id}/submit            -  -  -  Y  -  -
    POST   /agreements/{agreement_id}/countersign       -  -  -  Y  -  -
    # rules: change and termination by the parties
    POST   /agreements/{agreement_id}/terminate         -  -  -  Y  -  -
    POST   /agreements/{agreement_id}/renew             -  -  -  Y  -  -
    # README: 备案 with the county
    POST   /agreements/{agreement_id}/file              -  -  Y  -  -  -
    POST   /agreements/{agreement_id}/document          -  -  -  Y  -  -
    GET    /agreements/{agreement_id}/document          Y  Y  Y  Y  Y  Y
    GET    /agreements/{agreement_id}/print             Y  Y  Y  Y  Y  Y
    # rules: 巡诊 recorded per visit (the staff who come)
    POST   /agreements/{agreement_id}/visits            -  -  -  Y  Y  -
    GET    /agreements/{agreement_id}/visits            Y  Y  Y  Y  Y  Y
    # rules: shortfall is flagged
    GET    /agreements/{agreement_id}/visits/shortfall  Y  Y  Y  Y  Y  Y
    # reports: officials and the institutions' admins
    GET    /visits/shortfall                            Y  Y  Y  Y  -  -
    GET    /visits/shortfall/agreements                 Y  Y  Y  Y  -  -
    # rules: 双向转诊 between the two sides
    POST   /referrals                                   -  -  -  Y  Y  -
    # referrals carry residents' data; not synced by platforms
    GET    /referrals                                   Y  Y  Y  Y  Y  -
    GET    /referrals/stats                             Y  Y  Y  Y  -  -
    GET    /referrals/{referral_id}                     Y  Y  Y  Y  Y  -
    POST   /referrals/{referral_id}/accept              -  -  -  Y  Y  -
    POST   /referrals/{referral_id}/admit               -  -  -  Y  Y  -
    POST   /referrals/{referral_id}/return              -  -  -  Y  Y  -
    POST   /referrals/{referral_id}/decline             -  -  -  Y  Y  -
    POST   /referrals/{referral_id}/cancel              -  -  -  Y  Y  -
    # rules: coverage statistics (officials; target 100%)
    GET    /coverage                                    Y  Y  Y  -  -  -
    # ARCHITECTURE: feeds serve city platforms
    GET    /changes                                     Y  Y  Y  -  -  Y
    # issue 15: every caller may ask what it may do here (the console's menus)
    GET    /access/me                                   Y  Y  Y  Y  Y  Y
    """,
)


class TestAccessMatrix(AccessMatrixWalk):
    app_fixture = "contracts_app"
    matrix = MATRIX
    unauthenticated = "/api/v1/contracts/agreements"
