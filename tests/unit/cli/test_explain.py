"""`cco-hooks explain`: the decision for a spawn, and why."""

import json

import pytest
from click.testing import CliRunner

from cco_hooks.cli.main import main
from tests.support.controls import ALL_RAW, ALL_SPELT, assert_shown_not_run, raw_controls
from tests.support.hookproc import Hooks, answer
from tests.support.locations import PAYLOADS
from tests.support.project import Project


def test_explain_with_agent_and_model(project, cli):
    """explain --agent/--model prints the decision, the rule and what the hook would print."""
    project.write_config("version: 1\nagents: {python-pro: haiku}\n")
    result = cli("explain", "--agent", "Python Pro", "--model", "sonnet", "--project", str(project.root))
    assert result.exit_code == 0
    assert "decision:  rewrite → haiku" in result.output
    assert '"model": "haiku"' in result.output


def test_explain_reads_a_payload_on_stdin(project, cli):
    """explain with a real PreToolUse payload on stdin decides for that payload (--json)."""
    project.write_config("version: 1\nmode: enforce\nagents: {general-purpose: haiku}\n")
    payload = json.loads((PAYLOADS / "PreToolUse.json").read_text())
    result = cli("explain", "--json", "--project", str(project.root), input=json.dumps(payload))
    decision = json.loads(result.output)["decision"]
    assert decision["action"] == "deny" and decision["requested_model"] == "sonnet"


def test_explain_without_input_is_a_usage_error(project):
    """No payload and no --agent: one clear line, exit 2."""
    result = CliRunner().invoke(main, ["explain", "--project", str(project.root)], input="")
    assert result.exit_code == 2 and "explain needs a PreToolUse payload" in result.output


def test_explain_spells_out_a_hostile_agent_rule_and_path(tmp_path, terminal_cli):
    """A spawn of a hostile agent type under an enforce rule of the same name, in a hostile
    directory: every line explain prints shows them spelt out, and what the hook prints is the
    hook's own (escaped) answer."""
    project = Project(tmp_path / ALL_RAW)
    project.write_config(f"version: 1\nmode: enforce\nagents: {{{json.dumps(ALL_RAW)}: haiku}}\n")
    result = terminal_cli("explain", "--agent", ALL_RAW, "--model", "opus", "--project", str(project.root))
    assert result.exit_code == 0
    assert_shown_not_run(result.output)
    assert f"agent:     {ALL_SPELT}\n" in result.output
    assert f"rule:      {ALL_SPELT}  ← project: {tmp_path}/{ALL_SPELT}/.claude/cco-hooks.yaml\n" in result.output
    printed = json.loads(result.output.split("hook prints: ", 1)[1])
    reason = printed["hookSpecificOutput"]["permissionDecisionReason"]
    assert not raw_controls(reason, keep="") and f"{ALL_SPELT}/.claude" in reason


def test_explain_spells_out_a_hostile_agent_from_a_payload(project, terminal_cli):
    """The agent type of a piped PreToolUse payload, with no rule for it: spelt out too."""
    payload = json.loads((PAYLOADS / "PreToolUse.json").read_text())
    payload["tool_input"]["subagent_type"] = ALL_RAW
    result = terminal_cli("explain", "--project", str(project.root), input=json.dumps(payload))
    assert result.exit_code == 0
    assert_shown_not_run(result.output)


# --------------------------------------------------------------------------- model spellings


@pytest.mark.parametrize(
    "spelling",
    ["claude-sonnet-4-5-20250929", "sonnet-4.5", "claude-sonnet-4-5", "us.anthropic.claude-sonnet-4-5-20250929-v1:0"],
)
def test_explain_accepts_every_model_spelling_a_config_accepts(project, cli, spelling):
    """--model in any spelling a config file accepts is the alias the spawn asks for."""
    project.write_config("version: 1\nagents: {python-pro: haiku}\n")
    result = cli("explain", "--agent", "python-pro", "--model", spelling, "--project", str(project.root))
    assert result.exit_code == 0
    assert f"requested: sonnet (as {spelling} is spelt in the Agent tool)\n" in result.output
    assert "reason:    python-pro: sonnet → haiku" in result.output


def test_explain_answers_a_typo_with_did_you_mean(project):
    result = CliRunner().invoke(main, ["explain", "--agent", "x", "--model", "sonet", "--project", str(project.root)])
    assert result.exit_code == 2
    assert "--model 'sonet': it is not a Claude model (did you mean sonnet?)." in result.output


@pytest.mark.parametrize("junk", ["gpt-4o", "inherit", "claude-instant"])
def test_explain_refuses_a_model_no_spawn_can_ask_for(project, junk):
    result = CliRunner().invoke(main, ["explain", "--agent", "x", "--model", junk, "--project", str(project.root)])
    assert result.exit_code == 2
    assert result.output.startswith(f"cco-hooks: --model '{junk}': ")
    assert "Use one of haiku, sonnet, opus, fable" in result.output and "did you mean" not in result.output


@pytest.mark.parametrize("stdin", ["{}", '{"tool_input": {"subagent_type": "x"}}', '{"tool_name": null}'])
def test_explain_of_a_payload_without_a_tool_says_what_is_missing(project, stdin):
    """``echo '{}' | cco-hooks explain``: no "agent: None", but what a payload needs; exit 2."""
    result = CliRunner().invoke(main, ["explain", "--project", str(project.root)], input=stdin)
    assert result.exit_code == 2
    assert "None" not in result.output
    assert "stdin is no PreToolUse payload: it has no tool_name" in result.output


def test_explain_of_another_tool_says_the_hook_ignores_it(project, cli):
    result = cli("explain", "--project", str(project.root), input='{"tool_name": "Bash", "tool_input": {}}')
    assert result.exit_code == 0
    assert result.output == "tool:      Bash is not a spawn tool (Agent, or Task): the hook ignores it\n"


# --------------------------------------------------------------------------- a broken config


def test_explain_on_a_broken_config_says_it_is_not_in_force_and_exits_1(project, cli):
    project.write_config("version: 1\nagents: {python-pro: haiku}\n")
    broken = project.write_config("agents: [unclosed\n", name="cco-hooks.local.yaml")
    result = cli("explain", "--agent", "python-pro", "--model", "opus", "--project", str(project.root))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == "config:    NOT IN FORCE: a layer is broken, so the hooks leave every spawn unchanged."
    assert lines[1].startswith(f"           error: {broken}: is not valid YAML")
    assert "decision:  none\n" in result.output
    assert result.output.endswith("hook prints: nothing (the spawn proceeds unchanged)\n")
    as_json = cli("explain", "--json", "--agent", "python-pro", "--project", str(project.root))
    assert as_json.exit_code == 1 and json.loads(as_json.output)["decision"]["action"] == "none"


# --------------------------------------------------------------------------- budgets


def spent_hooks(tmp_path, project, config):
    """A day's spend of $0.4865 in the ledger (one opus spawn through the hooks) under ``config``."""
    project.write_user_config(config)
    hooks = Hooks(tmp_path, project=project.root)
    hooks.spend(1)
    return hooks


def test_explain_shows_a_spent_budget_denying_the_spawn(tmp_path, project, cli):
    spent_hooks(tmp_path, project, "version: 1\nbudget: {daily_usd: 0.25}\n")
    result = cli("explain", "--agent", "python-pro", "--model", "opus", "--project", str(project.root))
    assert result.exit_code == 0
    assert "decision:  deny\n" in result.output
    assert "budget:    cco-hooks: the daily budget (budget.daily_usd, UTC day " in result.output
    assert "of $0.2500 is spent ($0.4865 so far; set in" in result.output
    assert '"permissionDecision": "deny"' in result.output


def test_explain_shows_a_budget_downgrade_and_its_message(tmp_path, project, cli):
    spent_hooks(tmp_path, project, "version: 1\nbudget: {daily_usd: 0.25, on_exceed: downgrade}\n")
    result = cli("explain", "--json", "--agent", "python-pro", "--model", "opus", "--project", str(project.root))
    shown = json.loads(result.output)
    assert shown["decision"]["action"] == "rewrite" and shown["decision"]["enforced_model"] == "haiku"
    assert shown["budget"]["exceeded"] == "daily_usd"
    assert shown["hook_output"]["hookSpecificOutput"]["updatedInput"]["model"] == "haiku"
    assert shown["hook_output"]["systemMessage"].endswith("Downgraded from opus to haiku.")


def test_explain_shows_a_budget_warning_without_using_up_the_hooks_one(tmp_path, project, cli):
    """Past warn_at: explain says so every time; the hook still gives its own warning once."""
    hooks = spent_hooks(tmp_path, project, "version: 1\nbudget: {daily_usd: 0.5}\n")
    for _ in range(2):
        result = cli("explain", "--agent", "python-pro", "--project", str(project.root))
        assert "budget:    cco-hooks: $0.4865 of the daily budget" in result.output
        assert "is spent (97%). Spawns still run as routed.\n" in result.output
    code, out = hooks.run_main("pre-tool-use", hooks.pre("toolu_after"))
    assert "of the daily budget" in answer(out)["systemMessage"]


def test_explain_within_every_cap(tmp_path, project, cli):
    spent_hooks(tmp_path, project, "version: 1\nbudget: {daily_usd: 100, per_agent: {python-pro: 1}}\n")
    result = cli("explain", "--agent", "python-pro", "--project", str(project.root))
    assert "budget:    within every cap, with the ledger's totals as they are now.\n" in result.output


def test_explain_without_a_budget_prints_no_budget_line(project, cli):
    result = cli("explain", "--agent", "python-pro", "--project", str(project.root))
    assert "budget:" not in result.output
