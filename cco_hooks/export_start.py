"""Start ``cco-hooks export`` detached after a hook settled records, when the config asks for it.

The hook never exports itself: the OpenTelemetry SDK and a network round trip have no place on
its path. It only checks, with two ``stat``s and one small read, whether the ledger has grown past
the export cursor, and if so starts ``python -m cco_hooks export --background`` in a session of
its own (``posix_spawn`` with ``setsid``: no ``subprocess`` import, no wait, stdio on /dev/null),
so Claude Code neither waits for it nor kills it with the hook. The exporter takes its own lock,
so one runs per ledger however many hooks start one.
"""

import sys

from cco_hooks import files
from cco_hooks.fastos import os

CURSOR_SUFFIX = ".export.json"  # export/cursor.py's; spelt out so a hook does not import it


def _behind(ledger_path):
    """The ledger holds bytes past the lowest offset the cursor has exported (or no cursor yet)."""
    try:
        size = os.stat(ledger_path).st_size
    except OSError:
        return False
    try:
        saved = files.read_own_json_object(ledger_path + CURSOR_SUFFIX, 64 * 1024)
    except (OSError, ValueError, files.UnsafeFile):
        return True  # the exporter says what is wrong with it
    signals = saved.get("signals") if isinstance(saved, dict) else None
    if not isinstance(signals, dict) or not signals:
        return size > 0
    offsets = [s.get("offset") for s in signals.values() if isinstance(s, dict)]
    return not offsets or any(not isinstance(o, int) or o < size for o in offsets)


def start(ledger_path, env=None):
    """Start the detached exporter for ``ledger_path`` if it has anything to send. Never raises."""
    try:
        if not _behind(ledger_path):
            return None
        env = dict(os.environ if env is None else env)
        package_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        # the hook's interpreter may run with -S: the exporter needs site-packages (the SDK), and
        # this package importable from where it is
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH")) if p)
        argv = [sys.executable, "-m", "cco_hooks", "export", "--background", "--ledger", ledger_path]
        devnull = os.devnull
        actions = [
            (os.POSIX_SPAWN_OPEN, 0, devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, devnull, os.O_WRONLY, 0),
            (os.POSIX_SPAWN_OPEN, 2, devnull, os.O_WRONLY, 0),
        ]
        return os.posix_spawn(sys.executable, argv, env, file_actions=actions, setsid=True)
    except Exception:  # noqa: BLE001 - export is best effort here; `cco-hooks export` catches up
        return None
