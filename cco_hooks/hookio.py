"""Hook I/O: read the payload from stdin, print one answer, fail open, tell the user once.

A hook must never break Claude Code. Anything unexpected here ends with exit 0 and either nothing
or one valid JSON object on stdout; the spawn proceeds unchanged and the user is told once
(``systemMessage``), with the details in ``<claude config>/cco-hooks/errors.log``.

Stdlib only: imported by every hook.
"""

import os
import sys
import time

from cco_hooks import fastjson, files, paths

MAX_PAYLOAD_BYTES = 64 * 1024 * 1024  # real payloads are a few KiB; a prompt can be large


class OnFirstUse:
    """A module imported when first used, for start-up cost only: ``ledger = OnFirstUse("ledger",
    globals())`` stands for ``cco_hooks.ledger`` and, on its first attribute access, imports it and
    puts the module itself in its place in ``namespace``. The PreToolUse hook only writes a pending
    part: it never needs the lock (``ledger``), the price table or the transcript reader, which cost
    ~1 ms of imports in a hook whose whole budget is ~3 ms over a bare interpreter (see bench/)."""

    __slots__ = ("_name", "_namespace")

    def __init__(self, name, namespace):
        self._name = name
        self._namespace = namespace

    def __getattr__(self, attr):
        module = __import__("cco_hooks." + self._name, fromlist=["_"])
        self._namespace[self._name] = module
        return getattr(module, attr)


def read_payload(stream=None):
    """The payload as a dict, or ``None`` when stdin is not one JSON object."""
    stream = sys.stdin.buffer if stream is None else stream
    try:
        raw = stream.read(MAX_PAYLOAD_BYTES + 1)
    except (OSError, ValueError):
        return None
    if not raw or len(raw) > MAX_PAYLOAD_BYTES:
        return None
    try:
        payload = fastjson.loads(raw)
    except (ValueError, RecursionError, MemoryError):
        return None
    return payload if isinstance(payload, dict) else None


# The answer's fields Claude Code shows the user or the model as text. ``updatedInput`` is not one:
# it is the spawn's own input, passed on exactly.
SHOWN_FIELDS = ("systemMessage", "stopReason", "reason")
SHOWN_HOOK_FIELDS = ("permissionDecisionReason", "additionalContext")


def shown_as_text(obj):
    """``obj`` with every text Claude Code shows spelt visibly (``coerce.visible``): its messages
    and reasons quote agent types, rule names and config keys, and a control character in one
    would reach the user's terminal raw."""
    from cco_hooks import coerce  # loaded already by every hook that answers

    obj = dict(obj)
    for key in SHOWN_FIELDS:
        if isinstance(obj.get(key), str):
            obj[key] = coerce.visible(obj[key])
    specific = obj.get("hookSpecificOutput")
    if isinstance(specific, dict):
        specific = obj["hookSpecificOutput"] = dict(specific)
        for key in SHOWN_HOOK_FIELDS:
            if isinstance(specific.get(key), str):
                specific[key] = coerce.visible(specific[key])
    return obj


def emit(obj):
    """Print one JSON object (or nothing for ``None``) on stdout, its shown texts spelt visibly."""
    if obj is None:
        return
    data = (fastjson.dumps(shown_as_text(obj)) + "\n").encode("ascii")
    out = sys.stdout.buffer
    out.write(data)
    out.flush()


def tell_once(topic, message, env=None):
    """``message`` the first time ``topic`` comes up, ``None`` after that (a marker file remembers)."""
    marker_dir = os.path.join(paths.state_dir(env), "told")
    marker = os.path.join(marker_dir, files.stable_name(topic))
    try:
        files.make_private_dirs(marker_dir)
        fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return None
    except OSError:
        return message  # cannot remember: better told twice than never
    os.close(fd)
    return message


def log_error(event, exc_info, env=None):
    """Append the traceback to errors.log (0600); returns the log path."""
    log_path = os.path.join(paths.state_dir(env), "errors.log")
    try:
        import traceback  # only on the error path: it is not cheap to import

        text = "".join(traceback.format_exception(*exc_info))
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        files.make_private_dirs(os.path.dirname(log_path))
        fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | files.O_NOFOLLOW | files.O_NONBLOCK, 0o600)
        try:
            files.tighten_mode(fd)  # an errors.log left 0644 holds tracebacks with paths and payloads
            os.write(fd, f"--- {stamp} {event} (pid {os.getpid()})\n{text}".encode("utf-8", "replace"))
        finally:
            os.close(fd)
    except Exception:
        pass
    return log_path


def internal_error_message(event, exc, log_path, outcome="the spawn proceeds unchanged"):
    """What the user is told once about our own failure: what failed, what became of the spawn,
    where the details are."""
    return (
        f"cco-hooks: internal error in the {event} hook ({type(exc).__name__}: {str(exc)[:200]}); "
        f"{outcome}. Details: {log_path}. Please report it."
    )
