"""The committed registration travels: `cco-hooks install --scope project` in one environment, the
project copied to a teammate's machine, the real Claude Code CLI run there (each tested release).

- with cco-hooks installed in ANOTHER venv whose bin/ is on PATH: the spawn is routed (the model of
  the subagent's own API request is the configured one);
- with no cco-hooks on PATH at all: the spawn proceeds as Claude asked, and PreToolUse answered one
  message saying how to install cco-hooks (the other hooks stay silent).

Both venvs are built from this checkout (a wheel built once per module, installed with
``--no-deps --no-index`` into ``--system-site-packages`` venvs: no network).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cco_hooks.cli import install
from tests.support.fake_api import Scenario, Spawn
from tests.support.venvs import build_wheel, make_venv

pytestmark = pytest.mark.e2e

SYSTEM_PATH = "/usr/bin:/bin"  # a shell, coreutils: no cco-hook, no cco-hooks


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture
def teammate_project(tmp_path: Path, e2e_home: Path, wheel: Path) -> Path:
    """A project where cco-hooks was installed from venv A, committed, and copied to another machine."""
    original = tmp_path / "alice" / "proj"
    (original / ".claude" / "agents").mkdir(parents=True)
    (original / ".claude" / "cco-hooks.yaml").write_text("version: 1\nagents: {python-pro: haiku}\n")
    (original / ".claude" / "agents" / "python-pro.md").write_text(
        "---\nname: python-pro\ndescription: python-pro for the tests\n---\nYou are python-pro.\n"
    )
    venv_a = make_venv(tmp_path / "alice" / "venv", wheel)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CCO_HOOKS_", "CLAUDE_", "PYTHON"))}
    env.update(HOME=str(e2e_home), CLAUDE_CONFIG_DIR=str(e2e_home / ".claude"), PATH=f"{venv_a}:{SYSTEM_PATH}")
    done = subprocess.run(
        [str(venv_a / "cco-hooks"), "install", "--scope", "project"],
        cwd=original,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    settings = (original / ".claude" / "settings.json").read_text()
    for machine_path in (str(tmp_path), str(venv_a), sys.executable, str(e2e_home)):
        assert machine_path not in settings
    copy = tmp_path / "bob" / "work" / "proj"
    shutil.copytree(original, copy)
    shutil.rmtree(tmp_path / "alice")  # nothing of Alice's machine is left to lean on
    return copy


def spawn_python_pro(fake_api) -> None:
    fake_api.set_scenario(
        Scenario(spawns=[Spawn("SUB-0", subagent_type="python-pro", model="sonnet", run_in_background=False)])
    )


def test_the_committed_registration_routes_with_cco_hooks_from_another_venv(
    run_e2e, fake_api, teammate_project, tmp_path, wheel
):
    venv_b = make_venv(tmp_path / "bob" / "venv", wheel)
    spawn_python_pro(fake_api)
    result = run_e2e(project=teammate_project, env_extra={"PATH": f"{venv_b}:{SYSTEM_PATH}"})
    assert result.returncode == 0, result.describe()
    assert result.model_for("SUB-0") == "claude-haiku-5-5"  # sonnet asked, python-pro → haiku
    responses = [e for e in result.hook_events("PreToolUse") if e.get("subtype") == "hook_response"]
    assert len(responses) == 1 and responses[0]["exit_code"] == 0, result.hook_events()
    assert install.NOT_INSTALLED_MESSAGE not in result.stdout


def test_without_cco_hooks_the_spawn_proceeds_with_one_message(run_e2e, fake_api, teammate_project):
    spawn_python_pro(fake_api)
    result = run_e2e(project=teammate_project, env_extra={"PATH": SYSTEM_PATH})
    assert result.returncode == 0, result.describe()
    assert result.model_for("SUB-0") == "claude-sonnet-5-5"  # as Claude asked: not blocked, not routed
    assert result.subagent_finished("SUB-0")
    responses = [e for e in result.hook_events() if e.get("subtype") == "hook_response"]
    pre = [e for e in responses if e.get("hook_event") == "PreToolUse"]
    assert len(pre) == 1 and pre[0]["exit_code"] == 0, responses
    assert install.NOT_INSTALLED_MESSAGE in str(pre[0]), pre[0]
    others = [e for e in responses if e.get("hook_event") != "PreToolUse"]
    assert others and all(e["exit_code"] == 0 for e in others), others
    assert all(install.NOT_INSTALLED_MESSAGE not in str(e) for e in others)  # one message, not one per hook
    # what the user is shown: Claude Code turns the answer into one system message of the session
    shown = [
        line["attachment"]
        for line in result.transcript_lines()
        if line.get("type") == "attachment" and line.get("attachment", {}).get("type") == "hook_system_message"
    ]
    assert [(a["hookEvent"], a["content"]) for a in shown] == [("PreToolUse", install.NOT_INSTALLED_MESSAGE)]
