"""What a running subagent has spent so far, read from its live transcript a little at a time.

A subagent's transcript grows by a few lines per API request. Pricing it whole on every tool call
would read megabytes per call, so each read starts where the last one stopped: the state of one
agent (its *cursor*) says how far into the file it has counted (inode and byte offset, after the last
complete line), what the requests before that cost, and the usage of the latest response, whose
lines (one per content block) may still be coming.

Public API (also for the status line and feedback, which want the same figures):

- ``read_running(transcript_path, previous=None, prices=None, roots=None)`` → a new state dict:
  ``usd_now`` (running cost, the latest response included), ``requests_now``, ``last_usd_now``
  (the latest response's cost), ``unpriced`` (responses on a model with no known price),
  ``first_ts`` (epoch seconds of the transcript's first line), and the cursor fields.
  ``previous`` is the state the last call returned (or ``None``: from the start); a transcript
  replaced or cut shorter is counted again from its start.
- ``cursor_path(ledger_path, session_id, agent_id)``, ``load_cursor(path)``, ``save_cursor(path,
  state)``: the small per-agent state file in ``<ledger dir>/live/`` (0600, written whole).
- ``forget(ledger_path, session_id, agent_id)``: drop an agent's cursor (its spawn is settled).

Requests are told apart by ``message.id`` as ``transcript.read_usage`` does; a response whose lines
are interleaved with another's (not something Claude Code writes) could be counted twice here, never
in the ledger, which prices the whole transcript at settle time. Stdlib only: the PreToolUse hook
imports it for tool calls inside a subagent when a cap is configured.
"""

import _stat as stat  # stat.py is this C module with one more import

from cco_hooks import fastjson, files, hookio, paths, pending, transcript
from cco_hooks.fastos import os

LIVE_DIRNAME = pending.LIVE_DIRNAME
CURSOR_CAP = 1 << 16
READ_CAP = 8 << 20  # bytes read per call at most; the rest is counted by the next call
STATE_VERSION = 1


def cursor_path(ledger_path, session_id, agent_id):
    """``<ledger dir>/live/<session key>.<agent id>.json``, or ``None`` for an unsafe agent id."""
    if not paths.safe_name(agent_id):
        return None
    directory = os.path.join(os.path.dirname(os.path.abspath(ledger_path)), LIVE_DIRNAME)
    return os.path.join(directory, f"{pending.session_key(session_id)}.{agent_id}.json")


def load_cursor(path):
    """The state saved at ``path``, or ``None`` (missing, damaged, another version, not ours)."""
    if not path:
        return None
    try:
        data = files.read_own_json_object(path, CURSOR_CAP)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("v") == STATE_VERSION else None


def save_cursor(path, state):
    """Write ``state`` whole (a temporary file of its own, then rename), 0600."""
    files.make_private_dirs(os.path.dirname(path))
    files.check_own(path)
    files.write_private(path, fastjson.dumps(state).encode("ascii"))


def forget(ledger_path, session_id, agent_id):
    path = cursor_path(ledger_path, session_id, agent_id)
    if path:
        try:
            os.unlink(path)
        except OSError:
            pass


def empty_state():
    return {
        "v": STATE_VERSION,
        "ino": None,
        "offset": 0,
        "usd": 0.0,  # the finished responses before ``current``
        "requests": 0,
        "unpriced": 0,
        "current": None,  # {"id", "model", "usage"} of the latest response (its lines may still come)
        "first_ts": None,
    }


def running_usd(state, prices):
    """Cost so far: the finished responses and the latest one as it stands."""
    usd = _number(state.get("usd"))
    current = state.get("current")
    if isinstance(current, dict) and prices is not None:
        cost = prices.cost(current.get("model"), current.get("usage") or {})
        usd += cost or 0.0
    return usd


def running_requests(state):
    return int(_number(state.get("requests"))) + (1 if isinstance(state.get("current"), dict) else 0)


def _number(value):
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def read_running(transcript_path, previous=None, prices=None, roots=None):
    """The state after counting what the transcript gained since ``previous``; the figures are
    ``state["usd_now"]`` and ``state["requests_now"]`` (the latest response included). Never
    raises for the transcript: a missing or unreadable one leaves the state as it was."""
    state = dict(previous) if isinstance(previous, dict) and previous.get("v") == STATE_VERSION else empty_state()
    if roots is not None and not transcript.allowed(transcript_path, roots):
        return _with_totals(state, prices)
    try:
        fd = os.open(transcript_path, os.O_RDONLY | files.O_NOFOLLOW | files.O_NONBLOCK)
    except (OSError, TypeError, ValueError):
        return _with_totals(state, prices)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return _with_totals(state, prices)
        offset = state.get("offset") if isinstance(state.get("offset"), int) else 0
        if state.get("ino") != st.st_ino or offset > st.st_size:
            # A new or rewritten file (or the first sight of it: a subagent's first tool call can
            # come before its transcript exists): count the transcript from its start, keeping what
            # the caller counts itself (the caps' tool calls, warning, verdict), which no file holds.
            state = {**state, **empty_state()}
            offset = 0
        state["ino"] = st.st_ino
        if st.st_size > offset:
            os.lseek(fd, offset, os.SEEK_SET)
            data = _read_upto(fd, min(st.st_size - offset, READ_CAP))
            end = data.rfind(b"\n") + 1  # complete lines only: a torn tail is read again next time
            if end:
                _count_lines(state, data[:end], prices, offset == 0)
                state["offset"] = offset + end
    except OSError:
        pass
    finally:
        os.close(fd)
    return _with_totals(state, prices)


def wait_for_line(path, needle, timeout, tail=1 << 18):
    """Wait (polling, at most ``timeout`` seconds and never past the hook's deadline) until the last
    ``tail`` bytes of ``path`` hold ``needle``: Claude Code writes a transcript's lines a little after
    the response they record, so a hook that fires on a tool call can be earlier than the line of
    the response that made it. ``True`` once it is there."""
    import time

    end = hookio.wait_until(timeout)
    delay = 0.005
    while True:
        try:
            fd = os.open(path, os.O_RDONLY | files.O_NOFOLLOW | files.O_NONBLOCK)
        except (OSError, TypeError, ValueError):
            fd = None
        if fd is not None:
            try:
                st = os.fstat(fd)
                if stat.S_ISREG(st.st_mode):
                    os.lseek(fd, max(0, st.st_size - tail), os.SEEK_SET)
                    if needle in _read_upto(fd, tail):
                        return True
            except OSError:
                pass
            finally:
                os.close(fd)
        left = end - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(delay, left))
        delay = min(delay * 2, 0.05)


def _with_totals(state, prices):
    state["usd_now"] = running_usd(state, prices)
    state["requests_now"] = running_requests(state)
    state["last_usd_now"] = last_request_usd(state, prices)
    return state


def last_request_usd(state, prices):
    """The cost of the latest response: what the next one is likely to cost at least (a subagent's
    context only grows), e.g. the request that will write its report."""
    current = state.get("current")
    if isinstance(current, dict) and prices is not None:
        return prices.cost(current.get("model"), current.get("usage") or {}) or 0.0
    return _number(state.get("last_usd"))


def _read_upto(fd, size):
    chunks = []
    left = size
    while left > 0:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _count_lines(state, data, prices, from_start):
    needle = transcript.ANY_ASSISTANT
    if from_start:
        first_end = data.find(b"\n")
        obj, ok = transcript._loads(data[:first_end])
        if ok and isinstance(obj, dict):
            state["first_ts"] = transcript.parse_iso(obj.get("timestamp"))
    start = 0
    while True:
        hit = data.find(needle, start)
        if hit < 0:
            break
        line_start = data.rfind(b"\n", 0, hit) + 1
        line_end = data.find(b"\n", hit)
        start = line_end + 1
        obj, ok = transcript._loads(data[line_start:line_end])
        if ok and isinstance(obj, dict) and obj.get("type") == "assistant":
            _count_message(state, obj, prices)


def _count_message(state, obj, prices):
    message = obj.get("message")
    if not isinstance(message, dict):
        return
    msg_id = message.get("id")
    if not isinstance(msg_id, str) or not msg_id:
        msg_id = "uuid:" + str(obj.get("uuid"))
    model = message.get("model")
    model = model if isinstance(model, str) and 0 < len(model) <= 100 else None
    if model == "<synthetic>":
        return
    usage = transcript.normalize_usage(message.get("usage"), obj.get("version"))
    current = state.get("current")
    if isinstance(current, dict) and current.get("id") == msg_id:
        transcript._merge_usage(current["usage"], usage)
        if current.get("model") is None:
            current["model"] = model
        return
    _commit(state, prices)
    state["current"] = {"id": msg_id, "model": model, "usage": usage}


def _commit(state, prices):
    """The latest response is finished (another began): add its cost to the running sum."""
    current = state.get("current")
    if not isinstance(current, dict):
        return
    state["current"] = None
    usage = current.get("usage") or {}
    if all(not v for k, v in usage.items() if k in transcript.USAGE_KEYS):
        return  # an all-zero response costs nothing whatever the model
    cost = prices.cost(current.get("model"), usage) if prices is not None else None
    state["requests"] = int(_number(state.get("requests"))) + 1
    if cost is None:
        state["unpriced"] = int(_number(state.get("unpriced"))) + 1
    else:
        state["usd"] = _number(state.get("usd")) + cost
        state["last_usd"] = cost
