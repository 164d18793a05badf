"""cco_hooks (the package itself): its version, and the preload of each event's hook modules."""

import os
import shutil
import subprocess
import sys

import pytest

import cco_hooks
from tests.support.locations import REPO

PROBE = (
    "import sys; sys.dont_write_bytecode = False; sys.path.insert(0, sys.argv[1]); import cco_hooks; "
    "cco_hooks.load_hook_modules(sys.argv[2]); "
    "print(' '.join(n for n, m in sys.modules.items() if n.startswith('cco_hooks.') and m.__spec__ is None))"
)


@pytest.fixture
def package(tmp_path):
    """A copy of the package without any bytecode cache."""
    shutil.copytree(REPO / "cco_hooks", tmp_path / "cco_hooks", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def preloaded(package, event="pre-tool-use"):
    result = subprocess.run(
        [sys.executable, "-S", "-c", PROBE, str(package), event], capture_output=True, text=True, check=True
    )
    return result.stdout.split()


def compile_all(package):
    """What a first hook run leaves: every module imported once the usual way, bytecode written."""
    names = ", ".join(f"cco_hooks.{name}" for name in cco_hooks.HOOK_MODULES["post-tool-use"] + ("policy", "models"))
    code = f"import sys; sys.dont_write_bytecode = False; sys.path.insert(0, sys.argv[1]); import {names}"
    subprocess.run([sys.executable, "-S", "-c", code, str(package)], check=True)


def test_the_version_is_the_packages():
    assert f'\nversion = "{cco_hooks.__version__}"\n' in (REPO / "pyproject.toml").read_text()


def test_without_bytecode_nothing_is_preloaded(package):
    """A fresh install has no .pyc yet: the preload stops at once and import does the work."""
    assert preloaded(package) == []


def test_with_current_bytecode_every_listed_module_is_preloaded_in_order(package):
    compile_all(package)
    assert preloaded(package) == [f"cco_hooks.{name}" for name in cco_hooks.HOOK_MODULES["pre-tool-use"]]


def test_a_changed_source_ends_the_preload_at_that_module(package):
    """An edited module's .pyc is stale: it and every module after it are left to import."""
    compile_all(package)
    names = cco_hooks.HOOK_MODULES["pre-tool-use"]
    edited = package / "cco_hooks" / f"{names[3]}.py"
    edited.write_text(edited.read_text() + "\n# edited\n")
    assert preloaded(package) == [f"cco_hooks.{name}" for name in names[:3]]


def test_preloaded_modules_work_like_imported_ones(package):
    """A preloaded module has its name, file and package, and the package has it as an attribute."""
    compile_all(package)
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import cco_hooks; cco_hooks.load_hook_modules('stop'); "
        "from cco_hooks import files, snapshot; "
        "print(files.__name__, files.__file__, files.__package__, files.__spec__, "
        "cco_hooks.files is sys.modules['cco_hooks.files'], snapshot.files is files)"
    )
    out = subprocess.run([sys.executable, "-S", "-c", code, str(package)], capture_output=True, text=True, check=True)
    path = os.path.join(str(package), "cco_hooks", "files.py")
    assert out.stdout.split() == ["cco_hooks.files", path, "cco_hooks", "None", "True", "True"]


def test_an_unknown_event_preloads_nothing(package):
    compile_all(package)
    assert preloaded(package, "no-such-event") == []
