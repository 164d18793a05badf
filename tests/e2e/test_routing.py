"""Routing in the real Claude Code CLI (each tested release): the model each subagent's own API request carried.

Every case runs twice: with the hooks registered by `cco-hooks install --scope project`, and with the
repository loaded as a plugin (`claude --plugin-dir <repo>`). The config is a real CCO orchestra
config used as-is as the project's `.claude/cco-hooks.json`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support.claude_cli import cco_hooks_cli
from tests.support.fake_api import Scenario, Spawn
from tests.support.locations import CCO_CONFIGS, REPO

pytestmark = pytest.mark.e2e

AGENTS = ("python-pro", "chief-architect", "free-agent", "tdd-coding-agent")


def write_agents(project: Path) -> None:
    """Agent definitions Claude Code must know to spawn them (no `model:`, so only routing decides)."""
    agents_dir = project / ".claude" / "agents"
    agents_dir.mkdir(parents=True, exist_ok=True)
    for name in AGENTS:
        (agents_dir / f"{name}.md").write_text(
            f"---\nname: {name}\ndescription: {name} for the tests\n---\nYou are {name}. Answer briefly.\n"
        )


@pytest.fixture(params=["install", "plugin"])
def route(request, e2e_project: Path, e2e_home: Path, tmp_path: Path):
    """How the hooks reach Claude Code; returns extra run_e2e kwargs."""
    write_agents(e2e_project)
    shutil.copy(CCO_CONFIGS / "orchestra-config.json", e2e_project / ".claude" / "cco-hooks.json")
    if request.param == "install":
        result = cco_hooks_cli("install", "--scope", "project", project=e2e_project, home=e2e_home)
        assert result.returncode == 0, result.stderr
        return {}
    return {"plugin_dir": REPO}


def run(run_e2e, fake_api, route, spawns, env_extra=None):
    fake_api.set_scenario(Scenario(spawns=spawns))
    result = run_e2e(env_extra=env_extra, **route)
    assert result.returncode == 0, result.describe()
    return result


def test_rewrite_routes_every_spawn_to_its_configured_model(run_e2e, fake_api, route):
    """CCO config: python-pro → haiku, chief-architect → opus, "Python Pro" matched, background too,
    and an agent the config does not name keeps the model Claude asked for."""
    result = run(
        run_e2e,
        fake_api,
        route,
        [
            Spawn("SUB-0", subagent_type="python-pro", model="sonnet", run_in_background=False),
            Spawn("SUB-1", subagent_type="chief-architect", model="haiku", run_in_background=False),
            Spawn("SUB-2", subagent_type="Python Pro", model="opus", run_in_background=False),
            Spawn("SUB-3", subagent_type="python-pro", model="sonnet", run_in_background=True),
            Spawn("SUB-4", subagent_type="free-agent", model="opus", run_in_background=False),
        ],
    )
    assert result.model_for("SUB-0") == "claude-haiku-5-5"
    assert result.model_for("SUB-1") == "claude-opus-5-5"
    assert result.model_for("SUB-2") == "claude-haiku-5-5"
    assert result.model_for("SUB-3") == "claude-haiku-5-5"
    assert result.model_for("SUB-4") == "claude-opus-5-5"
    # Every request of a routed subagent (not just the first) runs on the new model.
    assert set(result.models_for("SUB-0")) == {"claude-haiku-5-5"}


def test_rewrite_when_the_spawn_names_no_model(run_e2e, fake_api, route):
    """A spawn without `model` still gets the configured one (instead of the parent's opus)."""
    result = run(run_e2e, fake_api, route, [Spawn("SUB-0", subagent_type="python-pro", run_in_background=False)])
    assert result.model_for("SUB-0") == "claude-haiku-5-5"


def test_enforce_denies_with_a_reason_naming_the_model(run_e2e, fake_api, route, e2e_project):
    """enforce: the spawn on the wrong model never runs; Claude reads a reason naming haiku."""
    (e2e_project / ".claude" / "cco-hooks.local.yaml").write_text("version: 1\nmode: enforce\n")
    result = run(
        run_e2e,
        fake_api,
        route,
        [
            Spawn("SUB-0", subagent_type="python-pro", model="sonnet", run_in_background=False),
            Spawn("SUB-1", subagent_type="python-pro", model="haiku", run_in_background=False),
        ],
    )
    denied = result.agent_call("SUB-0")
    assert denied.denied and 'model: "haiku"' in denied.result_text
    assert result.requests_for("SUB-0") == []
    assert result.model_for("SUB-1") == "claude-haiku-5-5"


def test_observe_changes_nothing(run_e2e, fake_api, route, e2e_project):
    """observe: the subagent runs on exactly what Claude asked for."""
    (e2e_project / ".claude" / "cco-hooks.local.yaml").write_text("version: 1\nmode: observe\n")
    result = run(
        run_e2e, fake_api, route, [Spawn("SUB-0", subagent_type="python-pro", model="sonnet", run_in_background=False)]
    )
    assert result.model_for("SUB-0") == "claude-sonnet-5-5"


def test_a_broken_layer_lets_the_spawn_run_and_tells_the_user(run_e2e, fake_api, route, e2e_project):
    """A broken config layer fails open: the spawn runs unchanged and the user is told, with the file."""
    broken = e2e_project / ".claude" / "cco-hooks.local.yaml"
    broken.write_text("version: 1\nmode: [rewrite\n")
    result = run(
        run_e2e, fake_api, route, [Spawn("SUB-0", subagent_type="python-pro", model="sonnet", run_in_background=False)]
    )
    assert result.model_for("SUB-0") == "claude-sonnet-5-5"
    told = [e for e in result.events if str(broken) in str(e) and "cco-hooks" in str(e)]
    assert told, "the user is told which file is broken"


def test_zero_config_the_agent_file_model_wins(run_e2e, fake_api, route, e2e_project):
    """With no config file at all (the embedded default), the agent file's `model:` beats Claude's pick."""
    (e2e_project / ".claude" / "cco-hooks.json").unlink()
    (e2e_project / ".claude" / "agents" / "free-agent.md").write_text(
        "---\nname: free-agent\ndescription: cheap helper\nmodel: haiku\n---\nYou are cheap.\n"
    )
    result = run(
        run_e2e, fake_api, route, [Spawn("SUB-0", subagent_type="free-agent", model="opus", run_in_background=False)]
    )
    assert result.model_for("SUB-0") == "claude-haiku-5-5"
