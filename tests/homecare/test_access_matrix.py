"""Who may call which homecare endpoint: the expected table, written from the domain rules
(shared/domain/rules.md "互联网+护理服务 orders", "家庭病床"), ARCHITECTURE.md and
services/homecare/README.md — never from ``permissions.py`` — and walked over HTTP for every cell."""

from __future__ import annotations

from tests.access_matrix import AccessMatrixWalk, parse

# Columns: province, city, county admin · institution admin, institution staff (nurse/doctor) · city platform.
# Officials supervise (read, reports, feed) and do not run orders; the provider institution runs them;
# the city platform is the recipient side that syncs through the API (ARCHITECTURE "Regions and scope").
MATRIX = parse(
    "/api/v1/homecare",
    """
    #                                                     pv ct co ia is pl
    GET    /catalog                                       Y  Y  Y  Y  Y  Y
    GET    /catalog/versions                              Y  Y  Y  Y  Y  Y
    # issue 18: the record templates beside the catalog, read like the catalog
    GET    /catalog/items/{item_code}/template            Y  Y  Y  Y  Y  Y
    GET    /catalog/templates                             Y  Y  Y  Y  Y  Y
    # rules: "the province publishes the catalog"
    POST   /catalog/versions                              Y  -  -  -  -  -
    GET    /providers                                     Y  Y  Y  Y  Y  Y
    GET    /providers/{institution_id}                    Y  Y  Y  Y  Y  Y
    # rules: visit fee "set by the provider institution"
    PUT    /providers/{institution_id}                    -  -  -  Y  -  -
    # the provider's prices
    PUT    /providers/{institution_id}/items/{item_code}  -  -  -  Y  -  -
    # issue 14: the province, or a city platform for its city, loads providers' settings in bulk
    POST   /providers/bulk                                Y  -  -  -  -  Y
    # officials see masked data (README)
    GET    /recipients                                    Y  Y  Y  Y  Y  Y
    # the request side: institution or city platform
    POST   /recipients                                    -  -  -  Y  Y  Y
    POST   /recipients/lookup                             Y  Y  Y  Y  Y  Y
    GET    /recipients/{recipient_id}                     Y  Y  Y  Y  Y  Y
    PATCH  /recipients/{recipient_id}                     -  -  -  Y  Y  Y
    # issue 18: the serving institution's admin issues the code the elder shows at check-in (not the nurse
    # who checks it)
    POST   /recipients/{recipient_id}/elder-code          -  -  -  Y  -  -
    # README "city platforms"; issue 14: the province loads the recipients of past orders (historical import)
    POST   /recipients/bulk                               Y  -  -  -  -  Y
    GET    /orders                                        Y  Y  Y  Y  Y  Y
    # rules: request (person, address, items, time)
    POST   /orders                                        -  -  -  Y  Y  Y
    # README "city platforms"
    POST   /orders/bulk                                   -  -  -  -  -  Y
    # issue 14: past orders (historical import) — the province, and a city platform joining with its records
    POST   /orders/history/bulk                           Y  -  -  -  -  Y
    GET    /orders/{order_id}                             Y  Y  Y  Y  Y  Y
    # rules: the institution's 首诊/assessment (README: a doctor for high-risk items)
    POST   /orders/{order_id}/assess                      -  -  -  Y  Y  -
    # README: accept/reject/assign/review-flags are the provider's admin
    POST   /orders/{order_id}/accept                      -  -  -  Y  -  -
    POST   /orders/{order_id}/reject                      -  -  -  Y  -  -
    # rules: dispatch to an eligible nurse
    POST   /orders/{order_id}/assign                      -  -  -  Y  -  -
    POST   /orders/{order_id}/review-flags                -  -  -  Y  -  -
    # issue 18: the dispatcher (the provider's admin, who assigns) takes an order back or moves its slot
    POST   /orders/{order_id}/unassign                    -  -  -  Y  -  -
    POST   /orders/{order_id}/reschedule                  -  -  -  Y  -  -
    # the nurse: travel, check-in, service, check-out
    POST   /orders/{order_id}/depart                      -  -  -  -  Y  -
    POST   /orders/{order_id}/check-in                    -  -  -  -  Y  -
    POST   /orders/{order_id}/start                       -  -  -  -  Y  -
    POST   /orders/{order_id}/check-out                   -  -  -  -  Y  -
    # rules: the nurse's location during service
    POST   /orders/{order_id}/locations                   -  -  -  -  Y  -
    # the provider closes the service (README: needs a visit record)
    POST   /orders/{order_id}/complete                    -  -  -  Y  Y  -
    # README "cancel": the recipient side or the provider
    POST   /orders/{order_id}/cancel                      -  -  -  Y  Y  Y
    # the provider's people on the visit
    POST   /orders/{order_id}/incident                    -  -  -  Y  Y  -
    # rules: rating and follow-up (回访 by the provider, or the recipient side)
    POST   /orders/{order_id}/rate                        -  -  -  Y  Y  Y
    # rules: the nurse records what was done
    POST   /orders/{order_id}/visit-record                -  -  -  -  Y  -
    # 全程留痕: whoever may read the order
    GET    /orders/{order_id}/visit-record                Y  Y  Y  Y  Y  Y
    # the nurse app
    GET    /my/assignments                                -  -  -  -  Y  -
    # issue 18: the nurse's own day bundle (self-only: whole contact of the persons she serves)
    GET    /nurse/bundle                                  -  -  -  -  Y  -
    # issue 18: the nurse (and the doctor on a round) uploads photos and signatures; reading is for whoever
    # may read a record that references them (checked per object: 404 otherwise)
    POST   /attachments                                   -  -  -  -  Y  -
    PUT    /attachments/{sha256}                          -  -  -  -  Y  -
    POST   /attachments/uploads                           -  -  -  -  Y  -
    GET    /attachments/uploads/{upload_id}               -  -  -  -  Y  -
    PATCH  /attachments/uploads/{upload_id}               -  -  -  -  Y  -
    GET    /attachments/{sha256}                          Y  Y  Y  Y  Y  Y
    # issue 18: order events for the nurse (her own) and the provider's dispatcher (its institution's);
    # officials and platforms follow the change feed instead
    GET    /events/feed                                   -  -  -  Y  Y  -
    GET    /events                                        -  -  -  Y  Y  -
    # rules: one-tap SOS (the nurse)
    POST   /orders/{order_id}/sos                         -  -  -  -  Y  -
    # README: the provider answers its nurses' alerts
    GET    /sos                                           -  -  -  Y  -  -
    POST   /sos/{alert_id}/resolve                        -  -  -  Y  -  -
    # rules: complaints from the served side, recorded by whoever takes them
    POST   /orders/{order_id}/complaints                  -  -  -  Y  Y  Y
    # officials supervise complaints; the platform follows its own
    GET    /complaints                                    Y  Y  Y  Y  -  Y
    # the provider answers
    POST   /complaints/{complaint_id}/resolve             -  -  -  Y  -  -
    # home beds are not part of the platforms' sync (README "city platforms")
    GET    /home-beds                                     Y  Y  Y  Y  Y  -
    # rules: apply at the institution
    POST   /home-beds                                     -  -  -  Y  Y  -
    GET    /home-beds/{home_bed_id}                       Y  Y  Y  Y  Y  -
    # issue 14: the province imports past episodes (historical import); the platforms do not sync beds
    POST   /home-beds/bulk                                Y  -  -  -  -  -
    # rules: assess → 建床 → 查床 → 撤床, by the institution
    POST   /home-beds/{home_bed_id}/assess                -  -  -  Y  Y  -
    POST   /home-beds/{home_bed_id}/open                  -  -  -  Y  Y  -
    POST   /home-beds/{home_bed_id}/rounds                -  -  -  Y  Y  -
    GET    /home-beds/{home_bed_id}/rounds                Y  Y  Y  Y  Y  -
    POST   /home-beds/{home_bed_id}/reassess              -  -  -  Y  Y  -
    POST   /home-beds/{home_bed_id}/close                 -  -  -  Y  Y  -
    POST   /home-beds/{home_bed_id}/withdraw              -  -  -  Y  Y  -
    # rules: workload statistics — officials and the provider's admin
    GET    /reports/satisfaction                          Y  Y  Y  Y  -  -
    GET    /reports/response-times                        Y  Y  Y  Y  -  -
    GET    /reports/orders                                Y  Y  Y  Y  -  -
    GET    /reports/complaints                            Y  Y  Y  Y  -  -
    GET    /reports/home-beds                             Y  Y  Y  Y  -  -
    # ARCHITECTURE: feeds serve city platforms (and officials' tools)
    GET    /changes                                       Y  Y  Y  -  -  Y
    # issue 15: every caller may ask what it may do here (the console's menus)
    GET    /access/me                                     Y  Y  Y  Y  Y  Y
    """,
)


class TestAccessMatrix(AccessMatrixWalk):
    app_fixture = "homecare_app"
    matrix = MATRIX
    unauthenticated = "/api/v1/homecare/orders"
