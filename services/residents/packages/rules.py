"""What a 家庭医生签约服务包 is, as data and pure rules.

Seed 002 (厦门): "扩大家庭医生签约服务包内容 … 签约服务费由基本公共卫生服务经费、医保基金和签约居民个人缴费
共同支付". We read it as: an institution publishes **basic** packages (基础包: the basic public-health
and general-practice services every signed resident receives) and **personalised** ones (个性化包: added
services a resident chooses and may pay for). A package is versioned: changing its items or fee
publishes a new version of the same code and retires the previous one; a contract keeps the version it
was signed with. A contract holds exactly one basic package and any number of personalised ones, each
code at most once (our own reading).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Final


class PackageKind(StrEnum):
    basic = "basic"
    personalised = "personalised"


PACKAGE_KIND_LABELS: Final = {PackageKind.basic: "基础服务包", PackageKind.personalised: "个性化服务包"}


class PackageStatus(StrEnum):
    active = "active"
    retired = "retired"


PACKAGE_STATUS_LABELS: Final = {PackageStatus.active: "在用", PackageStatus.retired: "已停用"}


def contract_package_gaps(kinds: Iterable[PackageKind], codes: Iterable[str]) -> list[str]:
    """Why a contract's chosen packages are not a valid set (empty: valid)."""
    kinds, codes = list(kinds), list(codes)
    gaps = []
    basic = sum(1 for kind in kinds if kind is PackageKind.basic)
    if basic != 1:
        gaps.append("须选择且只能选择一个基础服务包")
    if len(set(codes)) != len(codes):
        gaps.append("同一服务包不能重复选择")
    return gaps
