"""``cco-hooks doctor``: where the hooks are installed, which layers load, and what could override
their decisions (other hooks, ``CLAUDE_CODE_SUBAGENT_MODEL``, Claude Code version quirks).

Each check prints its findings and returns how many problems it found; any problem exits 1.
"""

from __future__ import annotations

import os
import shlex
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable

from cco_hooks import __version__, accounting, claude_code, files, paths, pending
from cco_hooks.cli import install, plugin_registration
from cco_hooks.coerce import visible
from cco_hooks.config import build as config_build

Out = Callable[[str], None]


def run_doctor(project_dir: str | None, env: dict, out: Out) -> int:
    """Run every check; print ``ok`` or how many problems were found."""
    project = paths.project_dir(env=env, chosen=project_dir, default=os.getcwd())
    package_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out(f"cco-hooks {__version__} at {package_dir} (python {sys.version.split()[0]}: {sys.executable})")
    out(f"project: {project}")
    out(f"claude config dir: {paths.claude_config_dir(env)}")
    routing = config_build.build_routing(project, env)
    problems = check_installation(project, env, out)
    problems += check_config(routing, out)
    problems += check_conflicts(project, env, out)
    problems += check_ledger(routing, env, out)
    problems += check_state_files(routing, env, out)
    out("ok" if problems == 0 else f"{problems} problem(s) found.")
    return 1 if problems else 0


def check_installation(project: str, env: dict, out: Out) -> int:
    """Which settings files register the hooks (or enable the plugin), and whether each is current;
    the plugin loaded for this session (``--plugin-dir``) or installed counts as a registration."""
    problems = 0
    locations = install.installed_locations(project, env)
    plugins = install.enabled_plugin_entries(project, env)
    session_plugins = plugin_registration.session_plugins(env)
    installed_plugins = plugin_registration.installed_plugins(project, env)
    for location in locations:
        if location.error:
            problems += 1
            out(f"settings file {location.path} ({location.scope}) cannot be read: {location.error}")
            continue
        complete = len(location.events) == len(install.HOOKS)
        if location.current:
            state = "current"
        elif complete and all(_runs_existing_shim(c, project) for c in location.commands):
            state = "complete, runs another checkout's or the project's own shim"
        else:
            state = (
                "STALE (a hook is missing or points at a shim that is gone; "
                f"fix: cco-hooks install --scope {location.scope})"
            )
            problems += 1
        out(f"installed: {location.scope} scope, {location.path}: {', '.join(location.events)} [{state}]")
        problems += _check_path_command(location, env, out)
    for scope, path, name in plugins:
        out(f"plugin enabled: {visible(name)} in {visible(path)} ({scope})")  # a key of a settings file
    enabled_keys = {name for _scope, _path, name in plugins}
    for found in installed_plugins:
        state = "" if found.detail in enabled_keys else " (not enabled in any settings file: /plugin enables it)"
        out(f"plugin installed: {visible(found.detail)} at {visible(found.root)}{state}")
    for found in session_plugins:
        out(f"plugin loaded for this session: {visible(found.root)} ({found.how}, {found.detail})")
    plugin_in_force = bool(plugins or session_plugins)
    if not locations and not plugin_in_force:
        if installed_plugins:
            problems += 1
            out(
                "NOT ENABLED: the cco-hooks plugin is installed but no settings file enables it. "
                "Fix: /plugin in Claude Code"
            )
        else:
            problems += 1
            out(
                "NOT INSTALLED: no settings file registers the cco-hooks hooks and no cco-hooks plugin is loaded. "
                "Fix: cco-hooks install --scope project (or run Claude Code with the plugin)"
            )
    if plugin_in_force and [loc for loc in locations if not loc.error]:
        out(
            "note: the cco-hooks plugin and a settings file both register the hooks; Claude Code runs each, "
            "so each spawn is routed and accounted twice. "
            "Keep one: cco-hooks uninstall --scope ..., or disable the plugin."
        )
    if len(locations) > 1:
        out(
            "note: the hooks are registered in more than one settings file; Claude Code runs each, "
            "so each spawn is routed and accounted once per registration. Keep one: cco-hooks uninstall --scope ..."
        )
    return problems


def check_config(routing: dict, out: Out) -> int:
    """Which layers load, whether any is broken, and what they add up to."""
    out("config layers (lowest first):")
    for layer in routing["layers"]:
        broken = "  BROKEN" if layer["broken"] else ""
        out(f"  {layer['layer']:<8} {visible(layer['path'])}  [{layer['format']}]{broken}")
    errors = [p for p in routing["problems"] if p["level"] == "error"]
    problems = 0
    if routing["broken"] or errors:
        problems += 1
        out(f"config problems: {len(errors)} error(s); run `cco-hooks config validate`.")
    ignored = [p for p in routing["problems"] if p["level"] == "ignored"]
    if ignored:  # not a fault of the installation: the user's own settings stay in force
        out(
            f"config: {len(ignored)} key(s) of a repository's config ignored (files, prices or a looser budget); "
            "run `cco-hooks config validate`."
        )
    out(
        f"mode: {routing['mode']}, {len(routing['exact']) + len(routing['globs'])} rule(s), "
        f"{len(routing['agent_file_rules'])} from agent files, on_error: {routing['on_error']}"
    )
    return problems


def check_conflicts(project: str, env: dict, out: Out) -> int:
    """Other spawn hooks, ``CLAUDE_CODE_SUBAGENT_MODEL``, and the installed Claude Code's quirks."""
    problems = 0
    for foreign in install.conflicting_hooks(project, env):
        problems += 1
        out(
            f"CONFLICT: another PreToolUse hook also runs on Agent/Task spawns: {foreign.command!r} "
            f"(matcher {foreign.matcher!r} in {foreign.path}). "
            "If it returns updatedInput too, one rewrite overrides the other. Fix: narrow its matcher or remove it."
        )
    subagent_model = env.get("CLAUDE_CODE_SUBAGENT_MODEL")
    if subagent_model:
        problems += 1
        out(
            f"CONFLICT: CLAUDE_CODE_SUBAGENT_MODEL={subagent_model} is set. Claude Code 2.1.328 lets a spawn's model "
            "and its agent file's model: beat it, but spawns whose model cco-hooks leaves unset run on it, and some "
            "2.1.2xx builds let it beat the spawn's model. Fix: unset it, or route with cco-hooks rules instead."
        )
    force = env.get(claude_code.SUBAGENT_MODEL_FORCE_ENV)
    if subagent_model and claude_code.env_true(force):
        problems += 1
        out(
            f"CONFLICT: {claude_code.SUBAGENT_MODEL_FORCE_ENV}={force} makes CLAUDE_CODE_SUBAGENT_MODEL beat every "
            "spawn's model, so cco-hooks' rewrites have no effect. Fix: unset it."
        )
    return problems + _check_claude_version(env, out)


def _check_claude_version(env: dict, out: Out) -> int:
    version = _claude_version(env)
    if not version:
        out("claude code: not found on PATH (fine for the hooks; doctor cannot check version quirks).")
        return 0
    out(f"claude code: {version}")
    if claude_code.ignores_model_param(version):
        low, high = (".".join(map(str, bound)) for bound in claude_code.IGNORES_MODEL_PARAM)
        out(
            f"CONFLICT: Claude Code {low}–{high} ignore the Agent tool's model parameter: rewrites have no effect. "
            "Fix: upgrade Claude Code."
        )
        return 1
    if (0, 0, 0) < claude_code.version_tuple(version) < claude_code.AGENT_TOOL_SINCE:
        out(f"note: this Claude Code names the spawn tool Task; cco-hooks matches {claude_code.SPAWN_TOOL_MATCHER}.")
    return 0


def _claude_version(env: dict) -> str | None:
    """``claude --version``'s version number, or ``None`` when there is no ``claude`` to ask."""
    claude = shutil.which("claude", path=env.get("PATH"))
    if not claude:
        return None
    try:
        result = subprocess.run([claude, "--version"], capture_output=True, text=True, timeout=20, env=dict(env))
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip().split(" ")[0] or None


def check_ledger(routing: dict, env: dict, out: Out) -> int:
    """Whether the ledger (or the nearest existing directory above it) is writable."""
    ledger = paths.ledger_path(routing["ledger_path"], env)
    ledger_dir = os.path.dirname(ledger)
    writable = os.access(ledger_dir if os.path.isdir(ledger_dir) else _existing_parent(ledger_dir), os.W_OK)
    out(f"ledger: {ledger} ({'writable' if writable else 'NOT WRITABLE'})")
    return 0 if writable else 1


def open_to_others(directory: str) -> bool:
    """``directory`` can be written by other users: group- or other-writable, and not a sticky
    directory of ours (in one, others can add names but never remove or rename the user's)."""
    try:
        st = os.lstat(directory)
    except OSError:
        return False
    if not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return False
    return not (st.st_mode & stat.S_ISVTX and st.st_uid == os.geteuid())


def check_state_files(routing: dict, env: dict, out: Out) -> int:
    """A warning for each directory of ours that others can write (the hooks stay safe there: they
    never follow a link or write into a pipe, but another user can still plant names that stop them
    recording); a problem for each name beside the ledger that is not a regular file of the user's
    (the hooks then record nothing)."""
    ledger = paths.ledger_path(routing["ledger_path"], env)
    pdir = pending.pending_dir(ledger)
    directories = dict.fromkeys([paths.state_dir(env), os.path.dirname(ledger), pdir])
    for directory in directories:
        if open_to_others(directory):
            mode = stat.S_IMODE(os.lstat(directory).st_mode)
            out(
                f"WARNING: {directory} can be written by other users (mode {mode:04o}): cco-hooks never "
                "writes through a link or into a pipe planted there, but such a name stops it recording. "
                f"Fix: chmod 700 {directory}"
            )
    problems = 0
    for path in [ledger + suffix for suffix in accounting.STATE_SUFFIXES] + [pdir]:
        try:
            files.check_own_dir(path) if path == pdir else files.check_own(path)
        except files.UnsafeFile as exc:
            out("UNSAFE: " + str(exc).removeprefix("cco-hooks: "))
            problems += 1
    return problems


def _check_path_command(location: install.InstalledLocation, env: dict, out: Out) -> int:
    """A registration that runs ``cco-hook`` from PATH: which one runs, or the problem that none does."""
    if location.error or not any(install.uses_path_command(c) for c in location.commands):
        return 0
    found = install.path_command(env)
    if found:
        out(f"  runs {install.PATH_COMMAND} from PATH: {found}")
        return 0
    out(
        f"  NOT ON PATH: no `{install.PATH_COMMAND}` on this PATH, so Claude Code started from here runs "
        "spawns unrouted (it says so once per spawn). "
        "Fix: install cco-hooks with pipx or `uv tool install`, or put the bin/ of the venv that has it on PATH."
    )
    return 1


def _runs_existing_shim(command: str, project: str) -> bool:
    """Whether a registered command runs a cco-hooks shim that exists (``$CLAUDE_PROJECT_DIR`` is
    the project, as Claude Code sets it for hooks)."""
    for variable in ("${CLAUDE_PROJECT_DIR}", "$CLAUDE_PROJECT_DIR"):
        command = command.replace(variable, project)
    try:
        words = shlex.split(command)
    except ValueError:
        return False
    if install.PATH_COMMAND in words:  # the portable command: _check_path_command says whether it is found
        return True
    shims = [w for w in words if install.is_shim_path(w)]
    return bool(shims) and all(os.path.isfile(w) for w in shims)


def _existing_parent(path: str) -> str:
    while not os.path.exists(path) and os.path.dirname(path) != path:
        path = os.path.dirname(path)
    return path
