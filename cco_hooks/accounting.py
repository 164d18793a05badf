"""Spawn accounting: the hooks' entry points, and ``settle()``, which writes one priced ledger record
per spawn.

Stdlib only and import-light: called by every hook (see docs/design.md, "Accounting").

Each spawn is keyed by ``tool_use_id`` (PreToolUse / PostToolUse) and ``agent_id`` (PostToolUse
``tool_response.agentId``, SubagentStop ``agent_id``, ``agent-<id>.meta.json`` ``toolUseId``). Each
hook writes its part of the spawn into the pending store (``pending``). ``settle()`` then, under
the ledger's exclusive lock, joins the parts, asks ``completion`` whether each spawn is complete,
prices its subagent transcript (``records``: each ``message.id`` once, per request, by Claude Code's
rules — never PostToolUse's ``usage``, which is only the last request), writes its tombstones,
appends exactly one record, and deletes the parts. A spawn whose transcript is not complete yet
stays pending and is settled by a later hook run or by the report (``force=True``). SessionEnd
records the session's own cost.

Test / debug knob: ``CCO_HOOKS_STOP_WAIT_S`` (seconds, 0 to ``STOP_WAIT_MAX_S``) replaces
``STOP_WAIT_S``, the time SubagentStop waits for the final message to reach the transcript.
``CCO_HOOKS_STOP_WAIT_S=0`` makes SubagentStop never wait, so a spawn whose transcript is not
complete yet at that instant (the SubagentStop race) stays pending and is settled by a later hook or
by the report; the end-to-end tests use it to exercise that path. Not meant for normal use.
"""

import time

from cco_hooks import claude_code, coerce, files, hookio, paths, pending, records
from cco_hooks.fastos import os

# Loaded when first used: PreToolUse writes only its part (see hookio.OnFirstUse).
completion = hookio.OnFirstUse("completion", globals())
ledger = hookio.OnFirstUse("ledger", globals())
pricing = hookio.OnFirstUse("pricing", globals())
totals = hookio.OnFirstUse("totals", globals())
transcript = hookio.OnFirstUse("transcript", globals())

STOP_WAIT_S = 0.5  # SubagentStop waits at most this long for the final message to be on disk
STOP_WAIT_ENV = "CCO_HOOKS_STOP_WAIT_S"  # test / debug knob overriding STOP_WAIT_S (module docstring)
STOP_WAIT_MAX_S = 10.0
STOP_POLL_S = 0.025

safe_name = paths.safe_name


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


# The names beside the ledger that must be regular files of the user's own (ledger.LOCK_SUFFIX,
# totals.TOTALS_SUFFIX; spelled out here so PreToolUse imports neither).
STATE_SUFFIXES = ("", ".lock", ".totals.json")


def check_state_files(ledger_path: str) -> None:
    """Raise ``files.UnsafeFile`` when the ledger, its lock or its totals is a link, a pipe, a device
    or another user's file, or ``pending/`` is not a directory of the user's own: the hook then
    writes nothing at all there (a planted link would be written through, a pipe would swallow the
    records). Looked at with ``lstat`` only; the opens check again on their descriptors."""
    for suffix in STATE_SUFFIXES:
        files.check_own(ledger_path + suffix)
    files.check_own_dir(pending.pending_dir(ledger_path))


def _never_raises(fn):
    """Accounting never breaks a hook: an error ends the call quietly (the spawn was already routed;
    a part not written is settled from the others, or recorded unpriced, later). Only
    ``files.UnsafeFile`` goes through, for the hook to tell the user once (``hook_main``)."""

    def guarded(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except files.UnsafeFile:
            raise
        except Exception:  # noqa: BLE001
            return None

    guarded.__name__, guarded.__qualname__, guarded.__doc__ = fn.__name__, fn.__qualname__, fn.__doc__
    guarded.__wrapped__ = fn
    return guarded


def _session_id(payload: dict):
    sid = payload.get("session_id")
    return sid if safe_name(sid) else None


def _project(payload: dict):
    try:
        return paths.project_dir(payload.get("cwd"))
    except Exception:  # noqa: BLE001
        return None


def _common(payload: dict, now: float) -> dict:
    """The fields every part carries."""
    return {
        "v": records.SCHEMA_VERSION,
        "ts": now,
        "session_id": _session_id(payload),
        "transcript_path": records.jsonl_path(payload.get("transcript_path")),
        "project": _project(payload),
    }


def _append(ledger_path: str, record: dict) -> None:
    """Append ``record`` (the lock is held); a priced one reaches the running totals too."""
    ledger.append(ledger_path, record)
    if record.get("kind") == "spawn" and coerce.number(record.get("cost_usd")):
        try:
            totals.sync(ledger_path)
        except Exception:  # noqa: BLE001 - the running totals rebuild themselves from the ledger
            pass


def _settled(locked: bool, pdir: str, kind: str, skey: str, key: str, ledger_path: str) -> bool:
    """The spawn is in the ledger already. With the lock, as the ledger bears it out (a tombstone it
    does not is removed); without it (the lock timed out) only a tombstone's word, since one a
    settle has just written, before its record, must not be removed under it."""
    if locked:
        return pending.still_settled(pdir, kind, skey, key, ledger_path)
    return pending.is_settled(pdir, kind, skey, key)


# --------------------------------------------------------------------------- PreToolUse


@_never_raises
def on_pre_tool_use(payload, decision, ledger_path, would_run=None) -> None:
    """Remember the routing decision of a spawn and its counterfactual (``would_run``, from
    ``counterfactual.for_spawn``: what Claude Code would have run it on without us); a denied spawn
    is recorded at once."""
    if not isinstance(payload, dict) or not _ledger_ok(ledger_path):
        return
    check_state_files(ledger_path)
    tool_use_id = payload.get("tool_use_id")
    if not safe_name(tool_use_id):
        return
    decision = coerce.mapping(decision)
    tool_input = coerce.mapping(payload.get("tool_input"))
    pre = _common(payload, time.time())
    background = tool_input.get("run_in_background")
    requested = decision.get("requested_model") if "requested_model" in decision else tool_input.get("model")
    pre.update(
        {
            "part": "pre",
            "tool_use_id": tool_use_id,
            "tool_name": coerce.text(payload.get("tool_name"), 40),
            "agent_type": coerce.text(decision.get("agent_type")) or coerce.text(tool_input.get("subagent_type")),
            "description": coerce.cut(tool_input.get("description"), records.DESCRIPTION_CHARS),
            "background": background if isinstance(background, bool) else None,
            "requested_model": coerce.text(requested, 100),
            "enforced_model": coerce.text(decision.get("enforced_model"), 100),
            "effort": coerce.text(decision.get("effort"), 40) or coerce.text(tool_input.get("effort"), 40),
            "decision": records.decision_fields(decision),
        }
    )
    reserve = coerce.number(decision.get("reserve_usd"))
    if reserve and reserve > 0:  # held against the budgets until the spawn stops (``budget.reservations``)
        pre["reserve_usd"] = reserve
        pre["reserve_basis"] = coerce.text(decision.get("reserve_basis"), 200)
    if isinstance(would_run, dict) and would_run.get("source") in claude_code.REQUESTED_SOURCES:
        pre.update(
            {
                "requested_source": would_run["source"],
                "requested_model": coerce.text(would_run.get("spec"), 200),
                "requested_model_id": coerce.text(would_run.get("model_id"), 200),
                "parent_model_env": coerce.text(would_run.get("parent_model_env"), 200),
                "enforced_model_id": coerce.text(would_run.get("enforced_model_id"), 200),
                "provider": coerce.text(would_run.get("provider"), 40),
                "catalog_version": coerce.text(would_run.get("catalog_version"), 40),
            }
        )
    pdir = pending.pending_dir(ledger_path)
    skey = pending.session_key(pre["session_id"])
    # No lock here (PreToolUse is on the spawn's critical path): a part written after its spawn was
    # settled is dropped by the next settle, which checks the tombstones under the lock.
    if pending.is_settled(pdir, "tu", skey, tool_use_id):
        return
    if pre["decision"]["action"] == "deny":
        with ledger.locked(ledger_path) as ok:
            # Without the lock (another process holds it past this hook's deadline) the denial is
            # not written unlocked: its part below keeps it, and a later settle records it.
            if ok:
                if _settled(ok, pdir, "tu", skey, tool_use_id, ledger_path):
                    return
                if _write_record(pdir, ledger_path, skey, tool_use_id, None, records.denied_record(pre)):
                    pending.remove(pending.pre_path(pdir, skey, tool_use_id))
                    return
        # the ledger could not be written (disk full) or locked in time: the part keeps the denial
    pending.write_part(pending.pre_path(pdir, skey, tool_use_id), pre)


# --------------------------------------------------------------------------- PostToolUse


def _last_text(content):
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return None
    for block in reversed(content):
        if isinstance(block, dict) and block.get("type") == "text" and isinstance(block.get("text"), str):
            if block["text"].strip():
                return block["text"]
    return None


def _needs_parent_model(tool_input: dict, pre) -> bool:
    """Whether the counterfactual needs the parent's model: it runs on it (no model named, a fork,
    ``inherit``), or it named a family alias (the parent's own model wins when it is of that family)."""
    if pre is not None and pre.get("requested_source") in claude_code.REQUESTED_SOURCES:
        source, spec = pre["requested_source"], pre.get("requested_model")
        return source == "parent" or (source in ("call", "agent_file") and spec in claude_code.TIER)
    requested = pre.get("requested_model") if pre is not None else tool_input.get("model")
    named = isinstance(requested, str) and requested
    return not named or claude_code.is_fork(tool_input.get("subagent_type"))


def _parent_model(post: dict, tool_use_id, tool_input: dict, pre):
    """When the counterfactual needs it (``_needs_parent_model``), the model of the message that
    issued the spawn, found now while it is near the end of the session transcript."""
    if not _needs_parent_model(tool_input, pre):
        return None
    if not records.session_transcript_ok(post["transcript_path"], post["session_id"]):
        return None
    return transcript.find_tool_use_model(post["transcript_path"], tool_use_id, windows=transcript.TAIL_WINDOWS[:2])


@_never_raises
def on_post_tool_use(payload, ledger_path, prices) -> None:
    """Remember what PostToolUse reports (agent id, status, resolved model) and settle."""
    if not isinstance(payload, dict) or not _ledger_ok(ledger_path):
        return
    check_state_files(ledger_path)
    tool_use_id = payload.get("tool_use_id")
    if not safe_name(tool_use_id):
        return
    tool_name = payload.get("tool_name")
    if isinstance(tool_name, str) and tool_name not in claude_code.SPAWN_TOOLS:
        return
    tool_input = coerce.mapping(payload.get("tool_input"))
    response = coerce.mapping(payload.get("tool_response"))
    now = time.time()
    post = _common(payload, now)
    status = coerce.text(response.get("status"), 40)
    agent_id = response.get("agentId") if safe_name(response.get("agentId")) else None
    pdir = pending.pending_dir(ledger_path)
    skey = pending.session_key(post["session_id"])
    pre = pending.read_part(pending.pre_path(pdir, skey, tool_use_id))
    parent_model = _parent_model(post, tool_use_id, tool_input, pre)
    completed = status == "completed"
    post.update(
        {
            "part": "post",
            "tool_use_id": tool_use_id,
            "tool_name": coerce.text(tool_name, 40),
            "agent_id": agent_id,
            "status": status,
            "background": status == "async_launched" or response.get("isAsync") is True,
            "resolved_model": coerce.text(response.get("resolvedModel"), 100),
            "agent_type": coerce.text(response.get("agentType")) or coerce.text(tool_input.get("subagent_type")),
            "description": coerce.cut(tool_input.get("description"), records.DESCRIPTION_CHARS),
            "input_model": coerce.text(tool_input.get("model"), 100),
            "duration_ms": coerce.count(response.get("totalDurationMs")) if completed else None,
            "last_digest": transcript.text_digest(_last_text(response.get("content"))) if completed else None,
            "parent_model": coerce.text(parent_model, 100),
        }
    )
    with ledger.locked(ledger_path) as ok:
        # A spawn already settled from its SubagentStop alone (agent id known, tool_use_id not) still
        # gets this part: the settle then consumes its pre part (pending.load_parts).
        if _settled(ok, pdir, "tu", skey, tool_use_id, ledger_path):
            return
        pending.write_part(pending.post_path(pdir, skey, tool_use_id), post)
        if ok:
            _settle_locked(ledger_path, prices, now, False)


# --------------------------------------------------------------------------- SubagentStop


def _wait_for_final_message(path, digest, roots):
    """The race: SubagentStop may fire before the transcript holds the final message. Wait a little
    (outside the lock: parallel hooks must not queue behind this) — settle re-checks anyway.
    Returns the last read (``None``: not read)."""
    if not path or not transcript.allowed(path, roots):
        return None
    deadline = hookio.wait_until(stop_wait_s())  # never past the hook process's own deadline
    while True:
        usage = completion.read_transcript(path, digest, roots)
        if usage.complete or (usage.error is not None and usage.error != transcript.MISSING):
            return usage
        if time.monotonic() >= deadline:
            return usage
        time.sleep(STOP_POLL_S)


def spawning_session(agent_transcript):
    """The session id in ``<config>/projects/<slug>/<session_id>/subagents/agent-<id>.jsonl``, or
    ``None`` when the path is not shaped so."""
    parent = os.path.dirname(agent_transcript)
    if os.path.basename(parent) != "subagents":  # the layout transcript.subagent_transcript_path builds
        return None
    session_id = os.path.basename(os.path.dirname(parent))
    return session_id if safe_name(session_id) else None


@_never_raises
def on_subagent_stop(payload, ledger_path, prices) -> None:
    """Remember the stop (transcript path, final message digest), wait briefly for the transcript
    to hold the final message, and settle."""
    if not isinstance(payload, dict) or not _ledger_ok(ledger_path):
        return
    check_state_files(ledger_path)
    agent_id = payload.get("agent_id")
    if not safe_name(agent_id):
        return
    pdir = pending.pending_dir(ledger_path)
    stop = _common(payload, time.time())
    path = records.jsonl_path(payload.get("agent_transcript_path"))
    if path is None or os.path.basename(path) != f"{pending.STOP_PREFIX}{agent_id}.jsonl":
        # Claude Code names it agent-<agent_id>.jsonl; anything else is not this agent's transcript
        path = transcript.subagent_transcript_path(stop["transcript_path"], stop["session_id"], agent_id)
    else:
        # The spawn belongs to the session that launched it, whose id names the directory the
        # transcript lives in; the stop's own session_id may be a newer one (a background agent
        # that ends after /clear), which would keep it from joining its PreToolUse/PostToolUse.
        stop["session_id"] = spawning_session(path) or stop["session_id"]
    skey = pending.session_key(stop["session_id"])
    if pending.is_settled(pdir, "ag", skey, agent_id):
        return
    digest = transcript.text_digest(payload.get("last_assistant_message"))
    usage = _wait_for_final_message(path, digest, transcript.read_roots(stop["transcript_path"]))
    now = time.time()
    agent_type = payload.get("agent_type")  # "" (Claude Code's internal helpers) is kept
    stop.update(
        {
            "ts": now,
            "part": "stop",
            "agent_id": agent_id,
            "agent_type": agent_type if isinstance(agent_type, str) and len(agent_type) <= 200 else None,
            "agent_transcript_path": path,
            "last_digest": digest,
        }
    )
    if usage is not None and usage.complete:
        # the foreground PostToolUse that follows prices this very read instead of reading it again
        stop["read"] = transcript.carry(usage, digest)
    with ledger.locked(ledger_path) as ok:
        if _settled(ok, pdir, "ag", skey, agent_id, ledger_path):
            return
        pending.write_part(pending.stop_path(pdir, skey, agent_id), stop)
        if ok:
            _settle_locked(ledger_path, prices, now, False)


# --------------------------------------------------------------------------- SessionEnd


def session_record(transcript_path, session_id, project=None, now=None):
    """The session record from the transcript's last ``cost-state`` line, or ``None``."""
    if not safe_name(session_id) or not records.session_transcript_ok(transcript_path, session_id):
        return None
    state = transcript.read_cost_state(transcript_path)
    if state is None:
        return None
    state_session = state.get("sessionId")
    if isinstance(state_session, str) and state_session != session_id:
        return None
    return records.session_record(
        state, session_id, project, transcript.read_version(transcript_path), time.time() if now is None else now
    )


@_never_raises
def on_session_end(payload, ledger_path) -> None:
    """Record the session's whole cost from Claude Code's own cost-state (tail of the session
    transcript), so a report can tell which share went to subagents."""
    if not isinstance(payload, dict) or not _ledger_ok(ledger_path):
        return
    check_state_files(ledger_path)
    session_id = _session_id(payload)
    record = session_record(records.jsonl_path(payload.get("transcript_path")), session_id, _project(payload))
    if record is None:
        return
    pdir = pending.pending_dir(ledger_path)
    with ledger.locked(ledger_path) as ok:
        if ok:
            _append_session_record(pdir, ledger_path, session_id, record)
            return
        # Another process holds the lock past this hook's deadline: the record is not appended
        # unlocked (the duplicate check below needs the lock); it waits as a part, and the next
        # settle (any accounting hook, or the report) appends it.
        try:
            pending.write_part(pending.session_end_path(pdir, session_id), record)
        except OSError:
            pass


def _append_session_record(pdir, ledger_path, session_id, record) -> None:
    """Append a session record, under the ledger lock, unless the last one for this session said
    the same (SessionEnd fires again on a resumed session with nothing new)."""
    marker = pending.session_marker_path(pdir, session_id)
    signature = {"cost": record.get("session_cost_usd"), "models": record.get("model_costs")}
    last = pending.read_part(marker)
    if last is not None and last.get("cost") == signature["cost"] and last.get("models") == signature["models"]:
        return  # nothing new since the last SessionEnd: no duplicate line
    _append(ledger_path, record)
    try:
        pending.write_part(marker, signature)
    except OSError:
        pass


def _append_deferred_session_records(pdir, ledger_path) -> None:
    """The session records SessionEnd left as parts (the lock was busy), appended now (locked)."""
    for session_id, path in pending.session_end_parts(pdir):
        record = pending.read_part(path)
        if record is not None and record.get("kind") == "session" and record.get("session_id") == session_id:
            _append_session_record(pdir, ledger_path, session_id, record)
        pending.remove(path)


# --------------------------------------------------------------------------- settling


def settle(ledger_path: str, prices, now: float | None = None, force: bool = False) -> int:
    """Join and price every pending spawn that can be; returns the number of records appended.

    ``force`` (report time): settle what can never complete — unreadable transcripts become
    ``unpriced`` records, incomplete ones are priced as they are — but never a background spawn
    that is still running."""
    try:
        if not _ledger_ok(ledger_path):
            return 0
        check_state_files(ledger_path)
        if not os.path.isdir(pending.pending_dir(ledger_path)):
            return 0
        now = time.time() if now is None else now
        with ledger.locked(ledger_path) as ok:
            if not ok:
                return 0
            return _settle_locked(ledger_path, prices, now, force)
    except files.UnsafeFile:
        raise  # told once by the hook, an error in the report
    except Exception:  # noqa: BLE001
        return 0


def _join(pdir: str, ledger_path: str, pres: dict, posts: dict, stops: dict) -> dict:
    """The parts grouped by spawn, within each session: ``("tu", session key, tool_use_id)`` or, for
    a stop whose tool_use_id is not known, ``("ag", session key, agent_id)`` →
    ``{pre, post, stop, meta, tool_use_id, agent_id, session_key}``."""
    groups: dict = {}
    agent_to_tu = {(skey, p["agent_id"]): tu for (skey, tu), p in posts.items() if p.get("agent_id")}
    for (skey, agent_id), stop in stops.items():
        tool_use_id = agent_to_tu.get((skey, agent_id))
        meta = None
        if tool_use_id is None:
            meta = completion.meta_for(stop.get("agent_transcript_path"), stop.get("transcript_path"))
            linked = coerce.mapping(meta).get("toolUseId")
            other = posts.get((skey, linked))
            if safe_name(linked) and not (other and other.get("agent_id") not in (None, agent_id)):
                tool_use_id = linked
        if tool_use_id and pending.still_settled(pdir, "tu", skey, tool_use_id, ledger_path):
            # its spawn is already in the ledger (a replayed or stray SubagentStop)
            try:
                offset = pending.settled_offset(pdir, "tu", skey, tool_use_id) or 0
                pending.mark_settled(pdir, "ag", skey, agent_id, offset)
            except OSError:
                continue  # the part stays; the next settle drops it
            pending.remove(stop.get("_file"))
            continue
        key = ("tu", skey, tool_use_id) if tool_use_id else ("ag", skey, agent_id)
        groups[key] = {"stop": stop, "meta": meta, "tool_use_id": tool_use_id, "agent_id": agent_id}
    for (skey, tool_use_id), post in posts.items():
        group = groups.setdefault(("tu", skey, tool_use_id), {"tool_use_id": tool_use_id})
        group["post"] = post
        group["agent_id"] = group.get("agent_id") or post.get("agent_id")
    for (skey, tool_use_id), pre in pres.items():
        groups.setdefault(("tu", skey, tool_use_id), {"tool_use_id": tool_use_id})["pre"] = pre
    for (_, skey, _), group in groups.items():
        group["session_key"] = skey
    return groups


def _write_record(pdir: str, ledger_path: str, skey: str, tool_use_id, agent_id, record: dict) -> bool:
    """Tombstones first, carrying where the record will start, then the record: killed before the
    record is whole, the next settle sees the parts, finds no record there, and settles it again.
    ``False`` when something could not be written (disk full, quota, …): the tombstones written are
    taken back and the ledger is as it was (``ledger.append``), so the parts stay pending."""
    offset = pending.ledger_size(ledger_path)
    marked = []
    try:
        for kind, key in (("tu", tool_use_id), ("ag", agent_id)):
            if key:
                pending.mark_settled(pdir, kind, skey, key, offset)
                marked.append((kind, key))
        _append(ledger_path, record)
    except OSError:
        for kind, key in marked:
            pending.unmark_settled(pdir, kind, skey, key)
        return False
    return True


def _already_recorded(pdir: str, ledger_path: str, group: dict) -> bool:
    """The spawn is in the ledger under one of its ids already (a late event, or an agent found by
    its meta file after it was settled from its SubagentStop alone): its other id gets a tombstone
    too and its parts go, so it never makes a second record."""
    skey, tool_use_id, agent_id = group["session_key"], group.get("tool_use_id"), group.get("agent_id")
    for kind, key, other_kind, other in (("tu", tool_use_id, "ag", agent_id), ("ag", agent_id, "tu", tool_use_id)):
        if key and pending.still_settled(pdir, kind, skey, key, ledger_path):
            if other and not pending.is_settled(pdir, other_kind, skey, other):
                try:
                    pending.mark_settled(
                        pdir, other_kind, skey, other, pending.settled_offset(pdir, kind, skey, key) or 0
                    )
                except OSError:
                    return True  # the parts stay; the next settle comes here again
            _remove_parts(group)
            return True
    return False


def _remove_parts(group: dict) -> None:
    for part in ("pre", "post", "stop"):
        if group.get(part):
            pending.remove(group[part].get("_file"))
    if group.get("live_cursor"):
        pending.remove(group["live_cursor"])


def _note_capped(ledger_path: str, group: dict, record: dict) -> None:
    """A spawn its caps stopped (``caps``: the subagent's tool calls were denied at a cap) says so
    in its record: ``capped: {cap, limit, at}``; its live cursor goes with its parts."""
    if not os.path.isdir(os.path.join(os.path.dirname(os.path.abspath(ledger_path)), pending.LIVE_DIRNAME)):
        return  # no subagent's caps were ever checked beside this ledger: nothing to note or remove
    from cco_hooks import caps, live

    hit = caps.capped(ledger_path, group["session_key"], group["agent_id"])
    if hit is not None:
        record["capped"] = hit
    group["live_cursor"] = live.cursor_path(ledger_path, group["session_key"], group["agent_id"])


def _settle_locked(ledger_path: str, prices, now: float, force: bool) -> int:
    if not isinstance(prices, pricing.Prices):
        return 0  # without a price table nothing is settled (it would all look unpriced)
    pdir = pending.pending_dir(ledger_path)
    try:
        pending.migrate_legacy(pdir, ledger_path)
    except OSError:
        pass  # finished by a later settle; the old tombstones stay until then
    _append_deferred_session_records(pdir, ledger_path)
    pres, posts, stops = pending.load_parts(pdir, now, ledger_path)
    pending.sweep(pdir, now, force)
    if not (pres or posts or stops):
        return 0
    written = 0
    live_dir = os.path.isdir(os.path.join(os.path.dirname(os.path.abspath(ledger_path)), "live"))
    for group in _join(pdir, ledger_path, pres, posts, stops).values():
        try:
            record = completion.record_if_complete(group, prices, now, force)
        except Exception:  # noqa: BLE001 - one bad spawn must not block the others
            record = completion.record_after_failure(group, prices, now)
        if record is None or _already_recorded(pdir, ledger_path, group):
            continue
        if live_dir and group.get("agent_id"):
            _note_capped(ledger_path, group, record)
        if not _write_record(
            pdir, ledger_path, group["session_key"], group.get("tool_use_id"), group.get("agent_id"), record
        ):
            break  # the disk is full: the rest stay pending too, for a later settle
        written += 1
        _remove_parts(group)
    return written
