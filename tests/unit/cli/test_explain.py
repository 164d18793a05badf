"""`cco-hooks explain`: the decision for a spawn, and why."""

import json

from click.testing import CliRunner

from cco_hooks.cli.main import main
from tests.support.locations import PAYLOADS


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
