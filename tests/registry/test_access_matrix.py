"""Who may call which registry endpoint (institutions, 备案 filings, practitioners, 示范创建): the expected
table, written from the domain rules (shared/domain/rules.md "Institutions and 备案", "全国医养结合示范"),
ARCHITECTURE.md and the READMEs (services/registry/README.md, services/registry/demonstration/README.md)
— never from ``permissions.py`` — and walked over HTTP for every cell."""

from __future__ import annotations

from tests.access_matrix import AccessMatrixWalk, parse

R = "/api/v1/registry"
# Columns: province, city, county admin · institution admin, institution staff · city platform.
# The county is the registering authority (备案 is filed with the county); province and city read their
# area (registry README "Choices": they do not edit single institutions); an institution keeps its own
# record; city platforms sync institutions in bulk.
MATRIX = parse(
    "/api/v1/registry",
    """
    #                                                                                        pv ct co ia is pl
    # README: city platforms and the province
    POST   /institutions/bulk                                                                Y  -  -  -  -  Y
    # README: county, province
    POST   /institutions/import                                                              Y  -  Y  -  -  -
    # officials' spreadsheets
    GET    /institutions/export                                                              Y  Y  Y  -  -  -
    GET    /institutions/enums                                                               Y  Y  Y  Y  Y  Y
    GET    /institutions                                                                     Y  Y  Y  Y  Y  Y
    # README: the county registers institutions
    POST   /institutions                                                                     -  -  Y  -  -  -
    GET    /institutions/nearby                                                              Y  Y  Y  Y  Y  Y
    GET    /institutions/{institution_id}                                                    Y  Y  Y  Y  Y  Y
    # README: county, and the institution's admin (some fields)
    PATCH  /institutions/{institution_id}                                                    -  -  Y  Y  -  -
    POST   /institutions/{institution_id}/deactivate                                         -  -  Y  -  -  -
    POST   /institutions/{institution_id}/reactivate                                         -  -  Y  -  -  -
    # rules: status history kept; admins and the institution
    GET    /institutions/{institution_id}/history                                            Y  Y  Y  Y  -  -
    GET    /institutions/{institution_id}/year-stats                                         Y  Y  Y  Y  -  -
    # issue 14, historical import: the province, the county, a city platform within its city
    POST   /institutions/year-stats/bulk                                                     Y  -  Y  -  -  Y
    # the institution reports, the county corrects
    PUT    /institutions/{institution_id}/year-stats/{year}                                  -  -  Y  Y  -  -
    GET    /filings                                                                          Y  Y  Y  Y  -  -
    # rules: the institution files; the county may file for it
    POST   /filings                                                                          -  -  Y  Y  -  -
    # issue 14, historical import of past filings: the province, the city and county over their region
    POST   /filings/bulk                                                                     Y  Y  Y  -  -  -
    GET    /filings/{filing_id}                                                              Y  Y  Y  Y  -  -
    PATCH  /filings/{filing_id}                                                              -  -  Y  Y  -  -
    # rules: "with the history kept"
    GET    /filings/{filing_id}/history                                                      Y  Y  Y  Y  -  -
    POST   /filings/{filing_id}/submit                                                       -  -  Y  Y  -  -
    # rules: "can be corrected"
    POST   /filings/{filing_id}/correct                                                      -  -  Y  Y  -  -
    POST   /filings/{filing_id}/resubmit                                                     -  -  Y  Y  -  -
    # the filing authority (county)
    POST   /filings/{filing_id}/reject                                                       -  -  Y  -  -  -
    # rules: "or revoked later"
    POST   /filings/{filing_id}/revoke                                                       -  -  Y  -  -  -
    # staff see their colleagues (assignment, rosters)
    GET    /practitioners                                                                    Y  Y  Y  Y  Y  -
    # README: county, institution admin
    POST   /practitioners                                                                    -  -  Y  Y  -  -
    POST   /practitioners/lookup                                                             Y  Y  Y  Y  Y  -
    # issue 14, historical import: the province, the county, a city platform within its city
    POST   /practitioners/bulk                                                               Y  -  Y  -  -  Y
    GET    /practitioners/{practitioner_id}                                                  Y  Y  Y  Y  Y  -
    PATCH  /practitioners/{practitioner_id}                                                  -  -  Y  Y  -  -
    POST   /practitioners/{practitioner_id}/deactivate                                       -  -  Y  Y  -  -
    POST   /practitioners/{practitioner_id}/reactivate                                       -  -  Y  Y  -  -
    # officials' statistics
    GET    /stats                                                                            Y  Y  Y  -  -  -
    # ARCHITECTURE: feeds serve city platforms
    GET    /changes                                                                          Y  Y  Y  -  -  Y
    # issue 15: every caller may ask what it may do here (the console's menus)
    GET    /access/me                                                                        Y  Y  Y  Y  Y  Y
    # issue 15: institutions look for a partner (rules: 医养签约); officials browse it in scope
    GET    /directory/institutions                                                           Y  Y  Y  Y  Y  -
    # 示范创建 — rules: self-assessment and application → city recommends one → province reviews → nation
    # demo README: read (all)
    GET    /demonstration-batches                                                            Y  Y  Y  Y  Y  Y
    POST   /demonstration-batches                                                            Y  -  -  -  -  -
    GET    /demonstration-batches/{batch_id}                                                 Y  Y  Y  Y  Y  Y
    PATCH  /demonstration-batches/{batch_id}                                                 Y  -  -  -  -  -
    # rules: 推荐汇总表 per city (province, city)
    GET    /demonstration-batches/{batch_id}/recommendation-summary                          Y  Y  -  -  -  -
    GET    /demonstration-batches/{batch_id}/recommendation-summary.xlsx                     Y  Y  -  -  -  -
    # demo README: read (all), scoped
    GET    /demonstration-applications                                                       Y  Y  Y  Y  Y  Y
    # applicants: counties and institutions
    POST   /demonstration-applications                                                       -  -  Y  Y  -  -
    # published by the nation
    GET    /demonstration-applications/named                                                 Y  Y  Y  Y  Y  Y
    GET    /demonstration-applications/{application_id}                                      Y  Y  Y  Y  Y  Y
    PATCH  /demonstration-applications/{application_id}                                      -  -  Y  Y  -  -
    GET    /demonstration-applications/{application_id}/criteria                             Y  Y  Y  Y  Y  Y
    GET    /demonstration-applications/{application_id}/trail                                Y  Y  Y  Y  Y  Y
    POST   /demonstration-applications/{application_id}/attachments                          -  -  Y  Y  -  -
    GET    /demonstration-applications/{application_id}/attachments/{attachment_id}/content  Y  Y  Y  Y  Y  Y
    DELETE /demonstration-applications/{application_id}/attachments/{attachment_id}          -  -  Y  Y  -  -
    # province reviews (documents, site visit, experts)
    PUT    /demonstration-applications/{application_id}/province-review                      Y  -  -  -  -  -
    POST   /demonstration-applications/{application_id}/submit                               -  -  Y  Y  -  -
    # demo README: county (institution applications)
    POST   /demonstration-applications/{application_id}/county-recommend                     -  -  Y  -  -  -
    # rules: each city recommends one
    POST   /demonstration-applications/{application_id}/city-recommend                       -  Y  -  -  -  -
    POST   /demonstration-applications/{application_id}/province-approve                     Y  -  -  -  -  -
    # province sends its list to the nation
    POST   /demonstration-applications/{application_id}/send-to-nation                       Y  -  -  -  -  -
    # the province records the nation's result
    POST   /demonstration-applications/{application_id}/national-result                      Y  -  -  -  -  -
    POST   /demonstration-applications/{application_id}/name                                 Y  -  -  -  -  -
    # dynamic management
    POST   /demonstration-applications/{application_id}/reassess                             Y  -  -  -  -  -
    POST   /demonstration-applications/{application_id}/revoke                               Y  -  -  -  -  -
    # demo README: the reviewing level holding it
    POST   /demonstration-applications/{application_id}/return                               Y  Y  Y  -  -  -
    POST   /demonstration-applications/{application_id}/decline                              Y  Y  Y  -  -  -
    """,
)


class TestAccessMatrix(AccessMatrixWalk):
    app_fixture = "registry_app"
    matrix = MATRIX
    unauthenticated = f"{R}/institutions"
