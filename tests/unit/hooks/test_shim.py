"""``cco_hooks/_shim.py``, the script every installed hook runs: ``python -S _shim.py <event>``.

Run against a stand-in package (a copy of the real shim beside a fake ``hook_main``), in a real
process without site-packages, as Claude Code runs it.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.hookproc import answer
from tests.support.locations import REPO

SHIM = REPO / "cco_hooks" / "_shim.py"


def fake_package(root: Path, hook_main: str | None) -> Path:
    """``root/cco_hooks`` with copies of the real shim and package ``__init__`` and the given
    hook_main.py source."""
    package = root / "cco_hooks"
    package.mkdir(parents=True)
    shutil.copy(REPO / "cco_hooks" / "__init__.py", package / "__init__.py")
    shutil.copy(SHIM, package / "_shim.py")
    if hook_main is not None:
        (package / "hook_main.py").write_text(hook_main)
    return package / "_shim.py"


def run_shim(shim: Path, *args: str, env_extra: dict | None = None):
    run_env = {"PATH": os.environ.get("PATH", ""), "PYTHONDONTWRITEBYTECODE": "1", **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-S", str(shim), *args], cwd="/", input=b"", capture_output=True, env=run_env, timeout=60
    )


RECORDING_HOOK_MAIN = """
import os, sys
def main(argv):
    print(repr((argv, sys.path, os.path.dirname(os.__file__), sys.dont_write_bytecode)))
    return int(argv[1]) if len(argv) > 1 else 0
"""


def test_shim_puts_the_package_parent_after_the_stdlib_and_passes_argv(tmp_path):
    """The package's parent is on sys.path after the stdlib (and the shim's own directory is not),
    argv reaches main, bytecode is written, main's return is the exit code."""
    shim = fake_package(tmp_path / "site", RECORDING_HOOK_MAIN)
    proc = run_shim(shim, "pre-tool-use")
    assert proc.returncode == 0, proc.stderr
    argv, path, stdlib, dont_write = ast.literal_eval(proc.stdout.decode())
    assert argv == ["pre-tool-use"] and dont_write is False
    assert path[-1] == str(tmp_path / "site") and path.index(stdlib) < len(path) - 1
    assert str(shim.parent) not in path
    # bytecode is written despite PYTHONDONTWRITEBYTECODE=1
    assert list((tmp_path / "site" / "cco_hooks" / "__pycache__").glob("hook_main.*.pyc"))
    # main's return value is the exit code (2 = block, for PreToolUse)
    assert run_shim(shim, "pre-tool-use", "2").returncode == 2


@pytest.mark.parametrize(
    "hook_main, expected",
    [
        (None, "cannot load the hook"),  # package without hook_main
        ("raise RuntimeError('boom at import')\n", "boom at import"),
        ("def main(argv:\n", "SyntaxError"),
        ("def main(argv):\n    raise ValueError('boom in main')\n", "boom in main"),
    ],
)
def test_shim_fails_open_with_one_line(tmp_path, hook_main, expected):
    """No hook_main, one that raises on import or in main, or does not parse: exit 0, one stderr line, no traceback."""
    shim = fake_package(tmp_path / "site", hook_main)
    proc = run_shim(shim, "stop")
    stderr = proc.stderr.decode()
    assert proc.returncode == 0 and proc.stdout == b""
    assert "Traceback" not in stderr and stderr.count("\n") == 1 and expected in stderr, stderr


def test_shim_refuses_old_python_with_a_clear_message(tmp_path):
    """Under Python < 3.10: exit 0 and one line naming the version needed, before importing anything."""
    shim = fake_package(tmp_path / "site", "raise SystemExit('must not be imported')\n")
    code = (
        "import runpy, sys\n"
        "sys.version_info = (3, 9, 18, 'final', 0)\n"
        f"sys.argv = [{str(shim)!r}, 'stop']\n"
        f"runpy.run_path({str(shim)!r}, run_name='__main__')\n"
    )
    proc = subprocess.run([sys.executable, "-S", "-c", code], input=b"", capture_output=True, timeout=60)
    stderr = proc.stderr.decode()
    assert proc.returncode == 0 and "Traceback" not in stderr
    assert "needs Python >= 3.10" in stderr and "3.9" in stderr and stderr.count("\n") == 1


def test_shim_parses_on_old_pythons():
    """The shim is valid Python 3.4 syntax, so an old interpreter reaches its version check."""
    ast.parse(SHIM.read_text(), feature_version=(3, 4))


def test_shim_exits_0_with_one_line_when_the_package_cannot_be_imported(tmp_path):
    """A package whose ``__init__`` raises: exit 0, nothing on stdout, exactly one line on stderr."""
    shim = fake_package(tmp_path / "site", RECORDING_HOOK_MAIN)
    (shim.parent / "__init__.py").write_text("raise ImportError('half-installed')\n")
    proc = run_shim(shim, "pre-tool-use")
    assert (proc.returncode, proc.stdout) == (0, b"")
    assert proc.stderr.decode() == (
        f"cco-hooks: cannot load the hook from {tmp_path / 'site'} (ImportError: half-installed); hook skipped\n"
    )


def test_shim_exits_0_with_one_line_when_there_is_no_package_beside_it(tmp_path):
    """A shim whose parent directory holds no ``cco_hooks``: exit 0 and one line naming the missing module."""
    (tmp_path / "lone").mkdir()
    shim = tmp_path / "lone" / "_shim.py"
    shutil.copy(SHIM, shim)
    proc = run_shim(shim, "stop")
    assert (proc.returncode, proc.stdout) == (0, b"")
    assert proc.stderr.decode() == (
        f"cco-hooks: cannot load the hook from {tmp_path} "
        "(ModuleNotFoundError: No module named 'cco_hooks'); hook skipped\n"
    )


def test_shim_passes_a_system_exit_code_through(tmp_path):
    """``main`` raising SystemExit: its int code is the exit code, ``None`` is 0, a message is 1."""
    shim = fake_package(tmp_path / "site", "import sys\ndef main(argv):\n    sys.exit(eval(argv[0]))\n")
    assert [run_shim(shim, arg).returncode for arg in ("3", "None", "'message'")] == [3, 0, 1]


def test_a_backport_beside_the_package_does_not_shadow_the_stdlib(hooks, tmp_path):
    """The real package installed in a site dir that also holds PyPI backports of ``enum``,
    ``pathlib`` and ``typing`` (enum34 and friends, which fail on this Python): the hook, run as
    installed, still builds the config (pydantic imports all three) and routes the spawn."""
    site = tmp_path / "site"
    shutil.copytree(REPO / "cco_hooks", site / "cco_hooks", ignore=shutil.ignore_patterns("__pycache__"))
    (site / "cco_hooks" / "_config").mkdir()
    shutil.copy(REPO / "config" / "default.yaml", site / "cco_hooks" / "_config" / "default.yaml")  # as installed
    for name in ("enum", "pathlib", "typing"):
        (site / f"{name}.py").write_text(f"raise ImportError('the PyPI backport {name} shadowed the stdlib')\n")
    hooks.write_config("version: 1\nagents: {general-purpose: haiku}\n")
    import sysconfig

    proc = hooks.start(
        "pre-tool-use",
        argv=[sys.executable, "-S", str(site / "cco_hooks" / "_shim.py"), "pre-tool-use"],
        PYTHONPATH=sysconfig.get_paths()["purelib"],  # pydantic and yaml, as in a real site-packages
    )
    out, err = proc.communicate(json.dumps(hooks.pre("toolu_1", model="sonnet")).encode(), timeout=60)
    assert proc.returncode == 0 and err == b"", err
    assert answer(out)["hookSpecificOutput"]["updatedInput"]["model"] == "haiku", out
