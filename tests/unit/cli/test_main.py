"""The cco-hooks command line: exact outputs and exit codes."""

import json
import re

from click.testing import CliRunner

from cco_hooks.cli.main import main
from tests.support.locations import PAYLOADS, REFERENCE, REPO


def cli(*args, input=None):
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def test_config_validate_names_file_key_and_fix_and_exits_1(project):
    """A bad model is an error naming the file, the key path and the fix; exit 1."""
    path = project.write_config("version: 1\nagents:\n  code-reviewer: sonet\n")
    result = cli("config", "validate", "--project", str(project.root))
    assert result.exit_code == 1
    assert f"error: {path}: agents.code-reviewer.model: Unknown model 'sonet' for agent 'code-reviewer'" in result.output
    assert "expected one of haiku, sonnet, opus, fable" in result.output


def test_config_validate_passes_a_good_config(project):
    """A valid config validates with exit 0."""
    project.write_config("version: 1\nagents: {python-pro: haiku}\n")
    result = cli("config", "validate", "--project", str(project.root))
    assert result.exit_code == 0 and result.output.rstrip().endswith("0 error(s).")


def test_config_show_says_where_each_rule_came_from(project):
    """config show lists each rule with its model and the layer and file it came from."""
    path = project.write_config("version: 1\nagents: {python-pro: haiku}\n")
    result = cli("config", "show", "--project", str(project.root))
    assert result.exit_code == 0
    line = next(l for l in result.output.splitlines() if l.strip().startswith("python-pro"))
    assert re.match(rf"\s+python-pro\s+haiku\s+← project: {re.escape(str(path))}$", line)


def test_explain_with_agent_and_model(project):
    """explain --agent/--model prints the decision, the rule and what the hook would print."""
    project.write_config("version: 1\nagents: {python-pro: haiku}\n")
    result = cli("explain", "--agent", "Python Pro", "--model", "sonnet", "--project", str(project.root))
    assert result.exit_code == 0
    assert "decision:  rewrite → haiku" in result.output
    assert '"model": "haiku"' in result.output


def test_explain_reads_a_payload_on_stdin(project):
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


def test_doctor_reports_not_installed_then_ok(project, monkeypatch):
    """doctor exits 1 when nothing registers the hooks, 0 after install."""
    monkeypatch.setenv("PATH", "/nonexistent")  # no `claude` to ask for its version
    result = cli("doctor", "--project", str(project.root))
    assert result.exit_code == 1 and "NOT INSTALLED" in result.output
    assert cli("install", "--scope", "project", "--project", str(project.root)).exit_code == 0
    result = cli("doctor", "--project", str(project.root))
    assert result.exit_code == 0, result.output
    assert "installed: project scope" in result.output and result.output.rstrip().endswith("ok")


def test_doctor_flags_the_subagent_model_variable(project, monkeypatch):
    """CLAUDE_CODE_SUBAGENT_MODEL competes with routing: doctor says so."""
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setenv("CLAUDE_CODE_SUBAGENT_MODEL", "opus")
    cli("install", "--scope", "project", "--project", str(project.root))
    result = cli("doctor", "--project", str(project.root))
    assert result.exit_code == 1 and "CLAUDE_CODE_SUBAGENT_MODEL=opus" in result.output


def test_pricing_prints_every_model_of_the_reference_table(project):
    """cco-hooks pricing lists every model of Claude Code 2.1.328's catalog."""
    reference = json.loads((REFERENCE / "claude-code-2.1.328-prices.json").read_text())
    result = cli("pricing", "--project", str(project.root))
    assert result.exit_code == 0
    for model in reference["models"]:
        assert model["id"] in result.output


def test_readme_documents_every_command():
    """Every top-level command appears in the README."""
    readme = (REPO / "README.md").read_text()
    for name in main.commands:
        assert f"cco-hooks {name}" in readme, f"README does not mention `cco-hooks {name}`"


def test_doctor_accepts_a_checkout_registered_through_its_own_shim(project, monkeypatch):
    """Hooks registered as `python3 -S "$CLAUDE_PROJECT_DIR/hooks/cco-hook" <event>` (this repository
    dogfoods itself that way) are complete, not stale; a shim that is gone is stale."""
    monkeypatch.setenv("PATH", "/nonexistent")
    settings = json.loads((REPO / ".claude" / "settings.json").read_text())
    (project.root / "hooks").mkdir()
    (project.root / "hooks" / "cco-hook").write_text("# stand-in\n")
    (project.root / ".claude" / "settings.json").write_text(json.dumps(settings))
    result = cli("doctor", "--project", str(project.root))
    assert "complete, runs another checkout's or the project's own shim" in result.output, result.output
    assert result.exit_code == 0
    (project.root / "hooks" / "cco-hook").unlink()
    result = cli("doctor", "--project", str(project.root))
    assert "STALE" in result.output and result.exit_code == 1
