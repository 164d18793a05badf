"""Hook I/O: read the payload from stdin, print one answer, fail open, tell the user once.

A hook must never break Claude Code. Anything unexpected here ends with exit 0 and either nothing
or one valid JSON object on stdout; the spawn proceeds unchanged and the user is told once
(``systemMessage``), with the details in ``<claude config>/cco-hooks/errors.log``.

Stdlib only: imported by every hook.
"""

import sys
import time

from cco_hooks import fastjson, files, paths
from cco_hooks.fastos import os

MAX_PAYLOAD_BYTES = 64 * 1024 * 1024  # real payloads are a few KiB; a prompt can be large

# How long a hook process may wait in all (stdin, the ledger lock, the SubagentStop race), well
# inside the timeout it is registered with (``claude_code.HOOK_EVENTS``: PreToolUse 10 s, the
# others 30 s). Past it, Claude Code would kill the hook: a PreToolUse denial would silently become
# "proceed", and a part being written could be lost. Once the deadline has passed every wait gives
# up at once: the decision is still answered and the spawn's part is left for a later settle.
WAIT_BUDGET_S = {"pre-tool-use": 5.0, "statusline": 3.0}  # the status line runs on every refresh
DEFAULT_WAIT_BUDGET_S = 20.0
READ_CHUNK = 1 << 16

_deadline = None  # time.monotonic() past which this process no longer waits; None: no bound


def start_deadline(event, now=None):
    """Start the process's one wait deadline for hook ``event``; returns it (monotonic seconds).
    Every wait in the process (``read_payload``, ``ledger.locked``, the SubagentStop race) ends by
    it, so their sum stays within the event's budget however many there are."""
    global _deadline
    budget = WAIT_BUDGET_S.get(event, DEFAULT_WAIT_BUDGET_S)
    _deadline = (time.monotonic() if now is None else now) + budget
    return _deadline


def clear_deadline():
    """No bound on waits any more (the CLI side, tests)."""
    global _deadline
    _deadline = None


def wait_until(timeout, now=None):
    """When a wait of at most ``timeout`` seconds starting ``now`` must end: ``now + timeout``, or
    the process's deadline when that comes first."""
    end = (time.monotonic() if now is None else now) + timeout
    return end if _deadline is None or end < _deadline else _deadline


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


class PayloadTimeout(Exception):
    """Stdin did not end before the process's deadline (the writer never closed it)."""


def _read_bounded(stream):
    """Everything on ``stream`` up to ``MAX_PAYLOAD_BYTES + 1`` bytes, waiting no later than the
    process's deadline (``PayloadTimeout`` past it). A stream without a file descriptor (tests'
    BytesIO) or no deadline set: one plain read."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        fd = None
    if fd is None or _deadline is None:
        return stream.read(MAX_PAYLOAD_BYTES + 1)
    # Non-blocking reads: Claude Code has written the whole payload and closed the pipe by the time
    # a hook runs, so the common case reads it to its end without ever waiting (and without the
    # ~0.3 ms of importing ``select``, only needed when the writer is slower than that).
    blocking = os.get_blocking(fd)
    os.set_blocking(fd, False)
    try:
        chunks = []
        size = 0
        poller = None
        while size <= MAX_PAYLOAD_BYTES:
            try:
                chunk = os.read(fd, READ_CHUNK)
            except BlockingIOError:
                if poller is None:
                    import select

                    poller = select.poll()
                    poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
                left = _deadline - time.monotonic()
                if left <= 0 or not poller.poll(left * 1000.0):
                    raise PayloadTimeout from None
                continue
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    finally:
        try:
            os.set_blocking(fd, blocking)  # the descriptor may be shared: leave it as it was
        except OSError:
            pass


def read_payload(stream=None):
    """The payload as a dict, or ``None`` when stdin is not one JSON object. Stdin that is still
    open at the process's deadline raises ``PayloadTimeout``."""
    stream = sys.stdin.buffer if stream is None else stream
    try:
        raw = _read_bounded(stream)
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
