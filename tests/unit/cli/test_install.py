"""`cco-hooks install` / `uninstall` and the settings-file helpers `cco-hooks doctor` uses."""

from __future__ import annotations

import copy
import json
import os
import shlex
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from cco_hooks import paths
from cco_hooks.claude_code import SPAWN_TOOLS
from cco_hooks.cli import install as inst
from cco_hooks.errors import CcoHooksError
from tests.support.locations import REPO

SHIM = REPO / "cco_hooks" / "_shim.py"
EVENTS = ["PreToolUse", "PostToolUse", "SubagentStop", "Stop", "SessionEnd"]

# A settings file somebody already uses: other settings, other hooks (one of them on Task|Agent).
ORIGINAL = {
    "model": "opus",
    "permissions": {"allow": ["Bash(ls:*)"], "deny": []},
    "hooks": {
        "PreToolUse": [
            {"matcher": "Bash", "hooks": [{"type": "command", "command": "/opt/guard.sh", "timeout": 5}]},
            {"matcher": "Task|Agent", "hooks": [{"type": "command", "command": "echo other-agent-hook"}]},
        ],
        "SessionStart": [{"hooks": [{"type": "command", "command": "echo hello"}]}],
        "Stop": [{"hooks": [{"type": "command", "command": "notify-send done"}]}],
    },
    "env": {"FOO": "bär"},
    "statusLine": {"type": "command", "command": "~/.claude/status.sh"},
}


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A throwaway home and Claude config dir, in os.environ as well (never the real home)."""
    home = tmp_path / "home"
    config = tmp_path / "claude-config"
    home.mkdir(exist_ok=True)
    values = {"HOME": str(home), "CLAUDE_CONFIG_DIR": str(config), "PATH": os.environ.get("PATH", "")}
    monkeypatch.setenv("HOME", values["HOME"])
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", values["CLAUDE_CONFIG_DIR"])
    monkeypatch.delenv("CLAUDE_PROJECT_DIR", raising=False)
    monkeypatch.delenv("CCO_HOOKS_CONFIG", raising=False)
    monkeypatch.delenv("CCO_HOOKS_LEDGER", raising=False)
    return values


@pytest.fixture
def project(tmp_path):
    path = tmp_path / "proj"
    path.mkdir()
    return path


def write_settings(path: Path, data, *, indent=4) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=indent, ensure_ascii=False) + "\n"
    path.write_text(text, encoding="utf-8")
    return text.encode("utf-8")


def load(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def ours(settings: dict) -> dict[str, list[tuple[dict, dict]]]:
    """Event → [(group, hook)] of our entries."""
    found: dict[str, list] = {}
    for event, groups in settings.get("hooks", {}).items():
        for group in groups:
            for hook in group.get("hooks", []):
                if inst.is_ours(hook):
                    found.setdefault(event, []).append((group, hook))
    return found


def assert_installed_once(settings: dict, scope: str = "project") -> None:
    found = ours(settings)
    assert sorted(found) == sorted(EVENTS)
    wanted = inst.desired_hooks(scope=scope)
    for spec in inst.HOOKS:
        [(group, hook)] = found[spec.event]
        assert hook == wanted[spec.event]
        assert group.get("matcher") == spec.matcher
        assert ("matcher" in group) == (spec.matcher is not None)


# --------------------------------------------------------------------------------------------
# where


def test_settings_path_per_scope(env, project, tmp_path, monkeypatch):
    assert inst.settings_path("project", str(project), env) == str(project / ".claude" / "settings.json")
    assert inst.settings_path("local", str(project), env) == str(project / ".claude" / "settings.local.json")
    assert inst.settings_path("user", str(project), env) == os.path.join(env["CLAUDE_CONFIG_DIR"], "settings.json")
    # user scope without CLAUDE_CONFIG_DIR: ~/.claude
    no_config = {"HOME": env["HOME"]}
    monkeypatch.delenv("CLAUDE_CONFIG_DIR")
    assert inst.settings_path("user", None, no_config) == os.path.join(env["HOME"], ".claude", "settings.json")
    # project: --project, else CLAUDE_PROJECT_DIR, else cwd
    other = tmp_path / "other"
    other.mkdir()
    assert resolve_project_dir(None, {"CLAUDE_PROJECT_DIR": str(other)}) == str(other)
    assert resolve_project_dir(str(project), {"CLAUDE_PROJECT_DIR": str(other)}) == str(project)
    monkeypatch.chdir(project)
    assert resolve_project_dir(None, {}) == str(project)
    assert inst.settings_path("project", None, {}) == str(project / ".claude" / "settings.json")


def resolve_project_dir(chosen, env):
    """How install resolves the project: the one resolver, with the current directory last."""
    return paths.project_dir(env=env, chosen=chosen, default=os.getcwd())


def test_project_dir_expands_tilde_where_a_person_wrote_the_path(env, tmp_path):
    """``~`` is expanded in --project and CLAUDE_PROJECT_DIR, never in a payload's cwd."""
    home = env["HOME"]
    assert resolve_project_dir("~/proj", {"HOME": home}) == os.path.join(home, "proj")
    assert paths.project_dir(None, {"HOME": home, "CLAUDE_PROJECT_DIR": "~/proj"}) == os.path.join(home, "proj")
    assert paths.project_dir(str(tmp_path / "~"), {"HOME": home}) == str(tmp_path / "~")
    in_home = os.path.join(home, "proj", ".claude", "settings.json")
    assert inst.settings_path("project", "~/proj", {"HOME": home}) == in_home


def test_unknown_scope_is_refused(env, project):
    with pytest.raises(CcoHooksError, match="unknown scope 'global'"):
        inst.install("global", str(project), env)
    with pytest.raises(CcoHooksError):
        inst.uninstall("global", str(project), env)


def test_command_uses_absolute_paths_quoted_for_the_shell(tmp_path):
    python = tmp_path / "my env" / "bin" / "python3"
    shim = tmp_path / "site's packages" / "cco_hooks" / "_shim.py"
    command = inst.hook_command("pre-tool-use", str(python), str(shim))
    assert shlex.split(command) == [str(python), "-S", str(shim), "pre-tool-use"]
    assert shlex.split(inst.hook_command("stop")) == [os.path.abspath(sys.executable), "-S", str(SHIM), "stop"]
    assert inst.shim_path() == str(SHIM)


# --------------------------------------------------------------------------------------------
# install


def test_install_creates_missing_file_and_dir(env, project):
    result = inst.install("project", str(project), env)
    path = project / ".claude" / "settings.json"
    assert result.changed and result.created and result.backup is None and result.exit_code == 0
    assert result.path == str(path) and result.scope == "project"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text(encoding="utf-8")
    assert text.endswith("}\n") and text.startswith('{\n  "hooks": {\n    "PreToolUse": [')
    settings = json.loads(text)
    assert list(settings) == ["hooks"]
    assert list(settings["hooks"]) == EVENTS
    assert_installed_once(settings)
    assert settings["hooks"]["PreToolUse"][0] == {
        "matcher": "*",  # every tool: the caps of running subagents act on their own tool calls
        "hooks": [{"type": "command", "command": inst.portable_command("pre-tool-use"), "timeout": 10}],
    }
    assert settings["hooks"]["PostToolUse"][0]["hooks"][0]["timeout"] == 30
    assert settings["hooks"]["SubagentStop"] == [{"hooks": [inst.desired_hooks(scope="project")["SubagentStop"]]}]
    assert settings["hooks"]["Stop"][0]["hooks"][0]["command"] == (
        "command -v cco-hook >/dev/null && exec cco-hook stop || exit 0"
    )
    # the file a team commits names no path of this machine: no interpreter, no checkout, no home
    for machine_path in (sys.executable, os.path.realpath(sys.executable), str(REPO), str(project), env["HOME"]):
        assert machine_path not in text
    assert sorted(p.name for p in path.parent.iterdir()) == ["settings.json"]  # no backup beside it
    assert str(path) in inst.describe(result) and "project scope" in result.describe()


def test_install_merges_keeping_every_other_setting_and_hook(env, project):
    path = project / ".claude" / "settings.json"
    write_settings(path, ORIGINAL)
    result = inst.install("project", str(project), env)
    assert result.changed and not result.created
    settings = load(path)
    # every other key, in its order, untouched
    assert list(settings) == list(ORIGINAL)
    for key in ORIGINAL:
        if key != "hooks":
            assert settings[key] == ORIGINAL[key]
    # existing events keep their order and groups; new events are appended
    assert list(settings["hooks"]) == [
        "PreToolUse",
        "SessionStart",
        "Stop",
        "PostToolUse",
        "SubagentStop",
        "SessionEnd",
    ]
    assert settings["hooks"]["PreToolUse"][:2] == ORIGINAL["hooks"]["PreToolUse"]
    assert settings["hooks"]["SessionStart"] == ORIGINAL["hooks"]["SessionStart"]
    assert settings["hooks"]["Stop"][:1] == ORIGINAL["hooks"]["Stop"]
    # ours: in groups of our own, once per event
    assert len(settings["hooks"]["PreToolUse"]) == 3 and len(settings["hooks"]["Stop"]) == 2
    assert_installed_once(settings)
    # written with indent=2 and a trailing newline (the original used 4)
    assert path.read_text(encoding="utf-8") == json.dumps(settings, indent=2, ensure_ascii=False) + "\n"


def test_install_is_idempotent_and_backs_up_once(env, project):
    path = project / ".claude" / "settings.json"
    original_bytes = write_settings(path, ORIGINAL)
    os.chmod(path, 0o640)
    first = inst.install("project", str(project), env)
    backup = Path(first.backup)
    # kept under the state directory, never beside the file a team commits
    assert backup.parent == Path(env["CLAUDE_CONFIG_DIR"]) / "cco-hooks" / "install" / "backups"
    assert backup.name.endswith("-settings.json.bak")
    assert backup.read_bytes() == original_bytes
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.stat().st_mode) == 0o640  # the original mode is kept
    installed = path.read_bytes()
    backup_stat = backup.stat()
    file_stat = path.stat()

    second = inst.install("project", str(project), env)
    assert not second.changed and second.backup is None and second.added == [] and second.removed == 0
    assert "already installed" in inst.describe(second)
    assert path.read_bytes() == installed
    assert path.stat().st_ino == file_stat.st_ino and path.stat().st_mtime_ns == file_stat.st_mtime_ns
    assert backup.stat().st_mtime_ns == backup_stat.st_mtime_ns and backup.read_bytes() == original_bytes
    assert sorted(p.name for p in path.parent.iterdir()) == ["settings.json"]


@pytest.mark.parametrize("scope", ["project", "local", "user"])
def test_uninstall_restores_exactly_the_original(env, project, scope):
    path = Path(inst.settings_path(scope, str(project), env))
    original_bytes = write_settings(path, ORIGINAL)  # indent 4: install rewrites it with indent 2
    os.chmod(path, 0o640)
    inst.install(scope, str(project), env)
    assert path.read_bytes() != original_bytes
    result = inst.uninstall(scope, str(project), env)
    assert result.changed and result.removed == len(EVENTS) and result.restored
    assert path.read_bytes() == original_bytes  # byte for byte
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert f"Removed {len(EVENTS)}" in inst.describe(result) and "back to what it was" in inst.describe(result)
    assert Path(result.backup).parent.parent == Path(env["CLAUDE_CONFIG_DIR"]) / "cco-hooks" / "install"
    assert not Path(inst.install_record.record_path(str(path), env)).exists()  # the undo is used up
    again = inst.uninstall(scope, str(project), env)
    assert not again.changed and again.removed == 0 and "nothing changed" in inst.describe(again)
    assert path.read_bytes() == original_bytes


def test_uninstall_after_reinstalls_still_restores_the_first_original(env, project):
    path = project / ".claude" / "settings.json"
    original_bytes = write_settings(path, ORIGINAL)
    inst.install("project", str(project), env)
    inst.install("project", str(project), env)  # nothing to change
    inst.install("local", str(project), env)  # another file: its own record
    inst.uninstall("local", str(project), env)
    assert not (project / ".claude" / "settings.local.json").exists()
    inst.uninstall("project", str(project), env)
    assert path.read_bytes() == original_bytes


def test_uninstall_after_other_edits_keeps_them(env, project):
    """The file changed since install: only our hooks come out, the user's edit stays."""
    path = project / ".claude" / "settings.json"
    write_settings(path, ORIGINAL)
    inst.install("project", str(project), env)
    settings = load(path)
    settings["model"] = "haiku"
    write_settings(path, settings, indent=2)
    result = inst.uninstall("project", str(project), env)
    assert result.changed and not result.restored and not result.deleted
    assert load(path) == dict(ORIGINAL, model="haiku")


def test_uninstall_after_a_reformat_only_still_restores_the_bytes(env, project):
    """Reformatted (same settings, other bytes) since install: the original bytes come back."""
    path = project / ".claude" / "settings.json"
    original_bytes = write_settings(path, ORIGINAL)
    inst.install("project", str(project), env)
    write_settings(path, load(path), indent=3)
    result = inst.uninstall("project", str(project), env)
    assert result.restored and path.read_bytes() == original_bytes


@pytest.mark.parametrize("scope", ["project", "local"])
def test_uninstall_of_a_file_install_created_removes_it(env, project, scope):
    path = Path(inst.settings_path(scope, str(project), env))
    inst.install(scope, str(project), env)
    assert path.exists()
    result = inst.uninstall(scope, str(project), env)
    assert result.deleted and not path.exists()
    assert "deleted" in inst.describe(result)
    assert list(path.parent.iterdir()) == []  # nothing left beside it either


def test_uninstall_of_a_created_file_others_added_to_keeps_it(env, project):
    inst.install("project", str(project), env)
    path = project / ".claude" / "settings.json"
    write_settings(path, dict(load(path), model="sonnet"))
    result = inst.uninstall("project", str(project), env)
    assert not result.deleted and load(path) == {"model": "sonnet"}


def test_uninstall_of_hooks_installed_before_the_record_existed(env, project):
    """A settings file that came with our hooks (an older install, a teammate's commit): no record
    of its original bytes, so uninstall takes our hooks out and keeps the rest."""
    path = project / ".claude" / "settings.json"
    settings = copy.deepcopy(ORIGINAL)
    inst.merge(settings, scope="project")
    write_settings(path, settings)
    inst.install("project", str(project), env)  # nothing to change, nothing recorded
    assert not Path(inst.install_record.record_path(str(path), env)).exists()
    result = inst.uninstall("project", str(project), env)
    assert result.changed and not result.restored and load(path) == ORIGINAL


def test_uninstall_without_a_file_does_nothing(env, project):
    result = inst.uninstall("project", str(project), env)
    assert not result.changed and not (project / ".claude").exists()


def test_uninstall_keeps_foreign_hooks_sharing_our_group(env, project):
    inst.install("project", str(project), env)
    path = project / ".claude" / "settings.json"
    settings = load(path)
    foreign = {"type": "command", "command": "echo mine"}
    settings["hooks"]["PreToolUse"][0]["hooks"].append(foreign)
    write_settings(path, settings)
    inst.uninstall("project", str(project), env)
    assert load(path) == {"hooks": {"PreToolUse": [{"matcher": "*", "hooks": [foreign]}]}}


def test_uninstall_leaves_groups_that_were_already_empty(env, project):
    path = project / ".claude" / "settings.json"
    original = {"hooks": {"Notification": [], "PreToolUse": [{"matcher": "Bash", "hooks": []}]}}
    write_settings(path, original)
    inst.install("project", str(project), env)
    inst.uninstall("project", str(project), env)
    assert load(path) == original


def test_reinstall_after_the_package_moved_replaces_in_place(env, project):
    path = project / ".claude" / "settings.json"
    write_settings(path, ORIGINAL)
    old = copy.deepcopy(ORIGINAL)
    inst.merge(old, python="/old/venv/bin/python", shim="/old/site-packages/cco_hooks/_shim.py")
    write_settings(path, old)  # an absolute registration, as install wrote it before it was portable
    result = inst.install("project", str(project), env)
    assert result.changed and sorted(result.added) == sorted(EVENTS) and result.removed == 0
    new = load(path)
    assert "/old/" not in json.dumps(new)
    assert_installed_once(new)
    # same places as before: only the commands changed
    assert list(new["hooks"]) == list(old["hooks"])
    for event in old["hooks"]:
        assert len(new["hooks"][event]) == len(old["hooks"][event])


def test_stale_copies_are_replaced_not_duplicated(env, project):
    path = project / ".claude" / "settings.json"
    stale = {
        "hooks": {
            "PreToolUse": [
                {"matcher": "Bash", "hooks": [{"type": "command", "command": "/opt/guard.sh"}]},
                # an older install with a too-narrow matcher, beside a foreign hook
                {
                    "matcher": "Task",
                    "hooks": [
                        {"type": "command", "command": "'/x y/python' -S '/x y/cco_hooks/_shim.py' pre-tool-use"},
                        {"type": "command", "command": "echo keep-me"},
                    ],
                },
            ],
            "Stop": [
                {"hooks": [{"type": "command", "command": "/a/python -S /a/cco_hooks/_shim.py stop", "timeout": 99}]},
                {"hooks": [{"type": "command", "command": "/b/python -S /b/cco_hooks/_shim.py stop"}]},
            ],
        }
    }
    write_settings(path, stale)
    result = inst.install("project", str(project), env)
    assert result.removed == 2  # the Task-matcher copy and the second Stop copy
    settings = load(path)
    assert_installed_once(settings)
    pre = settings["hooks"]["PreToolUse"]
    assert pre[0] == stale["hooks"]["PreToolUse"][0]
    assert pre[1] == {"matcher": "Task", "hooks": [{"type": "command", "command": "echo keep-me"}]}
    assert pre[2]["matcher"] == "*"
    assert settings["hooks"]["Stop"] == [{"hooks": [inst.desired_hooks(scope="project")["Stop"]]}]  # in place
    assert inst.install("project", str(project), env).changed is False


@pytest.mark.parametrize("content", ["{not json", '{"a": 1,}', "[1, 2]", '"text"', "null"])
def test_invalid_settings_file_is_refused_and_left_alone(env, project, content):
    path = project / ".claude" / "settings.json"
    path.parent.mkdir(parents=True)
    path.write_text(content, encoding="utf-8")
    for action in (inst.install, inst.uninstall):
        with pytest.raises(CcoHooksError) as caught:
            action("project", str(project), env)
        message = str(caught.value)
        assert str(path) in message and "nothing was changed" in message and "fix" in message.lower()
    assert path.read_text(encoding="utf-8") == content
    assert sorted(p.name for p in path.parent.iterdir()) == ["settings.json"]


def test_hooks_key_of_the_wrong_shape_is_refused(env, project):
    path = project / ".claude" / "settings.json"
    original = write_settings(path, {"hooks": ["PreToolUse"]})
    with pytest.raises(CcoHooksError, match='"hooks" is a JSON list'):
        inst.install("project", str(project), env)
    assert path.read_bytes() == original
    original = write_settings(path, {"hooks": {"PreToolUse": {"matcher": "Bash"}}})
    with pytest.raises(CcoHooksError, match='"hooks.PreToolUse" is a JSON dict, not a list'):
        inst.install("project", str(project), env)
    assert path.read_bytes() == original


def test_empty_file_counts_as_empty_settings(env, project):
    path = project / ".claude" / "settings.json"
    path.parent.mkdir(parents=True)
    path.write_text("\n")
    result = inst.install("project", str(project), env)
    assert result.changed and Path(result.backup).read_text() == "\n"
    assert_installed_once(load(path))


def test_user_scope_writes_into_the_claude_config_dir(env, project):
    result = inst.install("user", str(project), env)
    assert result.path == os.path.join(env["CLAUDE_CONFIG_DIR"], "settings.json")
    assert_installed_once(load(Path(result.path)), "user")
    assert not (project / ".claude").exists()
    assert not (Path(env["HOME"]) / ".claude").exists()


@pytest.mark.parametrize("planted", ["fifo", "link to /dev/zero"])
def test_a_settings_file_that_is_a_pipe_or_a_device_is_refused_never_read(env, project, planted):
    """A repository can commit ``.claude/settings.json`` as a link to ``/dev/zero``: install and
    uninstall say what it is and change nothing, instead of reading forever."""
    path = project / ".claude" / "settings.json"
    path.parent.mkdir(parents=True)
    if planted == "fifo":
        os.mkfifo(path, 0o644)
    else:
        path.symlink_to("/dev/zero")
    for action in (inst.install, inst.uninstall):
        with pytest.raises(CcoHooksError) as caught:
            action("project", str(project), env)
        message = str(caught.value)
        kind = "named pipe (FIFO)" if planted == "fifo" else "character device"
        assert str(path) in message and kind in message and "nothing was changed" in message
    assert sorted(p.name for p in path.parent.iterdir()) == ["settings.json"]
    assert path.is_symlink() if planted != "fifo" else stat.S_ISFIFO(os.lstat(path).st_mode)


def test_symlinked_settings_file_stays_a_symlink(env, project, tmp_path):
    real = tmp_path / "dotfiles" / "settings.json"
    write_settings(real, {"model": "sonnet"})
    link = project / ".claude" / "settings.json"
    link.parent.mkdir(parents=True)
    link.symlink_to(real)
    result = inst.install("project", str(project), env)
    assert link.is_symlink()
    assert_installed_once(load(real))
    assert json.loads(Path(result.backup).read_text()) == {"model": "sonnet"}
    inst.uninstall("project", str(project), env)
    assert link.is_symlink() and load(real) == {"model": "sonnet"}


def test_merge_and_unmerge_round_trip_in_memory():
    settings = copy.deepcopy(ORIGINAL)
    added, removed = inst.merge(settings)
    assert sorted(added) == sorted(EVENTS) and removed == 0
    assert inst.merge(settings) == ([], 0)
    assert inst.unmerge(settings) == len(EVENTS)
    assert settings == ORIGINAL


# --------------------------------------------------------------------------------------------
# recognising our entries


@pytest.mark.parametrize(
    "command, arg",
    [
        (inst.hook_command("pre-tool-use"), "pre-tool-use"),
        ("'/p q/bin/python3' -S '/p q/lib/cco_hooks/_shim.py' post-tool-use", "post-tool-use"),
        ('"/usr/bin/python3" -S "/srv/cco_hooks/_shim.py" subagent-stop', "subagent-stop"),
        ('python3 -S "${CLAUDE_PLUGIN_ROOT}/hooks/cco-hook" stop', "stop"),
        ("/usr/bin/python3 -S /src/cco-hooks/hooks/cco-hook.py pre-tool-use", "pre-tool-use"),
        ("python3 /elsewhere/cco_hooks/_shim.py", None),  # no event argument
        ("python3 /elsewhere/cco_hooks/_shim.py report", None),  # not one of our events
        ("python3 /elsewhere/my_shim.py pre-tool-use", None),
        ("python3 /x/other/_shim.py pre-tool-use", None),
        ("echo cco_hooks/_shim.py 'unterminated", None),
        ("/opt/guard.sh", None),
        (inst.portable_command("pre-tool-use"), "pre-tool-use"),
        (inst.portable_command("session-end"), "session-end"),
        ("cco-hook subagent-stop", "subagent-stop"),
        ("cco-hooks report", None),
        ("my-cco-hook stop", None),
    ],
)
def test_our_event_arg(command, arg):
    assert inst.our_event_arg(command) == arg
    assert inst.is_ours({"type": "command", "command": command}) is (arg is not None)


def test_non_command_entries_are_never_ours():
    assert inst.our_event_arg(None) is None
    assert not inst.is_ours({"type": "prompt", "prompt": "python -S /x/cco_hooks/_shim.py stop"})
    assert not inst.is_ours("python -S /x/cco_hooks/_shim.py stop")


# --------------------------------------------------------------------------------------------
# doctor helpers


def test_installed_locations(env, project, tmp_path):
    assert inst.installed_locations(str(project), env) == []
    inst.install("user", str(project), env)
    inst.install("local", str(project), env, python="/old/python", shim="/old/cco_hooks/_shim.py")
    write_settings(project / ".claude" / "settings.json", ORIGINAL)
    found = inst.installed_locations(str(project), env)
    assert [(loc.scope, loc.current, loc.error) for loc in found] == [("user", True, None), ("local", False, None)]
    assert found[0].path == os.path.join(env["CLAUDE_CONFIG_DIR"], "settings.json")
    assert found[0].events == EVENTS and len(found[0].commands) == len(EVENTS)
    assert all("/old/cco_hooks/_shim.py" in c for c in found[1].commands)
    # a broken settings file is reported with the reason
    (project / ".claude" / "settings.json").write_text("{oops")
    broken = [loc for loc in inst.installed_locations(str(project), env) if loc.error]
    assert [loc.scope for loc in broken] == ["project"] and "not valid JSON" in broken[0].error


def test_installed_locations_not_current_when_a_hook_is_missing(env, project):
    inst.install("project", str(project), env)
    path = project / ".claude" / "settings.json"
    settings = load(path)
    del settings["hooks"]["Stop"]
    write_settings(path, settings)
    [loc] = inst.installed_locations(str(project), env)
    assert loc.events == ["PreToolUse", "PostToolUse", "SubagentStop", "SessionEnd"] and not loc.current


def test_project_in_home_is_listed_once(env, tmp_path):
    # project dir whose .claude/settings.json is the user settings file
    config = Path(env["CLAUDE_CONFIG_DIR"])
    home_like = config.parent
    same_env = dict(env, CLAUDE_CONFIG_DIR=str(home_like / ".claude"))
    inst.install("user", str(home_like), same_env)
    found = inst.installed_locations(str(home_like), same_env)
    assert [loc.scope for loc in found] == ["user"]


@pytest.mark.parametrize(
    "matcher, tools",
    [
        (None, ["Agent", "Task"]),
        ("", ["Agent", "Task"]),
        ("*", ["Agent", "Task"]),
        ("Task|Agent", ["Agent", "Task"]),
        ("Agent", ["Agent", "Task"]),  # Claude Code treats Task as Agent's old name
        ("Bash|Task", ["Agent", "Task"]),
        ("Edit, Agent", ["Agent", "Task"]),
        ("Ag.*", ["Agent"]),
        ("^Task$", ["Task"]),
        ("Bash", []),
        ("TaskCreate|TaskUpdate", []),
        ("Edit|Write", []),
        ("mcp__.*", []),
        ("(unbalanced", []),
    ],
)
def test_matcher_matches_like_claude_code(matcher, tools):
    assert [tool for tool in SPAWN_TOOLS if inst.matcher_matches(matcher, tool)] == tools


def test_conflicting_hooks_lists_foreign_pre_tool_use_hooks_on_spawns(env, project):
    write_settings(project / ".claude" / "settings.json", ORIGINAL)
    write_settings(
        Path(env["CLAUDE_CONFIG_DIR"]) / "settings.json",
        {
            "hooks": {
                "PreToolUse": [
                    {"hooks": [{"type": "command", "command": "audit-all"}]},
                    {"matcher": "*", "hooks": [{"type": "prompt", "prompt": "is this ok?"}]},
                    {"matcher": "Bash", "hooks": [{"type": "command", "command": "bash-only"}]},
                ],
                "PostToolUse": [{"matcher": "*", "hooks": [{"type": "command", "command": "post-all"}]}],
            }
        },
    )
    inst.install("project", str(project), env)
    inst.install("local", str(project), env)
    conflicts = inst.conflicting_hooks(str(project), env)
    assert [(c.scope, c.matcher, c.tools, c.command, c.hook_type) for c in conflicts] == [
        ("user", None, ["Agent", "Task"], "audit-all", "command"),
        ("user", "*", ["Agent", "Task"], None, "prompt"),
        ("project", "Task|Agent", ["Agent", "Task"], "echo other-agent-hook", "command"),
    ]
    assert all(c.event == "PreToolUse" for c in conflicts)


def test_enabled_plugin_entries(env, project):
    assert inst.enabled_plugin_entries(str(project), env) == []
    write_settings(
        project / ".claude" / "settings.json",
        {"enabledPlugins": {"cco-hooks@team": True, "cco-hooks-extra@x": True, "cco-hooks@off": False}},
    )
    (project / ".claude" / "settings.local.json").write_text("{broken")
    assert inst.enabled_plugin_entries(str(project), env) == [
        ("project", str(project / ".claude" / "settings.json"), "cco-hooks@team")
    ]


def test_empty_sys_executable_is_refused(monkeypatch):
    monkeypatch.setattr(sys, "executable", "")
    with pytest.raises(CcoHooksError, match="sys.executable is empty"):
        inst.hook_command("stop")


# --------------------------------------------------------------------------------------------
# the installed command really runs


def hook_env(env: dict, project: Path) -> dict:
    run_env = {k: v for k, v in os.environ.items() if not k.startswith(("CLAUDE", "CCO_HOOKS"))}
    run_env.update(env)
    run_env["CLAUDE_PROJECT_DIR"] = str(project)
    return run_env


def test_installed_commands_run_from_any_cwd(env, project):
    """Each installed command, run by a shell from /, with an empty stdin, exits 0 without a traceback.

    Until cco_hooks/hook_main.py exists the shim's fail-open path is what runs: exit 0 and a
    single line on stderr.
    """
    result = inst.install("local", str(project), env)
    settings = load(Path(result.path))
    hook_main_exists = (REPO / "cco_hooks" / "hook_main.py").exists()
    for spec in inst.HOOKS:
        [(_, hook)] = ours(settings)[spec.event]
        proc = subprocess.run(
            ["sh", "-c", hook["command"]],
            cwd="/",
            input=b"",
            capture_output=True,
            env=hook_env(env, project),
            timeout=60,
        )
        stderr = proc.stderr.decode("utf-8", "replace")
        assert proc.returncode == 0, (spec.event, stderr)
        assert "Traceback" not in stderr, stderr
        if not hook_main_exists:
            assert proc.stdout == b""
            assert stderr.count("\n") == 1 and stderr.startswith("cco-hooks: cannot load the hook")


def path_hook(bin_dir: Path) -> Path:
    """``bin/cco-hook`` as an installer lays it out: the launcher in ``<prefix>/bin`` beside its
    interpreter, the package (this checkout's) in ``<prefix>/lib/python3.X/site-packages``."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    script = bin_dir / inst.PATH_COMMAND
    shutil.copy(REPO / "bin" / "cco-hook", script)
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    (bin_dir / f"python{version}").symlink_to(sys.executable)
    packages = bin_dir.parent / "lib" / f"python{version}" / "site-packages"
    packages.mkdir(parents=True)
    (packages / "cco_hooks").symlink_to(REPO / "cco_hooks")
    return script


def run_portable(
    command: str, env: dict, project: Path, path: str, payload: bytes = b""
) -> subprocess.CompletedProcess:
    run_env = dict(hook_env(env, project), PATH=path, PYTHONPATH=str(REPO))  # PYTHONPATH: the package "installed"
    return subprocess.run(["sh", "-c", command], cwd="/", input=payload, capture_output=True, env=run_env, timeout=60)


def spawn_payload(project: Path) -> bytes:
    payload = json.loads((REPO / "tests" / "fixtures" / "payloads-2.1.328" / "PreToolUse.json").read_text())
    payload.update(cwd=str(project), session_id="s-portable", tool_use_id="toolu_portable")
    payload["tool_input"].update(subagent_type="python-pro", model="opus")
    return json.dumps(payload).encode()


def test_portable_commands_run_the_cco_hook_found_on_path(env, project, tmp_path):
    """The committed command runs whichever ``cco-hook`` is on PATH: it routes the spawn."""
    (project / ".claude").mkdir()
    (project / ".claude" / "cco-hooks.yaml").write_text("version: 1\nagents: {python-pro: haiku}\n")
    inst.install("project", str(project), env)
    settings = load(project / ".claude" / "settings.json")
    path_hook(tmp_path / "elsewhere" / "bin")
    path = f"{tmp_path / 'elsewhere' / 'bin'}:/usr/bin:/bin"
    [(_, pre)] = ours(settings)["PreToolUse"]
    proc = run_portable(pre["command"], env, project, path, spawn_payload(project))
    assert proc.returncode == 0 and proc.stderr == b"", proc.stderr
    answer = json.loads(proc.stdout)
    assert answer["hookSpecificOutput"]["updatedInput"]["model"] == "haiku"
    for spec in inst.HOOKS[1:]:
        [(_, hook)] = ours(settings)[spec.event]
        proc = run_portable(hook["command"], env, project, path)
        assert proc.returncode == 0 and b"Traceback" not in proc.stderr, (spec.event, proc.stderr)


def test_portable_commands_without_cco_hook_on_path_fail_open_with_one_message(env, project):
    """No cco-hook on PATH: PreToolUse exits 0 with one systemMessage saying how to install it (the
    spawn proceeds unchanged); every other event exits 0 and says nothing."""
    inst.install("project", str(project), env)
    settings = load(project / ".claude" / "settings.json")
    for spec in inst.HOOKS:
        [(_, hook)] = ours(settings)[spec.event]
        proc = run_portable(hook["command"], env, project, "/usr/bin:/bin", spawn_payload(project))
        assert proc.returncode == 0 and proc.stderr == b"", (spec.event, proc.stderr)
        if spec.arg == "pre-tool-use":
            answer = json.loads(proc.stdout)
            assert list(answer) == ["systemMessage"]  # no decision: the spawn proceeds as asked
            assert answer["systemMessage"] == inst.NOT_INSTALLED_MESSAGE
            assert "pipx install" in answer["systemMessage"] and "uv tool install" in answer["systemMessage"]
        else:
            assert proc.stdout == b""


def test_a_failing_hook_on_path_keeps_its_exit_code(env, project, tmp_path):
    """``exec`` hands the hook's exit code to Claude Code unchanged: a deny by exit 2 still blocks,
    and it never falls through to the not-installed message."""
    bin_dir = tmp_path / "fake" / "bin"
    bin_dir.mkdir(parents=True)
    fake = bin_dir / inst.PATH_COMMAND
    fake.write_text("#!/bin/sh\necho denied >&2\nexit 2\n")
    fake.chmod(0o755)
    proc = run_portable(inst.portable_command("pre-tool-use"), env, project, f"{bin_dir}:/usr/bin:/bin")
    assert proc.returncode == 2 and proc.stdout == b"" and proc.stderr == b"denied\n"


def test_install_warns_when_cco_hook_is_not_on_path(env, project, tmp_path):
    result = inst.install("project", str(project), dict(env, PATH="/usr/bin:/bin"))
    assert "no `cco-hook` on PATH" in inst.describe(result)
    path_hook(tmp_path / "b")
    result = inst.install("project", str(project), dict(env, PATH=f"{tmp_path / 'b'}:/usr/bin:/bin"))
    assert "on PATH" not in inst.describe(result)
    assert "PATH" not in inst.describe(inst.install("local", str(project), dict(env, PATH="/usr/bin:/bin")))
