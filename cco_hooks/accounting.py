"""Spawn accounting: pending parts, joining, settling, one priced ledger record per spawn.

Stdlib only and import-light: called by every hook (see docs/design.md, "Accounting").

Each spawn is keyed by ``tool_use_id`` (PreToolUse / PostToolUse) and ``agent_id`` (PostToolUse
``tool_response.agentId``, SubagentStop ``agent_id``, ``agent-<id>.meta.json`` ``toolUseId``). The
hooks write their parts into ``<ledger dir>/pending/`` (dir 0700, files 0600, temp + rename):

- ``<tool_use_id>.pre.json``   the routing decision (PreToolUse)
- ``<tool_use_id>.post.json``  agent id, resolved model, status, background flag (PostToolUse)
- ``agent-<agent_id>.stop.json`` transcript path, digest of the final message, time (SubagentStop)

``settle()`` then, under the ledger's exclusive lock, joins the parts, prices the subagent transcript
(each ``message.id`` once, per request, by Claude Code's rules — never PostToolUse's ``usage``, which
is only the last request), writes tombstones (``pending/settled/tu-<tool_use_id>``,
``…/ag-<agent_id>``, holding the ledger offset the record will start at) so a replayed or late hook
cannot add a second one, appends exactly one record, and deletes the parts. A settle killed between
the tombstones and a whole record leaves its parts behind; the next settle finds no record at the
tombstone's offset and settles the spawn again (``_still_settled``): never lost, never twice. A spawn whose transcript is not complete yet stays pending and is
settled by a later hook run or by the report (``force=True``). Nothing is ever lost: a spawn whose
transcript can never be read is recorded ``unpriced`` with a reason.

When the transcript is complete:
- SubagentStop seen: its final assistant message (``last_assistant_message``) is in the transcript
  and the last line is whole; or, ``GRACE_S`` after the stop, the transcript ends cleanly on a final
  ``stop_reason`` (in case the texts are spelt differently).
- no SubagentStop: the foreground PostToolUse reported ``completed`` (its last text is matched), or
  ``agent-<id>.meta.json`` says ``"finished": true``.
- else, ``STALE_S`` after the last part (or under ``force``, ``FORCE_GRACE_S`` after it), whatever the
  transcript holds is priced (``transcript_complete: false``); a background spawn still running is
  left alone until ``ORPHAN_S``.

Test / debug knob: ``CCO_HOOKS_STOP_WAIT_S`` (seconds, 0 to ``STOP_WAIT_MAX_S``) replaces
``STOP_WAIT_S``, the time SubagentStop waits for the final message to reach the transcript.
``CCO_HOOKS_STOP_WAIT_S=0`` makes SubagentStop never wait, so a spawn whose transcript is not
complete yet at that instant (the SubagentStop race) stays pending and is settled by a later hook or
by the report; the end-to-end tests use it to exercise that path. Not meant for normal use.
"""

from __future__ import annotations

import os
import time

from cco_hooks import fastjson, files, paths


class _OnFirstUse:
    """A module imported when first used. The PreToolUse hook only writes a pending part: it never
    needs the lock (``ledger``), the price table or the transcript reader, which cost ~1 ms of
    imports in a hook whose whole budget is ~3 ms over a bare interpreter (issue 5, bench/)."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr):
        module = __import__("cco_hooks." + self._name, fromlist=["_"])
        globals()[self._name] = module
        return getattr(module, attr)


ledger = _OnFirstUse("ledger")
pricing = _OnFirstUse("pricing")
transcript = _OnFirstUse("transcript")

SCHEMA_VERSION = 1
DESCRIPTION_CHARS = 80
REASON_CHARS = 300

STOP_WAIT_S = 0.5  # SubagentStop waits at most this long for the final message to be on disk
STOP_WAIT_ENV = "CCO_HOOKS_STOP_WAIT_S"  # test / debug knob overriding STOP_WAIT_S (module docstring)
STOP_WAIT_MAX_S = 10.0
STOP_POLL_S = 0.025
GRACE_S = 30.0  # a stop part may wait this long for its PostToolUse; text-mismatch tolerance
FORCE_GRACE_S = 2.0  # under force (report time) parts younger than this are still left alone
STALE_S = 30 * 60.0  # after this an incomplete / missing transcript is settled as it is
ORPHAN_S = 24 * 3600.0  # a pre-only part or a still-running background spawn, given up after this
TOMBSTONE_TTL_S = 14 * 86400.0

PENDING_DIRNAME = "pending"
SETTLED_DIRNAME = "settled"
SESSIONS_DIRNAME = "sessions"
PRE, POST, STOP = ".pre.json", ".post.json", ".stop.json"
STOP_PREFIX = "agent-"

DECISION_KEYS = ("action", "mode", "rule", "layer", "source", "reason", "would")
TOKEN_KEYS = ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h")
_FALLBACK_ALIASES = {
    "haiku": "claude-haiku-5-5",
    "sonnet": "claude-sonnet-5-5",
    "opus": "claude-opus-5-5",
    "fable": "claude-fable-5-2",
}

_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_read_cache: dict = {}  # (path, digest) → (size, mtime_ns, TranscriptUsage)

safe_name = paths.safe_name


# --------------------------------------------------------------------------- validation helpers


def _str(value, limit: int = 200) -> str | None:
    if isinstance(value, str) and value and len(value) <= limit:
        return value
    return None


def _cut(value, limit: int) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    return value[:limit]


def _num(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if value != value or value in (float("inf"), float("-inf")):
        return None
    return value


def _nonneg_int(value) -> int | None:
    if type(value) is int and value >= 0:
        return value
    if type(value) is float and value == value and 0 <= value < 1e15:
        return int(value)
    return None


def stop_wait_s(env=None) -> float:
    """``STOP_WAIT_S``, or the ``CCO_HOOKS_STOP_WAIT_S`` knob when it is a number in
    [0, ``STOP_WAIT_MAX_S``] (anything else is ignored)."""
    raw = (os.environ if env is None else env).get(STOP_WAIT_ENV)
    if raw:
        try:
            value = float(raw)
        except ValueError:
            return STOP_WAIT_S
        if 0.0 <= value <= STOP_WAIT_MAX_S:
            return value
    return STOP_WAIT_S


def _ledger_ok(path) -> bool:
    """Only an absolute, plain path: a relative or garbage one must never write into the cwd."""
    return isinstance(path, str) and 1 < len(path) <= 4096 and "\0" not in path and os.path.isabs(path)


def _agent_type(value) -> str | None:
    """An agent type as SubagentStop gives it; ``""`` (Claude Code's internal helpers) is kept."""
    return value if isinstance(value, str) and len(value) <= 200 else None


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _transcript_path(value) -> str | None:
    if isinstance(value, str) and 0 < len(value) <= 4096 and "\0" not in value and value.endswith(".jsonl"):
        return value
    return None


def _session_id(payload: dict) -> str | None:
    sid = payload.get("session_id")
    return sid if safe_name(sid) else None


def _project(payload: dict) -> str | None:
    try:
        cwd = payload.get("cwd")
        return paths.project_dir(cwd)
    except Exception:  # noqa: BLE001
        return None


def _now_iso(epoch: float) -> str:
    try:
        return transcript.format_iso(epoch)
    except (OverflowError, ValueError, OSError, TypeError):
        return transcript.format_iso(time.time())


def _alias_model(prices, alias) -> str | None:
    if not isinstance(alias, str) or not alias:
        return None
    model = None
    if prices is not None:
        model = prices.alias_model(alias)
        if model is None:
            model = prices.resolve(alias)
    return model or _FALLBACK_ALIASES.get(alias.strip().lower())


# --------------------------------------------------------------------------- where files live


def pending_dir(ledger_path: str) -> str:
    return os.path.join(os.path.dirname(os.path.abspath(ledger_path)), PENDING_DIRNAME)


def _settled_dir(pdir: str) -> str:
    return os.path.join(pdir, SETTLED_DIRNAME)


def _tombstone(pdir: str, kind: str, key) -> str | None:
    if not safe_name(key):
        return None
    return os.path.join(_settled_dir(pdir), f"{kind}-{key}")


def _is_settled(pdir: str, kind: str, key) -> bool:
    path = _tombstone(pdir, kind, key)
    return path is not None and os.path.exists(path)


def _mark_settled(pdir: str, kind: str, key, offset: int | None = None) -> None:
    """Write the tombstone; ``offset``: the ledger's size just before the spawn's record is appended
    (the tombstone is written first, so a settle killed in between can be told apart: see
    ``_still_settled``)."""
    path = _tombstone(pdir, kind, key)
    if path is None:
        return
    files.make_private_dirs(os.path.dirname(path))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _O_CLOEXEC, 0o600)
    try:
        if offset is not None:
            os.write(fd, str(offset).encode("ascii"))
    finally:
        os.close(fd)


def _ledger_size(ledger_path: str) -> int:
    try:
        return os.stat(ledger_path).st_size
    except OSError:
        return 0


def _recorded_at(ledger_path: str, offset: int, kind: str, key: str) -> bool:
    """The ledger holds, at ``offset``, the whole record of this spawn."""
    try:
        fd = os.open(ledger_path, os.O_RDONLY | _O_CLOEXEC)
    except OSError:
        return False
    try:
        data = os.pread(fd, 1 << 20, offset)
    except OSError:
        return False
    finally:
        os.close(fd)
    data = data[1:] if data.startswith(b"\n") else data  # ledger.append's newline after a torn line
    end = data.find(b"\n")
    if end < 0:
        return False  # torn: the writer died mid-line
    try:
        record = fastjson.loads(data[:end])
    except ValueError:
        return False
    return isinstance(record, dict) and record.get("tool_use_id" if kind == "tu" else "agent_id") == key


def _still_settled(pdir: str, kind: str, key, ledger_path: str) -> bool:
    """A tombstone beside a live part: mostly a late or replayed hook's part, to be dropped. But a
    settle killed (SIGKILL, power loss) after writing the tombstone and before its record was
    whole in the ledger leaves the parts behind too: then the tombstone goes and the spawn is
    settled again — never lost, never counted twice."""
    path = _tombstone(pdir, kind, key)
    if path is None:
        return False
    try:
        fd = os.open(path, os.O_RDONLY | _O_CLOEXEC)
    except OSError:
        return False
    try:
        text = os.read(fd, 32).strip()
    except OSError:
        return True
    finally:
        os.close(fd)
    if not text.isdigit():
        return True  # no offset (written before tombstones carried one): trust it
    if _recorded_at(ledger_path, int(text), kind, key):
        return True
    _remove(path)
    return False


def _never_raises(fn):
    """Accounting never breaks a hook: an error ends the call quietly (the spawn was already routed;
    a part not written is settled from the others, or recorded unpriced, later)."""

    def guarded(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception:  # noqa: BLE001
            return None

    guarded.__name__, guarded.__qualname__, guarded.__doc__ = fn.__name__, fn.__qualname__, fn.__doc__
    guarded.__wrapped__ = fn
    return guarded


def _write_json_atomic(path: str, data: dict) -> None:
    files.write_private(path, fastjson.dumps(data).encode("ascii"))


def _read_json(path: str, cap: int = 1 << 20):
    return files.read_json_object(path, cap)


def _remove(path) -> None:
    if not path:
        return
    try:
        os.unlink(path)
    except OSError:
        pass


def _roots(session_transcript: str | None) -> list:
    """Where a subagent transcript may be read from: the Claude config dir, and beside the
    session transcript."""
    roots = [paths.claude_config_dir()]
    if session_transcript:
        roots.append(os.path.dirname(session_transcript))
    return roots


def _session_transcript_ok(path, session_id) -> bool:
    """The session transcript is read (its tail only) when it is a ``.jsonl`` under the Claude config
    dir, or named ``<session_id>.jsonl`` as Claude Code names it."""
    if _transcript_path(path) is None:
        return False
    if transcript.is_under(path, paths.claude_config_dir()):
        return True
    return bool(session_id) and os.path.basename(path) == f"{session_id}.jsonl"


def _read_transcript(path, digest, roots) -> transcript.TranscriptUsage:
    """``transcript.read_usage`` with a per-process cache keyed by (size, mtime)."""
    key = (path, digest)
    try:
        st = os.stat(path)
        sig = (st.st_size, st.st_mtime_ns)
    except (OSError, TypeError, ValueError):
        sig = None
    cached = _read_cache.get(key)
    if cached is not None and sig is not None and cached[0] == sig:
        return cached[1]
    usage = transcript.read_usage(path, expect_digest=digest, roots=roots)
    if sig is not None and usage.error is None:
        if len(_read_cache) > 64:
            _read_cache.clear()
        _read_cache[key] = (sig, usage)
    return usage


# --------------------------------------------------------------------------- hook entry points


def _common(payload: dict, now: float) -> dict:
    return {
        "v": SCHEMA_VERSION,
        "ts": now,
        "session_id": _session_id(payload),
        "transcript_path": _transcript_path(payload.get("transcript_path")),
        "project": _project(payload),
    }


@_never_raises
def on_pre_tool_use(payload, decision, ledger_path) -> None:
    """Remember the routing decision of a spawn; a denied spawn is recorded at once."""
    if not isinstance(payload, dict) or not _ledger_ok(ledger_path):
        return
    tool_use_id = payload.get("tool_use_id")
    if not safe_name(tool_use_id):
        return
    decision = _dict(decision)
    tool_input = _dict(payload.get("tool_input"))
    now = time.time()
    pre = _common(payload, now)
    background = tool_input.get("run_in_background")
    requested = decision.get("requested_model") if "requested_model" in decision else tool_input.get("model")
    pre.update(
        {
            "part": "pre",
            "tool_use_id": tool_use_id,
            "tool_name": _str(payload.get("tool_name"), 40),
            "agent_type": _str(decision.get("agent_type")) or _str(tool_input.get("subagent_type")),
            "description": _cut(tool_input.get("description"), DESCRIPTION_CHARS),
            "background": background if isinstance(background, bool) else None,
            "requested_model": _str(requested, 100),
            "enforced_model": _str(decision.get("enforced_model"), 100),
            "effort": _str(decision.get("effort"), 40) or _str(tool_input.get("effort"), 40),
            "decision": _decision_part(decision),
        }
    )
    pdir = pending_dir(ledger_path)
    # No lock here (PreToolUse is on the spawn's critical path): a part written after its spawn was
    # settled is dropped by the next settle, which checks the tombstones under the lock.
    if _is_settled(pdir, "tu", tool_use_id):
        return
    if pre["decision"]["action"] == "deny":
        with ledger.locked(ledger_path):
            if _is_settled(pdir, "tu", tool_use_id):
                return
            _append(ledger_path, _denied_record(pre))
            _mark_settled(pdir, "tu", tool_use_id)
            _remove(os.path.join(pdir, tool_use_id + PRE))
        return
    _write_json_atomic(os.path.join(pdir, tool_use_id + PRE), pre)


ACTIONS = ("rewrite", "deny", "observe", "allow", "none")


def _decision_part(decision: dict) -> dict:
    part = {}
    for key in DECISION_KEYS:
        value = decision.get(key)
        part[key] = _cut(value, REASON_CHARS) if key in ("reason", "source") else _str(value, 200)
    if part["action"] not in ACTIONS:
        part["action"] = "unknown"
    if part["would"] not in ("rewrite", "deny"):
        part["would"] = None
    return part


def _last_text(content) -> str | None:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return None
    for block in reversed(content):
        if isinstance(block, dict) and block.get("type") == "text" and isinstance(block.get("text"), str):
            if block["text"].strip():
                return block["text"]
    return None


@_never_raises
def on_post_tool_use(payload, ledger_path, prices) -> None:
    """Remember what PostToolUse reports (agent id, status, resolved model) and settle."""
    if not isinstance(payload, dict) or not _ledger_ok(ledger_path):
        return
    tool_use_id = payload.get("tool_use_id")
    if not safe_name(tool_use_id):
        return
    tool_name = payload.get("tool_name")
    if isinstance(tool_name, str) and tool_name not in ("Agent", "Task"):
        return
    tool_input = _dict(payload.get("tool_input"))
    response = _dict(payload.get("tool_response"))
    now = time.time()
    post = _common(payload, now)
    status = _str(response.get("status"), 40)
    agent_id = response.get("agentId")
    agent_id = agent_id if safe_name(agent_id) else None
    background = status == "async_launched" or response.get("isAsync") is True
    duration = _nonneg_int(response.get("totalDurationMs")) if status == "completed" else None
    pdir = pending_dir(ledger_path)
    parent_model = None
    pre = _read_json(os.path.join(pdir, tool_use_id + PRE))
    requested = pre.get("requested_model") if pre is not None else tool_input.get("model")
    subagent_type = tool_input.get("subagent_type")
    is_fork = isinstance(subagent_type, str) and subagent_type.strip().lower() == "fork"
    if (is_fork or not (isinstance(requested, str) and requested)) and _session_transcript_ok(post["transcript_path"], post["session_id"]):
        # the spawn named no model: the counterfactual is the parent's model, found now while the
        # issuing message is near the end of the session transcript
        parent_model = transcript.find_tool_use_model(
            post["transcript_path"], tool_use_id, windows=transcript.TAIL_WINDOWS[:2]
        )
    post.update(
        {
            "part": "post",
            "tool_use_id": tool_use_id,
            "tool_name": _str(tool_name, 40),
            "agent_id": agent_id,
            "status": status,
            "background": background,
            "resolved_model": _str(response.get("resolvedModel"), 100),
            "agent_type": _str(response.get("agentType")) or _str(tool_input.get("subagent_type")),
            "description": _cut(tool_input.get("description"), DESCRIPTION_CHARS),
            "input_model": _str(tool_input.get("model"), 100),
            "duration_ms": duration,
            "last_digest": transcript.text_digest(_last_text(response.get("content"))) if status == "completed" else None,
            "parent_model": _str(parent_model, 100),
        }
    )
    with ledger.locked(ledger_path) as ok:
        if _is_settled(pdir, "tu", tool_use_id) or (agent_id and _is_settled(pdir, "ag", agent_id)):
            return
        _write_json_atomic(os.path.join(pdir, tool_use_id + POST), post)
        if ok:
            _settle_locked(ledger_path, prices, now, False)


@_never_raises
def on_subagent_stop(payload, ledger_path, prices) -> None:
    """Remember the stop (transcript path, final message digest), wait briefly for the transcript
    to hold the final message, and settle."""
    if not isinstance(payload, dict) or not _ledger_ok(ledger_path):
        return
    agent_id = payload.get("agent_id")
    if not safe_name(agent_id):
        return
    pdir = pending_dir(ledger_path)
    if _is_settled(pdir, "ag", agent_id):
        return
    common = _common(payload, time.time())
    path = _transcript_path(payload.get("agent_transcript_path"))
    if path is None or os.path.basename(path) != f"{STOP_PREFIX}{agent_id}.jsonl":
        # Claude Code names it agent-<agent_id>.jsonl; anything else is not this agent's transcript
        path = transcript.subagent_transcript_path(common["transcript_path"], common["session_id"], agent_id)
    digest = transcript.text_digest(payload.get("last_assistant_message"))
    roots = _roots(common["transcript_path"])
    # The race: SubagentStop may fire before the transcript holds the final message. Wait a little
    # (outside the lock, parallel hooks must not queue behind this) — settle re-checks anyway.
    if path and transcript.allowed(path, roots):
        deadline = time.monotonic() + stop_wait_s()
        while True:
            usage = _read_transcript(path, digest, roots)
            if usage.complete or (usage.error is not None and usage.error != transcript.MISSING):
                break
            if time.monotonic() >= deadline:
                break
            time.sleep(STOP_POLL_S)
    now = time.time()
    stop = dict(common)
    stop.update(
        {
            "ts": now,
            "part": "stop",
            "agent_id": agent_id,
            "agent_type": _agent_type(payload.get("agent_type")),
            "agent_transcript_path": path,
            "last_digest": digest,
        }
    )
    with ledger.locked(ledger_path) as ok:
        if _is_settled(pdir, "ag", agent_id):
            return
        _write_json_atomic(os.path.join(pdir, STOP_PREFIX + agent_id + STOP), stop)
        if ok:
            _settle_locked(ledger_path, prices, now, False)


def session_record(transcript_path, session_id, project=None, now: float | None = None) -> dict | None:
    """The session record from the transcript's last ``cost-state`` line, or ``None``."""
    if not safe_name(session_id) or not _session_transcript_ok(transcript_path, session_id):
        return None
    state = transcript.read_cost_state(transcript_path)
    if state is None:
        return None
    state_session = state.get("sessionId")
    if isinstance(state_session, str) and state_session != session_id:
        return None
    total = _num(state.get("totalCostUSD"))
    model_costs = {}
    model_usage = state.get("modelUsage")
    if isinstance(model_usage, dict):
        for model, usage in model_usage.items():
            cost = _num(_dict(usage).get("costUSD"))
            if isinstance(model, str) and len(model) <= 200 and cost is not None:
                model_costs[model] = cost
    if total is None and not model_costs:
        return None
    if total is None:
        total = sum(model_costs.values())
    unknown = state.get("hasUnknownModelCost")
    return {
        "v": SCHEMA_VERSION,
        "kind": "session",
        "ts": _now_iso(time.time() if now is None else now),
        "session_id": session_id,
        "project": project,
        "session_cost_usd": total,
        "model_costs": model_costs,
        "has_unknown_model_cost": unknown if isinstance(unknown, bool) else None,
        "claude_code_version": transcript.read_version(transcript_path),
    }


@_never_raises
def on_stop(payload, ledger_path) -> None:
    """Record the session's whole cost from Claude Code's own cost-state (tail of the session
    transcript), so a report can tell which share went to subagents."""
    if not isinstance(payload, dict) or not _ledger_ok(ledger_path):
        return
    session_id = _session_id(payload)
    record = session_record(_transcript_path(payload.get("transcript_path")), session_id, _project(payload))
    if record is None:
        return
    pdir = pending_dir(ledger_path)
    marker = os.path.join(pdir, SESSIONS_DIRNAME, session_id + ".json")
    signature = {"cost": record["session_cost_usd"], "models": record["model_costs"]}
    with ledger.locked(ledger_path):
        last = _read_json(marker)
        if last is not None and last.get("cost") == signature["cost"] and last.get("models") == signature["models"]:
            return  # nothing new since the last Stop: no duplicate line
        _append(ledger_path, record)
        try:
            _write_json_atomic(marker, signature)
        except OSError:
            pass


# --------------------------------------------------------------------------- settling


def settle(ledger_path: str, prices, now: float | None = None, force: bool = False) -> int:
    """Join and price every pending spawn that can be; returns the number of records appended.

    ``force`` (report time): settle what can never complete — unreadable transcripts become
    ``unpriced`` records, incomplete ones are priced as they are — but never a background spawn
    that is still running."""
    try:
        if not _ledger_ok(ledger_path):
            return 0
        if not os.path.isdir(pending_dir(ledger_path)):
            return 0
        now = time.time() if now is None else now
        with ledger.locked(ledger_path) as ok:
            if not ok:
                return 0
            return _settle_locked(ledger_path, prices, now, force)
    except Exception:  # noqa: BLE001
        return 0


def _load_parts(pdir: str, now: float, ledger_path: str):
    pres, posts, stops = {}, {}, {}
    try:
        names = os.listdir(pdir)
    except OSError:
        return pres, posts, stops
    for name in names:
        path = os.path.join(pdir, name)
        if name.startswith("."):
            if name.endswith(".tmp"):
                _remove_if_older(path, now, STALE_S)
            continue
        if name.endswith(PRE):
            key, bucket, kinds = name[: -len(PRE)], pres, ("tu",)
        elif name.endswith(POST):
            key, bucket, kinds = name[: -len(POST)], posts, ("tu",)
        elif name.startswith(STOP_PREFIX) and name.endswith(STOP):
            key, bucket, kinds = name[len(STOP_PREFIX) : -len(STOP)], stops, ("ag",)
        else:
            continue
        if not safe_name(key):
            _remove(path)
            continue
        part = _read_json(path)
        if part is None:
            _remove_if_older(path, now, STALE_S)
            continue
        if any(_still_settled(pdir, kind, key, ledger_path) for kind in kinds) or (
            bucket is posts and safe_name(part.get("agent_id"))
            and _still_settled(pdir, "ag", part["agent_id"], ledger_path)
        ):
            _remove(path)
            continue
        ts = _num(part.get("ts"))
        if ts is None or not 0 < ts <= now + 86400:
            try:
                ts = os.stat(path).st_mtime
            except OSError:
                ts = now
        part["ts"] = ts
        part["_file"] = path
        if bucket is posts:
            part["agent_id"] = part.get("agent_id") if safe_name(part.get("agent_id")) else None
        if bucket is stops:
            part["agent_id"] = key
        bucket[key] = part
    return pres, posts, stops


def _remove_if_older(path: str, now: float, age: float) -> None:
    try:
        if now - os.stat(path).st_mtime >= age:
            os.unlink(path)
    except OSError:
        pass


def _settle_locked(ledger_path: str, prices, now: float, force: bool) -> int:
    if not isinstance(prices, pricing.Prices):
        return 0  # without a price table nothing is settled (it would all look unpriced)
    pdir = pending_dir(ledger_path)
    pres, posts, stops = _load_parts(pdir, now, ledger_path)
    _sweep(pdir, now, force)
    if not (pres or posts or stops):
        return 0
    groups: dict = {}
    agent_to_tu = {p["agent_id"]: tu for tu, p in posts.items() if p.get("agent_id")}
    for agent_id, stop in stops.items():
        tool_use_id = agent_to_tu.get(agent_id)
        meta = None
        if tool_use_id is None:
            meta = _meta_for(stop.get("agent_transcript_path"), stop.get("transcript_path"))
            linked = _dict(meta).get("toolUseId")
            if safe_name(linked) and not (linked in posts and posts[linked].get("agent_id") not in (None, agent_id)):
                tool_use_id = linked
        if tool_use_id and _is_settled(pdir, "tu", tool_use_id):
            # its spawn is already in the ledger (a replayed or stray SubagentStop)
            _mark_settled(pdir, "ag", agent_id)
            _remove(stop.get("_file"))
            continue
        key = ("tu", tool_use_id) if tool_use_id else ("ag", agent_id)
        groups[key] = {"stop": stop, "meta": meta, "tool_use_id": tool_use_id, "agent_id": agent_id}
    for tool_use_id, post in posts.items():
        group = groups.setdefault(("tu", tool_use_id), {"tool_use_id": tool_use_id})
        group["post"] = post
        group["agent_id"] = group.get("agent_id") or post.get("agent_id")
    for tool_use_id, pre in pres.items():
        group = groups.setdefault(("tu", tool_use_id), {"tool_use_id": tool_use_id})
        group["pre"] = pre
    written = 0
    for group in groups.values():
        try:
            record = _decide(group, prices, now, force)
        except Exception:  # noqa: BLE001 - one bad spawn must not block the others
            record = _failed_record(group, prices, now)
        if record is None:
            continue
        # Tombstones first, carrying where the record will start: killed before the record is
        # whole, the next settle sees the parts, finds no record there, and settles it again.
        offset = _ledger_size(ledger_path)
        if group.get("tool_use_id"):
            _mark_settled(pdir, "tu", group["tool_use_id"], offset)
        if group.get("agent_id"):
            _mark_settled(pdir, "ag", group["agent_id"], offset)
        _append(ledger_path, record)
        written += 1
        for part in ("pre", "post", "stop"):
            if group.get(part):
                _remove(group[part].get("_file"))
    return written


SWEEP_MARKER = ".swept"
SWEEP_EVERY_S = 86400.0


def _sweep(pdir: str, now: float, force: bool) -> None:
    """Drop tombstones and session markers older than ``TOMBSTONE_TTL_S`` — at report time, and
    at most once a day from the hooks."""
    marker = os.path.join(pdir, SWEEP_MARKER)
    if not force:
        try:
            if now - os.stat(marker).st_mtime < SWEEP_EVERY_S:
                return
        except FileNotFoundError:
            pass
        except OSError:
            return
    try:
        fd = os.open(marker, os.O_WRONLY | os.O_CREAT | _O_CLOEXEC, 0o600)
        os.close(fd)
        os.utime(marker)
    except OSError:
        pass
    for sub in (SETTLED_DIRNAME, SESSIONS_DIRNAME):
        directory = os.path.join(pdir, sub)
        try:
            names = os.listdir(directory)
        except OSError:
            continue
        for name in names:
            _remove_if_older(os.path.join(directory, name), now, TOMBSTONE_TTL_S)


def _meta_for(agent_transcript, session_transcript):
    if not agent_transcript or not transcript.allowed(agent_transcript, _roots(session_transcript)):
        return None
    return transcript.read_meta(agent_transcript)


def _find_agent_by_meta(pre: dict):
    """A spawn whose PostToolUse and SubagentStop were both missed: find its agent by the
    ``toolUseId`` of the meta files in the session's subagents directory."""
    session_transcript = pre.get("transcript_path")
    directory = transcript.subagents_dir(session_transcript, pre.get("session_id"))
    if not directory or not transcript.allowed(os.path.join(directory, "x.jsonl"), _roots(session_transcript)):
        return None, None
    try:
        names = os.listdir(directory)
    except OSError:
        return None, None
    for name in names:
        if name.startswith(STOP_PREFIX) and name.endswith(".meta.json"):
            agent_id = name[len(STOP_PREFIX) : -len(".meta.json")]
            meta = transcript.read_meta(os.path.join(directory, f"{STOP_PREFIX}{agent_id}.jsonl"))
            if meta is not None and meta.get("toolUseId") == pre.get("tool_use_id") and safe_name(agent_id):
                return agent_id, meta
    return None, None


def _decide(group: dict, prices, now: float, force: bool) -> dict | None:
    """The record to write for this spawn now, or ``None`` to leave it pending."""
    pre, post, stop = group.get("pre"), group.get("post"), group.get("stop")
    meta = group.get("meta")
    parts = [p for p in (pre, post, stop) if p]
    newest = max(p["ts"] for p in parts)
    age = now - newest
    grace = FORCE_GRACE_S if force else GRACE_S
    agent_id = group.get("agent_id")

    if not post and not stop:
        if pre is None:
            return None
        if _dict(pre.get("decision")).get("action") == "deny":
            return _denied_record(pre)
        if age < STALE_S:
            return None  # the spawn is running (foreground) or its PostToolUse is on its way
        agent_id, meta = _find_agent_by_meta(pre)
        if agent_id is None:
            if age < ORPHAN_S:
                return None
            return _unreadable_record(group, prices, "no_result", now)
        group["agent_id"] = agent_id
        group["meta"] = meta

    if agent_id is None and not stop:
        return _unreadable_record(group, prices, "no_agent_id", now)

    session_transcript = next((p.get("transcript_path") for p in parts if p.get("transcript_path")), None)
    session_id = next((p.get("session_id") for p in parts if p.get("session_id")), None)
    path = (stop or {}).get("agent_transcript_path") or transcript.subagent_transcript_path(
        session_transcript, session_id, agent_id
    )
    roots = _roots(session_transcript)

    if stop is not None:
        digest = stop.get("last_digest")
        if post is None and age < grace:
            return None  # a foreground PostToolUse follows its SubagentStop within moments
    elif post is not None and post.get("status") == "completed":
        digest = post.get("last_digest")
    else:
        digest = None
        if meta is None:
            meta = _meta_for(path, session_transcript)
            group["meta"] = meta
        if _dict(meta).get("finished") is not True and age < ORPHAN_S:
            return None  # a background spawn still running

    if not path:
        if force or age >= STALE_S:
            return _unreadable_record(group, prices, "transcript_unknown", now)
        return None
    usage = _read_transcript(path, digest, roots)
    if usage.error is not None:
        if usage.error in transcript.PERMANENT_ERRORS or age >= STALE_S or (force and age >= grace):
            return _unreadable_record(group, prices, "transcript_" + usage.error, now)
        return None
    if usage.complete:
        return _spawn_record(group, prices, usage, now)
    if usage.final and not usage.torn_tail and age >= grace:
        return _spawn_record(group, prices, usage, now)
    if age >= STALE_S or (force and age >= grace):
        return _spawn_record(group, prices, usage, now)
    return None


# --------------------------------------------------------------------------- records


def _first(*values):
    for value in values:
        if value is not None:
            return value
    return None


def _base_record(group: dict, prices, now: float, lookup_parent: bool = True) -> dict:
    pre = group.get("pre") or {}
    post = group.get("post") or {}
    stop = group.get("stop") or {}
    meta = _dict(group.get("meta"))
    decision = pre.get("decision") if isinstance(pre.get("decision"), dict) else None
    if decision is None:
        decision = dict.fromkeys(DECISION_KEYS)
        decision["action"] = "unknown"
    if pre:
        requested = pre.get("requested_model")
    else:
        requested = _first(post.get("input_model"), _str(meta.get("model"), 100))
    agent_type = _first(pre.get("agent_type"), post.get("agent_type"), stop.get("agent_type"), _str(meta.get("agentType")))
    is_fork = isinstance(agent_type, str) and agent_type.strip().lower() == "fork"
    requested_id = _alias_model(prices, requested) if requested and not is_fork else None
    if requested_id is None and (requested is None or is_fork):
        # no model named (or a fork, which ignores it): the spawn would have run on its parent's model
        requested_id = post.get("parent_model")
        if requested_id is None and lookup_parent:
            session_transcript = _first(pre.get("transcript_path"), post.get("transcript_path"), stop.get("transcript_path"))
            session_id = _first(pre.get("session_id"), post.get("session_id"), stop.get("session_id"))
            tool_use_id = group.get("tool_use_id")
            if tool_use_id and _session_transcript_ok(session_transcript, session_id):
                requested_id = transcript.find_tool_use_model(session_transcript, tool_use_id)
    background = post.get("background") if "background" in post else None
    if background is None:
        background = pre.get("background")
    if background is None and isinstance(meta.get("requestShape"), str):
        background = meta["requestShape"] != "foreground"
    end = _first(stop.get("ts"), post.get("ts") if post.get("status") == "completed" else None, now)
    return {
        "v": SCHEMA_VERSION,
        "kind": "spawn",
        "ts": _now_iso(end),
        "session_id": _first(pre.get("session_id"), post.get("session_id"), stop.get("session_id")),
        "project": _first(pre.get("project"), post.get("project"), stop.get("project")),
        "tool_use_id": group.get("tool_use_id"),
        "agent_id": group.get("agent_id"),
        "agent_type": agent_type,
        "description": _first(pre.get("description"), post.get("description"), _cut(meta.get("description"), DESCRIPTION_CHARS)),
        "background": background,
        "requested_model": requested,
        "requested_model_id": requested_id,
        "enforced_model": pre.get("enforced_model"),
        "actual_model": post.get("resolved_model"),
        "effort": pre.get("effort"),
        "decision": decision,
        "status": None,
        "priced": False,
        "tokens": None,
        "web_search_requests": None,
        "requests": None,
        "cost_usd": None,
        "requested_cost_usd": None,
        "savings_usd": None,
        "by_model": None,
        "duration_ms": _duration(group, None),
        "claude_code_version": None,
        "transcript_complete": None,
        "unpriced_reason": None,
    }


def _duration(group: dict, usage) -> int | None:
    post = group.get("post") or {}
    if post.get("duration_ms") is not None:
        return post["duration_ms"]
    if usage is not None and usage.duration_ms() is not None:
        return usage.duration_ms()
    start = _first((group.get("pre") or {}).get("ts"), post.get("ts"))
    end = (group.get("stop") or {}).get("ts")
    if start is not None and end is not None and end >= start:
        return int(round((end - start) * 1000))
    return None


def _denied_record(pre: dict) -> dict:
    group = {"pre": pre, "tool_use_id": pre.get("tool_use_id")}
    record = _base_record(group, None, pre.get("ts") or time.time(), lookup_parent=False)
    record.update(
        {
            "status": "denied",
            "priced": True,
            "tokens": dict.fromkeys(TOKEN_KEYS, 0),
            "web_search_requests": 0,
            "requests": 0,
            "cost_usd": 0.0,
            "by_model": {},
            "duration_ms": 0,
            "actual_model": None,
        }
    )
    return record


def _failed_record(group: dict, prices, now: float) -> dict | None:
    """A spawn that keeps failing to settle (damaged parts): recorded unpriced once it is old, so
    it neither blocks the pending dir nor disappears."""
    parts = [group.get(k) for k in ("pre", "post", "stop") if group.get(k)]
    if not parts or now - min(p["ts"] for p in parts) < ORPHAN_S:
        return None
    try:
        return _unreadable_record(group, prices, "internal_error", now)
    except Exception:  # noqa: BLE001
        return {
            "v": SCHEMA_VERSION, "kind": "spawn", "ts": _now_iso(now), "session_id": None, "project": None,
            "tool_use_id": group.get("tool_use_id"), "agent_id": group.get("agent_id"), "agent_type": None,
            "requested_model": None, "requested_model_id": None, "enforced_model": None, "actual_model": None,
            "decision": {"action": "unknown"}, "status": "unpriced", "priced": False, "tokens": None,
            "cost_usd": None, "requested_cost_usd": None, "savings_usd": None, "duration_ms": None,
            "claude_code_version": None, "unpriced_reason": "internal_error",
        }


def _unreadable_record(group: dict, prices, reason: str, now: float) -> dict:
    record = _base_record(group, prices, now)
    record["status"] = "unpriced"
    record["unpriced_reason"] = reason
    return record


def _spawn_record(group: dict, prices, usage, now: float) -> dict:
    record = _base_record(group, prices, now)
    by_model: dict = {}
    cost = 0.0
    unknown = []
    for request in usage.requests:
        model = request["model"]
        entry = by_model.get(model)
        if entry is None:
            entry = by_model[model] = {"requests": 0, "cost_usd": 0.0}
        entry["requests"] += 1
        price = prices.cost(model, request["usage"]) if prices is not None else None
        if price is None:
            entry["cost_usd"] = None
            if model not in unknown:
                unknown.append(model)
        else:
            cost += price
            if entry["cost_usd"] is not None:
                entry["cost_usd"] += price
    requested_cost = None
    requested_id = record["requested_model_id"]
    if requested_id and prices is not None and prices.resolve(requested_id) is not None:
        requested_cost = 0.0
        for request in usage.requests:
            requested_cost += prices.cost(requested_id, request["usage"])
    totals = usage.totals()
    if by_model:
        actual = max(by_model, key=lambda m: by_model[m]["requests"])
    else:
        actual = record["actual_model"]
    record.update(
        {
            "actual_model": actual,
            "tokens": {key: totals[key] for key in TOKEN_KEYS},
            "web_search_requests": totals["web_search_requests"],
            "requests": len(usage.requests),
            "by_model": by_model,
            "duration_ms": _duration(group, usage),
            "claude_code_version": usage.version,
            "transcript_complete": bool(usage.complete or (usage.final and not usage.torn_tail)),
            "requested_cost_usd": requested_cost,
        }
    )
    if unknown:
        record.update(
            {
                "status": "unpriced",
                "priced": False,
                "cost_usd": None,
                "savings_usd": None,
                "unpriced_reason": "no price for model " + ", ".join(unknown),
            }
        )
    else:
        record.update(
            {
                "status": "completed",
                "priced": True,
                "cost_usd": cost,
                "savings_usd": None if requested_cost is None else requested_cost - cost,
            }
        )
    return record


def _append(ledger_path: str, record: dict) -> None:
    ledger.append(ledger_path, record)
    if record.get("kind") == "spawn" and _num(record.get("cost_usd")):
        try:
            from cco_hooks import budget

            budget.add_record(ledger_path, record)
        except Exception:  # noqa: BLE001 - the running totals rebuild themselves from the ledger
            pass
