"""Why a column is not carried by a change feed: the reasons every service's ``feed.py`` gives.

A service declares one :class:`libs.common.changes.FeedEntity` per tracked table: a versioned payload that
allow-lists the fields its list endpoint shows, delivered only to readers holding that list's permission.
Every column left out is named in the entity's ``excluded`` with its reason, one of these (or a reason of
the service's own where none fits); ``tests/openapi/test_feed_payloads.py`` holds every entity to this.
"""

from __future__ import annotations

from typing import Final

#: the list endpoint does not show it (only the detail, or nowhere)
NOT_LISTED: Final = "列表中不显示"
#: names, ID numbers, phones: a reader entitled to them reads the list (masked per viewer, audited)
PERSONAL: Final = "个人信息（列表中脱敏显示），订阅中不提供"
#: a place where a person lives or is
LOCATION: Final = "位置属个人信息，订阅中不提供"
#: the keyed hash that lets a personal value be looked up without decrypting it
BLIND_INDEX: Final = "查询用密钥散列，从不对外"
#: diagnoses, findings, care plans, clinical orders
HEALTH: Final = "健康/诊疗数据，订阅中不提供，需要者逐条读取"
#: free text that may hold personal or clinical information
FREE_TEXT: Final = "自由文本，可能含个人或诊疗信息，订阅中不提供，需要者逐条读取"
