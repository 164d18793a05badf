"""Where Claude Code loads cco-hooks as a plugin, for ``cco-hooks doctor``.

A plugin registers its hooks without any settings file's ``hooks`` key, in three ways:

- **for one session**: ``claude --plugin-dir DIR`` (a directory whose ``.claude-plugin/plugin.json``
  is named ``cco-hooks``). Nothing is written anywhere, so doctor looks where it can: at the
  processes it runs under (run from inside Claude Code, by the user's ``!`` or Claude's Bash tool,
  ``claude`` is an ancestor and its command line names the directory), and at ``CLAUDE_PLUGIN_ROOT``
  (set for a plugin's own hooks).
- **installed**: ``<claude config>/plugins/installed_plugins.json`` lists ``cco-hooks@<marketplace>``
  (``claude plugin install``), with the scope and project it was installed for.
- **enabled**: ``enabledPlugins`` in a settings file (``install.enabled_plugin_entries``).

Process ancestry is read from ``/proc`` (Linux), else from ``ps`` (macOS, BSD); where neither
answers, no session plugin is reported. Best effort throughout: nothing here raises.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass

from cco_hooks import paths

PLUGIN_NAME = "cco-hooks"
MAX_ANCESTORS = 64
MAX_JSON_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class PluginRegistration:
    how: str  # "--plugin-dir" | "CLAUDE_PLUGIN_ROOT" | "installed"
    root: str  # the plugin's directory
    detail: str  # where it was seen: a process, a file


def _read_json(path: str) -> object:
    try:
        with open(path, "rb") as handle:
            return json.loads(handle.read(MAX_JSON_BYTES))
    except (OSError, ValueError, RecursionError):
        return None


def is_our_plugin(root: str) -> bool:
    """Whether ``root`` is a plugin directory whose manifest names it ``cco-hooks``."""
    manifest = _read_json(os.path.join(root, ".claude-plugin", "plugin.json"))
    return isinstance(manifest, dict) and manifest.get("name") == PLUGIN_NAME


def plugin_dirs_in_args(args: list[str], cwd: str | None) -> list[str]:
    """The directories a ``claude`` command line loads with ``--plugin-dir DIR`` / ``--plugin-dir=DIR``
    (relative ones against the process's working directory)."""
    found = []
    for i, arg in enumerate(args):
        value = None
        if arg == "--plugin-dir" and i + 1 < len(args):
            value = args[i + 1]
        elif arg.startswith("--plugin-dir="):
            value = arg.split("=", 1)[1]
        if value:
            value = os.path.expanduser(value)
            found.append(os.path.normpath(os.path.join(cwd or "", value)))
    return found


def _proc_ancestors(pid: int) -> list[tuple[int, list[str], str | None]] | None:
    """(pid, argv, cwd) of ``pid``'s parent and its ancestors, from ``/proc``; None without ``/proc``."""
    if not os.path.isdir(f"/proc/{pid}"):
        return None
    found = []
    for _ in range(MAX_ANCESTORS):
        try:
            with open(f"/proc/{pid}/stat", "rb") as handle:
                stat = handle.read().decode("utf-8", "replace")
            pid = int(stat.rsplit(")", 1)[1].split()[1])  # the field after the state: the parent's pid
        except (OSError, ValueError, IndexError):
            break
        if pid <= 1:
            break
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                argv = [a.decode("utf-8", "surrogateescape") for a in handle.read().split(b"\0") if a]
        except OSError:
            argv = []
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            cwd = None
        found.append((pid, argv, cwd))
    return found


def _ps_ancestors(pid: int) -> list[tuple[int, list[str], str | None]]:
    """The same from ``ps`` (no working directory: relative ``--plugin-dir`` paths stay unresolved)."""
    found = []
    for _ in range(MAX_ANCESTORS):
        try:
            out = subprocess.run(
                ["ps", "-o", "ppid=", "-p", str(pid)], capture_output=True, text=True, timeout=5
            ).stdout.strip()
            pid = int(out)
            if pid <= 1:
                break
            args = subprocess.run(
                ["ps", "-o", "args=", "-p", str(pid)], capture_output=True, text=True, timeout=5
            ).stdout.strip()
        except (OSError, ValueError, subprocess.SubprocessError):
            break
        found.append((pid, args.split(), None))  # ps joins argv with spaces: paths with spaces are lost
    return found


def ancestors(pid: int | None = None) -> list[tuple[int, list[str], str | None]]:
    pid = os.getpid() if pid is None else pid
    found = _proc_ancestors(pid)
    return found if found is not None else _ps_ancestors(pid)


def session_plugins(env: dict, pid: int | None = None) -> list[PluginRegistration]:
    """cco-hooks loaded for the session doctor runs in: ``--plugin-dir`` or ``CLAUDE_PLUGIN_ROOT``."""
    found: list[PluginRegistration] = []
    seen: set[str] = set()
    for ancestor, argv, cwd in ancestors(pid):
        for root in plugin_dirs_in_args(argv, cwd):
            if root not in seen and is_our_plugin(root):
                seen.add(root)
                found.append(PluginRegistration("--plugin-dir", root, f"process {ancestor}"))
    root = env.get("CLAUDE_PLUGIN_ROOT")
    if root and os.path.normpath(root) not in seen and is_our_plugin(root):
        found.append(PluginRegistration("CLAUDE_PLUGIN_ROOT", os.path.normpath(root), "the environment"))
    return found


def installed_plugins(project: str | None, env: dict) -> list[PluginRegistration]:
    """``cco-hooks@<marketplace>`` installs in ``<claude config>/plugins/installed_plugins.json`` that
    apply here: user scope, or project/local scope for this project."""
    registry_path = paths.plugin_registry_paths(project, env)[0]
    registry = _read_json(registry_path)
    plugins = registry.get("plugins") if isinstance(registry, dict) else None
    found = []
    for key, installs in (plugins if isinstance(plugins, dict) else {}).items():
        if not isinstance(key, str) or key.split("@", 1)[0] != PLUGIN_NAME or not isinstance(installs, list):
            continue
        for install in installs:
            if not isinstance(install, dict):
                continue
            scope, where = install.get("scope"), install.get("projectPath")
            if scope in ("project", "local") and not (project and where == project):
                continue
            root = install.get("installPath")
            found.append(PluginRegistration("installed", root if isinstance(root, str) else "", key))
    return found
