from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, computed_field

from services.residents.teams.rules import TEAM_ROLE_LABELS, TeamRole

TeamName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class TeamMemberCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"practitioner_id": "6f1c0a5e-7b7f-4a55-9d35-0d2f5e0c1a03", "role": "specialist"}]
        },
    )

    practitioner_id: uuid.UUID = Field(description="机构注册服务中的医务人员 id（须为本机构在岗人员）")
    role: TeamRole = Field(description="三师两员中的角色")


class TeamCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "湖里街道家庭医生第一团队",
                    "members": [
                        {
                            "practitioner_id": "6f1c0a5e-7b7f-4a55-9d35-0d2f5e0c1a01",
                            "role": "general_practitioner",
                        },
                        {"practitioner_id": "6f1c0a5e-7b7f-4a55-9d35-0d2f5e0c1a02", "role": "health_manager"},
                    ],
                }
            ]
        },
    )

    name: TeamName
    leader_practitioner_id: uuid.UUID | None = Field(
        default=None, description="团队长（须为本团队的全科医生）；为空取成员中第一名全科医生"
    )
    members: list[TeamMemberCreate] = Field(min_length=1, max_length=30)


class TeamUpdate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "湖里街道家庭医生第二团队",
                    "leader_practitioner_id": "6f1c0a5e-7b7f-4a55-9d35-0d2f5e0c1a01",
                }
            ]
        },
    )

    name: TeamName | None = None
    leader_practitioner_id: uuid.UUID | None = Field(
        default=None, description="团队长（须为本团队的全科医生）"
    )


class TeamMemberRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    practitioner_id: uuid.UUID
    practitioner_name: str
    practitioner_kind: str = Field(description="注册服务中的人员类别：doctor / nurse / carer")
    role: TeamRole
    created_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def role_label(self) -> str:
        return TEAM_ROLE_LABELS[self.role]


class TeamRead(BaseModel):
    id: uuid.UUID
    institution_id: uuid.UUID
    institution_name: str
    region_code: str
    name: str
    leader_practitioner_id: uuid.UUID
    active: bool
    members: list[TeamMemberRead]
    missing_roles: list[TeamRole] = Field(description="三师两员中尚无人担任的角色")
    version: int
    created_at: datetime
    updated_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def missing_role_labels(self) -> list[str]:
        return [TEAM_ROLE_LABELS[role] for role in self.missing_roles]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def complete(self) -> bool:
        """三师两员 all present."""
        return not self.missing_roles
