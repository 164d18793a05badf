"""`cco-hooks doctor`: installation, layers and conflicts; exit 1 on any problem."""

import json
import os

from tests.support.controls import ALL_RAW, ALL_SPELT, assert_shown_not_run
from tests.support.locations import REPO


def test_doctor_reports_not_installed_then_ok(project, monkeypatch, cli):
    """doctor exits 1 when nothing registers the hooks, 0 after install."""
    monkeypatch.setenv("PATH", "/nonexistent")  # no `claude` to ask for its version
    result = cli("doctor", "--project", str(project.root))
    assert result.exit_code == 1 and "NOT INSTALLED" in result.output
    assert cli("install", "--scope", "project", "--project", str(project.root)).exit_code == 0
    result = cli("doctor", "--project", str(project.root))
    assert result.exit_code == 0, result.output
    assert "installed: project scope" in result.output and result.output.rstrip().endswith("ok")


def test_doctor_flags_the_subagent_model_variable(project, monkeypatch, cli):
    """CLAUDE_CODE_SUBAGENT_MODEL competes with routing: doctor says so."""
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setenv("CLAUDE_CODE_SUBAGENT_MODEL", "opus")
    cli("install", "--scope", "project", "--project", str(project.root))
    result = cli("doctor", "--project", str(project.root))
    assert result.exit_code == 1 and "CLAUDE_CODE_SUBAGENT_MODEL=opus" in result.output


def test_doctor_says_the_force_switch_defeats_every_rewrite(project, monkeypatch, cli):
    """CLAUDE_CODE_SUBAGENT_MODEL_FORCE makes the env var beat the call's model (read from the CLI's
    subagent model resolver): doctor says rewrites have no effect, and not without the env var."""
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setenv("CLAUDE_CODE_SUBAGENT_MODEL_FORCE", "1")
    cli("install", "--scope", "project", "--project", str(project.root))
    assert "CLAUDE_CODE_SUBAGENT_MODEL_FORCE" not in cli("doctor", "--project", str(project.root)).output
    monkeypatch.setenv("CLAUDE_CODE_SUBAGENT_MODEL", "haiku")
    result = cli("doctor", "--project", str(project.root))
    assert result.exit_code == 1 and "CLAUDE_CODE_SUBAGENT_MODEL_FORCE=1 makes" in result.output
    assert "rewrites have no effect" in result.output


def test_doctor_accepts_a_checkout_registered_through_its_own_shim(project, monkeypatch, cli):
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


def test_doctor_mentions_ignored_repository_keys_without_failing(project, monkeypatch, cli):
    """Keys a repository's config may not set are mentioned; the user's own settings are in force,
    so it is not a problem of the installation (exit 0)."""
    monkeypatch.setenv("PATH", "/nonexistent")
    cli("install", "--scope", "project", "--project", str(project.root))
    project.write_config("version: 1\nledger: {path: ~/.bashrc}\nbudget: {on_exceed: downgrade}\n")
    result = cli("doctor", "--project", str(project.root))
    assert result.exit_code == 0, result.output
    assert "config: 2 key(s) of a repository's config ignored" in result.output


def test_doctor_warns_about_a_state_directory_others_can_write(project, monkeypatch, cli, tmp_path):
    """A 0777 ledger directory: doctor names it, its mode and the fix; a private one is not named;
    a sticky one of ours is fine (others cannot remove or rename the user's files in it)."""
    monkeypatch.setenv("PATH", "/nonexistent")
    cli("install", "--scope", "project", "--project", str(project.root))
    shared = tmp_path / "team"
    shared.mkdir()
    monkeypatch.setenv("CCO_HOOKS_LEDGER", str(shared / "ledger.jsonl"))
    os.chmod(shared, 0o777)
    result = cli("doctor", "--project", str(project.root))
    assert f"WARNING: {shared} can be written by other users (mode 0777)" in result.output, result.output
    assert f"Fix: chmod 700 {shared}" in result.output
    assert result.exit_code == 0, "a warning: the hooks stay safe there"
    os.chmod(shared, 0o1777)
    assert "WARNING" not in cli("doctor", "--project", str(project.root)).output
    os.chmod(shared, 0o700)
    assert "WARNING" not in cli("doctor", "--project", str(project.root)).output


def test_doctor_names_a_planted_link_or_pipe_beside_the_ledger(project, monkeypatch, cli, tmp_path):
    """The hooks record nothing while the ledger's lock is a link, or the ledger a pipe: a problem."""
    monkeypatch.setenv("PATH", "/nonexistent")
    cli("install", "--scope", "project", "--project", str(project.root))
    directory = tmp_path / "state"
    directory.mkdir()
    ledger = directory / "ledger.jsonl"
    monkeypatch.setenv("CCO_HOOKS_LEDGER", str(ledger))
    (directory / "ledger.jsonl.lock").symlink_to(tmp_path / "victim")
    os.mkfifo(ledger)
    result = cli("doctor", "--project", str(project.root))
    assert result.exit_code == 1
    assert f"UNSAFE: {ledger}.lock is a symbolic link" in result.output, result.output
    assert f"UNSAFE: {ledger} is a named pipe (FIFO)" in result.output
    assert not (tmp_path / "victim").exists(), "doctor creates nothing through the link"


def test_doctor_spells_out_a_hostile_plugin_key_on_its_own_line(project, monkeypatch, terminal_cli):
    """A committed settings file enabling the plugin under a key with a line break and every hostile
    control: doctor's line shows the key spelt out and forges no line of its own."""
    monkeypatch.setenv("PATH", "/nonexistent")
    key = f"cco-hooks@{ALL_RAW}\nok"
    (project.root / ".claude" / "settings.json").write_text(json.dumps({"enabledPlugins": {key: True}}))
    result = terminal_cli("doctor", "--project", str(project.root))
    assert_shown_not_run(result.output)
    assert f"plugin enabled: cco-hooks@{ALL_SPELT}\\nok in {project.root}/.claude/settings.json (project)\n" in (
        result.output
    )
    assert "\nok in " not in result.output
