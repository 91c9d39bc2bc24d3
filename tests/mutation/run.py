"""Mutation testing of the rule modules, each against only its own tests (so a run stays bounded on two
shared cores): ``python -m tests.mutation.run [module ...]`` (``make mutation MODULES="identifiers"``).

Each module is mutated with mutmut 3 in a copy of the tree under ``var/mutation/<module>/`` (mutmut
writes ``mutants/`` next to the configuration it reads, so the shared work tree is never touched). The
copy is of the last commit (``git archive HEAD``), not of the work tree that other engineers edit at the
same time (a half-saved file elsewhere broke whole runs); ``--worktree`` copies the work tree instead.
The survivors are listed with ``mutmut show`` there. The scores and the explained survivors are kept in
docs/RELIABILITY.md.

What keeps a run short: mutmut runs each mutant's tests with ``pytest.main`` in a fresh fork, so session
fixtures (the apps, their migrations, a registry app beside them) start again for every mutant, and it
runs every selected test that called the mutated function. A module is therefore tested against its
rule tests on a bare database (tests/mutation/rule_db.py: the service's tables from its models, no app,
no HTTP) rather than the HTTP-level tests, which keep proving the same rules through the API.

A module whose rule speaks dialect-specific SQL is run on each database of its fourth column
(``TEST_DATABASE``); a mutant counts as killed when any of the runs killed it.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
import tarfile
from collections import Counter
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / "var" / "mutation"
COPIED = ("libs", "services", "tests", "migrations", "alembic.ini", "pyproject.toml")

# The databases a module's tests run on (``TEST_DATABASE``); most rules are plain Python.
SQLITE: tuple[str, ...] = ("sqlite",)
BOTH: tuple[str, ...] = ("sqlite", "postgresql")
# The more telling status when a mutant was run on several databases.
PRECEDENCE = ("killed", "timeout", "suspicious", "segfault", "survived", "no tests", "skipped", "not checked")

# module name → (files mutated, tests run against each mutant, mutant-name patterns or () for all,
# databases). The tests are the narrowest selection that exercises the module (unit tests of the rule
# functions); the patterns restrict a large module to its rule functions
# (``<module>.x_<function>__mutmut_<n>``).
MODULES: dict[str, tuple[list[str], list[str], tuple[str, ...], tuple[str, ...]]] = {
    "identifiers": (["libs/common/identifiers.py"], ["tests/common/test_identifiers.py"], (), SQLITE),
    "scope": (
        ["libs/common/scope.py", "libs/common/divisions.py"],
        ["tests/common/test_divisions_and_logs.py", "tests/common/test_scope_rules.py"],
        (),
        SQLITE,
    ),
    "access": (
        ["libs/common/access.py"],
        ["tests/common/test_access_policy.py", "tests/common/test_token_verification.py"],
        (),
        SQLITE,
    ),
    "order_lifecycle": (
        ["services/homecare/orders/lifecycle.py", "services/homecare/orders/transitions.py"],
        ["tests/homecare/orders/test_rules.py"],
        (
            "services.homecare.orders.transitions.*",
            "services.homecare.orders.lifecycle.x_title_rank__*",
            "services.homecare.orders.lifecycle.x_check_nurse__*",
        ),
        SQLITE,
    ),
    # the PostgreSQL lock (FOR UPDATE) and the SQLite one are separate branches: run on both
    "booking": (
        ["services/homecare/orders/booking.py"],
        ["tests/homecare/orders/test_booking_rules.py"],
        (),
        BOTH,
    ),
    "agreements": (
        ["services/contracts/agreements/lifecycle.py"],
        ["tests/contracts/agreements/test_calendar_rules.py"],
        (),
        SQLITE,
    ),
    "home_beds": (
        ["services/homecare/home_beds/service.py"],
        ["tests/homecare/home_beds/test_rules.py"],
        (
            "services.homecare.home_beds.service.x_allowed_actions__*",
            "services.homecare.home_beds.service.x__target__*",
            "services.homecare.home_beds.service.x_qualification_gaps__*",
        ),
        SQLITE,
    ),
    "demo_criteria": (
        ["services/registry/demonstration/criteria.py"],
        [
            "tests/registry/demonstration/test_criteria.py",
            "tests/registry/demonstration/test_criteria_shown.py",
        ],
        (),
        SQLITE,
    ),
    # the shortfall SQL differs by dialect (date arithmetic): run on both
    "visit_shortfall": (
        ["services/contracts/visits/service.py"],
        ["tests/contracts/visits/test_shortfall_rules.py"],
        (
            "services.contracts.visits.service.x_in_force_on__*",
            "services.contracts.visits.service.x_check_period__*",
            "services.contracts.visits.service.x_shortfall_select__*",
            "services.contracts.visits.service.x__shortfall__*",
            "services.contracts.visits.service.x_agreement_shortfall__*",
        ),
        BOTH,
    ),
}


def _copy_tree(where: Path, *, worktree: bool) -> None:
    if worktree:
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        for entry in COPIED:
            source = ROOT / entry
            if source.is_dir():
                shutil.copytree(source, where / entry, ignore=ignore)
            else:
                shutil.copy2(source, where / entry)
        return
    archive = subprocess.run(
        ["git", "archive", "--format=tar", "HEAD", *COPIED], cwd=ROOT, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(where, filter="data")


def _prepare(
    where: Path, files: list[str], tests: list[str], *, worktree: bool, like: Path | None = None
) -> None:
    """The copy to mutate; ``like``: an earlier copy of this run to repeat (the runs of one module on
    several databases must mutate the same code, whatever the shared tree became in the meantime)."""
    shutil.rmtree(where, ignore_errors=True)
    if like is not None:
        shutil.copytree(like, where, ignore=shutil.ignore_patterns("mutants", "run.log", "__pycache__"))
        return
    where.mkdir(parents=True)
    _copy_tree(where, worktree=worktree)
    config = (
        "\n[tool.mutmut]\n"
        'source_paths = ["libs", "services"]\n'
        # the apps run their migrations at start-up, from the tree the tests import (mutants/)
        'also_copy = ["migrations", "alembic.ini"]\n'
        f"only_mutate = {files!r}\n"
        f"pytest_add_cli_args_test_selection = {tests!r}\n"
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "-q", "-x"]\n'
    ).replace("'", '"')
    with (where / "pyproject.toml").open("a", encoding="utf-8") as handle:
        handle.write(config)


def _run_one(
    where: Path, patterns: tuple[str, ...], database: str, children: int, timeout: float
) -> dict[str, str]:
    """Run mutmut in ``where`` on ``database``; each mutant's status."""
    mutmut = str(Path(sys.executable).with_name("mutmut"))
    env = {**os.environ, "TEST_DATABASE": database}
    with (where / "run.log").open("w", encoding="utf-8") as log:
        try:
            subprocess.run(
                [mutmut, "run", "--max-children", str(children), *patterns],
                cwd=where,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            log.write(f"\n[stopped after {timeout:.0f} s: the mutants not reached count as 'not checked']\n")
    listing = subprocess.run(
        [mutmut, "results", "--all", "true"], cwd=where, env=env, capture_output=True, text=True, check=True
    ).stdout
    split = [line.rsplit(":", 1) for line in listing.splitlines() if ":" in line]
    return {
        m.strip(): s.strip() for m, s in split if not patterns or any(fnmatch(m.strip(), p) for p in patterns)
    }


def _most_telling(statuses: list[str]) -> str:
    return min(statuses, key=lambda s: PRECEDENCE.index(s) if s in PRECEDENCE else len(PRECEDENCE))


def run(name: str, children: int, timeout: float, *, worktree: bool = False) -> Counter[str]:
    files, tests, patterns, databases = MODULES[name]
    by_mutant: dict[str, list[str]] = {}
    first: Path | None = None
    where = WORK / name
    for database in databases:
        # one directory per database when there are several (``var/mutation/booking@postgresql``)
        where = WORK / (name if len(databases) == 1 else f"{name}@{database}")
        _prepare(where, files, tests, worktree=worktree, like=first)
        first = first or where
        for mutant, status in _run_one(where, patterns, database, children, timeout).items():
            by_mutant.setdefault(mutant, []).append(status)
    rows = {mutant: _most_telling(statuses) for mutant, statuses in by_mutant.items()}
    statuses = Counter(rows.values())
    survivors = sorted(mutant for mutant, status in rows.items() if status == "survived")
    # one process for every diff (``mutmut show`` per mutant starts Python each time)
    script = (
        "import sys\n"
        "from mutmut.mutation.diff_apply import find_mutant, get_diff_for_mutant\n"
        "for name in sys.argv[1:]:\n"
        "    print(f'## {name}'); print(get_diff_for_mutant(name, path=find_mutant(name).path))\n"
    )
    WORK.mkdir(parents=True, exist_ok=True)
    with (WORK / f"{name}.survivors.diff").open("w", encoding="utf-8") as out:
        subprocess.run(
            [sys.executable, "-c", script, *survivors], cwd=where, stdout=out, text=True, check=False
        )
    return statuses


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("modules", nargs="*", help=f"default: all of {', '.join(MODULES)}")
    parser.add_argument("--children", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per module and database")
    parser.add_argument("--worktree", action="store_true", help="mutate the work tree, not the last commit")
    args = parser.parse_args()
    unknown = sorted(set(args.modules) - set(MODULES))
    if unknown:
        parser.error(f"unknown modules: {unknown}")
    failed = False
    for name in args.modules or list(MODULES):
        statuses = run(name, args.children, args.timeout, worktree=args.worktree)
        total = sum(statuses.values())
        killed = statuses.get("killed", 0)
        checked = total - statuses.get("not checked", 0)
        score = f"{100 * killed / checked:.1f}% of {checked} checked" if checked else "n/a"
        print(
            f"{name}: {killed}/{total} killed ({score}); {dict(statuses)}; "
            f"survivors in var/mutation/{name}.survivors.diff"
        )
        failed = failed or total == 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
