"""The plugin as a user gets it, in the real Claude Code CLI (each tested release): added from this
repository's marketplace (`claude plugin marketplace add <dir>`, `claude plugin install
cco-hooks@cco-hooks`), then a run against the fake Messages API; asserted on the model of each
subagent's own API request.

The bare-python3 case puts first on PATH a venv made `--without-pip` and without system site
packages, so the hooks' `python3` has no pydantic or yaml: the plugin sets up its private
environment in the background (pip, offline, from a wheelhouse this test makes from the packages
installed here), tells the user once, leaves that first spawn unchanged, and routes once set up.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from cco_hooks import builder_env
from tests.support import wheelhouse
from tests.support.claude_cli import run_claude_command
from tests.support.fake_api import Scenario, Spawn
from tests.support.locations import REPO

pytestmark = pytest.mark.e2e

# What the plugin is made of (the rest of the repository is for its developers).
PLUGIN_PARTS = (".claude-plugin", "hooks", "cco_hooks", "config", "README.md", "LICENSE", "pyproject.toml")
SETUP_WAIT_S = 600  # a wait, not a timing assertion: the setup's pip install, on a busy machine


def marketplace_copy(tmp_path: Path) -> Path:
    """The repository as a marketplace directory holds it: its tracked plugin files, no caches."""
    target = tmp_path / "marketplace"
    target.mkdir()
    for part in PLUGIN_PARTS:
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, target / part, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy(source, target / part)
    return target


def install_from_marketplace(claude_bin: str, home: Path, tmp_path: Path) -> Path:
    """`claude plugin marketplace add <dir>` + `claude plugin install cco-hooks@<marketplace>`;
    returns the marketplace directory."""
    marketplace = marketplace_copy(tmp_path)
    name = json.loads((marketplace / ".claude-plugin" / "marketplace.json").read_text())["name"]
    added = run_claude_command(["plugin", "marketplace", "add", str(marketplace)], home=home, claude_bin=claude_bin)
    assert added.returncode == 0, added.stdout + added.stderr
    installed = run_claude_command(
        ["plugin", "install", f"cco-hooks@{name}"], home=home, claude_bin=claude_bin, timeout=120
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    registry = json.loads((home / ".claude" / "plugins" / "installed_plugins.json").read_text())
    assert f"cco-hooks@{name}" in registry["plugins"]
    settings = json.loads((home / ".claude" / "settings.json").read_text())
    assert settings["enabledPlugins"] == {f"cco-hooks@{name}": True}
    return marketplace


def write_agents(project: Path, *names: str) -> None:
    agents_dir = project / ".claude" / "agents"
    agents_dir.mkdir(parents=True, exist_ok=True)
    for name in names:
        (agents_dir / f"{name}.md").write_text(f"---\nname: {name}\ndescription: {name}\n---\nYou are {name}.\n")


def spawn_run(run_e2e, fake_api, spawns, env_extra=None):
    fake_api.set_scenario(Scenario(spawns=spawns))
    result = run_e2e(env_extra=env_extra)
    assert result.returncode == 0, result.describe()
    return result


def test_installed_from_the_marketplace_the_plugin_routes(claude_bin, run_e2e, fake_api, e2e_home, e2e_project):
    marketplace = install_from_marketplace(claude_bin, e2e_home, e2e_project.parent)
    write_agents(e2e_project, "python-pro")
    (e2e_project / ".claude" / "cco-hooks.json").write_text('{"version": 1, "agents": {"python-pro": "haiku"}}')
    result = spawn_run(run_e2e, fake_api, [Spawn("SUB-0", subagent_type="python-pro", model="opus")])
    assert result.model_for("SUB-0") == "claude-haiku-5-5"
    # A directory marketplace's plugin runs from that directory (CLAUDE_PLUGIN_ROOT), though
    # `install` also copies it under plugins/cache: its hook compiled its bytecode there.
    assert list((marketplace / "cco_hooks" / "__pycache__").glob("hook_main.*.pyc"))


def wait_for_setup(config_dir: Path) -> dict:
    """The private environment's status, once its setup has ended (ready or failed)."""
    deadline = time.monotonic() + SETUP_WAIT_S
    while True:
        found = list((config_dir / "plugins" / "data").glob("*/builder-python*/status.json"))
        if found:
            status = json.loads(found[0].read_text())
            if status["state"] != "running":
                return {**status, "root": str(found[0].parent)}
        assert time.monotonic() < deadline, f"the setup did not end within {SETUP_WAIT_S} s: {found}"
        time.sleep(1)


def test_on_a_bare_python3_the_plugin_sets_itself_up_then_routes_yaml_and_json(
    claude_bin, run_e2e, fake_api, e2e_home, e2e_project, tmp_path
):
    install_from_marketplace(claude_bin, e2e_home, tmp_path)
    bare_bin = wheelhouse.bare_python(tmp_path / "bare-python")
    wheels = wheelhouse.build(list(builder_env.REQUIREMENTS), tmp_path / "wheelhouse")
    env_extra = {"PATH": f"{bare_bin}:/usr/bin:/bin", **wheelhouse.offline_pip_env(wheels)}
    write_agents(e2e_project, "python-pro", "chief-architect")
    # both formats: the user's layer in JSON, the project's in YAML
    (e2e_home / ".claude" / "cco-hooks.json").write_text('{"version": 1, "agents": {"chief-architect": "sonnet"}}')
    (e2e_project / ".claude" / "cco-hooks.yaml").write_text("version: 1\nagents:\n  python-pro: haiku\n")

    first = spawn_run(run_e2e, fake_api, [Spawn("SUB-0", subagent_type="python-pro", model="opus")], env_extra)
    assert first.model_for("SUB-0") == "claude-opus-5-5"  # not set up yet: the spawn proceeds unchanged
    told = [e for e in first.events if "setting up the packages its config builder needs" in json.dumps(e)]
    assert told, "the user is told the plugin is setting itself up"
    assert "Please report it" not in first.stdout and "please report it" not in first.stdout

    status = wait_for_setup(e2e_home / ".claude")
    assert status["state"] == "ready", status
    # under the plugin's own data directory, which Claude Code gives its hooks
    assert Path(status["root"]).parent.parent == e2e_home / ".claude" / "plugins" / "data"

    second = spawn_run(
        run_e2e,
        fake_api,
        [
            Spawn("SUB-1", subagent_type="python-pro", model="opus"),
            Spawn("SUB-2", subagent_type="chief-architect", model="haiku"),
        ],
        env_extra,
    )
    assert second.model_for("SUB-1") == "claude-haiku-5-5"
    assert second.model_for("SUB-2") == "claude-sonnet-5-5"
    assert "setting up" not in second.stdout
