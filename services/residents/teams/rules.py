"""The composition rules of a 家庭医生团队 (三师两员), as pure functions.

The source documents (seed 002, 厦门: "推行由全科医生、专科医生、乡村医生、健康管理员、人口管理员组成的
'三师两员'家庭医生签约团队模式"; rules.md: family-doctor teams *confirmed*) name five roles. What we derive
from them (our reading, stated here and tested):

* A team works at a **primary-care institution** (社区卫生服务中心, 社区卫生服务站, 乡镇卫生院, 村卫生室):
  family-doctor signing is primary care's task.
* A team needs **at least one 全科医生** and is led by one of them: the 全科医生 is the "家庭医生" who
  signs; a team without one cannot sign anybody. The other four roles complete the 三师两员 model but are
  not required (a city 社区卫生服务中心 has no 乡村医生): the team's ``missing_roles`` lists them.
* Members are registry practitioners, active, of the team's institution, holding a qualifying kind for
  their role: the three 师 (全科医生, 专科医生, 乡村医生) are 医师 (the registry has no finer specialty;
  a 乡村医生 is registered as a 医师 of a 村卫生室 or 乡镇卫生院); a 健康管理员 is a 医师 or 护士; a
  人口管理员 may be any registry practitioner (医师, 护士 or 护理员).
* A practitioner holds one role in a team (and may serve in several teams).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Final


class TeamRole(StrEnum):
    general_practitioner = "general_practitioner"
    specialist = "specialist"
    village_doctor = "village_doctor"
    health_manager = "health_manager"
    population_manager = "population_manager"


TEAM_ROLE_LABELS: Final = {
    TeamRole.general_practitioner: "全科医生",
    TeamRole.specialist: "专科医生",
    TeamRole.village_doctor: "乡村医生",
    TeamRole.health_manager: "健康管理员",
    TeamRole.population_manager: "人口管理员",
}

#: the registry's practitioner kinds (``doctor`` / ``nurse`` / ``carer``) that may hold each role
QUALIFYING_KINDS: Final[dict[TeamRole, frozenset[str]]] = {
    TeamRole.general_practitioner: frozenset({"doctor"}),
    TeamRole.specialist: frozenset({"doctor"}),
    TeamRole.village_doctor: frozenset({"doctor"}),
    TeamRole.health_manager: frozenset({"doctor", "nurse"}),
    TeamRole.population_manager: frozenset({"doctor", "nurse", "carer"}),
}

#: the role a team cannot be without (it leads the team and signs residents)
REQUIRED_ROLE: Final = TeamRole.general_practitioner


def qualifies(role: TeamRole, practitioner_kind: str) -> bool:
    """Whether a registry practitioner of ``practitioner_kind`` may hold ``role``."""
    return practitioner_kind in QUALIFYING_KINDS[role]


def has_required_role(roles: Iterable[TeamRole]) -> bool:
    """A team's members include at least one 全科医生."""
    return REQUIRED_ROLE in set(roles)


def missing_roles(roles: Iterable[TeamRole]) -> list[TeamRole]:
    """The 三师两员 roles nobody in the team holds, in the model's order."""
    present = set(roles)
    return [role for role in TeamRole if role not in present]
