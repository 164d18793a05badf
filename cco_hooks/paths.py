"""Every user-facing path, each movable by an environment variable.

Stdlib only and import-light: the hooks import this on every spawn.

- ``CLAUDE_CONFIG_DIR``  Claude Code's own config directory (default ``~/.claude``; with no home
  at all, ``homeless_dir``).
- ``CCO_HOOKS_CONFIG``   an extra config layer that wins over all others.
- ``CCO_HOOKS_LEDGER``   the ledger file (default ``<claude config>/cco-hooks/ledger.jsonl``).
- ``CLAUDE_PROJECT_DIR`` the project (Claude Code sets it for hooks), else the payload's ``cwd``.
"""

from cco_hooks.fastos import os

# Claude Code's settings files: project (.claude/settings.json), local (.claude/settings.local.json),
# user (<claude config>/settings.json).
SETTINGS_SCOPES = ("project", "local", "user")
CONFIG_BASENAMES = ("cco-hooks.yaml", "cco-hooks.yml", "cco-hooks.json")
LOCAL_CONFIG_BASENAMES = ("cco-hooks.local.yaml", "cco-hooks.local.yml", "cco-hooks.local.json")


def _expand(path: str) -> str | None:
    """``path`` with a leading ``~`` expanded, absolute; ``None`` when the ``~`` cannot be expanded
    (HOME unset and no passwd entry): taken as it is, it would name ``./~`` inside the project."""
    expanded = os.path.expanduser(path)
    if expanded.startswith("~"):
        return None
    return os.path.abspath(expanded)


def claude_config_dir(env: dict | None = None) -> str:
    """``CLAUDE_CONFIG_DIR``, else ``~/.claude``, else (no home at all) ``homeless_dir``."""
    env = os.environ if env is None else env
    configured = env.get("CLAUDE_CONFIG_DIR")
    if configured:
        expanded = _expand(configured)
        if expanded:
            return expanded
    home = os.path.expanduser("~")
    if os.path.isabs(home):
        return os.path.join(home, ".claude")
    return homeless_dir(env)


def homeless_dir(env: dict | None = None) -> str:
    """What stands in for ``~/.claude`` when there is no home (HOME unset or relative and no passwd
    entry, as in some containers): ``$XDG_STATE_HOME/cco-hooks-claude`` when that is absolute, else
    ``<TMPDIR or /tmp>/cco-hooks-<uid>``, created 0700 and used only if it is a directory of our own
    that nobody else can write (not a link) — never a path relative to the cwd, which is the project.

    Raises ``OSError`` naming the directory and the fix when that directory is not safe to use."""
    env = os.environ if env is None else env
    state = env.get("XDG_STATE_HOME")
    if state and os.path.isabs(state):
        return os.path.join(state, "cco-hooks-claude")
    tmp = env.get("TMPDIR")
    base = tmp if tmp and os.path.isabs(tmp) else "/tmp"
    directory = os.path.join(base, f"cco-hooks-{os.getuid()}")
    try:
        os.mkdir(directory, 0o700)
    except FileExistsError:
        pass
    st = os.lstat(directory)
    if (st.st_mode & 0o170000) != 0o040000 or st.st_uid != os.getuid() or st.st_mode & 0o022:
        raise OSError(
            f"cco-hooks: there is no home directory, and {directory} (where state would go instead) is not "
            "a directory of our own that only we can write; set HOME or CLAUDE_CONFIG_DIR"
        )
    return directory


def state_dir(env: dict | None = None) -> str:
    """Where cco-hooks keeps its own files: snapshots, pending spawns, the default ledger."""
    return os.path.join(claude_config_dir(env), "cco-hooks")


def project_dir(
    payload_cwd: str | None = None, env: dict | None = None, *, chosen: str | None = None, default: str | None = None
) -> str | None:
    """The project directory, absolute: the one resolver for hooks and CLI alike.

    ``chosen`` (the CLI's ``--project``) wins, then ``CLAUDE_PROJECT_DIR`` (Claude Code sets it for
    hooks), then ``payload_cwd`` (a hook payload's ``cwd``), then ``default`` (the CLI passes the
    current directory; the hooks pass nothing and get ``None``).

    ``~``: a leading ``~`` or ``~user`` is expanded in ``chosen`` and ``CLAUDE_PROJECT_DIR``, the
    paths a person writes, as in every other path variable here; ``payload_cwd`` and ``default`` are
    directories Claude Code or the OS report, taken as they are.
    """
    env = os.environ if env is None else env
    configured = chosen or env.get("CLAUDE_PROJECT_DIR")
    if configured:
        return os.path.abspath(os.path.expanduser(configured))
    # A payload's cwd is used only when it can name a directory at all: a NUL byte would make every
    # later stat of it raise instead of fail, and no real path is longer than PATH_MAX.
    if isinstance(payload_cwd, str) and payload_cwd and "\0" not in payload_cwd and len(payload_cwd) <= 4096:
        return os.path.abspath(payload_cwd)
    return os.path.abspath(default) if default else None


def default_config_path() -> str:
    """The embedded default config: ``_config/default.yaml`` in an installed package, else the
    checkout's ``config/default.yaml``. The lowest layer of all."""
    here = os.path.dirname(os.path.abspath(__file__))
    installed = os.path.join(here, "_config", "default.yaml")
    if os.path.exists(installed):
        return installed
    return os.path.join(os.path.dirname(here), "config", "default.yaml")


def config_layer_paths(project: str | None, env: dict | None = None) -> list[tuple[str, str]]:
    """The candidate config layers, lowest priority first, as ``(layer name, path)``.

    Missing files are listed too: the snapshot's freshness check stats them, so creating one
    rebuilds the snapshot.
    """
    env = os.environ if env is None else env
    layers: list[tuple[str, str]] = []
    user_dir = claude_config_dir(env)
    layers += [("user", os.path.join(user_dir, name)) for name in CONFIG_BASENAMES]
    if project:
        project_claude = os.path.join(project, ".claude")
        layers += [("project", os.path.join(project_claude, name)) for name in CONFIG_BASENAMES]
        layers += [("local", os.path.join(project_claude, name)) for name in LOCAL_CONFIG_BASENAMES]
    explicit = env.get("CCO_HOOKS_CONFIG")
    if explicit:
        layers.append(("env", os.path.abspath(os.path.expanduser(explicit))))
    return layers


def agent_dirs(project: str | None, env: dict | None = None) -> list[tuple[str, str]]:
    """Agent definition directories, highest priority first (project beats user, as in Claude Code)."""
    dirs = []
    if project:
        dirs.append(("project", os.path.join(project, ".claude", "agents")))
    dirs.append(("user", os.path.join(claude_config_dir(env), "agents")))
    return dirs


def plugin_registry_paths(project: str | None, env: dict | None = None) -> list[str]:
    """The files that say which plugins are installed and enabled: Claude Code's
    ``plugins/installed_plugins.json`` and the settings files' ``enabledPlugins`` (user, project,
    local; later wins)."""
    config = claude_config_dir(env)
    found = [os.path.join(config, "plugins", "installed_plugins.json"), os.path.join(config, "settings.json")]
    if project:
        found += [os.path.join(project, ".claude", name) for name in ("settings.json", "settings.local.json")]
    return found


_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


def safe_name(value) -> bool:
    """``value`` can be used as a file name as is: 1-128 of ``[A-Za-z0-9_-]`` (ids from payloads)."""
    return isinstance(value, str) and 0 < len(value) <= 128 and all(c in _SAFE for c in value)


def default_ledger_path(env: dict | None = None) -> str:
    return os.path.join(state_dir(env), "ledger.jsonl")


def ledger_path(configured: str | None = None, env: dict | None = None) -> str:
    """``CCO_HOOKS_LEDGER`` wins over the config's ``ledger.path``, which wins over the default."""
    env = os.environ if env is None else env
    explicit = env.get("CCO_HOOKS_LEDGER")
    if explicit and _expand(explicit):
        return _expand(explicit)
    if configured and _expand(configured):
        return _expand(configured)
    return default_ledger_path(env)
