"""The plugin on a bare python3: the config builder's packages set up in a private venv, in the
background, told once; and what a user is told when they cannot be.

The process tests run the plugin's own `hooks/cco-hook` with a bare python3 (a venv without pip or
site packages) first on PATH, as Claude Code would run it, and pip installing offline from a
wheelhouse made from the packages installed here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cco_hooks import builder_env, snapshot
from tests.support import wheelhouse
from tests.support.locations import REPO

HOOK = REPO / "hooks" / "cco-hook"
SETUP_WAIT_S = 600  # a wait for the background pip, never a timing assertion


def test_requirements_are_the_projects_own_dependencies():
    """The private environment gets what pip gives an installed cco-hooks for its config builder."""
    pyproject = (REPO / "pyproject.toml").read_text()
    for requirement in builder_env.REQUIREMENTS:
        assert f'"{requirement}"' in pyproject
    names = {r.split(">")[0] for r in builder_env.REQUIREMENTS}
    assert names == {"pydantic", "pyyaml"}


def pre_tool_use(project: Path, agent: str = "python-pro", model: str = "opus") -> bytes:
    return json.dumps(
        {
            "session_id": "s-bare",
            "transcript_path": str(project / "t.jsonl"),
            "cwd": str(project),
            "hook_event_name": "PreToolUse",
            "tool_name": "Agent",
            "tool_use_id": f"toolu_{agent}",
            "tool_input": {"description": "d", "prompt": "p", "subagent_type": agent, "model": model},
        }
    ).encode()


@pytest.fixture
def plugin_run(tmp_path):
    """Runs `python3 -S hooks/cco-hook pre-tool-use` as a plugin hook on a bare python3."""
    bare_bin = wheelhouse.bare_python(tmp_path / "bare")
    project = tmp_path / "project"
    (project / ".claude").mkdir(parents=True)
    env = {
        "PATH": f"{bare_bin}{os.pathsep}/usr/bin:/bin",
        "HOME": str(tmp_path / "home"),
        "CLAUDE_CONFIG_DIR": str(tmp_path / "home" / ".claude"),
        "CLAUDE_PROJECT_DIR": str(project),
        "CLAUDE_PLUGIN_ROOT": str(REPO),
        "CLAUDE_PLUGIN_DATA": str(tmp_path / "plugin-data"),
    }

    def run(payload: bytes, pip_env: dict[str, str]) -> dict:
        proc = subprocess.run(
            ["sh", "-c", 'python3 -S "${CLAUDE_PLUGIN_ROOT}/hooks/cco-hook" pre-tool-use'],
            input=payload,
            capture_output=True,
            env={**env, **pip_env},
            cwd=str(project),
            timeout=120,
        )
        assert proc.returncode == 0 and b"Traceback" not in proc.stderr, proc.stderr
        return json.loads(proc.stdout) if proc.stdout.strip() else {}

    run.project = project
    run.env = env
    run.root = Path(env["CLAUDE_PLUGIN_DATA"]) / ("builder-" + builder_env.python_tag())
    return run


def status_of(root: Path) -> dict:
    path = root / "status.json"
    return json.loads(path.read_text()) if path.exists() else {}


def wait_until_ended(root: Path) -> dict:
    deadline = time.monotonic() + SETUP_WAIT_S
    while status_of(root).get("state") in (None, "running"):
        assert time.monotonic() < deadline, (root / "setup.log").read_text()
        time.sleep(0.5)
    return status_of(root)


def test_a_bare_python3_sets_up_in_the_background_then_routes_json_and_yaml(plugin_run, tmp_path):
    wheels = wheelhouse.build(list(builder_env.REQUIREMENTS), tmp_path / "wheels")
    pip_env = wheelhouse.offline_pip_env(wheels)
    project = plugin_run.project
    (project / ".claude" / "cco-hooks.json").write_text('{"version": 1, "agents": {"python-pro": "haiku"}}')

    first = plugin_run(pre_tool_use(project), pip_env)
    # the spawn proceeds unchanged, and the user is told what is happening, where, and never "report it"
    assert "hookSpecificOutput" not in first or "updatedInput" not in first["hookSpecificOutput"]
    message = first["systemMessage"]
    assert "setting up the packages its config builder needs" in message and str(plugin_run.root) in message
    assert "report" not in message.lower()
    assert status_of(plugin_run.root)["state"] in ("running", "ready")

    status = wait_until_ended(plugin_run.root)
    assert status["state"] == "ready", (plugin_run.root / "setup.log").read_text()
    assert status["site_packages"].startswith(str(plugin_run.root / "venv"))
    assert oct(os.stat(plugin_run.root).st_mode & 0o777) == "0o700"

    routed = plugin_run(pre_tool_use(project), pip_env)
    assert routed["hookSpecificOutput"]["updatedInput"]["model"] == "haiku"
    assert "systemMessage" not in routed  # told once, and nothing more to tell

    (project / ".claude" / "cco-hooks.json").unlink()
    (project / ".claude" / "cco-hooks.yaml").write_text("version: 1\nagents:\n  python-pro: sonnet\n")
    routed = plugin_run(pre_tool_use(project), pip_env)
    assert routed["hookSpecificOutput"]["updatedInput"]["model"] == "sonnet"


def test_a_setup_that_cannot_install_says_what_to_do(plugin_run, tmp_path):
    """pip finds nothing (no index, an empty wheelhouse): the next hook says why and the fix, once."""
    empty = tmp_path / "no-wheels"
    empty.mkdir()
    pip_env = wheelhouse.offline_pip_env(empty)
    first = plugin_run(pre_tool_use(plugin_run.project), pip_env)
    assert "setting up" in first["systemMessage"]
    status = wait_until_ended(plugin_run.root)
    assert status["state"] == "failed" and "pip could not install them" in status["reason"]

    told = plugin_run(pre_tool_use(plugin_run.project), pip_env)["systemMessage"]
    bare_python = Path(plugin_run.env["PATH"].split(os.pathsep)[0]) / "python3"
    assert "could not be set up" in told and "pip could not install them" in told
    assert f"{bare_python} -m pip install 'pydantic>=2.5' 'pyyaml>=6.0'" in told
    assert f"{bare_python} {REPO / 'hooks' / 'cco-hook'} setup" in told
    assert "report" not in told.lower()
    assert plugin_run(pre_tool_use(plugin_run.project), pip_env) == {}  # once; the spawn proceeds
    assert status_of(plugin_run.root) == status  # not retried within the hour

    # The fix the message names: the setup in the foreground, here with a wheelhouse that has them.
    wheels = wheelhouse.build(list(builder_env.REQUIREMENTS), tmp_path / "wheels")
    setup = subprocess.run(
        [str(bare_python), "-S", str(REPO / "hooks" / "cco-hook"), "setup"],
        capture_output=True,
        env={**plugin_run.env, **wheelhouse.offline_pip_env(wheels)},
        timeout=SETUP_WAIT_S,
    )
    assert setup.returncode == 0, setup.stdout + setup.stderr
    assert f"setting up the config builder's packages in {plugin_run.root}".encode() in setup.stdout
    assert status_of(plugin_run.root)["state"] == "ready"
    (plugin_run.project / ".claude" / "cco-hooks.yaml").write_text("version: 1\nagents: {python-pro: haiku}\n")
    routed = plugin_run(pre_tool_use(plugin_run.project), pip_env)
    assert routed["hookSpecificOutput"]["updatedInput"]["model"] == "haiku"


def test_a_data_directory_it_cannot_write_is_told_with_the_fix(tmp_path):
    env = plugin_env(tmp_path)
    (tmp_path / "data").write_text("a file where the plugin's data directory should be")
    error = builder_env.unavailable(ImportError("No module named 'pydantic'"), env)
    assert "the setup could not start" in error.message and "-m pip install" in error.message


def write_status(root: Path, **status) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "status.json").write_text(json.dumps(status))


def plugin_env(tmp_path: Path) -> dict:
    return {**os.environ, "CLAUDE_PLUGIN_ROOT": str(REPO), "CLAUDE_PLUGIN_DATA": str(tmp_path / "data")}


def test_ready_but_broken_packages_are_told_as_a_failure_without_a_new_setup(tmp_path):
    env = plugin_env(tmp_path)
    root = Path(builder_env.env_root(env))
    write_status(root, state="ready", since=1, python=sys.version, site_packages=str(root / "gone"))
    error = builder_env.unavailable(ImportError("No module named 'pydantic_core'"), env)
    assert "could not be set up" in error.message and "pydantic_core" in error.message
    assert not (root / "setup.lock").exists() and status_of(root)["state"] == "ready"
    assert builder_env.activate(env) is False  # its site-packages is not there


def test_a_failure_is_retried_after_an_hour(tmp_path):
    env = plugin_env(tmp_path)
    root = Path(builder_env.env_root(env))
    write_status(root, state="failed", since=1000, python=sys.version, reason="pip could not install them")
    recent = builder_env.unavailable(ImportError("x"), env, now=1000 + builder_env.RETRY_AFTER_S - 1)
    assert "could not be set up" in recent.message
    # A setup already holds the lock (as one started by another hook): the retry waits on it.
    (root / "setup.lock").write_text("")
    later = builder_env.unavailable(ImportError("x"), env, now=time.time())
    assert "setting up" in later.message and status_of(root)["state"] == "failed"


def test_outside_the_plugin_a_missing_package_is_an_install_to_fix():
    """`cco-hooks install` registers a Python pip gave the packages: nothing is set up in the
    background, and the message says what to install, never "report it"."""
    env = {k: v for k, v in os.environ.items() if k not in ("CLAUDE_PLUGIN_ROOT", "CLAUDE_PLUGIN_DATA")}
    error = builder_env.unavailable(ImportError("No module named 'pydantic'"), env)
    assert f"{sys.executable} -m pip install 'pydantic>=2.5' 'pyyaml>=6.0'" in error.message
    assert "report" not in error.message.lower()
    assert not Path(builder_env.env_root(env)).exists()


def test_a_missing_config_builder_is_never_stored(project, monkeypatch):
    """An ImportError (pydantic or yaml missing) is an install problem: the snapshot says so and is
    not stored, so installing fixes the hooks without touching a layer."""
    from cco_hooks.config import build as config_build

    project.write_config("version: 1\nagents: {python-pro: haiku}\n")

    def missing(project_dir, env):
        raise ImportError("No module named 'pydantic'")

    monkeypatch.setattr(config_build, "build_routing", missing)
    monkeypatch.delenv("CLAUDE_PLUGIN_ROOT", raising=False)
    env = dict(os.environ)
    snap = snapshot.load(str(project.root), env)
    assert snap["broken"] and snap["on_error"] == "allow"
    assert "cannot import the packages its config builder needs" in snap["unbuilt"]["message"]
    snapshot.mark_told(str(project.root), env, snap)
    assert not os.path.exists(snapshot.snapshot_path(str(project.root), env))
    monkeypatch.undo()
    assert snapshot.load(str(project.root), env)["exact"]["python-pro"]["model"] == "haiku"
