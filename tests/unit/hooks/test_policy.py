"""The routing policy over real payloads: a pure function of payload + compiled config."""

import json

import pytest

from cco_hooks import policy
from tests.support.locations import CCO_CONFIGS, PAYLOADS, PUBLIC_PAYLOADS
from tests.support.project import spawn


def load(path):
    return json.loads(path.read_text())


@pytest.fixture
def cco_snapshot(project):
    project.write_config((CCO_CONFIGS / "orchestra-config.json").read_text(), name="cco-hooks.json")
    return project.snapshot()


def test_rewrite_downgrades_python_pro_from_the_cco_config(cco_snapshot):
    """python-pro is haiku in the CCO config: a spawn asking for sonnet is rewritten to haiku."""
    payload = load(PAYLOADS / "PreToolUse.json")
    payload["tool_input"]["subagent_type"] = "python-pro"
    decision = policy.decide(payload["tool_name"], payload["tool_input"], cco_snapshot)
    assert decision["action"] == "rewrite"
    assert decision["requested_model"] == "sonnet" and decision["enforced_model"] == "haiku"
    assert decision["rule"] == "python-pro" and decision["layer"] == "project"
    out = policy.hook_output(decision)
    # The whole input comes back with only the model changed, and no permission is granted.
    assert out == {
        "hookSpecificOutput": {
            "hookEventName": "PreToolUse",
            "updatedInput": dict(payload["tool_input"], model="haiku"),
        }
    }


def test_rewrite_upgrades_chief_architect(cco_snapshot):
    """Upgrades as well as downgrades: chief-architect asked for haiku runs on opus."""
    decision = policy.decide("Agent", spawn("chief-architect", "haiku"), cco_snapshot)
    assert decision["action"] == "rewrite" and decision["updated_input"]["model"] == "opus"
    assert "haiku → opus" in decision["reason"]


def test_rewrite_applies_when_the_spawn_names_no_model(cco_snapshot):
    """A spawn without `model` gets the configured one, other fields untouched (real Task payload)."""
    payload = load(PUBLIC_PAYLOADS / "02_PreToolUse_Agent_plugin_subagent_background.json")
    payload["tool_input"]["subagent_type"] = "python-pro"
    decision = policy.decide(payload["tool_name"], payload["tool_input"], cco_snapshot)
    assert decision["updated_input"] == dict(payload["tool_input"], model="haiku")
    assert decision["requested_model"] is None


def test_display_names_match(cco_snapshot):
    """ "Python Pro" is python-pro, as Claude Code resolves it."""
    decision = policy.decide("Agent", spawn("Python Pro", "opus"), cco_snapshot)
    assert decision["updated_input"]["model"] == "haiku"


def test_already_right_model_is_allowed_without_output(cco_snapshot):
    """A spawn already on the configured model is left alone (no output at all)."""
    decision = policy.decide("Agent", spawn("python-pro", "haiku"), cco_snapshot)
    assert decision["action"] == "allow" and policy.hook_output(decision) is None


def test_unconfigured_agent_and_fork_are_untouched(cco_snapshot):
    """No rule, no change; fork always runs on the parent's model, so it is left alone too."""
    for agent in ("no-such-agent", "fork"):
        decision = policy.decide("Agent", spawn(agent, "opus"), cco_snapshot)
        assert decision["action"] == "none" and policy.hook_output(decision) is None


@pytest.mark.parametrize("tool", ["TaskCreate", "TaskUpdate", "TaskOutput", "Bash", None])
def test_other_tools_are_not_spawns(cco_snapshot, tool):
    """Only Agent and Task are spawns; TaskCreate and friends are other tools."""
    assert policy.decide(tool, spawn("python-pro", "sonnet"), cco_snapshot)["action"] == "none"


def test_task_is_the_old_name_of_agent(project):
    """The real Task payload (Claude Code < 2.1.63) is routed like Agent."""
    project.write_config({"version": 1, "agents": {"Explore": "haiku"}})
    payload = load(PUBLIC_PAYLOADS / "01_PreToolUse_Task_Explore.json")
    decision = policy.decide(payload["tool_name"], payload["tool_input"], project.snapshot())
    assert decision["updated_input"] == dict(payload["tool_input"], model="haiku")


def test_enforce_denies_and_names_the_model(project):
    """enforce: a spawn on another model is denied; the reason names the model to retry with."""
    project.write_config({"version": 1, "mode": "enforce", "agents": {"python-pro": "haiku"}})
    decision = policy.decide("Agent", spawn("python-pro", "sonnet"), project.snapshot())
    out = policy.hook_output(decision)
    assert out["hookSpecificOutput"]["permissionDecision"] == "deny"
    assert 'model: "haiku"' in out["hookSpecificOutput"]["permissionDecisionReason"]
    assert policy.decide("Agent", spawn("python-pro", "haiku"), project.snapshot())["action"] == "allow"


def test_enforce_allows_an_unnamed_model_the_agent_file_already_sets(project):
    """enforce with no model in the call: allowed when the agent file gives the same model."""
    project.write_config({"version": 1, "mode": "enforce", "agents": {"python-pro": "haiku"}})
    project.write_agent("python-pro", "haiku")
    assert policy.decide("Agent", spawn("python-pro"), project.snapshot())["action"] == "allow"
    project.write_agent("python-pro", "opus")
    assert policy.decide("Agent", spawn("python-pro"), project.snapshot())["action"] == "deny"


def test_enforce_knows_the_agent_file_beats_the_subagent_model_env_var(project):
    """Measured precedence (2.1.328, 2.1.332): the agent file's model, then CLAUDE_CODE_SUBAGENT_MODEL.
    A spawn naming no model of an agent whose file says haiku runs on haiku even with the env var
    saying opus, so enforce lets it through; without the file the env var decides."""
    project.write_config({"version": 1, "mode": "enforce", "agents": {"python-pro": "haiku"}})
    env = {"CLAUDE_CODE_SUBAGENT_MODEL": "opus"}
    assert policy.decide("Agent", spawn("python-pro"), project.snapshot(), env)["action"] == "deny"
    project.write_agent("python-pro", "haiku")
    assert policy.decide("Agent", spawn("python-pro"), project.snapshot(), env)["action"] == "allow"
    project.write_agent("python-pro", "inherit")  # the parent's model: unknown here
    assert policy.decide("Agent", spawn("python-pro"), project.snapshot(), env)["action"] == "deny"


def test_observe_changes_nothing_but_records_the_would_be_decision(project):
    """observe: no output; the decision says what rewrite would have done."""
    project.write_config({"version": 1, "mode": "observe", "agents": {"python-pro": "haiku"}})
    decision = policy.decide("Agent", spawn("python-pro", "sonnet"), project.snapshot())
    assert decision["action"] == "observe" and decision["would"] == "rewrite"
    assert decision["enforced_model"] == "haiku" and policy.hook_output(decision) is None


def test_per_agent_mode_overrides_the_top_level_mode(project):
    """A rule's own mode wins over the config's mode."""
    project.write_config({"version": 1, "mode": "rewrite", "agents": {"auditor": {"model": "opus", "mode": "enforce"}}})
    assert policy.decide("Agent", spawn("auditor", "haiku"), project.snapshot())["action"] == "deny"


def test_effort_is_written_with_the_model(project):
    """A rule with effort sets both fields, keeping every other field."""
    project.write_config({"version": 1, "agents": {"code-reviewer": {"model": "sonnet", "effort": "high"}}})
    decision = policy.decide("Agent", spawn("code-reviewer", "sonnet", run_in_background=True), project.snapshot())
    assert decision["updated_input"] == spawn("code-reviewer", "sonnet", run_in_background=True, effort="high")


def test_globs_route_families_of_agents(project):
    """`test-*` routes every test agent; an exact rule still wins."""
    project.write_config({"version": 1, "agents": {"test-*": "haiku", "test-architect": "opus"}})
    snap = project.snapshot()
    assert policy.decide("Agent", spawn("test-engineer", "opus"), snap)["updated_input"]["model"] == "haiku"
    assert policy.decide("Agent", spawn("Test Architect", "haiku"), snap)["updated_input"]["model"] == "opus"


def test_ceiling_and_floor_clamp_on_the_tier_order(project):
    """A ceiling caps configured and requested models alike; a floor lifts configured ones."""
    project.write_config(
        {"version": 1, "agents": {"big": "fable", "small": "haiku"}, "limits": {"ceiling": "sonnet", "floor": "sonnet"}}
    )
    snap = project.snapshot()
    assert policy.decide("Agent", spawn("big", "fable"), snap)["updated_input"]["model"] == "sonnet"
    assert policy.decide("Agent", spawn("small", "haiku"), snap)["updated_input"]["model"] == "sonnet"
    unconfigured = policy.decide("Agent", spawn("other", "opus"), snap)
    assert unconfigured["updated_input"]["model"] == "sonnet" and unconfigured["rule"] == "limits.ceiling"


def test_default_model_routes_unconfigured_agents_when_set(project):
    """`default.model` other than inherit applies to agents no rule names."""
    project.write_config({"version": 1, "default": {"model": "haiku"}})
    decision = policy.decide("Agent", spawn("anything", "opus"), project.snapshot())
    assert decision["updated_input"]["model"] == "haiku" and decision["rule"] == "default"


def test_agent_files_are_the_policy_with_zero_config(project):
    """With only the embedded default, the agent file's `model:` beats the orchestrator's pick."""
    project.write_agent("python-pro", "haiku")
    decision = policy.decide("Agent", spawn("python-pro", "opus"), project.snapshot())
    assert decision["updated_input"]["model"] == "haiku"
    assert decision["layer"] == "agent-file (project)"


def test_config_rules_beat_agent_files(project):
    """An explicit rule wins over the agent file's frontmatter."""
    project.write_agent("python-pro", "haiku")
    project.write_config({"version": 1, "agents": {"python-pro": "sonnet"}})
    assert policy.decide("Agent", spawn("python-pro", "opus"), project.snapshot())["updated_input"]["model"] == "sonnet"


def test_an_inherit_rule_shadows_a_glob(project):
    """`inherit` for one agent leaves it untouched even when a glob would route it."""
    project.write_config({"version": 1, "agents": {"test-*": "haiku", "test-special": "inherit"}})
    assert policy.decide("Agent", spawn("test-special", "opus"), project.snapshot())["action"] == "none"


def test_budget_verdict_denies_or_downgrades(project):
    """A spent budget denies (reason from the budget) or downgrades the spawn."""
    project.write_config({"version": 1, "agents": {"python-pro": "sonnet"}})
    snap = project.snapshot()
    deny = policy.decide(
        "Agent",
        spawn("python-pro", "sonnet"),
        snap,
        budget={"exceeded": "daily_usd", "action": "deny", "message": "daily budget $1.00 spent"},
    )
    assert deny["action"] == "deny" and "daily budget" in deny["reason"]
    down = policy.decide(
        "Agent",
        spawn("python-pro", "sonnet"),
        snap,
        budget={"exceeded": "daily_usd", "action": "downgrade", "downgrade_to": "haiku"},
    )
    assert down["action"] == "rewrite" and down["updated_input"]["model"] == "haiku"


def test_a_broken_layer_leaves_spawns_unchanged_and_says_which():
    """on_error: allow (the default): the spawn proceeds, the reason names the broken layer."""
    decision = policy.broken_config_decision({"broken": ["/p/.claude/cco-hooks.yaml: not YAML"], "on_error": "allow"})
    assert decision["action"] == "none" and policy.hook_output(decision) is None
    assert decision["reason"].endswith("/p/.claude/cco-hooks.yaml: not YAML.")


def test_a_broken_layer_under_on_error_block_denies_with_what_where_and_the_fix():
    """on_error: block: a denial naming the layer and how to fix it."""
    decision = policy.broken_config_decision({"broken": ["/p/.claude/cco-hooks.yaml: not YAML"], "on_error": "block"})
    reason = policy.hook_output(decision)["hookSpecificOutput"]["permissionDecisionReason"]
    assert decision["action"] == "deny"
    assert "a config layer is broken" in reason and "Where: /p/.claude/cco-hooks.yaml: not YAML" in reason
    assert "cco-hooks config validate" in reason and "on_error: allow" in reason
