"""家庭病床 rules on their own functions, written from rules.md: who qualifies (clear diagnosis, stable,
bedridden or too frail to go out, at least one qualifying condition; the family-doctor contract is a
setting, config homecare.home_bed_requires_family_doctor_contract) and the lifecycle apply → assess →
open → rounds / re-assessment → close, withdrawal before opening."""

from __future__ import annotations

import pytest

from libs.common.errors import IllegalTransition
from services.homecare.home_beds.models import HomeBed, HomeBedStatus, Mobility, QualifyingCondition
from services.homecare.home_beds.service import _target, allowed_actions, qualification_gaps
from services.homecare.settings import HomecareSettings

S = HomeBedStatus
SETTINGS = HomecareSettings()


def _bed(**overrides: object) -> HomeBed:
    values: dict[str, object] = {
        "status": S.applied,
        "version": 2,
        "diagnosis": "脑梗死后遗症",
        "condition_stable": True,
        "mobility": Mobility.bedridden,
        "conditions": [QualifyingCondition.stroke_or_post_surgery_rehab.value],
        "has_family_doctor_contract": True,
    }
    values.update(overrides)
    return HomeBed(**values)


def test_a_patient_meeting_every_rule_qualifies() -> None:
    assert qualification_gaps(_bed(), SETTINGS) == []
    assert qualification_gaps(_bed(mobility=Mobility.frail), SETTINGS) == []


@pytest.mark.parametrize(
    ("overrides", "gap"),
    [
        ({"diagnosis": "   "}, "须有明确诊断"),
        ({"condition_stable": False}, "病情须稳定"),
        ({"mobility": Mobility.ambulant}, "须长期卧床或体弱行动不便"),
        ({"conditions": []}, "须符合至少一项建床病种或情形"),
        ({"has_family_doctor_contract": False}, "须已签约家庭医生"),
    ],
)
def test_each_unmet_rule_is_named(overrides: dict[str, object], gap: str) -> None:
    assert qualification_gaps(_bed(**overrides), SETTINGS) == [gap]


def test_every_unmet_rule_is_named_at_once() -> None:
    bed = _bed(
        diagnosis="",
        condition_stable=False,
        mobility=Mobility.ambulant,
        conditions=[],
        has_family_doctor_contract=False,
    )
    assert len(qualification_gaps(bed, SETTINGS)) == 5


def test_the_family_doctor_contract_is_a_setting() -> None:
    relaxed = HomecareSettings(home_bed_requires_family_doctor_contract=False)
    assert qualification_gaps(_bed(has_family_doctor_contract=False), relaxed) == []


LIFECYCLE = {
    S.applied: ["assess", "withdraw"],
    S.assessed: ["open", "withdraw"],
    S.opened: ["rounds", "reassess", "close"],
    S.not_qualified: [],
    S.closed: [],
    S.withdrawn: [],
}


@pytest.mark.parametrize("status", list(S))
def test_the_actions_each_state_allows(status: HomeBedStatus) -> None:
    assert allowed_actions(status) == LIFECYCLE[status]


@pytest.mark.parametrize(
    ("source", "action", "reached"),
    [
        (S.applied, "assess", S.assessed),
        (S.assessed, "open", S.opened),
        (S.opened, "rounds", S.opened),
        (S.opened, "reassess", S.opened),
        (S.opened, "close", S.closed),
        (S.applied, "withdraw", S.withdrawn),
        (S.assessed, "withdraw", S.withdrawn),
    ],
)
def test_a_legal_move_reaches_its_state(source: HomeBedStatus, action: str, reached: HomeBedStatus) -> None:
    assert _target(_bed(status=source), action) is reached


@pytest.mark.parametrize(
    ("source", "action"),
    [
        (S.applied, "open"),
        (S.assessed, "close"),
        (S.opened, "withdraw"),
        (S.closed, "close"),
        (S.withdrawn, "assess"),
    ],
)
def test_an_illegal_move_is_409_with_the_allowed_actions_and_the_current_state(
    source: HomeBedStatus, action: str
) -> None:
    with pytest.raises(IllegalTransition) as refused:
        _target(_bed(status=source), action)
    assert refused.value.status == 409
    assert refused.value.extra is not None
    assert refused.value.extra["current"] == {"status": source.value, "version": 2}
    assert refused.value.extra["allowed"] == LIFECYCLE[source]
    assert (refused.value.extra["state"], refused.value.extra["action"]) == (source.value, action)
    assert "家庭病床" in refused.value.detail
