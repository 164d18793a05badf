"""What a settings file held before `cco-hooks install` changed it, kept outside the repository.

``install`` records, per settings file, its exact bytes before our first change (or that it did not
exist) and a digest of what install wrote; ``uninstall`` puts those bytes back when the file is still
exactly what install left, and otherwise takes our hooks out and still restores the original bytes
when nothing else was changed. Every previous content that install or uninstall replaces is also
copied to a backup. All of it lives under the state directory
(``${CLAUDE_CONFIG_DIR:-~/.claude}/cco-hooks/install/``), never beside a settings file a team
commits. Files are 0600 in 0700 directories, written atomically through ``files``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os

from cco_hooks import files, paths

RECORD_VERSION = 1
RECORD_CAP = 8 * 1024 * 1024  # a settings file is a few KB; a record holds it twice over, encoded


def install_dir(env: dict | None) -> str:
    return os.path.join(paths.state_dir(env), "install")


def _key(settings_path: str) -> str:
    """One name per settings file, the same however the path is spelt (links, ``..``)."""
    real = os.path.realpath(settings_path)
    return f"{files.stable_name(real)}-{os.path.basename(real)}"


def record_path(settings_path: str, env: dict | None) -> str:
    return os.path.join(install_dir(env), _key(settings_path) + ".json")


def backup_path(settings_path: str, env: dict | None) -> str:
    """Where the content a command replaces is copied (the latest one per settings file)."""
    return os.path.join(install_dir(env), "backups", _key(settings_path) + ".bak")


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_bytes(path: str) -> bytes | None:
    """The file's bytes, or None when it does not exist."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def load(settings_path: str, env: dict | None) -> dict | None:
    """The record of ``settings_path``, or None (none, or unreadable: then uninstall only unmerges)."""
    try:
        record = files.read_own_json_object(record_path(settings_path, env), RECORD_CAP)
    except (OSError, ValueError, files.UnsafeFile):
        return None
    if not isinstance(record, dict) or record.get("v") != RECORD_VERSION:
        return None
    return record


def original_bytes(record: dict) -> bytes | None:
    """The settings file's bytes before install (None: it did not exist, or they are not known)."""
    encoded = record.get("original")
    if not isinstance(encoded, str):
        return None
    try:
        return base64.b64decode(encoded, validate=True)
    except ValueError:
        return None


def remember(
    settings_path: str,
    env: dict | None,
    before: bytes | None,
    written: bytes,
    previous: dict | None,
    *,
    before_had_ours: bool,
) -> None:
    """Record what install wrote, keeping the original of an earlier install whose result is still
    in place. ``before`` is the file's content just before this install (None: absent)."""
    if previous is not None and before is not None and previous.get("installed") == digest(before):
        record = dict(previous, installed=digest(written))
    else:
        # The file as it was before this install is the original, unless our hooks were in it
        # already (an older cco-hooks, a copy from a teammate's repository): then the bytes it had
        # before any cco-hooks are unknown, and uninstall only takes our hooks out.
        known = before is None or not before_had_ours
        record = {
            "v": RECORD_VERSION,
            "path": os.path.realpath(settings_path),
            "existed": before is not None,
            "original": base64.b64encode(before).decode("ascii") if before is not None and known else None,
            "original_known": known,
            "installed": digest(written),
        }
    files.make_private_dirs(install_dir(env))
    files.write_private(record_path(settings_path, env), json.dumps(record, indent=1) + "\n", durable=True)


def forget(settings_path: str, env: dict | None) -> None:
    try:
        os.unlink(record_path(settings_path, env))
    except FileNotFoundError:
        pass


def back_up(settings_path: str, env: dict | None, content: bytes) -> str:
    """Copy ``content`` (what is about to be replaced) to the backup; returns its path."""
    path = backup_path(settings_path, env)
    files.make_private_dirs(os.path.dirname(path))
    files.write_private(path, content, durable=True)
    return path
