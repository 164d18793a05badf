"""Every user-facing path and the environment variables that move it; each call gets its own env dict."""

import os

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
