"""The main job runs on a plain install (``pip install -e .``, no test extras): every third-party module
the packages import at run time must be a declared dependency, not something the test extras happen
to bring along (freezegun once was, and the README's main command failed on a fresh machine)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("simulator", "virtualtime", "scenarios", "bot")
# Modules for pytest itself (fixtures, the plugin): they run only where the test extras are installed.
TEST_TIME = {"testing.py", "pytest_plugin.py"}


def imported_third_party() -> dict[str, str]:
    found: dict[str, str] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.name in TEST_TIME:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                    [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else []
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in (*PACKAGES, "__future__"):
                        found.setdefault(top, str(path.relative_to(ROOT)))
    return found


def test_every_runtime_import_is_a_declared_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {re.split(r"[<>=!~\[ ]", spec, maxsplit=1)[0].lower() for spec in project["dependencies"]}

    missing = {module: where for module, where in imported_third_party().items() if module.lower() not in declared}

    assert missing == {}, f"imported at run time but not in [project] dependencies: {missing}"
    assert {"ccxt", "aiohttp", "freezegun", "hypothesis"} <= declared
