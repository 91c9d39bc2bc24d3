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
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / "var" / "mutation"
COPIED = ("libs", "services", "tests", "migrations", "alembic.ini", "pyproject.toml")

# module name → (files mutated, tests run against each mutant, mutant-name patterns or () for all).
# The tests are the narrowest selection that exercises the module (unit tests where they exist); the
# patterns restrict a large module to its rule functions (``<module>.x_<function>__mutmut_<n>``).
MODULES: dict[str, tuple[list[str], list[str], tuple[str, ...]]] = {
    "identifiers": (["libs/common/identifiers.py"], ["tests/common/test_identifiers.py"], ()),
    "scope": (
        ["libs/common/scope.py", "libs/common/divisions.py"],
        ["tests/common/test_divisions_and_logs.py", "tests/common/test_scope_rules.py"],
        (),
    ),
    "access": (
        ["libs/common/access.py"],
        ["tests/common/test_access_policy.py", "tests/common/test_token_verification.py"],
        (),
    ),
    "order_lifecycle": (
        ["services/homecare/orders/lifecycle.py", "services/homecare/orders/transitions.py"],
        ["tests/homecare/orders/test_rules.py"],
        (
            "services.homecare.orders.transitions.*",
            "services.homecare.orders.lifecycle.x_title_rank__*",
            "services.homecare.orders.lifecycle.x_check_nurse__*",
        ),
    ),
    "booking": (
        ["services/homecare/orders/booking.py"],
        ["tests/homecare/orders/test_lifecycle.py", "tests/homecare/orders/test_concurrency.py"],
        (),
    ),
    "agreements": (
        ["services/contracts/agreements/lifecycle.py"],
        ["tests/contracts/agreements/test_lifecycle.py", "tests/contracts/agreements/test_status_filter.py"],
        (),
    ),
    "home_beds": (
        ["services/homecare/home_beds/service.py"],
        ["tests/homecare/home_beds/test_rules.py"],
        (
            "services.homecare.home_beds.service.x_allowed_actions__*",
            "services.homecare.home_beds.service.x__target__*",
            "services.homecare.home_beds.service.x_qualification_gaps__*",
        ),
    ),
    "demo_criteria": (
        ["services/registry/demonstration/criteria.py"],
        [
            "tests/registry/demonstration/test_criteria.py",
            "tests/registry/demonstration/test_criteria_shown.py",
        ],
        (),
    ),
    "visit_shortfall": (
        ["services/contracts/visits/service.py"],
        ["tests/contracts/visits"],
        (
            "services.contracts.visits.service.x_in_force_on__*",
            "services.contracts.visits.service.x_shortfall_select__*",
            "services.contracts.visits.service.x__shortfall__*",
            "services.contracts.visits.service.x_clip_to_today__*",
            "services.contracts.visits.service.x_check_period__*",
        ),
    ),
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
        # the apps run their migrations at start-up, from the tree the tests import (mutants/)
        'also_copy = ["migrations", "alembic.ini"]\n'
        f"only_mutate = {files!r}\n"
        f"pytest_add_cli_args_test_selection = {tests!r}\n"
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "-q", "-x"]\n'
    ).replace("'", '"')
    with (where / "pyproject.toml").open("a", encoding="utf-8") as handle:
        handle.write(config)
    return where


def run(name: str, children: int, timeout: float) -> Counter[str]:
    files, tests, patterns = MODULES[name]
    where = _prepare(name, files, tests)
    mutmut = str(Path(sys.executable).with_name("mutmut"))
    with (where / "run.log").open("w", encoding="utf-8") as log:
        try:
            subprocess.run(
                [mutmut, "run", "--max-children", str(children), *patterns],
                cwd=where,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            log.write(f"\n[stopped after {timeout:.0f} s: the mutants not reached count as 'not checked']\n")
    listing = subprocess.run(
        [mutmut, "results", "--all", "true"], cwd=where, capture_output=True, text=True, check=True
    ).stdout
    split = [line.rsplit(":", 1) for line in listing.splitlines() if ":" in line]
    rows = [
        (m.strip(), s.strip())
        for m, s in split
        if not patterns or any(fnmatch(m.strip(), p) for p in patterns)
    ]
    statuses = Counter(status for _, status in rows)
    survivors = [mutant for mutant, status in rows if status == "survived"]
    # one process for every diff (``mutmut show`` per mutant starts Python each time)
    script = (
        "import sys\n"
        "from mutmut.mutation.diff_apply import find_mutant, get_diff_for_mutant\n"
        "for name in sys.argv[1:]:\n"
        "    print(f'## {name}'); print(get_diff_for_mutant(name, path=find_mutant(name).path))\n"
    )
    with (where / "survivors.diff").open("w", encoding="utf-8") as out:
        subprocess.run(
            [sys.executable, "-c", script, *survivors], cwd=where, stdout=out, text=True, check=False
        )
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
        checked = total - statuses.get("not checked", 0)
        score = f"{100 * killed / checked:.1f}% of {checked} checked" if checked else "n/a"
        print(f"{name}: {killed}/{total} killed ({score}); {dict(statuses)}; see var/mutation/{name}/")
        failed = failed or total == 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
