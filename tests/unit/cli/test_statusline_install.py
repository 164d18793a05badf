"""`cco-hooks install --statusline`: our status line wraps the user's own; `uninstall` restores it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from cco_hooks.cli import install, statusline_install
from tests.support.claude_cli import CHECKOUT_HOOK_BIN
from tests.support.hookproc import SID

THEIRS = {"type": "command", "command": "printf 'their line\\n'", "padding": 2, "refreshInterval": 5}


def settings_file(project):
    return project / ".claude" / "settings.json"


def write_settings(project, settings):
    path = settings_file(project)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(settings))
    return path


def read_settings(project):
    return json.loads(settings_file(project).read_text())


def hook_on_path(installed=True):
    """A PATH with this checkout's ``cco-hook`` (as an install puts one there) first, or with none."""
    system = f"/usr/bin{os.pathsep}/bin"
    return (
        f"{CHECKOUT_HOOK_BIN}{os.pathsep}{os.path.dirname(sys.executable)}{os.pathsep}{system}" if installed else system
    )


def run_status_command(command_text, project, tmp_path, installed=True):
    """The statusLine command as Claude Code runs it: ``sh -c``, the status JSON on stdin."""
    status = {
        "session_id": SID,
        "transcript_path": str(tmp_path / "none.jsonl"),
        "cwd": str(project),
        "workspace": {"project_dir": str(project)},
        "cost": {"total_cost_usd": 0.75},
    }
    proc = subprocess.run(
        ["/bin/sh", "-c", command_text],
        input=json.dumps(status).encode(),
        capture_output=True,
        timeout=30,
        env=dict(os.environ, PATH=hook_on_path(installed)),
    )
    assert proc.returncode == 0 and proc.stderr == b"", proc.stderr
    return proc.stdout.decode().splitlines()


@pytest.fixture
def project(tmp_path):
    path = tmp_path / "proj"
    (path / ".claude").mkdir(parents=True)
    return path


def test_install_statusline_sets_ours_when_there_is_none(cli, project, tmp_path):
    result = cli("install", "--project", str(project), "--statusline")
    assert result.exit_code == 0 and "statusLine" in result.output
    line = read_settings(project)["statusLine"]
    assert line["type"] == "command" and statusline_install.parse(line["command"], install.is_our_command_word) == (
        True,
        None,
    )
    assert run_status_command(line["command"], project, tmp_path) == [
        "cco-hooks │ session $0.7500 · subagents $0.0000 (0 done) · saved $0.0000"
    ]


def test_install_without_the_flag_leaves_the_status_line_alone(cli, project):
    write_settings(project, {"statusLine": THEIRS})
    assert cli("install", "--project", str(project)).exit_code == 0
    assert read_settings(project)["statusLine"] == THEIRS


def test_their_status_line_is_wrapped_shown_first_and_restored_by_uninstall(cli, project, tmp_path):
    write_settings(project, {"statusLine": THEIRS, "model": "opus"})
    assert cli("install", "--project", str(project), "--statusline").exit_code == 0
    line = read_settings(project)["statusLine"]
    assert {k: v for k, v in line.items() if k != "command"} == {k: v for k, v in THEIRS.items() if k != "command"}
    assert statusline_install.parse(line["command"], install.is_our_command_word) == (True, THEIRS["command"])
    lines = run_status_command(line["command"], project, tmp_path)
    assert lines[0] == "their line" and lines[1].startswith("cco-hooks │ session $0.7500")

    # again: still one wrap of their command, nothing written
    before = settings_file(project).stat().st_mtime_ns
    assert cli("install", "--project", str(project), "--statusline").exit_code == 0
    assert read_settings(project)["statusLine"] == line and settings_file(project).stat().st_mtime_ns == before

    assert cli("uninstall", "--project", str(project)).exit_code == 0
    assert read_settings(project) == {"statusLine": THEIRS, "model": "opus"}


def absolute(ours):
    return lambda wrapped: statusline_install.command(ours, wrapped)


def test_a_moved_package_is_rewrapped_around_the_same_command(project):
    settings = {"statusLine": dict(THEIRS)}
    old = install.hook_command("statusline", python="/old/python", shim="/old/cco_hooks/_shim.py")
    statusline_install.merge(settings, absolute(old), install.is_our_command_word)
    assert statusline_install.merge(settings, absolute(install.hook_command("statusline")), install.is_our_command_word)
    command = settings["statusLine"]["command"]
    assert "/old/" not in command
    assert statusline_install.parse(command, install.is_our_command_word) == (True, THEIRS["command"])


def test_uninstall_leaves_someone_elses_status_line_alone(cli, project):
    write_settings(project, {"statusLine": THEIRS})
    result = cli("uninstall", "--project", str(project))
    assert result.exit_code == 0 and read_settings(project) == {"statusLine": THEIRS}


def test_uninstall_removes_our_own_status_line_entirely(cli, project):
    write_settings(project, {"model": "opus"})
    cli("install", "--project", str(project), "--statusline")
    cli("uninstall", "--project", str(project))
    assert read_settings(project) == {"model": "opus"}  # no statusLine, no hooks: the file as it was
    cli("install", "--project", str(project), "--statusline")  # a file install created goes entirely
    settings_file(project).unlink()
    cli("install", "--project", str(project), "--statusline")
    cli("uninstall", "--project", str(project))
    assert not settings_file(project).exists()


@pytest.mark.parametrize("odd", ["~/status.sh", {"type": "static", "text": "hi"}, ["a"]])
def test_a_status_line_that_is_no_command_is_refused_and_the_file_kept(cli, project, odd):
    path = write_settings(project, {"statusLine": odd})
    before = path.read_bytes()
    result = cli("install", "--project", str(project), "--statusline")
    assert result.exit_code == 2 and '"statusLine" is not a command status line' in result.output
    assert path.read_bytes() == before


def test_the_statusline_cli_command_prints_the_line(cli, project, monkeypatch):
    monkeypatch.setenv("CLAUDE_PROJECT_DIR", str(project))
    status = {"session_id": SID, "cwd": str(project), "cost": {"total_cost_usd": 2}}
    result = cli("statusline", input=json.dumps(status))
    assert result.exit_code == 0
    assert result.output == "cco-hooks │ session $2.00 · subagents $0.0000 (0 done) · saved $0.0000\n"
    assert os.path.isfile(os.path.join(os.environ["CLAUDE_CONFIG_DIR"], "cco-hooks", "statusline", f"{SID}.json"))


def test_the_status_line_a_project_commits_holds_no_machine_path(cli, project, tmp_path):
    """``--scope project`` (the file a team commits) writes ``cco-hook statusline`` from PATH, as its
    hooks; the user's own settings get the absolute command."""
    write_settings(project, {"statusLine": THEIRS})
    assert cli("install", "--project", str(project), "--statusline").exit_code == 0
    command = read_settings(project)["statusLine"]["command"]
    assert sys.executable not in command and install.shim_path() not in command
    assert statusline_install.parse(command, install.is_our_command_word) == (True, THEIRS["command"])
    lines = run_status_command(command, project, tmp_path)
    assert lines[0] == "their line" and lines[1].startswith("cco-hooks │ session $0.7500")
    # a teammate without cco-hooks still sees their own status line
    assert run_status_command(command, project, tmp_path, installed=False) == ["their line"]


def test_without_cco_hooks_a_committed_status_line_of_ours_alone_shows_nothing(cli, project, tmp_path):
    assert cli("install", "--project", str(project), "--statusline").exit_code == 0
    command = read_settings(project)["statusLine"]["command"]
    assert run_status_command(command, project, tmp_path, installed=False) == []
    assert cli("uninstall", "--project", str(project)).exit_code == 0
    assert not settings_file(project).exists() or "statusLine" not in read_settings(project)


def test_the_users_own_settings_get_the_absolute_command(cli):
    assert cli("install", "--scope", "user", "--statusline").exit_code == 0
    user = os.path.join(os.environ["CLAUDE_CONFIG_DIR"], "settings.json")
    command = json.loads(open(user).read())["statusLine"]["command"]
    assert command == install.hook_command("statusline")
