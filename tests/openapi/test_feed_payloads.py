"""Each change-feed payload is a declared allow-list that cannot drift from its model or its list.

* every change-tracked model of every service declares its ``FeedEntity``;
* every column of the model is either in the payload or in the entity's committed ``excluded`` list (with
  a reason) — so a new column makes this test fail until someone decides, on purpose, whether the feed
  carries it;
* every payload field is a field of the list schema that shows the entity (or is explained in
  ``shown_as``), so the feed never gives what the list does not;
* no payload carries an attribute the model itself marks as never to be copied (``__change_exclude__``);
* the permission is a real permission of the service's table.
"""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

import services.contracts.models
import services.homecare.models
import services.registry.models
import services.residents.models
from libs.common.access import Policy
from libs.common.changes import FeedEntity, feed_entity_of
from libs.common.models import ChangeTracked
from services.contracts.feed import FEED as CONTRACTS_FEED
from services.contracts.permissions import POLICY as CONTRACTS_POLICY
from services.homecare.feed import FEED as HOMECARE_FEED
from services.homecare.permissions import POLICY as HOMECARE_POLICY
from services.registry.feed import FEED as REGISTRY_FEED
from services.registry.permissions import POLICY as REGISTRY_POLICY
from services.residents.feed import FEED as RESIDENTS_FEED
from services.residents.permissions import POLICY as RESIDENTS_POLICY

FEEDS: dict[str, tuple[list[FeedEntity], Policy]] = {
    "registry": (REGISTRY_FEED, REGISTRY_POLICY),
    "contracts": (CONTRACTS_FEED, CONTRACTS_POLICY),
    "homecare": (HOMECARE_FEED, HOMECARE_POLICY),
    "residents": (RESIDENTS_FEED, RESIDENTS_POLICY),
}
ENTITIES = [(service, entity) for service, (feed, _policy) in FEEDS.items() for entity in feed]
IDS = [f"{service}:{entity.entity_type}" for service, entity in ENTITIES]


def _tracked_models() -> list[type[ChangeTracked]]:
    found: list[type[ChangeTracked]] = []
    stack = list(ChangeTracked.__subclasses__())
    while stack:
        model = stack.pop()
        stack += model.__subclasses__()
        if model.__module__.startswith("services."):
            found.append(model)
    return found


def test_every_tracked_model_of_every_service_declares_its_feed_payload() -> None:
    for aggregate in (
        services.registry.models,
        services.contracts.models,
        services.homecare.models,
        services.residents.models,
    ):
        assert aggregate.feed.FEED  # the aggregates import each service's declarations
    declared = {entity.model for _service, entity in ENTITIES}
    for model in _tracked_models():
        assert feed_entity_of(model).model is model
        assert model in declared, f"{model.__name__} is tracked but in no service's FEED list"


@pytest.mark.parametrize(("service", "entity"), ENTITIES, ids=IDS)
def test_every_column_is_carried_or_excluded_on_purpose(service: str, entity: FeedEntity) -> None:
    columns = {attr.key for attr in inspect(entity.model).column_attrs}
    carried = set(entity.payload.model_fields)
    undeclared = columns - carried - set(entity.excluded)
    assert not undeclared, (
        f"{entity.model.__name__} has columns neither in {entity.payload.__name__} nor in the FeedEntity's "
        f"excluded list: {sorted(undeclared)} — add each to the payload or to `excluded` with the reason "
        f"(services/{service}/feed.py)"
    )
    assert not carried & set(entity.excluded), "a field cannot be both carried and excluded"
    assert set(entity.excluded) <= columns, f"stale exclusions: {sorted(set(entity.excluded) - columns)}"
    renamed = set(entity.renamed)  # a public name's old spelling, carrying its new name's column
    assert set(entity.renamed.values()) <= carried & columns, "an old name is carried beside its new one"
    assert carried - renamed <= columns, (
        f"payload fields that are no column: {sorted(carried - renamed - columns)}"
    )
    assert all(reason.strip() for reason in entity.excluded.values())


@pytest.mark.parametrize(("service", "entity"), ENTITIES, ids=IDS)
def test_a_payload_carries_only_what_the_list_shows(service: str, entity: FeedEntity) -> None:
    listed = set(entity.shown_by.model_fields)
    carried = set(entity.payload.model_fields)
    assert set(entity.shown_as) <= carried
    assert not set(entity.shown_as) & listed, "shown_as is only for fields the list shows in another shape"
    assert carried - set(entity.shown_as) <= listed, sorted(carried - set(entity.shown_as) - listed)
    assert not carried & entity.model.__change_exclude__


@pytest.mark.parametrize(("service", "entity"), ENTITIES, ids=IDS)
def test_the_permission_is_the_services_own(service: str, entity: FeedEntity) -> None:
    _feed, policy = FEEDS[service]
    assert entity.permission in policy.permissions
    assert entity.permission.endswith(":read")
