"""`cco-hooks explain`: the decision for a spawn, and why."""

import json

from click.testing import CliRunner

from cco_hooks.cli.main import main
from tests.support.controls import ALL_RAW, ALL_SPELT, assert_shown_not_run, raw_controls
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


def test_explain_shows_the_reservation_and_what_running_spawns_hold(tmp_path, cli):
    """Under a budget, explain says what the spawn would reserve and why, what running spawns
    hold reserved now, and the caps its subagent runs under."""
    from tests.support.hookproc import Hooks

    hooks = Hooks(tmp_path)
    hooks.write_config("version: 1\ncaps: {max_usd: 0.4, max_tool_calls: 30}\nbudget: {session_usd: 5}\n")
    assert hooks.run_main("pre-tool-use", hooks.pre("toolu_r1"))[0] == 0  # a running spawn: holds $0.40
    result = cli("explain", "--agent", "general-purpose", "--project", str(hooks.project))
    assert result.exit_code == 0, result.output
    assert "reserves:  $0.4000 (caps.max_usd)" in result.output
    assert "running spawns hold $0.4000 now (1)" in result.output
    assert "caps:      max_usd: 0.4, max_tool_calls: 30" in result.output
    data = json.loads(cli("explain", "--json", "--agent", "general-purpose", "--project", str(hooks.project)).output)
    assert data["reservation"] == {"usd": 0.4, "basis": "caps.max_usd", "held_usd": 0.4, "held_spawns": 1}
