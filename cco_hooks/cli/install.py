"""`cco-hooks install` / `uninstall`: merge our hooks into a Claude Code settings file, and take them out.

Plain functions with explicit arguments; the click layer (``cli.main``) only parses options and calls
:func:`run_install` / :func:`run_uninstall`. Errors meant for the user are
:class:`~cco_hooks.errors.CcoHooksError`. ``cco-hooks doctor`` reads settings files through here too.

Two kinds of command are registered:

- **project scope** (the file a team commits): ``cco-hook <event>`` found on ``PATH`` — the script
  every install route puts beside ``cco-hooks`` (``bin/cco-hook``), which runs this package with the
  interpreter it was installed into. No machine path, so the committed file works on every teammate's
  machine that has cco-hooks installed (a venv on PATH, pipx, ``uv tool``); where none is on PATH,
  PreToolUse says once per spawn how to install it and the spawn proceeds (:func:`portable_command`).
- **local and user scopes** (one machine's files): the absolute interpreter and shim, ``python -S``
  (:func:`hook_command`), which work whatever the PATH.

Our hook entries are recognised by their command: a cco-hooks shim (``.../cco_hooks/_shim.py`` or the
plugin's ``.../hooks/cco-hook``, at any path, or ``cco-hook`` itself) followed by one of our event
arguments. So a re-install after the package moved replaces the old entry, and uninstall removes
only what install added. What a settings file held before install is kept under the state directory
(``install_record``), so uninstall gives it back byte for byte.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from cco_hooks import claude_code, files, paths
from cco_hooks.cli import install_record
from cco_hooks.errors import CcoHooksError

SCOPES = paths.SETTINGS_SCOPES
# The scopes whose file is committed and shared: their commands name no machine path.
PORTABLE_SCOPES = ("project",)
# The hook command on PATH (bin/cco-hook, installed with the package by every route).
PATH_COMMAND = "cco-hook"
# What PreToolUse shows, instead of routing, on a machine with no cco-hook on PATH.
NOT_INSTALLED_MESSAGE = (
    "cco-hooks: this project routes subagent spawns with cco-hooks, but no `cco-hook` command is on the "
    "PATH Claude Code runs with, so this spawn runs unrouted and unrecorded. Fix: install cco-hooks "
    "(`pipx install <cco-hooks checkout or URL>`, `uv tool install <...>`, or pip into a venv whose bin/ "
    "is on PATH), then restart Claude Code."
)


class HookSpec(NamedTuple):
    """One hook registration, as ``claude_code.HOOK_EVENTS`` lists it."""

    event: str  # Claude Code's hook event name
    arg: str  # the argument hook_main.main() gets
    matcher: str | None  # None: the group carries no matcher
    timeout: int  # seconds


HOOKS: tuple[HookSpec, ...] = tuple(HookSpec(*event) for event in claude_code.HOOK_EVENTS)
EVENT_ARGS = frozenset(claude_code.HOOK_ARGS)

# (parent dir, file name) of every script that runs our hooks.
SHIM_TAILS = (("cco_hooks", "_shim.py"), ("hooks", "cco-hook"), ("hooks", "cco-hook.py"))


# --------------------------------------------------------------------------------------------
# results


@dataclass
class InstallResult:
    action: str  # "install" | "uninstall"
    scope: str
    path: str  # the settings file
    changed: bool  # the file was written
    created: bool = False  # the file did not exist before
    backup: str | None = None  # where the previous content was saved (only when changed)
    added: list[str] = field(default_factory=list)  # events whose hook was added or updated
    removed: int = 0  # hook entries of ours taken out (stale copies included)
    exit_code: int = 0
    restored: bool = False  # uninstall put the file's pre-install bytes back
    deleted: bool = False  # uninstall removed the file install had created
    warnings: list[str] = field(default_factory=list)

    def describe(self) -> str:
        return describe(self)


@dataclass
class InstalledLocation:
    """A settings file that holds cco-hooks hooks (or could not be read: ``error`` set)."""

    scope: str
    path: str
    events: list[str]  # Claude Code events with at least one of our hooks
    commands: list[str]  # our hook commands, as written
    current: bool  # exactly the hooks `install` would write today, once each
    error: str | None = None


@dataclass
class ForeignHook:
    """Someone else's PreToolUse hook that also runs on spawns (Agent/Task): a possible conflict."""

    scope: str
    path: str
    event: str
    matcher: str | None  # as written (None: no matcher key)
    tools: list[str]  # which of Agent/Task it matches
    command: str | None  # None for non-command hooks (prompt, agent, http…)
    hook_type: str | None


# --------------------------------------------------------------------------------------------
# where


def settings_path(scope: str, project_dir: str | None = None, env: dict | None = None) -> str:
    """The settings file of ``scope``; the project is resolved by :func:`cco_hooks.paths.project_dir`."""
    if scope == "user":
        return os.path.join(paths.claude_config_dir(env), "settings.json")
    project = paths.project_dir(env=env, chosen=project_dir, default=os.getcwd())
    if scope == "project":
        return os.path.join(project, ".claude", "settings.json")
    if scope == "local":
        return os.path.join(project, ".claude", "settings.local.json")
    raise CcoHooksError(f"unknown scope {scope!r}: use one of {', '.join(SCOPES)}")


def shim_path() -> str:
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "_shim.py")


def hook_command(arg: str, python: str | None = None, shim: str | None = None) -> str:
    """The shell command Claude Code runs: absolute interpreter and shim, so any cwd works."""
    python = python or sys.executable
    if not python:
        raise CcoHooksError(
            "cannot tell which Python runs cco-hooks (sys.executable is empty); "
            "run `cco-hooks install` from a regular Python 3.10+ installation"
        )
    python = os.path.abspath(python)  # not realpath: a venv's python must keep its venv path
    shim = os.path.abspath(shim or shim_path())
    return f"{shlex.quote(python)} -S {shlex.quote(shim)} {arg}"


def path_command(env: dict | None = None) -> str | None:
    """Where ``cco-hook`` is found on ``env``'s PATH (the portable commands run it), or None."""
    return shutil.which(PATH_COMMAND, path=(env if env is not None else os.environ).get("PATH") or os.defpath)


def portable_command(arg: str) -> str:
    """The shell command a committed settings file runs: ``cco-hook <event>`` from PATH, no machine path.

    Claude Code runs a command hook through a shell (``sh -c``; Git Bash on Windows), so POSIX sh it
    is: ``command -v`` is a builtin (a PATH lookup, no process), and ``exec`` replaces the shell with
    the hook, whose exit code and output reach Claude Code unchanged (exit 2 still blocks). Without
    ``cco-hook`` on PATH, PreToolUse answers exit 0 with one ``systemMessage`` saying how to install
    it (Claude Code shows it; the spawn proceeds), and the other events exit 0 silently: one message
    per spawn, not one per hook. A non-zero exit would show Claude Code's "failed with non-blocking
    status code" instead, and 127 (command not found) its "hook script appears to be missing".
    """
    run = f"command -v {PATH_COMMAND} >/dev/null && exec {PATH_COMMAND} {arg}"
    if arg == "pre-tool-use":
        answer = json.dumps({"systemMessage": NOT_INSTALLED_MESSAGE})
        return f"{run} || printf '%s\\n' {shlex.quote(answer)}"
    return f"{run} || exit 0"


def desired_hooks(python: str | None = None, shim: str | None = None, scope: str | None = None) -> dict[str, dict]:
    """Event name → the hook entry install writes for it in ``scope`` (absolute commands when None)."""

    def command(arg: str) -> str:
        return portable_command(arg) if scope in PORTABLE_SCOPES else hook_command(arg, python, shim)

    return {spec.event: {"type": "command", "command": command(spec.arg), "timeout": spec.timeout} for spec in HOOKS}


# --------------------------------------------------------------------------------------------
# recognising our entries


def our_event_arg(command: object) -> str | None:
    """The event argument if ``command`` runs a cco-hooks shim, else None."""
    if not isinstance(command, str) or ("_shim.py" not in command and "cco-hook" not in command):
        return None
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    for i, word in enumerate(words[:-1]):
        if is_our_command_word(word) and words[i + 1] in EVENT_ARGS:
            return words[i + 1]
    return None


def uses_path_command(command: object) -> bool:
    """Whether one of our commands runs ``cco-hook`` from PATH (the portable registration)."""
    if not isinstance(command, str) or PATH_COMMAND not in command:
        return False
    try:
        return PATH_COMMAND in shlex.split(command)
    except ValueError:
        return False


def is_shim_path(word: str) -> bool:
    """Whether a command word names a script that runs our hooks (any directory, ``/`` or ``\\``)."""
    parts = word.replace("\\", "/").rstrip("/").split("/")
    return len(parts) >= 2 and (parts[-2], parts[-1]) in SHIM_TAILS


def is_our_command_word(word: str) -> bool:
    """A command word that runs our hooks: a shim's path, or ``cco-hook`` from PATH."""
    return word == PATH_COMMAND or is_shim_path(word)


def is_ours(hook: object) -> bool:
    return isinstance(hook, dict) and our_event_arg(hook.get("command")) is not None


def matcher_matches(matcher: object, tool: str) -> bool:
    """Whether a hook group's matcher selects ``tool``, the way Claude Code 2.1.328 decides it.

    Missing, empty or ``*`` match everything; a plain list of names (letters, digits, ``_``,
    separated by ``|`` or ``,``) matches by name, with Task and Agent as aliases of one tool;
    anything else is a regular expression searched in the tool name.
    """
    if matcher is None or matcher == "" or matcher == "*":
        return True
    if not isinstance(matcher, str):
        return False
    if re.fullmatch(r"[a-zA-Z0-9_|, -]+", matcher):
        names = {name.strip() for name in re.split(r"[|,]", matcher)} - {""}
        if tool in claude_code.SPAWN_TOOLS:
            return bool(names & set(claude_code.SPAWN_TOOLS))
        return tool in names
    try:
        return re.search(matcher, tool) is not None
    except re.error:
        return False


# --------------------------------------------------------------------------------------------
# reading and writing settings files


def _load(path: str) -> tuple[dict, bool]:
    """(settings, existed). Refuses a file that is not a JSON object."""
    try:
        # Non-blocking, and only a regular file (a link to one is followed: dotfiles): a named pipe
        # or a device (a repository's settings.json linked to /dev/zero) would hang the install.
        fd = os.open(path, os.O_RDONLY | files.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            os.close(fd)
            raise CcoHooksError(
                f"{path} is {files.kind_of_mode(mode)}, not a settings file; nothing was changed. "
                "Fix: replace it with a JSON file (or remove it)."
            )
        with open(fd, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        return {}, False
    except (OSError, UnicodeDecodeError) as exc:
        raise CcoHooksError(f"cannot read {path}: {exc}") from None
    if not text.strip():
        return {}, True
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CcoHooksError(
            f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "nothing was changed. Fix the file (Claude Code cannot read it either) or move it aside, "
            "then run the command again."
        ) from None
    if not isinstance(data, dict):
        raise CcoHooksError(
            f"{path} holds a JSON {type(data).__name__}, not an object; nothing was changed. "
            "Claude Code settings must be a JSON object: fix the file or move it aside, then run the command again."
        )
    return data, True


def _hooks_section(settings: dict, path: str) -> dict | None:
    hooks = settings.get("hooks")
    if hooks is None:
        return None
    if not isinstance(hooks, dict):
        raise CcoHooksError(
            f'{path}: "hooks" is a JSON {type(hooks).__name__}, not an object; nothing was changed. '
            'Fix it (the shape is {"EventName": [{"matcher": "...", "hooks": [...]}]}), then run the command again.'
        )
    for event, groups in hooks.items():
        if not isinstance(groups, list) and any(spec.event == event for spec in HOOKS):
            raise CcoHooksError(
                f'{path}: "hooks.{event}" is a JSON {type(groups).__name__}, not a list; nothing was changed. '
                "Fix it, then run the command again."
            )
    return hooks


def _dump(settings: dict) -> str:
    return json.dumps(settings, indent=2, ensure_ascii=False) + "\n"


def _write_settings(path: str, content: str | bytes, env: dict | None) -> str | None:
    """Back the old file up (0600, under the state directory: never beside a file a team commits),
    then replace it atomically. Returns the backup path (None: there was no file)."""
    target = os.path.realpath(path)  # a symlinked settings file (dotfiles) stays a symlink
    backup = None
    try:
        old = install_record.read_bytes(target)
        if old is not None:
            mode = stat.S_IMODE(os.stat(target).st_mode)
            backup = install_record.back_up(path, env, old)
        else:
            mode = 0o600
            os.makedirs(os.path.dirname(target), exist_ok=True)
        files.write_private(target, content, mode=mode, durable=True)  # the user's settings: fsync
    except OSError as exc:
        raise CcoHooksError(f"cannot write {path}: {exc}") from None
    return backup


def _remove_settings(path: str, env: dict | None) -> str | None:
    """Delete a settings file install created (backed up first); returns the backup path."""
    try:
        old = install_record.read_bytes(path)
        backup = install_record.back_up(path, env, old) if old is not None else None
        os.unlink(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CcoHooksError(f"cannot remove {path}: {exc}") from None
    return backup


# --------------------------------------------------------------------------------------------
# merging


def _strip_ours(hooks: dict, keep: dict[str, tuple[int, int]] | None = None) -> int:
    """Remove our entries from ``hooks`` in place, except the ``keep``-ed (event → group, hook index).

    A matcher group, an event key, is removed only when it became empty because of us.
    Returns how many entries were removed.
    """
    keep = keep or {}
    removed = 0
    for event in list(hooks):
        groups = hooks[event]
        if not isinstance(groups, list):
            continue
        new_groups = []
        for gi, group in enumerate(groups):
            inner = group.get("hooks") if isinstance(group, dict) else None
            if not isinstance(inner, list):
                new_groups.append(group)
                continue
            kept = [h for hi, h in enumerate(inner) if not is_ours(h) or keep.get(event) == (gi, hi)]
            removed += len(inner) - len(kept)
            if len(kept) == len(inner):
                new_groups.append(group)
            elif kept:
                group["hooks"] = kept
                new_groups.append(group)
            # else: emptied by us → drop the group
        if len(new_groups) != len(groups):
            if new_groups:
                hooks[event] = new_groups
            else:
                del hooks[event]
        # (an event list already empty before stays as it was)
    return removed


def _group_fits(group: dict, spec: HookSpec) -> bool:
    matcher = group.get("matcher")
    if spec.matcher is None:
        return matcher is None or matcher in ("", "*")
    return matcher == spec.matcher


def merge(
    settings: dict,
    python: str | None = None,
    shim: str | None = None,
    path: str = "settings",
    scope: str | None = None,
) -> tuple[list[str], int]:
    """Put our hooks into ``settings`` in place. Returns (events added or updated, entries removed).

    An entry of ours already in a fitting group is updated where it is (key order and position
    stay); stale copies (moved package, wrong matcher, duplicates) are removed; a missing one is
    appended in a matcher group of its own, so uninstall can take the whole group out again.
    """
    hooks = _hooks_section(settings, path)
    if hooks is None:
        hooks = settings["hooks"] = {}
    wanted = desired_hooks(python, shim, scope)
    keep: dict[str, tuple[int, int]] = {}
    changed_events: list[str] = []
    for spec in HOOKS:
        groups = hooks.get(spec.event)
        if not isinstance(groups, list):
            continue
        found = None
        for gi, group in enumerate(groups):
            if not isinstance(group, dict) or not isinstance(group.get("hooks"), list) or not _group_fits(group, spec):
                continue
            for hi, hook in enumerate(group["hooks"]):
                if isinstance(hook, dict) and our_event_arg(hook.get("command")) == spec.arg:
                    found = (gi, hi)
                    break
            if found:
                break
        if found:
            keep[spec.event] = found
            hook = groups[found[0]]["hooks"][found[1]]
            new_hook = {**hook, **wanted[spec.event]}
            if new_hook != hook or list(new_hook) != list(hook):
                hook.clear()
                hook.update(new_hook)
                changed_events.append(spec.event)
    removed = _strip_ours(hooks, keep)
    for spec in HOOKS:
        if spec.event in keep:
            continue
        group: dict = {"matcher": spec.matcher} if spec.matcher is not None else {}
        group["hooks"] = [wanted[spec.event]]
        hooks.setdefault(spec.event, []).append(group)
        changed_events.append(spec.event)
    return changed_events, removed


def unmerge(settings: dict, path: str = "settings") -> int:
    """Take every entry of ours out of ``settings`` in place; returns how many were removed."""
    hooks = _hooks_section(settings, path)
    if not hooks:
        return 0
    removed = _strip_ours(hooks)
    if removed and not hooks:
        del settings["hooks"]
    return removed


# --------------------------------------------------------------------------------------------
# the commands


def _check_scope(scope: str) -> None:
    if scope not in SCOPES:
        raise CcoHooksError(f"unknown scope {scope!r}: use one of {', '.join(SCOPES)}")


def install(
    scope: str = "project",
    project_dir: str | None = None,
    env: dict | None = None,
    *,
    python: str | None = None,
    shim: str | None = None,
    statusline: bool = False,
) -> InstallResult:
    """Merge our hooks into the scope's settings file (and, with ``statusline``, our status line,
    wrapping one already there). Idempotent; keeps everything else.

    The file's bytes before our first change are recorded under the state directory
    (``install_record``), for ``uninstall`` to give back."""
    _check_scope(scope)
    path = settings_path(scope, project_dir, env)
    settings, existed = _load(path)
    before = json.dumps(settings)
    hooks = settings.get("hooks")
    had_ours = isinstance(hooks, dict) and any(is_ours(hook) for _event, _group, hook in _iter_hooks(hooks))
    added, removed = merge(settings, python, shim, path, scope)
    if statusline:
        from cco_hooks.cli import statusline_install

        if scope in PORTABLE_SCOPES:  # a file the team commits: no machine path, as for the hooks

            def build(wrapped):
                return statusline_install.portable(PATH_COMMAND, wrapped)
        else:
            ours = hook_command(statusline_install.ARG, python, shim)

            def build(wrapped):
                return statusline_install.command(ours, wrapped)

        if statusline_install.merge(settings, build, is_our_command_word, path):
            added.append(statusline_install.SETTING)
    result = InstallResult("install", scope, path, changed=False, created=not existed, added=added, removed=removed)
    if scope in PORTABLE_SCOPES and not path_command(env):
        result.warnings.append(
            f"no `{PATH_COMMAND}` on PATH here, so Claude Code started from this shell would run spawns unrouted "
            f"(and say so). Put the directory of this cco-hooks' `{PATH_COMMAND}` on PATH (`pipx ensurepath`, "
            "or activate the venv), or install with pipx / `uv tool install`."
        )
    if json.dumps(settings) == before and existed:
        return result
    previous = install_record.load(path, env)
    before_bytes = install_record.read_bytes(os.path.realpath(path)) if existed else None
    written = _dump(settings).encode("utf-8")
    result.backup = _write_settings(path, written, env)
    result.changed = True
    try:
        install_record.remember(path, env, before_bytes, written, previous, before_had_ours=had_ours)
    except (OSError, files.UnsafeFile) as exc:  # the hooks are in; only the exact undo is lost
        result.warnings.append(
            f"could not record the file's previous content under {install_record.install_dir(env)} ({exc}); "
            "uninstall will take the hooks out but cannot restore the file byte for byte"
        )
    return result


def uninstall(scope: str = "project", project_dir: str | None = None, env: dict | None = None) -> InstallResult:
    """Remove exactly the hooks install added (and any stale copies of them) from the scope's file.

    When the file is still exactly what install wrote, its previous bytes are put back (the file is
    removed if install created it). When it changed since, our hooks are taken out and everything
    else is kept; if that leaves what the file held before install, its previous bytes are put back.
    """
    _check_scope(scope)
    path = settings_path(scope, project_dir, env)
    settings, existed = _load(path)
    record = install_record.load(path, env) if existed else None
    current = install_record.read_bytes(os.path.realpath(path)) if existed else None
    removed = unmerge(settings, path) if existed else 0
    if existed:
        from cco_hooks.cli import statusline_install

        # theirs, if ours wrapped one, comes back
        removed += statusline_install.unmerge(settings, is_our_command_word, path)
    result = InstallResult("uninstall", scope, path, changed=False, removed=removed)
    if not removed:
        return result
    restore: bytes | None = None
    delete = False
    if record is not None and record.get("original_known") is True:
        original = install_record.original_bytes(record)
        if current is not None and record.get("installed") == install_record.digest(current):
            delete, restore = record.get("existed") is False, original
        elif record.get("existed") is False:
            delete = not settings
        elif original is not None and _same_settings(original, settings):
            restore = original
    if delete:
        result.backup = _remove_settings(path, env)
        result.deleted = True
    else:
        result.backup = _write_settings(path, restore if restore is not None else _dump(settings), env)
        result.restored = restore is not None
    result.changed = True
    install_record.forget(path, env)
    return result


def _same_settings(original: bytes, settings: dict) -> bool:
    """Whether ``original`` (a settings file's bytes) holds exactly ``settings``."""
    try:
        return json.loads(original.decode("utf-8") or "{}") == settings
    except ValueError:
        return False


def run_install(
    scope: str, project_dir: str | None, env: dict, out: Callable[[str], None], statusline: bool = False
) -> int:
    """``cco-hooks install``: register the hooks in the scope's settings file; say what changed."""
    out(describe(install(scope, project_dir, env, statusline=statusline)))
    return 0


def run_uninstall(scope: str, project_dir: str | None, env: dict, out: Callable[[str], None]) -> int:
    """``cco-hooks uninstall``: remove the hooks ``install`` added; say what changed."""
    out(describe(uninstall(scope, project_dir, env)))
    return 0


def describe(result: InstallResult) -> str:
    """One or two lines for the user: what was done, where, and where the old file went."""
    where = f"{result.path} ({result.scope} scope)"
    if result.action == "install":
        if not result.changed:
            text = f"cco-hooks hooks already installed in {where}; nothing changed."
        else:
            verb = "created" if result.created else "updated"
            events = ", ".join(result.added) or "none"
            text = f"Installed cco-hooks hooks in {where}: {verb} the file (hooks added/updated: {events})."
    else:
        if not result.changed:
            text = f"No cco-hooks hooks in {where}; nothing changed."
        elif result.deleted:
            text = f"Removed {result.removed} cco-hooks hook(s): deleted {where}, which install had created."
        elif result.restored:
            text = f"Removed {result.removed} cco-hooks hook(s) from {where}: it is back to what it was before install."
        else:
            text = f"Removed {result.removed} cco-hooks hook(s) from {where}."
    if result.backup:
        text += f"\nPrevious content saved to {result.backup}"
    for warning in result.warnings:
        text += f"\nnote: {warning}"
    return text


# --------------------------------------------------------------------------------------------
# for `cco-hooks doctor`


def _scope_files(project_dir: str | None, env: dict | None) -> list[tuple[str, str]]:
    """(scope, settings file) for user, project, local; a file seen twice (project = home) once."""
    files, seen = [], set()
    for scope in ("user", "project", "local"):
        path = settings_path(scope, project_dir, env)
        key = os.path.realpath(path)
        if key not in seen:
            seen.add(key)
            files.append((scope, path))
    return files


def _iter_hooks(hooks: dict):
    """(event, group, hook) for every well-formed hook entry."""
    for event, groups in hooks.items():
        if not isinstance(groups, list):
            continue
        for group in groups:
            if not isinstance(group, dict) or not isinstance(group.get("hooks"), list):
                continue
            for hook in group["hooks"]:
                if isinstance(hook, dict):
                    yield event, group, hook


def _read_hooks(path: str) -> tuple[dict | None, str | None]:
    """(hooks section or None, error message or None); a missing file is (None, None)."""
    if not os.path.exists(path):
        return None, None
    try:
        settings, _ = _load(path)
        return _hooks_section(settings, path) or {}, None
    except CcoHooksError as exc:
        return None, exc.message


def installed_locations(
    project_dir: str | None = None,
    env: dict | None = None,
    *,
    python: str | None = None,
    shim: str | None = None,
) -> list[InstalledLocation]:
    """The settings files (user, project, local) that hold our hooks, plus unreadable ones (``error``).

    More than one location means every spawn runs our hooks more than once.
    """
    found = []
    for scope, path in _scope_files(project_dir, env):
        wanted = desired_hooks(python, shim, scope)
        hooks, error = _read_hooks(path)
        if error:
            found.append(InstalledLocation(scope, path, [], [], False, error))
            continue
        if not hooks:
            continue
        events: list[str] = []
        commands: list[str] = []
        ours: list[tuple[str, dict, dict]] = []
        for event, group, hook in _iter_hooks(hooks):
            if is_ours(hook):
                ours.append((event, group, hook))
                commands.append(hook["command"])
                if event not in events:
                    events.append(event)
        if not ours:
            continue
        specs = {spec.event: spec for spec in HOOKS}
        current = sorted(event for event, _, _ in ours) == sorted(specs) and all(
            _group_fits(group, specs[event]) and all(hook.get(k) == v for k, v in wanted[event].items())
            for event, group, hook in ours
        )
        found.append(InstalledLocation(scope, path, events, commands, current))
    return found


def conflicting_hooks(project_dir: str | None = None, env: dict | None = None) -> list[ForeignHook]:
    """Other PreToolUse hooks whose matcher also selects Agent or Task (matcher ``*``, empty,
    missing, a name list naming either, or a regex matching either): they see, and may rewrite,
    the same spawns ours do."""
    conflicts = []
    for scope, path in _scope_files(project_dir, env):
        hooks, _error = _read_hooks(path)
        if not hooks:
            continue
        for event, group, hook in _iter_hooks(hooks):
            if event != "PreToolUse" or is_ours(hook):
                continue
            matcher = group.get("matcher")
            tools = [tool for tool in claude_code.SPAWN_TOOLS if matcher_matches(matcher, tool)]
            if tools:
                command = hook.get("command")
                conflicts.append(
                    ForeignHook(
                        scope,
                        path,
                        event,
                        matcher,
                        tools,
                        command if isinstance(command, str) else None,
                        hook.get("type") if isinstance(hook.get("type"), str) else None,
                    )
                )
    return conflicts


def enabled_plugin_entries(project_dir: str | None = None, env: dict | None = None) -> list[tuple[str, str, str]]:
    """(scope, settings file, key) for each ``enabledPlugins`` entry that turns the cco-hooks plugin on
    (``"cco-hooks@<marketplace>": true``). Together with :func:`installed_locations` this tells
    doctor when the hooks would run twice. A session's ``--plugin-dir`` leaves no trace here."""
    found = []
    for scope, path in _scope_files(project_dir, env):
        if not os.path.exists(path):
            continue
        try:
            settings, _ = _load(path)
        except CcoHooksError:
            continue
        enabled = settings.get("enabledPlugins")
        if isinstance(enabled, dict):
            found += [
                (scope, path, key)
                for key, on in enabled.items()
                if on is True and isinstance(key, str) and key.split("@", 1)[0] == "cco-hooks"
            ]
    return found
