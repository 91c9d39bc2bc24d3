"""Fee arithmetic, in Decimal yuan: item prices (the provider's snapshot) + one 上门服务费 + consumables."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def yuan(value: Decimal | int | str) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def items_total(prices: Iterable[Decimal]) -> Decimal:
    return yuan(sum(prices, Decimal(0)))


def consumable_line(qty: Decimal | int, unit_price_yuan: Decimal) -> Decimal:
    return yuan(Decimal(qty) * unit_price_yuan)


def consumables_total(lines: Iterable[tuple[Decimal | int, Decimal]]) -> Decimal:
    return yuan(sum((consumable_line(q, p) for q, p in lines), Decimal(0)))


def total(items: Decimal, visit_fee: Decimal, consumables: Decimal | None) -> Decimal:
    return yuan(items + visit_fee + (consumables or Decimal(0)))
