from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from services.homecare import clock
from tests.homecare.world import HC, World, crew, to_status


async def _rated(world: World, c: Any, score: int, day: int) -> dict[str, Any]:
    order = await world.order(c.provider, c.recipient["id"], start=datetime.now(UTC) + timedelta(days=day))
    await to_status(world, c, order, "completed")
    response = await world.act(order["id"], "rate", world.admin(c.provider), {"score": score})
    assert response.status_code == 200, response.text
    return order


async def test_satisfaction_per_provider_against_the_95_percent_bar(world: World) -> None:
    c = await crew(world)
    for day, score in enumerate((5, 4, 5, 2)):
        await _rated(world, c, score, day)
    report = await world.client.get(f"{HC}/reports/satisfaction?group_by=provider", headers=world.county())
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["bar_pct"] == 95
    row = next(r for r in body["rows"] if r["key"] == str(c.provider.id))
    assert row["ratings"] == 4
    assert row["satisfied"] == 3
    assert row["satisfied_pct"] == "75.00"
    assert row["meets_bar"] is False
    assert row["label"] == c.provider.name
    by_region = (
        await world.client.get(f"{HC}/reports/satisfaction?group_by=region", headers=world.city())
    ).json()
    assert by_region["rows"][0]["key"] == "350206"
    assert by_region["rows"][0]["label"] == "湖里区"
    assert (await world.client.get(f"{HC}/reports/satisfaction", headers=world.county("350203"))).json()[
        "rows"
    ] == []


async def test_response_time_average_and_median(world: World) -> None:
    c = await crew(world)
    orders = [
        await world.order(c.provider, c.recipient["id"], start=datetime.now(UTC) + timedelta(days=i))
        for i in range(3)
    ]
    for order in orders:
        await to_status(world, c, order, "checked_in")
    report = await world.client.get(f"{HC}/reports/response-times", headers=world.admin(c.provider))
    row = report.json()["rows"][0]
    assert row["orders"] == 3
    assert row["avg_minutes"] is not None
    assert row["median_minutes"] is not None
    assert float(row["median_minutes"]) >= 0


async def test_orders_by_item_status_and_region_within_scope(world: World) -> None:
    c = await crew(world)
    await world.order(c.provider, c.recipient["id"], items=["HC01", "HC05"])
    second = await world.order(c.provider, c.recipient["id"], items=["HC01"])
    await world.act(second["id"], "cancel", world.admin(c.provider), {})
    by_item = (
        await world.client.get(f"{HC}/reports/orders?group_by=item", headers=world.admin(c.provider))
    ).json()
    assert {r["key"]: r["count"] for r in by_item["rows"]} == {"HC01": 2, "HC05": 1}
    assert by_item["rows"][0]["label"] == "生命体征监测"
    by_status = (
        await world.client.get(f"{HC}/reports/orders?group_by=status", headers=world.admin(c.provider))
    ).json()
    assert {r["key"]: r["count"] for r in by_status["rows"]} == {"submitted": 1, "cancelled": 1}
    assert {r["label"] for r in by_status["rows"]} == {"已提交", "已取消"}
    by_region = (
        await world.client.get(f"{HC}/reports/orders?group_by=region", headers=world.admin(c.provider))
    ).json()
    assert by_region["rows"] == [{"key": "350206", "label": "湖里区", "count": 2}]
    other = await world.provider()
    assert (await world.client.get(f"{HC}/reports/orders", headers=world.admin(other))).json()["rows"] == []


async def test_complaints_are_counted_by_status(world: World) -> None:
    c = await crew(world)
    order = await world.order(c.provider, c.recipient["id"])
    filed = await world.client.post(
        f"{HC}/orders/{order['id']}/complaints", json={"content": "护士迟到一小时"}, headers=world.platform()
    )
    assert filed.status_code == 201, filed.text
    await world.client.post(
        f"{HC}/orders/{order['id']}/complaints",
        json={"content": "收费不清楚"},
        headers=world.admin(c.provider),
    )
    resolved = await world.client.post(
        f"{HC}/complaints/{filed.json()['id']}/resolve",
        json={"resolution": "已致歉并调整排班"},
        headers={**world.admin(c.provider), "If-Match": '"1"'},
    )
    assert resolved.status_code == 200, resolved.text
    report = (await world.client.get(f"{HC}/reports/complaints", headers=world.county())).json()
    assert report["rows"] == [{"key": str(c.provider.id), "label": c.provider.name, "open": 1, "resolved": 1}]
    listed = await world.client.get(f"{HC}/complaints?status=open", headers=world.platform())
    assert len(listed.json()["items"]) == 1


async def test_home_bed_report_counts_open_opened_and_closed_per_period(world: World) -> None:
    c = await crew(world)
    doctor = world.staff(c.provider, c.doctor)
    ids = []
    for _ in range(2):
        recipient = await world.recipient(c.provider)
        created = await world.client.post(
            f"{HC}/home-beds",
            json={
                "recipient_id": recipient["id"],
                "diagnosis": "晚期肺癌",
                "condition_stable": True,
                "mobility": "frail",
                "conditions": ["advanced_cancer"],
                "has_family_doctor_contract": True,
            },
            headers=world.admin(c.provider),
        )
        bed_id = created.json()["id"]
        ids.append(bed_id)
        for action, body in (
            ("assess", {}),
            ("open", {"care_plan": "安宁疗护", "consent_at": datetime.now(UTC).isoformat()}),
        ):
            etag = (await world.client.get(f"{HC}/home-beds/{bed_id}", headers=doctor)).headers["etag"]
            assert (
                await world.client.post(
                    f"{HC}/home-beds/{bed_id}/{action}", json=body, headers={**doctor, "If-Match": etag}
                )
            ).status_code == 200
    etag = (await world.client.get(f"{HC}/home-beds/{ids[0]}", headers=doctor)).headers["etag"]
    await world.client.post(
        f"{HC}/home-beds/{ids[0]}/close",
        json={"reason": "admitted_to_hospital", "summary": "转住院"},
        headers={**doctor, "If-Match": etag},
    )
    today = clock.today().isoformat()  # business dates are China's
    report = (
        await world.client.get(
            f"{HC}/reports/home-beds?group_by=provider&from={today}&to={today}", headers=world.city()
        )
    ).json()
    row = next(r for r in report["rows"] if r["key"] == str(c.provider.id))
    assert (row["open_now"], row["opened"], row["closed"], row["overdue"]) == (1, 2, 1, 0)
    by_region = (await world.client.get(f"{HC}/reports/home-beds", headers=world.province())).json()
    assert by_region["rows"][0]["label"] == "湖里区"
