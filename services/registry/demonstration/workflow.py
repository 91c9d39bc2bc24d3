"""The review ladder as data: who holds an application in each state, and which level may move it where.

    draft ──submit──▶ submitted ──county-recommend──▶ county_recommended          (institutions)
    draft ──submit──▶ submitted ─────────────────────────────────────┐            (counties)
                     county_recommended / submitted ──city-recommend──▶ city_recommended
    city_recommended ──province-approve──▶ province_approved ──send-to-nation──▶ sent_to_nation
    sent_to_nation ──national-result──▶ national_candidate | named | not_named
    national_candidate ──national-result / name──▶ named | not_named
    named ──reassess──▶ named (dynamic management) ──revoke──▶ revoked
    any reviewing level ──return──▶ one level down;  ──decline──▶ declined

A level acts only while it holds the application; once it has passed it up it can no longer change it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from libs.common.auth import Role
from services.registry.demonstration.models import ApplicationKind, ApplicationState


class Level(StrEnum):
    applicant = "applicant"
    county = "county"
    city = "city"
    province = "province"
    nation = "nation"
    closed = "closed"


LEVEL_LABELS = {
    Level.applicant: "申报单位",
    Level.county: "县级卫生健康部门",
    Level.city: "市级卫生健康部门",
    Level.province: "省卫生健康委",
    Level.nation: "国家卫生健康委",
    Level.closed: "已结束",
}

# order used to tell "passed up above you" from "not yet at your level"
_RANK = {Level.applicant: 0, Level.county: 1, Level.city: 2, Level.province: 3, Level.nation: 4}


class Action(StrEnum):
    submit = "submit"
    county_recommend = "county-recommend"
    city_recommend = "city-recommend"
    province_approve = "province-approve"
    send_to_nation = "send-to-nation"
    national_result = "national-result"
    name = "name"
    reassess = "reassess"
    revoke = "revoke"
    return_ = "return"
    decline = "decline"


ACTION_LABELS = {
    Action.submit: "提交申报",
    Action.county_recommend: "县级推荐",
    Action.city_recommend: "市级推荐",
    Action.province_approve: "省级评审通过",
    Action.send_to_nation: "报送国家",
    Action.national_result: "登记国家评估结果",
    Action.name: "命名",
    Action.reassess: "动态管理复核",
    Action.revoke: "撤销命名",
    Action.return_: "退回",
    Action.decline: "不予推荐",
}

S = ApplicationState
K = ApplicationKind


def holder(kind: ApplicationKind, state: ApplicationState) -> Level:
    """The level that holds (and alone may act on) an application in ``state``."""
    if state is S.draft:
        return Level.applicant
    if state is S.submitted:
        return Level.county if kind is K.institution else Level.city
    if state is S.county_recommended:
        return Level.city
    if state in (S.city_recommended, S.province_approved, S.named):
        return Level.province
    if state in (S.sent_to_nation, S.national_candidate):
        return Level.nation
    return Level.closed


def acting_level(role: Role, kind: ApplicationKind) -> Level | None:
    """The level a role acts at on an application of ``kind`` (the applicant, or a reviewing level)."""
    if role is Role.institution_admin:
        return Level.applicant if kind is K.institution else None
    if role is Role.county_admin:
        return Level.applicant if kind is K.county else Level.county
    if role is Role.city_admin:
        return Level.city
    if role is Role.province_admin:
        return Level.province
    return None


@dataclass(frozen=True, slots=True)
class Move:
    action: Action
    source: ApplicationState
    kind: ApplicationKind | None  # None: both kinds
    level: Level  # the level that performs it (province also records the nation's results)
    target: ApplicationState | None  # None: decided by the request (national results, returns)


def _both(action: Action, source: ApplicationState, level: Level, target: ApplicationState | None) -> Move:
    return Move(action, source, None, level, target)


MOVES: tuple[Move, ...] = (
    _both(Action.submit, S.draft, Level.applicant, S.submitted),
    Move(Action.county_recommend, S.submitted, K.institution, Level.county, S.county_recommended),
    Move(Action.city_recommend, S.submitted, K.county, Level.city, S.city_recommended),
    Move(Action.city_recommend, S.county_recommended, K.institution, Level.city, S.city_recommended),
    _both(Action.province_approve, S.city_recommended, Level.province, S.province_approved),
    _both(Action.send_to_nation, S.province_approved, Level.province, S.sent_to_nation),
    _both(Action.national_result, S.sent_to_nation, Level.province, None),
    _both(Action.national_result, S.national_candidate, Level.province, None),
    _both(Action.name, S.national_candidate, Level.province, S.named),
    _both(Action.reassess, S.named, Level.province, S.named),
    _both(Action.revoke, S.named, Level.province, S.revoked),
    # returns: one level down
    Move(Action.return_, S.submitted, K.institution, Level.county, S.draft),
    Move(Action.return_, S.submitted, K.county, Level.city, S.draft),
    Move(Action.return_, S.county_recommended, K.institution, Level.city, S.submitted),
    _both(Action.return_, S.city_recommended, Level.province, None),
    _both(Action.return_, S.province_approved, Level.province, None),
    # declines: the holding level does not pass it up
    Move(Action.decline, S.submitted, K.institution, Level.county, S.declined),
    Move(Action.decline, S.submitted, K.county, Level.city, S.declined),
    Move(Action.decline, S.county_recommended, K.institution, Level.city, S.declined),
    _both(Action.decline, S.city_recommended, Level.province, S.declined),
    _both(Action.decline, S.province_approved, Level.province, S.declined),
)


def moves_from(kind: ApplicationKind, state: ApplicationState) -> list[Move]:
    return [m for m in MOVES if m.source is state and (m.kind is None or m.kind is kind)]


def find_move(kind: ApplicationKind, state: ApplicationState, action: Action) -> Move | None:
    return next((m for m in moves_from(kind, state) if m.action is action), None)


def allowed_actions(kind: ApplicationKind, state: ApplicationState, level: Level | None) -> list[str]:
    return [m.action.value for m in moves_from(kind, state) if m.level is level]


def city_held_state(kind: ApplicationKind) -> ApplicationState:
    """Where an application returned by the province to its city lands."""
    return S.county_recommended if kind is K.institution else S.submitted


def is_above(holding: Level, level: Level) -> bool:
    """``holding`` is a higher level than ``level`` (the application has been passed up past it)."""
    return holding in _RANK and level in _RANK and _RANK[holding] > _RANK[level]
