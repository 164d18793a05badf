"""bin/cco-hook, the sh launcher a committed registration runs from PATH, installed as users install it.

It must run the install's own interpreter with ``-S`` on the package's hook shim whatever the route:
a venv's bin/ on PATH, a link to it on PATH (pipx and ``uv tool`` make one; also relative, and a
chain of them), a prefix whose bin/ has no python (``pip install --user``: the interpreter of the
same version from PATH); and with no package beside it, skip the hook with one line saying so.
The hook's own module dump (``CCO_HOOKS_DEBUG_MODULES``) tells what ran: ``site`` never did.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.venvs import build_wheel, make_venv

SYSTEM_PATH = "/usr/bin:/bin"
VERSION = f"{sys.version_info[0]}.{sys.version_info[1]}"


@pytest.fixture(scope="module")
def venv_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    wheel = build_wheel(tmp_path_factory.mktemp("wheel"))
    return make_venv(tmp_path_factory.mktemp("venv") / "venv", wheel)


def run_hook(command: Path | str, tmp_path: Path, path: str = SYSTEM_PATH) -> tuple[subprocess.CompletedProcess, set]:
    """PreToolUse of a main-loop Bash call (answered before any config is read) through ``command``."""
    dump = tmp_path / "modules.txt"
    env = {
        "PATH": path,
        "HOME": str(tmp_path / "home"),
        "CLAUDE_CONFIG_DIR": str(tmp_path / "home" / ".claude"),
        "CCO_HOOKS_DEBUG_MODULES": str(dump),
    }
    payload = {"session_id": "s", "tool_name": "Bash", "tool_input": {"command": "true"}, "cwd": str(tmp_path)}
    done = subprocess.run(
        [str(command), "pre-tool-use"],
        input=json.dumps(payload).encode(),
        env=env,
        cwd=tmp_path,
        capture_output=True,
        timeout=60,
    )
    modules = {line.split()[0] for line in dump.read_text().splitlines()} if dump.exists() else set()
    return done, modules


def ran_the_shim_with_s(done, modules) -> bool:
    assert done.returncode == 0 and done.stderr == b"", done.stderr
    return "cco_hooks.hook_main" in modules and "site" not in modules


def test_a_venvs_launcher_runs_the_shim_with_the_venvs_python_and_no_site(venv_bin, tmp_path):
    assert ran_the_shim_with_s(*run_hook(venv_bin / "cco-hook", tmp_path))


@pytest.mark.parametrize("relative", [False, True])
def test_a_link_to_it_on_path_is_followed_as_pipx_and_uv_tool_lay_it_out(venv_bin, tmp_path, relative):
    local_bin = tmp_path / ".local" / "bin"
    local_bin.mkdir(parents=True)
    target = venv_bin / "cco-hook"
    (local_bin / "cco-hook").symlink_to(os.path.relpath(target, local_bin) if relative else target)
    assert ran_the_shim_with_s(*run_hook("cco-hook", tmp_path, f"{local_bin}:{SYSTEM_PATH}"))


def test_a_chain_of_links_is_followed(venv_bin, tmp_path):
    (tmp_path / "one").symlink_to(venv_bin / "cco-hook")
    (tmp_path / "two").symlink_to("one")
    assert ran_the_shim_with_s(*run_hook(tmp_path / "two", tmp_path))


def test_a_prefix_without_its_own_python_takes_that_version_from_path(venv_bin, tmp_path):
    """``pip install --user`` / a system install: <prefix>/bin/cco-hook beside
    <prefix>/lib/python3.X/site-packages, the interpreter found on PATH as ``python3.X``."""
    prefix = tmp_path / "user"
    (prefix / "bin").mkdir(parents=True)
    shutil.copy(venv_bin / "cco-hook", prefix / "bin" / "cco-hook")
    [site_packages] = (venv_bin.parent / "lib").glob("python3.*/site-packages")
    packages = prefix / "lib" / f"python{VERSION}" / "site-packages"
    packages.mkdir(parents=True)
    shutil.copytree(site_packages / "cco_hooks", packages / "cco_hooks")
    interpreters = tmp_path / "interpreters"
    interpreters.mkdir()
    (interpreters / f"python{VERSION}").symlink_to(sys.executable)
    assert ran_the_shim_with_s(*run_hook(prefix / "bin" / "cco-hook", tmp_path, f"{interpreters}:{SYSTEM_PATH}"))


def lone_launcher(tmp_path: Path) -> Path:
    lone = tmp_path / "bin" / "cco-hook"
    lone.parent.mkdir()
    shutil.copy(Path(__file__).resolve().parents[3] / "bin" / "cco-hook", lone)
    return lone


def python3_on(tmp_path: Path, code: str = "", options: str = "") -> str:
    """A directory holding a ``python3`` (the test interpreter, ``code`` run first by its wrapper)."""
    directory = tmp_path / "py"
    directory.mkdir()
    wrapper = directory / "python3"
    wrapper.write_text(f'#!/bin/sh\n{code}exec "{sys.executable}" {options} "$@"\n')
    wrapper.chmod(0o755)
    return f"{directory}:{SYSTEM_PATH}"


def test_any_other_layout_runs_the_package_the_python3_on_path_has(tmp_path):
    """A layout the launcher does not know (a macOS --user install): python3 from PATH, with site."""
    repo = Path(__file__).resolve().parents[3]
    done, modules = run_hook(lone_launcher(tmp_path), tmp_path, python3_on(tmp_path, f"export PYTHONPATH={repo}\n"))
    assert done.returncode == 0 and done.stderr == b"", done.stderr
    assert "cco_hooks.hook_main" in modules


def test_with_no_package_anywhere_the_hook_is_skipped_with_one_line(tmp_path):
    # -S: this interpreter's site-packages (an editable install of this checkout) left out
    done, modules = run_hook(lone_launcher(tmp_path), tmp_path, python3_on(tmp_path, options="-S"))
    assert done.returncode == 0 and done.stdout == b"" and modules == set()
    told = done.stderr.decode()
    assert told.count("\n") == 1 and "cannot find the cco_hooks package installed beside" in told
    assert str(tmp_path / "bin" / "cco-hook") in told and "pipx reinstall cco-hooks" in told


def test_with_no_package_and_no_python3_the_hook_is_skipped_with_one_line(tmp_path):
    done, modules = run_hook(lone_launcher(tmp_path), tmp_path, str(tmp_path / "empty"))
    assert done.returncode == 0 and done.stdout == b"" and modules == set()
    told = done.stderr.decode()
    assert told.count("\n") == 1 and "no python3 is on PATH" in told and "pipx reinstall cco-hooks" in told
