"""counterfactual: the model Claude Code would have run a spawn on without cco-hooks, in Claude Code's
precedence (call > agent file > CLAUDE_CODE_SUBAGENT_MODEL > parent), with aliases resolved under the
hook's environment (pins, provider maps per version)."""

import json
import os
from pathlib import Path

import pytest

from cco_hooks import claude_code, counterfactual
from tests.support.project import spawn

FILE_HAIKU = {"python-pro": {"model": "haiku", "source": "/p/.claude/agents/python-pro.md"}}


def test_the_call_s_model_comes_first():
    got = counterfactual.requested(spawn("python-pro", "sonnet"), FILE_HAIKU, {"CLAUDE_CODE_SUBAGENT_MODEL": "opus"})
    assert (got["source"], got["spec"], got["model_id"]) == ("call", "sonnet", "claude-sonnet-5-5")


def test_the_agent_file_beats_the_env_var():
    """Measured in 2.1.328 and 2.1.332: a file saying haiku, the env var opus, no model → haiku."""
    got = counterfactual.requested(spawn("Python Pro"), FILE_HAIKU, {"CLAUDE_CODE_SUBAGENT_MODEL": "opus"})
    assert (got["source"], got["spec"], got["model_id"]) == ("agent_file", "haiku", "claude-haiku-5-5")
    assert got["where"] == FILE_HAIKU["python-pro"]["source"]


def test_the_env_var_applies_when_neither_call_nor_file_names_a_model():
    got = counterfactual.requested(spawn("general-purpose"), FILE_HAIKU, {"CLAUDE_CODE_SUBAGENT_MODEL": "Sonnet"})
    assert (got["source"], got["spec"], got["model_id"]) == ("env", "sonnet", "claude-sonnet-5-5")
    full = counterfactual.requested(spawn(), {}, {"CLAUDE_CODE_SUBAGENT_MODEL": "claude-opus-4-1-20250805"})
    assert (full["source"], full["model_id"]) == ("env", "claude-opus-4-1-20250805")


def test_no_model_anywhere_is_the_parent_s_model():
    got = counterfactual.requested(spawn("general-purpose"), FILE_HAIKU, {})
    assert (got["source"], got["spec"], got["model_id"]) == ("parent", None, None)


def test_model_inherit_in_the_agent_file_means_the_parent_even_with_the_env_var_set():
    """The CLI's resolver (``ops``/``vBo``) returns the parent's model for a file's ``inherit``
    before it looks at CLAUDE_CODE_SUBAGENT_MODEL."""
    agent_models = {"explorer": {"model": "inherit", "source": "/p/explorer.md"}}
    got = counterfactual.requested(spawn("explorer"), agent_models, {"CLAUDE_CODE_SUBAGENT_MODEL": "haiku"})
    assert got["source"] == "parent" and got["model_id"] is None


def test_a_fork_runs_on_the_parent_s_model_whatever_is_named():
    env = {"CLAUDE_CODE_SUBAGENT_MODEL": "haiku"}
    got = counterfactual.requested(spawn("fork", "haiku"), {"fork": {"model": "haiku"}}, env)
    assert got["source"] == "parent"


def test_the_force_switch_makes_the_env_var_beat_the_call_and_the_file():
    env = {"CLAUDE_CODE_SUBAGENT_MODEL": "haiku", "CLAUDE_CODE_SUBAGENT_MODEL_FORCE": "1"}
    got = counterfactual.requested(spawn("python-pro", "opus"), FILE_HAIKU, env)
    assert (got["source"], got["model_id"]) == ("env", "claude-haiku-5-5")
    alone = counterfactual.requested(spawn("python-pro", "opus"), FILE_HAIKU, {"CLAUDE_CODE_SUBAGENT_MODEL_FORCE": "1"})
    assert alone["source"] == "parent"


def test_built_in_agents_carry_their_own_model_unless_a_file_overrides_it():
    assert counterfactual.requested(spawn("statusline-setup"), {}, {})["spec"] == "sonnet"
    assert counterfactual.requested(spawn("Explore"), {}, {"CLAUDE_CODE_SUBAGENT_MODEL": "haiku"})["source"] == "parent"
    mine = {"explore": {"model": "haiku", "source": "/p/explore.md"}}
    assert counterfactual.requested(spawn("Explore"), mine, {})["spec"] == "haiku"


def test_an_alias_pin_resolves_the_counterfactual_and_the_parent():
    env = {
        "ANTHROPIC_DEFAULT_OPUS_MODEL": "claude-opus-4-1-20250805[1m]",
        "ANTHROPIC_MODEL": "opus",
    }
    got = counterfactual.requested(spawn("general-purpose", "opus"), {}, env)
    assert got["model_id"] == "claude-opus-4-1-20250805"
    assert got["parent_model_env"] == "claude-opus-4-1-20250805"


@pytest.mark.parametrize(
    ("switch", "version", "alias", "expected"),
    [
        ("CLAUDE_CODE_USE_BEDROCK", "2.1.332", "haiku", "us.anthropic.claude-haiku-4-5-20251001-v1:0"),
        ("CLAUDE_CODE_USE_BEDROCK", "2.1.332", "opus", "us.anthropic.claude-opus-5-5"),
        ("CLAUDE_CODE_USE_VERTEX", "2.1.328", "sonnet", "claude-sonnet-4-5@20250929"),
        ("CLAUDE_CODE_USE_VERTEX", "2.1.332", "sonnet", "claude-sonnet-5-5"),
        ("CLAUDE_CODE_USE_FOUNDRY", "2.1.328", "opus", "claude-opus-4-6"),
        ("CLAUDE_CODE_USE_FOUNDRY", "2.1.331", "opus", "claude-opus-4-6"),
        ("CLAUDE_CODE_USE_FOUNDRY", "2.1.332", "opus", "claude-opus-5-5"),
        ("CLAUDE_CODE_USE_MANTLE", "2.1.332", "sonnet", "anthropic.claude-sonnet-5"),
        ("CLAUDE_CODE_USE_ANTHROPIC_AWS", "2.1.332", "sonnet", "claude-sonnet-4-6"),
    ],
)
def test_a_provider_switch_resolves_aliases_with_that_version_s_map(switch, version, alias, expected):
    assert counterfactual.model_id(alias, {switch: "1"}, version) == expected


def test_a_provider_switch_that_is_not_true_is_the_first_party_api():
    assert claude_code.provider({"CLAUDE_CODE_USE_BEDROCK": "0", "CLAUDE_CODE_USE_VERTEX": "off"}) == "first_party"
    assert claude_code.provider({"CLAUDE_CODE_USE_VERTEX": "TRUE ", "CLAUDE_CODE_USE_BEDROCK": "yes"}) == "bedrock"


def test_an_unknown_version_gets_the_newest_map_and_an_older_one_the_oldest():
    env = {"CLAUDE_CODE_USE_FOUNDRY": "1"}
    assert counterfactual.model_id("opus", env, None) == "claude-opus-5-5"
    assert counterfactual.model_id("opus", env, "2.1.200") == "claude-opus-4-6"


def test_a_pin_beats_the_provider_map():
    env = {"CLAUDE_CODE_USE_BEDROCK": "1", "ANTHROPIC_DEFAULT_HAIKU_MODEL": "my-haiku-profile"}
    assert counterfactual.model_id("haiku", env) == "my-haiku-profile"


def test_every_model_the_alias_maps_name_is_priced():
    """Each provider's alias model, spelt as that provider is sent it, has a price."""
    from cco_hooks import pricing

    prices = pricing.load_prices()
    for _since, mapping in claude_code.PROVIDER_ALIAS_MAPS:
        for alias in mapping:
            for which in [claude_code.FIRST_PARTY] + [p for _env, p in claude_code.PROVIDER_ENV]:
                switch = {name: "1" for name, p in claude_code.PROVIDER_ENV if p == which}
                model = claude_code.alias_model_id(
                    alias, switch, "2.1.332" if mapping is claude_code.PROVIDER_ALIAS_MAPS[0][1] else "2.1.328"
                )
                assert prices.resolve(model) is not None, (alias, which, model)


@pytest.mark.parametrize(
    ("spec", "source", "parent", "expected"),
    [
        ("opus", "call", "claude-opus-4-1-20250805", True),
        ("opus", "agent_file", "us.anthropic.claude-opus-4-6-v1", True),
        ("sonnet", "call", "claude-opus-5-5", False),
        ("opus", "env", "claude-opus-4-1-20250805", False),
        ("claude-opus-4-7", "call", "claude-opus-4-1-20250805", False),
        ("opus", "call", None, False),
    ],
)
def test_a_named_family_the_parent_is_in_runs_on_the_parent_s_model(spec, source, parent, expected):
    assert counterfactual.same_family_as_parent(spec, source, parent) is expected


def test_the_version_is_read_from_the_session_transcript_head(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps({"type": "user", "version": "2.1.330", "x": 1}) + "\n")
    assert counterfactual.read_version(str(path)) == "2.1.330"
    assert counterfactual.read_version(str(tmp_path / "missing.jsonl")) is None
    assert counterfactual.read_version(str(tmp_path / "s.txt")) is None


def test_for_spawn_reads_the_version_only_for_a_third_party_provider(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps({"type": "user", "version": "2.1.328"}) + "\n")
    payload = {"transcript_path": str(path), "tool_input": spawn("general-purpose", "opus")}
    first = counterfactual.for_spawn(payload, {}, {}, "haiku")
    assert first["catalog_version"] is None and first["provider"] == "first_party"
    assert first["enforced_model_id"] == "claude-haiku-5-5"
    foundry = counterfactual.for_spawn(payload, {}, {"CLAUDE_CODE_USE_FOUNDRY": "1"}, "opus")
    assert foundry["catalog_version"] == "2.1.328" and foundry["model_id"] == "claude-opus-4-6"


def test_agent_definitions_come_from_project_user_and_plugin_files(project, tmp_path):
    """Project beats user; an enabled plugin's agents are ``plugin:name``; a disabled one's are not."""
    config = os.environ["CLAUDE_CONFIG_DIR"]
    project.write_agent("reviewer", "sonnet", directory=Path(config) / "agents")
    project.write_agent("reviewer", "haiku")
    plugin_root = tmp_path / "plugins" / "toolbox"
    project.write_agent("auditor", "claude-opus-4-1-20250805", directory=plugin_root / "agents")
    (plugin_root / ".claude-plugin").mkdir()
    (plugin_root / ".claude-plugin" / "plugin.json").write_text(json.dumps({"name": "toolbox"}))
    other_root = tmp_path / "plugins" / "other"
    project.write_agent("auditor", "haiku", directory=other_root / "agents")
    registry = {
        "version": 2,
        "plugins": {
            "toolbox@market": [{"scope": "user", "installPath": str(plugin_root)}],
            "other@market": [{"scope": "user", "installPath": str(other_root)}],
        },
    }
    os.makedirs(os.path.join(config, "plugins"), exist_ok=True)
    with open(os.path.join(config, "plugins", "installed_plugins.json"), "w") as f:
        json.dump(registry, f)
    (project.root / ".claude" / "settings.json").write_text(
        json.dumps({"enabledPlugins": {"toolbox@market": True, "other@market": False}})
    )
    agent_models = project.snapshot()["agent_models"]
    assert agent_models["reviewer"]["model"] == "haiku"
    assert agent_models["toolbox:auditor"]["model"] == "claude-opus-4-1-20250805"
    assert "other:auditor" not in agent_models
    got = counterfactual.requested(spawn("toolbox:auditor"), agent_models, {})
    assert (got["source"], got["model_id"]) == ("agent_file", "claude-opus-4-1-20250805")
