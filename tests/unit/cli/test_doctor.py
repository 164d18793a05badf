"""`cco-hooks doctor`: installation, layers and conflicts; exit 1 on any problem."""

import json
import os
import subprocess
import sys

from tests.support.controls import ALL_RAW, ALL_SPELT, assert_shown_not_run
from tests.support.locations import REPO


def path_with_cco_hook(tmp_path):
    """A PATH with a ``cco-hook`` stand-in (what the portable registration runs) and no ``claude``."""
    bin_dir = tmp_path / "tool-bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "cco-hook").write_text("#!/bin/sh\nexit 0\n")
    (bin_dir / "cco-hook").chmod(0o755)
    return str(bin_dir)


def test_doctor_reports_not_installed_then_ok(project, monkeypatch, cli, tmp_path):
    """doctor exits 1 when nothing registers the hooks, 0 after install; the project registration
    runs `cco-hook` from PATH, so doctor also says which one, or that none is there."""
    monkeypatch.setenv("PATH", "/nonexistent")  # no `claude` to ask for its version
    result = cli("doctor", "--project", str(project.root))
    assert result.exit_code == 1 and "NOT INSTALLED" in result.output
    assert cli("install", "--scope", "project", "--project", str(project.root)).exit_code == 0
    result = cli("doctor", "--project", str(project.root))
    assert result.exit_code == 1 and "NOT ON PATH: no `cco-hook` on this PATH" in result.output, result.output
    monkeypatch.setenv("PATH", path_with_cco_hook(tmp_path))
    result = cli("doctor", "--project", str(project.root))
    assert result.exit_code == 0, result.output
    assert "installed: project scope" in result.output and result.output.rstrip().endswith("ok")
    assert f"runs cco-hook from PATH: {tmp_path / 'tool-bin' / 'cco-hook'}" in result.output


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
    monkeypatch.setenv("PATH", path_with_cco_hook(project.root.parent))
    cli("install", "--scope", "project", "--project", str(project.root))
    project.write_config("version: 1\nledger: {path: ~/.bashrc}\nbudget: {on_exceed: downgrade}\n")
    result = cli("doctor", "--project", str(project.root))
    assert result.exit_code == 0, result.output
    assert "config: 2 key(s) of a repository's config ignored" in result.output


def test_doctor_warns_about_a_state_directory_others_can_write(project, monkeypatch, cli, tmp_path):
    """A 0777 ledger directory: doctor names it, its mode and the fix; a private one is not named;
    a sticky one of ours is fine (others cannot remove or rename the user's files in it)."""
    monkeypatch.setenv("PATH", path_with_cco_hook(tmp_path))
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


def make_plugin(root):
    """A plugin directory named cco-hooks (its manifest is what Claude Code reads the name from)."""
    (root / ".claude-plugin").mkdir(parents=True)
    (root / ".claude-plugin" / "plugin.json").write_text(json.dumps({"name": "cco-hooks"}))
    return root


def run_doctor_under(args, project, env, cwd):
    """doctor as a grandchild of a process whose command line is ``args`` (as `claude --plugin-dir
    DIR` is the ancestor of a doctor run from its Bash tool); returns (exit code, output)."""
    launcher = "import subprocess, sys; sys.exit(subprocess.run(sys.argv[sys.argv.index('--') + 1:]).returncode)"
    doctor = [sys.executable, "-m", "cco_hooks", "doctor", "--project", str(project)]
    proc = subprocess.run(
        [sys.executable, "-c", launcher, *args, "--", "sh", "-c", '"$@"', "sh", *doctor],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return proc.returncode, proc.stdout + proc.stderr


def doctor_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLAUDE", "CCO_HOOKS"))}
    env.update(PATH="/usr/bin:/bin", HOME=str(tmp_path / "home"), CLAUDE_CONFIG_DIR=str(tmp_path / "home" / ".claude"))
    env["PYTHONPATH"] = str(REPO)
    return env


def test_doctor_recognises_the_plugin_loaded_with_plugin_dir(project, tmp_path):
    """Run inside a session started with `--plugin-dir DIR` (relative, too): the plugin is the
    registration; no NOT INSTALLED, no advice to install (which would register every hook twice)."""
    plugin = make_plugin(tmp_path / "checkouts" / "cco-hooks")
    env = doctor_env(tmp_path)
    code, output = run_doctor_under(["--plugin-dir", "cco-hooks"], project.root, env, cwd=plugin.parent)
    assert f"plugin loaded for this session: {plugin} (--plugin-dir, process " in output, output
    assert "NOT INSTALLED" not in output and "cco-hooks install" not in output
    assert code == 0, output
    code, output = run_doctor_under([f"--plugin-dir={plugin}"], project.root, env, cwd=tmp_path)
    assert f"plugin loaded for this session: {plugin}" in output and code == 0, output
    # another plugin's directory is not ours
    other = tmp_path / "other-plugin" / ".claude-plugin"
    other.mkdir(parents=True)
    (other / "plugin.json").write_text(json.dumps({"name": "someone-else"}))
    code, output = run_doctor_under(["--plugin-dir", str(other.parent)], project.root, env, cwd=tmp_path)
    assert code == 1 and "NOT INSTALLED" in output and "plugin loaded" not in output


def test_doctor_warns_when_the_plugin_and_a_settings_registration_both_run(project, tmp_path):
    plugin = make_plugin(tmp_path / "cco-hooks")
    env = doctor_env(tmp_path)
    subprocess.run(
        [sys.executable, "-m", "cco_hooks", "install", "--scope", "local", "--project", str(project.root)],
        env=env,
        check=True,
        capture_output=True,
    )
    _code, output = run_doctor_under(["--plugin-dir", str(plugin)], project.root, env, cwd=tmp_path)
    assert "the cco-hooks plugin and a settings file both register the hooks" in output, output


def test_doctor_recognises_an_installed_and_enabled_plugin(project, monkeypatch, cli, tmp_path):
    """`claude plugin install` writes installed_plugins.json and enables the plugin in the user settings."""
    monkeypatch.setenv("PATH", "/nonexistent")
    config = tmp_path / "claude-config"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(config))
    root = make_plugin(config / "plugins" / "cache" / "team" / "cco-hooks" / "0.1.0")
    (config / "plugins" / "installed_plugins.json").write_text(
        json.dumps({"version": 2, "plugins": {"cco-hooks@team": [{"scope": "user", "installPath": str(root)}]}})
    )
    result = cli("doctor", "--project", str(project.root))
    assert "plugin installed: cco-hooks@team at" in result.output and "not enabled" in result.output
    assert result.exit_code == 1 and "NOT ENABLED" in result.output and "NOT INSTALLED" not in result.output
    (config / "settings.json").write_text(json.dumps({"enabledPlugins": {"cco-hooks@team": True}}))
    result = cli("doctor", "--project", str(project.root))
    assert result.exit_code == 0, result.output
    assert "plugin enabled: cco-hooks@team" in result.output and "not enabled" not in result.output
    # installed for another project only: not a registration here
    (config / "plugins" / "installed_plugins.json").write_text(
        json.dumps(
            {
                "version": 2,
                "plugins": {
                    "cco-hooks@team": [{"scope": "project", "projectPath": "/elsewhere", "installPath": str(root)}]
                },
            }
        )
    )
    assert "plugin installed" not in cli("doctor", "--project", str(project.root)).output
