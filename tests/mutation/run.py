"""Mutation testing of the rule modules, each against only its own tests (so a run stays bounded on two
shared cores): ``python -m tests.mutation.run [module ...]`` (``make mutation MODULES="identifiers"``).

Each module is mutated with mutmut 3 in a copy of the tree under ``var/mutation/<module>/`` (mutmut
writes ``mutants/`` next to the configuration it reads, so the shared work tree is never touched); the
survivors are listed with ``mutmut show`` there. The scores and the explained survivors are kept in
docs/RELIABILITY.md.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / "var" / "mutation"
COPIED = ("libs", "services", "tests", "migrations", "alembic.ini", "pyproject.toml")

# module name → (files mutated, tests run against each mutant)
MODULES: dict[str, tuple[list[str], list[str]]] = {
    "identifiers": (["libs/common/identifiers.py"], ["tests/common/test_identifiers.py"]),
    "scope": (
        ["libs/common/scope.py", "libs/common/divisions.py"],
        ["tests/common/test_divisions_and_logs.py", "tests/homecare/test_scope.py"],
    ),
    "access": (["libs/common/access.py"], ["tests/homecare/test_permissions.py"]),
    "order_lifecycle": (
        ["services/homecare/orders/lifecycle.py", "services/homecare/orders/transitions.py"],
        ["tests/homecare/orders/test_lifecycle.py", "tests/homecare/orders/test_rule_negatives.py"],
    ),
    "booking": (["services/homecare/orders/booking.py"], ["tests/homecare/orders"]),
    "agreements": (
        ["services/contracts/agreements/lifecycle.py"],
        ["tests/contracts/agreements/test_lifecycle.py"],
    ),
    "home_beds": (["services/homecare/home_beds/service.py"], ["tests/homecare/home_beds"]),
    "demo_criteria": (
        ["services/registry/demonstration/criteria.py"],
        ["tests/registry/demonstration/test_criteria.py"],
    ),
    "visit_shortfall": (["services/contracts/visits/service.py"], ["tests/contracts/visits"]),
}


def _prepare(name: str, files: list[str], tests: list[str]) -> Path:
    where = WORK / name
    shutil.rmtree(where, ignore_errors=True)
    where.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for entry in COPIED:
        source = ROOT / entry
        if source.is_dir():
            shutil.copytree(source, where / entry, ignore=ignore)
        else:
            shutil.copy2(source, where / entry)
    config = (
        "\n[tool.mutmut]\n"
        'source_paths = ["libs", "services"]\n'
        f"only_mutate = {files!r}\n"
        f"pytest_add_cli_args_test_selection = {tests!r}\n"
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "-q", "-x"]\n'
    ).replace("'", '"')
    with (where / "pyproject.toml").open("a", encoding="utf-8") as handle:
        handle.write(config)
    return where


def run(name: str, children: int, timeout: float) -> Counter[str]:
    files, tests = MODULES[name]
    where = _prepare(name, files, tests)
    mutmut = str(Path(sys.executable).with_name("mutmut"))
    with (where / "run.log").open("w", encoding="utf-8") as log:
        subprocess.run(
            [mutmut, "run", "--max-children", str(children)],
            cwd=where,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            check=False,
        )
    listing = subprocess.run(
        [mutmut, "results", "--all", "true"], cwd=where, capture_output=True, text=True, check=True
    ).stdout
    statuses = Counter(line.rsplit(":", 1)[1].strip() for line in listing.splitlines() if ":" in line)
    survivors = [line.rsplit(":", 1)[0].strip() for line in listing.splitlines() if line.endswith("survived")]
    with (where / "survivors.diff").open("w", encoding="utf-8") as out:
        for mutant in survivors:
            shown = subprocess.run([mutmut, "show", mutant], cwd=where, capture_output=True, text=True)
            out.write(f"## {mutant}\n{shown.stdout}\n")
    return statuses


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("modules", nargs="*", help=f"default: all of {', '.join(MODULES)}")
    parser.add_argument("--children", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per module")
    args = parser.parse_args()
    unknown = sorted(set(args.modules) - set(MODULES))
    if unknown:
        parser.error(f"unknown modules: {unknown}")
    failed = False
    for name in args.modules or list(MODULES):
        statuses = run(name, args.children, args.timeout)
        total = sum(statuses.values())
        killed = statuses.get("killed", 0)
        score = f"{100 * killed / total:.1f}%" if total else "n/a"
        print(f"{name}: {killed}/{total} killed ({score}); {dict(statuses)}; see var/mutation/{name}/")
        failed = failed or total == 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
