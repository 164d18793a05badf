"""`cco-hooks install --statusline`: our status line in a settings file's ``statusLine``, wrapping the
user's own; `uninstall` puts theirs back.

Claude Code runs one ``statusLine`` command (``{"type": "command", "command": ..., "padding": ...,
"refreshInterval": ...}``). Ours is ``<python> -S <shim> statusline``: the hook shim's stdlib fast
path (``cco_hooks.statusline``), never click. A status line already there is kept inside ours, as
``--wrap '<their command>'``: ours runs it with the same stdin and shows its output first. So
nothing of theirs is lost, a re-install keeps wrapping the same command, and uninstall restores
exactly it (their other keys, ``padding`` and ``refreshInterval``, were never touched).

``cli.install`` calls these with its own shim command and shim-path test (this module imports
nothing of it, so the two never import each other).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable

from cco_hooks.errors import CcoHooksError

ARG = "statusline"
WRAP_FLAG = "--wrap"  # cco_hooks.statusline.WRAP_FLAG (not imported: that module is the hook side's)
SETTING = "statusLine"


def command(ours: str, wrapped: str | None = None) -> str:
    """Our statusLine command (``ours``: the shim command with ``statusline``), wrapping ``wrapped``."""
    return f"{ours} {WRAP_FLAG} {shlex.quote(wrapped)}" if wrapped else ours


def portable(path_command: str, wrapped: str | None = None) -> str:
    """Our statusLine command for a settings file a team commits: ``<path_command> statusline`` from
    PATH, no machine path (as ``cli.install.portable_command`` for the hooks). Where cco-hooks is not
    installed, their own status line (``wrapped``) still shows, or nothing does."""
    fallback = f"exec sh -c {shlex.quote(wrapped)}" if wrapped else "exit 0"
    run = command(f"{path_command} {ARG}", wrapped)
    return f"command -v {path_command} >/dev/null && exec {run} || {fallback}"


def parse(command_text: object, is_shim_path: Callable[[str], bool]) -> tuple[bool, str | None]:
    """``(ours, the command it wraps)`` for a statusLine command."""
    if not isinstance(command_text, str) or ARG not in command_text:
        return False, None
    try:
        words = shlex.split(command_text)
    except ValueError:
        return False, None
    for i, word in enumerate(words[:-1]):
        if is_shim_path(word) and words[i + 1] == ARG:
            rest = words[i + 2 :]
            wrapped = rest[1] if len(rest) >= 2 and rest[0] == WRAP_FLAG else None
            return True, wrapped
    return False, None


def _current(settings: dict, path: str) -> dict | None:
    current = settings.get(SETTING)
    if current is None:
        return None
    if not isinstance(current, dict) or current.get("type") != "command" or not isinstance(current.get("command"), str):
        raise CcoHooksError(
            f'{path}: "{SETTING}" is not a command status line ({{"type": "command", "command": "..."}}); nothing '
            f"was changed. Fix it or remove it, then run the command again."
        )
    return current


def merge(
    settings: dict, build: Callable[[str | None], str], is_shim_path: Callable[[str], bool], path: str = "settings"
) -> bool:
    """Put our status line into ``settings`` in place, wrapping theirs; ``True`` when it changed.
    ``build(wrapped)``: our command wrapping ``wrapped`` (``command`` or ``portable``)."""
    current = _current(settings, path)
    if current is None:
        settings[SETTING] = {"type": "command", "command": build(None), "padding": 0}
        return True
    is_ours, wrapped = parse(current["command"], is_shim_path)
    wanted = build(wrapped if is_ours else current["command"])
    if current["command"] == wanted:
        return False
    settings[SETTING] = dict(current, command=wanted)
    return True


def unmerge(settings: dict, is_shim_path: Callable[[str], bool], path: str = "settings") -> int:
    """Take our status line out of ``settings`` in place, putting back the one it wrapped; returns 1
    when it was there, else 0 (someone else's status line is left alone)."""
    try:
        current = _current(settings, path)
    except CcoHooksError:
        return 0  # not ours to touch
    if current is None:
        return 0
    is_ours, wrapped = parse(current["command"], is_shim_path)
    if not is_ours:
        return 0
    if wrapped:
        settings[SETTING] = dict(current, command=wrapped)
    else:
        del settings[SETTING]
    return 1
