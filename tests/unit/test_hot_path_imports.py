"""The hooks' hot path imports only the cheap standard library (issue 5; docs/design.md)."""

import subprocess
import sys

from tests.conftest import REPO

HEAVY = {"pydantic", "jsonschema", "yaml", "click", "re", "json", "enum", "typing", "dataclasses",
         "datetime", "pathlib", "hashlib", "fnmatch", "logging", "traceback", "orjson", "site"}
HOT_MODULES = ["hook_main", "policy", "snapshot", "hookio", "models", "agents", "paths", "fastjson",
               "pricing", "transcript", "ledger", "accounting", "budget"]


def imported_by(code):
    result = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, cwd=str(REPO), check=True)
    return set(result.stdout.split())


def test_hot_modules_import_no_heavy_module():
    """Importing every hook module pulls in none of pydantic, yaml, click, jsonschema, re, json..."""
    code = ("import sys; sys.path.insert(0, '.'); "
            + "; ".join(f"import cco_hooks.{m}" for m in HOT_MODULES)
            + "; print(' '.join(sys.modules))")
    leaked = imported_by(code) & HEAVY
    assert not leaked, f"hot path imports {sorted(leaked)}"
