"""Reading the container files without a container engine: the Dockerfile's stages, deploy/compose.yaml
with its variables resolved, and the start-up command an image runs — shared by tests/deploy/test_*.py."""

from __future__ import annotations

import ast
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
COMPOSE = REPO / "deploy" / "compose.yaml"
ENTRYPOINT = REPO / "deploy" / "docker" / "entrypoint.sh"
IMAGE_ROOT = "/app"  # where the Dockerfile puts the repository's files in a service image
SECRETS_MOUNT = "/run/secrets"


def local_services() -> tuple[str, ...]:
    """``SERVICES`` of deploy/local/run.py (read, not imported: it is a script)."""
    tree = ast.parse((REPO / "deploy" / "local" / "run.py").read_text("utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "SERVICES" for target in node.targets
        ):
            value = ast.literal_eval(node.value)
            assert isinstance(value, tuple)
            return tuple(str(name) for name in value)
    raise AssertionError("deploy/local/run.py defines no SERVICES")


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case
    arguments: str
    line: int

    def flags(self) -> dict[str, str]:
        """``--name=value`` flags at the start of the arguments (COPY --chown=…, FROM --platform=…)."""
        found: dict[str, str] = {}
        for word in self.arguments.split():
            if not word.startswith("--"):
                break
            name, _, value = word[2:].partition("=")
            found[name] = value
        return found

    def operands(self) -> list[str]:
        """The arguments after the flags; JSON (exec) form or words."""
        words = self.arguments.split()
        while words and words[0].startswith("--"):
            words.pop(0)
        rest = " ".join(words)
        if rest.startswith("["):
            parsed = yaml.safe_load(rest)  # a JSON array is YAML
            assert isinstance(parsed, list), f"line {self.line}: not a JSON array: {rest}"
            return [str(item) for item in parsed]
        return shlex.split(rest)


@dataclass
class Stage:
    base: str  # the image or the stage it is built FROM
    name: str
    line: int
    instructions: list[Instruction] = field(default_factory=list)


@dataclass
class Dockerfile:
    stages: list[Stage]

    def stage(self, name: str) -> Stage:
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(name)

    def names(self) -> set[str]:
        return {stage.name for stage in self.stages if stage.name}

    def lineage(self, name: str) -> list[Stage]:
        """The stage and the stages it is built FROM, nearest first."""
        chain = [self.stage(name)]
        while chain[-1].base in self.names():
            chain.append(self.stage(chain[-1].base))
        return chain

    def external_bases(self) -> list[Stage]:
        return [stage for stage in self.stages if stage.base not in self.names()]

    def last(self, name: str, keyword: str) -> Instruction | None:
        """The instruction that is in force in a target (the last one in its lineage), or None."""
        for stage in self.lineage(name):
            for instruction in reversed(stage.instructions):
                if instruction.keyword == keyword:
                    return instruction
        return None

    def env(self, name: str) -> dict[str, str]:
        """The ENV variables a target's image has (its lineage's, the nearest stage winning)."""
        values: dict[str, str] = {}
        for stage in reversed(self.lineage(name)):
            for instruction in stage.instructions:
                if instruction.keyword == "ENV":
                    for word in shlex.split(instruction.arguments):
                        key, _, value = word.partition("=")
                        values[key] = value
        return values


def logical_lines(text: str) -> list[tuple[int, str]]:
    """Instructions with their continuation lines joined; comments and blank lines dropped."""
    lines: list[tuple[int, str]] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending.append(stripped[:-1].strip())
            continue
        pending.append(stripped)
        lines.append((start, " ".join(part for part in pending if part)))
        pending = []
    if pending:
        lines.append((start, " ".join(pending)))
    return lines


def parse_dockerfile(text: str) -> Dockerfile:
    stages: list[Stage] = []
    for number, line in logical_lines(text):
        keyword, _, arguments = line.partition(" ")
        instruction = Instruction(keyword.upper(), arguments.strip(), number)
        if instruction.keyword == "FROM":
            operands = instruction.operands()
            name = operands[2] if len(operands) >= 3 and operands[1].lower() == "as" else ""
            stages.append(Stage(base=operands[0], name=name, line=number))
        elif stages:
            stages[-1].instructions.append(instruction)
        else:
            assert instruction.keyword == "ARG", f"line {number}: {keyword} before the first FROM"
    return Dockerfile(stages)


def dockerfile() -> Dockerfile:
    return parse_dockerfile(DOCKERFILE.read_text("utf-8"))


# ---- deploy/compose.yaml ----

_VARIABLE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}")


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's interpolation of ``${NAME}`` / ``${NAME:-default}`` (``$$`` is a literal ``$``)."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, default = match.group(1), match.group(2)
        given = variables.get(name, "")
        return given if given else (default or "")

    return _VARIABLE.sub(replace, value)


def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text("utf-8"))
    assert isinstance(data, dict)
    return data


def environment(service: dict[str, Any], variables: dict[str, str] | None = None) -> dict[str, str]:
    """A compose service's environment, interpolated with ``variables`` (else the file's defaults)."""
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) for item in raw)
    return {str(key): interpolate(str(value), variables or {}) for key, value in raw.items()}


def image_command(target: str, compose_service: dict[str, Any]) -> list[str]:
    """What the container of ``compose_service`` runs: the image's ENTRYPOINT with the service's
    ``command`` (else the image's CMD), the image's paths mapped to this checkout."""
    image = dockerfile()
    entrypoint = image.last(target, "ENTRYPOINT")
    assert entrypoint is not None, f"target {target} has no ENTRYPOINT"
    command: list[str] | None = compose_service.get("command")
    if command is None:
        cmd = image.last(target, "CMD")
        command = cmd.operands() if cmd else []
    words = [*entrypoint.operands(), *command]
    return [word.replace(IMAGE_ROOT + "/", str(REPO) + "/") for word in words]


def run_image_command(
    target: str, command: list[str], env: dict[str, str], *, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` as the container of ``target`` would (its ENTRYPOINT, its ENV, then ``env``),
    outside a container: this checkout's files, this virtualenv's python first on PATH."""
    return subprocess.run(
        image_command(target, {"command": command}),
        env=image_environment(target, env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def image_environment(target: str, env: dict[str, str]) -> dict[str, str]:
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return {"PATH": path, **dockerfile().env(target), **env}


def outside(env: dict[str, str], secrets_dir: Path) -> dict[str, str]:
    """A compose environment with the secrets' mount point mapped to a directory of this machine."""
    return {key: value.replace(SECRETS_MOUNT + "/", f"{secrets_dir}/") for key, value in env.items()}
