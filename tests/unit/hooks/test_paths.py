"""Every user-facing path and the environment variables that move it; each call gets its own env dict."""

import os
import sys

import pytest

from cco_hooks import paths


@pytest.fixture
def home(isolated_home):
    """The tmp home the root conftest points HOME at: never the real one."""
    return str(isolated_home)


# --------------------------------------------------------------------------- Claude's config dir


def test_claude_config_dir_defaults_to_dot_claude_in_home(home):
    """No CLAUDE_CONFIG_DIR: ``~/.claude``."""
    assert paths.claude_config_dir({}) == os.path.join(home, ".claude")


def test_an_empty_claude_config_dir_is_the_default(home):
    """CLAUDE_CONFIG_DIR set to the empty string counts as unset."""
    assert paths.claude_config_dir({"CLAUDE_CONFIG_DIR": ""}) == os.path.join(home, ".claude")


def test_claude_config_dir_is_expanded_and_made_absolute(home, tmp_path, monkeypatch):
    """``~`` is expanded and a relative CLAUDE_CONFIG_DIR is taken from the cwd."""
    monkeypatch.chdir(tmp_path)
    assert paths.claude_config_dir({"CLAUDE_CONFIG_DIR": "~/cfg"}) == os.path.join(home, "cfg")
    assert paths.claude_config_dir({"CLAUDE_CONFIG_DIR": "rel/cfg"}) == str(tmp_path / "rel" / "cfg")


def test_state_dir_is_cco_hooks_in_the_claude_config_dir():
    """Our own files live in ``<claude config>/cco-hooks``."""
    assert paths.state_dir({"CLAUDE_CONFIG_DIR": "/c"}) == "/c/cco-hooks"


def test_the_functions_read_os_environ_without_an_env(monkeypatch):
    """``env=None`` means the process environment."""
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", "/from/environ")
    assert paths.state_dir() == "/from/environ/cco-hooks"


# --------------------------------------------------------------------------- no home at all


@pytest.fixture
def no_home(tmp_path, monkeypatch):
    """HOME unset and no passwd entry for our uid (as in some containers): ``~`` cannot be expanded.
    Returns the TMPDIR the fallback directory goes into; the cwd is a project that must stay empty."""
    import pwd

    def no_entry(uid):
        raise KeyError(f"getpwuid(): uid not found: {uid}")

    monkeypatch.delenv("HOME", raising=False)
    monkeypatch.setattr(pwd, "getpwuid", no_entry)
    assert os.path.expanduser("~") == "~"
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    yield tmp
    assert os.listdir(project) == []


def test_with_no_home_state_goes_to_a_private_per_user_directory(no_home):
    """Not ``./~/.claude`` in the project: ``<TMPDIR>/cco-hooks-<uid>``, created 0700."""
    env = {"TMPDIR": str(no_home)}
    private = no_home / f"cco-hooks-{os.getuid()}"
    assert paths.claude_config_dir(env) == str(private)
    assert paths.state_dir(env) == str(private / "cco-hooks")
    assert paths.ledger_path(None, env) == str(private / "cco-hooks" / "ledger.jsonl")
    assert private.is_dir() and (private.stat().st_mode & 0o777) == 0o700


def test_with_no_home_xdg_state_home_is_used_when_absolute(no_home):
    env = {"TMPDIR": str(no_home), "XDG_STATE_HOME": "/xdg/state"}
    assert paths.state_dir(env) == "/xdg/state/cco-hooks-claude/cco-hooks"
    env["XDG_STATE_HOME"] = "relative/state"  # relative: it would be inside the project
    assert paths.state_dir(env) == str(no_home / f"cco-hooks-{os.getuid()}" / "cco-hooks")


def test_with_no_home_claude_config_dir_still_wins(no_home):
    assert paths.state_dir({"CLAUDE_CONFIG_DIR": "/c", "TMPDIR": str(no_home)}) == "/c/cco-hooks"


def test_with_no_home_a_path_under_tilde_is_not_taken_from_the_cwd(no_home):
    """``~/…`` in CLAUDE_CONFIG_DIR, CCO_HOOKS_LEDGER or ``ledger.path`` cannot be expanded: it counts
    as unset, never as ``./~/…`` in the project."""
    env = {"TMPDIR": str(no_home), "CLAUDE_CONFIG_DIR": "~/cfg", "CCO_HOOKS_LEDGER": "~/env.jsonl"}
    private = no_home / f"cco-hooks-{os.getuid()}"
    assert paths.claude_config_dir(env) == str(private)
    assert paths.ledger_path("~/team.jsonl", env) == str(private / "cco-hooks" / "ledger.jsonl")


@pytest.mark.parametrize("squat", ["group-writable", "a link", "a file", "another user's"])
def test_with_no_home_a_fallback_directory_we_cannot_trust_is_refused(no_home, squat):
    """``/tmp/cco-hooks-<uid>`` made beforehand by someone else, writable by others, or a link:
    an error naming it and the fix, never a write into it."""
    private = no_home / f"cco-hooks-{os.getuid()}"
    if squat == "group-writable":
        private.mkdir(mode=0o700)
        private.chmod(0o770)
    elif squat == "a link":
        (no_home / "elsewhere").mkdir(mode=0o700)
        private.symlink_to(no_home / "elsewhere")
    elif squat == "a file":
        private.write_text("")
    else:
        if os.getuid() != 0:
            pytest.skip("giving a directory to another user needs root")
        private.mkdir(mode=0o700)
        os.chown(private, 65534, 65534)
    with pytest.raises(OSError, match="set HOME or CLAUDE_CONFIG_DIR") as raised:
        paths.state_dir({"TMPDIR": str(no_home)})
    assert str(private) in str(raised.value)


HOMELESS_HOOK = """
import pwd, runpy, sys
def no_entry(uid):
    raise KeyError("getpwuid(): uid not found: %d" % uid)
pwd.getpwuid = no_entry  # this uid has no passwd entry
sys.argv = [sys.argv[1], sys.argv[2]]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def test_a_real_hook_process_with_no_home_records_the_spawn_outside_the_project(hooks, tmp_path):
    """Real hook processes (the installed shim) with HOME, CLAUDE_CONFIG_DIR and CCO_HOOKS_LEDGER
    unset and no passwd entry: the project's config still routes, the spawn is recorded in
    ``<TMPDIR>/cco-hooks-<uid>``, and nothing is written in the project or the cwd."""
    import json

    from cco_hooks import ledger
    from tests.support.hookproc import answer, hook_argv

    tmp = tmp_path / "tmp"
    tmp.mkdir()
    hooks.write_config("version: 1\nagents: {general-purpose: haiku}\n")
    before = sorted(p.relative_to(hooks.project) for p in hooks.project.rglob("*"))
    shim = hook_argv("stop")[-2]
    hooks.write_transcript("a1")
    outputs = []
    for event, payload in (
        ("pre-tool-use", hooks.pre("toolu_1", model="sonnet")),
        ("subagent-stop", hooks.stop("a1")),
        ("post-tool-use", hooks.post_completed("toolu_1", "a1", "claude-haiku-4-5")),
    ):
        proc = hooks.start(
            event,
            argv=[sys.executable, "-S", "-c", HOMELESS_HOOK, shim, event],
            HOME=None,
            CLAUDE_CONFIG_DIR=None,
            CCO_HOOKS_LEDGER=None,
            XDG_STATE_HOME=None,
            TMPDIR=str(tmp),
        )
        out, err = proc.communicate(json.dumps(payload).encode(), timeout=60)
        assert proc.returncode == 0 and err == b"", err
        outputs.append(out)
    assert answer(outputs[0])["hookSpecificOutput"]["updatedInput"]["model"] == "haiku"
    private_ledger = tmp / f"cco-hooks-{os.getuid()}" / "cco-hooks" / "ledger.jsonl"
    records, _ = ledger.read_records(str(private_ledger))
    assert [r["tool_use_id"] for r in records if r.get("kind") == "spawn"] == ["toolu_1"]
    assert sorted(p.relative_to(hooks.project) for p in hooks.project.rglob("*")) == before
    assert not os.path.exists(hooks.ledger)


# --------------------------------------------------------------------------- the ledger


def test_ledger_path_default():
    """Neither CCO_HOOKS_LEDGER nor a configured path: ``<claude config>/cco-hooks/ledger.jsonl``."""
    env = {"CLAUDE_CONFIG_DIR": "/c"}
    assert paths.ledger_path(None, env) == "/c/cco-hooks/ledger.jsonl"
    assert paths.default_ledger_path(env) == "/c/cco-hooks/ledger.jsonl"


def test_ledger_path_from_the_config(home):
    """The config's ledger.path wins over the default; ``~`` is expanded."""
    env = {"CLAUDE_CONFIG_DIR": "/c"}
    assert paths.ledger_path("/team/ledger.jsonl", env) == "/team/ledger.jsonl"
    assert paths.ledger_path("~/l.jsonl", env) == os.path.join(home, "l.jsonl")


def test_cco_hooks_ledger_wins_over_the_config(home):
    """CCO_HOOKS_LEDGER wins over the config's ledger.path; ``~`` is expanded."""
    env = {"CLAUDE_CONFIG_DIR": "/c", "CCO_HOOKS_LEDGER": "~/env.jsonl"}
    assert paths.ledger_path("/team/ledger.jsonl", env) == os.path.join(home, "env.jsonl")


def test_an_empty_cco_hooks_ledger_is_unset():
    """CCO_HOOKS_LEDGER set to the empty string falls back to the config's path."""
    env = {"CLAUDE_CONFIG_DIR": "/c", "CCO_HOOKS_LEDGER": ""}
    assert paths.ledger_path("/team/ledger.jsonl", env) == "/team/ledger.jsonl"


# --------------------------------------------------------------------------- the project


def test_project_dir_chosen_wins_over_everything():
    """``--project`` beats CLAUDE_PROJECT_DIR, the payload's cwd and the default."""
    env = {"CLAUDE_PROJECT_DIR": "/env"}
    assert paths.project_dir("/cwd", env, chosen="/chosen", default="/default") == "/chosen"


def test_project_dir_env_wins_over_the_payload_cwd():
    """CLAUDE_PROJECT_DIR beats the payload's cwd and the default."""
    assert paths.project_dir("/cwd", {"CLAUDE_PROJECT_DIR": "/env"}, default="/default") == "/env"


def test_project_dir_payload_cwd_wins_over_the_default():
    """Without --project or CLAUDE_PROJECT_DIR: the payload's cwd."""
    assert paths.project_dir("/cwd", {}, default="/default") == "/cwd"


def test_project_dir_default_last():
    """Nothing else: the default (the CLI's cwd)."""
    assert paths.project_dir(None, {}, default="/default") == "/default"


def test_project_dir_none_for_a_hook_with_nothing():
    """A hook passes no default: ``None`` when there is no project to name."""
    assert paths.project_dir(None, {}) is None


def test_project_dir_expands_tilde_in_chosen_and_the_env(home):
    """``~`` in ``--project`` and CLAUDE_PROJECT_DIR (paths a person writes) is the home."""
    assert paths.project_dir(None, {}, chosen="~/p") == os.path.join(home, "p")
    assert paths.project_dir(None, {"CLAUDE_PROJECT_DIR": "~/q"}) == os.path.join(home, "q")


def test_project_dir_takes_the_payload_cwd_and_default_as_they_are(tmp_path, monkeypatch):
    """``~`` in the payload's cwd or the default is a directory named ``~``, relative to the cwd."""
    monkeypatch.chdir(tmp_path)
    assert paths.project_dir("~/p", {}) == str(tmp_path / "~" / "p")
    assert paths.project_dir(None, {}, default="~") == str(tmp_path / "~")


@pytest.mark.parametrize("cwd", ["", "/a\0b", "/" + "x" * 4096, 42, ["/p"]])
def test_project_dir_ignores_a_payload_cwd_that_cannot_be_a_directory(cwd):
    """Empty, a NUL byte, longer than PATH_MAX, not a string: the payload's cwd is skipped."""
    assert paths.project_dir(cwd, {}) is None
    assert paths.project_dir(cwd, {}, default="/default") == "/default"


def test_project_dir_accepts_a_cwd_of_exactly_path_max():
    """4096 characters is still a path."""
    cwd = "/" + "x" * 4095
    assert paths.project_dir(cwd, {}) == cwd


def test_project_dir_normalises():
    """The result is absolute and normalised."""
    assert paths.project_dir("/a/b/../c/", {}) == "/a/c"


# --------------------------------------------------------------------------- config layers and agent dirs


def test_config_layer_paths_order_user_project_local_env():
    """Lowest priority first: user, project, local, then CCO_HOOKS_CONFIG; missing files are listed too."""
    env = {"CLAUDE_CONFIG_DIR": "/c", "CCO_HOOKS_CONFIG": "/x/extra.yaml"}
    assert paths.config_layer_paths("/p", env) == [
        ("user", "/c/cco-hooks.yaml"),
        ("user", "/c/cco-hooks.yml"),
        ("user", "/c/cco-hooks.json"),
        ("project", "/p/.claude/cco-hooks.yaml"),
        ("project", "/p/.claude/cco-hooks.yml"),
        ("project", "/p/.claude/cco-hooks.json"),
        ("local", "/p/.claude/cco-hooks.local.yaml"),
        ("local", "/p/.claude/cco-hooks.local.yml"),
        ("local", "/p/.claude/cco-hooks.local.json"),
        ("env", "/x/extra.yaml"),
    ]


def test_config_layer_paths_without_a_project_or_env_layer():
    """No project: only the user layer; no CCO_HOOKS_CONFIG (or an empty one): no env layer."""
    expected = [("user", "/c/cco-hooks.yaml"), ("user", "/c/cco-hooks.yml"), ("user", "/c/cco-hooks.json")]
    assert paths.config_layer_paths(None, {"CLAUDE_CONFIG_DIR": "/c"}) == expected
    assert paths.config_layer_paths(None, {"CLAUDE_CONFIG_DIR": "/c", "CCO_HOOKS_CONFIG": ""}) == expected


def test_cco_hooks_config_is_expanded(home):
    """``~`` in CCO_HOOKS_CONFIG is the home."""
    env = {"CLAUDE_CONFIG_DIR": "/c", "CCO_HOOKS_CONFIG": "~/team.yaml"}
    assert paths.config_layer_paths(None, env)[-1] == ("env", os.path.join(home, "team.yaml"))


def test_agent_dirs_project_before_user():
    """Highest priority first: the project's agents, then the user's."""
    env = {"CLAUDE_CONFIG_DIR": "/c"}
    assert paths.agent_dirs("/p", env) == [("project", "/p/.claude/agents"), ("user", "/c/agents")]


def test_agent_dirs_without_a_project():
    """No project: only the user's agents."""
    assert paths.agent_dirs(None, {"CLAUDE_CONFIG_DIR": "/c"}) == [("user", "/c/agents")]


# --------------------------------------------------------------------------- names and the default config


@pytest.mark.parametrize("value", ["a", "toolu_01ABC-xyz", "x" * 128, "b8a8b81e-3282-4085-80a5-d0ba9a4a7d23"])
def test_safe_name_accepts_ids(value):
    """1 to 128 of ``[A-Za-z0-9_-]``."""
    assert paths.safe_name(value) is True


@pytest.mark.parametrize("value", ["", "x" * 129, "../x", "a/b", "a.b", "a b", "é", "a\0", None, 7, b"abc"])
def test_safe_name_refuses_the_rest(value):
    """Empty, too long, a separator, a dot, a space, non-ASCII, NUL, not a str."""
    assert paths.safe_name(value) is False


def test_default_config_path_exists():
    """The embedded default config is there, named default.yaml."""
    path = paths.default_config_path()
    assert os.path.isfile(path) and os.path.basename(path) == "default.yaml"
