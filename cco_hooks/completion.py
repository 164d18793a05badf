"""When a spawn is complete: its record to write now, or ``None`` to leave it pending.

A spawn's transcript is complete when:

- SubagentStop seen: its final assistant message (``last_assistant_message``) is in the transcript
  and the last line is whole; or, ``GRACE_S`` after the stop, the transcript ends cleanly on a final
  ``stop_reason`` (in case the texts are spelt differently).
- no SubagentStop: the foreground PostToolUse reported ``completed`` (its last text is matched), or
  ``agent-<id>.meta.json`` says ``"finished": true``.
- else, ``STALE_S`` after the last part (or under ``force``, ``FORCE_GRACE_S`` after it), whatever the
  transcript holds is priced (``transcript_complete: false``); a background spawn still running is
  left alone until ``ORPHAN_S``.

Nothing is ever lost: a spawn whose transcript can never be read is recorded ``unpriced`` with a
reason, and one that keeps failing to settle (damaged parts) is recorded once it is ``ORPHAN_S`` old.

Stdlib only; loaded when a hook settles (never by PreToolUse).
"""

from cco_hooks import coerce, pending, records, transcript
from cco_hooks.fastos import os

GRACE_S = 30.0  # a stop part may wait this long for its PostToolUse; text-mismatch tolerance
FORCE_GRACE_S = 2.0  # under force (report time) parts younger than this are still left alone
STALE_S = 30 * 60.0  # after this an incomplete / missing transcript is settled as it is
ORPHAN_S = 24 * 3600.0  # a pre-only part or a still-running background spawn, given up after this

_read_cache: dict = {}  # (path, digest) → ((size, mtime_ns), TranscriptUsage)


def read_transcript(path, digest, roots, carried=None):
    """``transcript.read_usage`` with a per-process cache keyed by (size, mtime), and the read a
    SubagentStop carried in its part (``transcript.carry``) used when the file is unchanged since."""
    key = (path, digest)
    try:
        st = os.stat(path)
        sig = (st.st_size, st.st_mtime_ns)
    except (OSError, TypeError, ValueError):
        sig = None
    cached = _read_cache.get(key)
    if cached is not None and sig is not None and cached[0] == sig:
        return cached[1]
    usage = transcript.from_carried(path, carried, digest, roots) if carried is not None else None
    if usage is None:
        usage = transcript.read_usage(path, expect_digest=digest, roots=roots)
    if sig is not None and usage.error is None:
        if len(_read_cache) > 64:
            _read_cache.clear()
        _read_cache[key] = (sig, usage)
    return usage


def meta_for(agent_transcript, session_transcript):
    """The ``agent-<id>.meta.json`` beside a subagent transcript we may read, or ``None``."""
    if not agent_transcript or not transcript.allowed(agent_transcript, transcript.read_roots(session_transcript)):
        return None
    return transcript.read_meta(agent_transcript)


def find_agent_by_meta(pre: dict):
    """A spawn whose PostToolUse and SubagentStop were both missed: find its agent by the
    ``toolUseId`` of the meta files in the session's subagents directory."""
    session_transcript = pre.get("transcript_path")
    directory = transcript.subagents_dir(session_transcript, pre.get("session_id"))
    roots = transcript.read_roots(session_transcript)
    if not directory or not transcript.allowed(os.path.join(directory, "x.jsonl"), roots):
        return None, None
    try:
        names = os.listdir(directory)
    except OSError:
        return None, None
    prefix = pending.STOP_PREFIX
    for name in names:
        if name.startswith(prefix) and name.endswith(".meta.json"):
            agent_id = name[len(prefix) : -len(".meta.json")]
            meta = transcript.read_meta(os.path.join(directory, f"{prefix}{agent_id}.jsonl"))
            if meta is not None and meta.get("toolUseId") == pre.get("tool_use_id") and pending.safe_name(agent_id):
                return agent_id, meta
    return None, None


def record_if_complete(group: dict, prices, now: float, force: bool):
    """The record to write for this spawn now, or ``None`` to leave it pending."""
    pre, post, stop = group.get("pre"), group.get("post"), group.get("stop")
    parts = [p for p in (pre, post, stop) if p]
    age = now - max(p["ts"] for p in parts)
    grace = FORCE_GRACE_S if force else GRACE_S

    if not post and not stop:
        if pre is None:
            return None
        if coerce.mapping(pre.get("decision")).get("action") == "deny":
            return records.denied_record(pre)
        if age < STALE_S:
            return None  # the spawn is running (foreground) or its PostToolUse is on its way
        agent_id, meta = find_agent_by_meta(pre)
        if agent_id is None:
            return None if age < ORPHAN_S else records.unpriced_record(group, prices, "no_result", now)
        group["agent_id"] = agent_id
        group["meta"] = meta

    if group.get("agent_id") is None and not stop:
        return records.unpriced_record(group, prices, "no_agent_id", now)
    return _record_from_transcript(group, prices, now, force, age, grace)


def _record_from_transcript(group: dict, prices, now: float, force: bool, age: float, grace: float):
    """The second half of ``record_if_complete``: the spawn's agent is known; is its transcript done?"""
    pre, post, stop = group.get("pre"), group.get("post"), group.get("stop")
    parts = [p for p in (pre, post, stop) if p]
    session_transcript = next((p.get("transcript_path") for p in parts if p.get("transcript_path")), None)
    session_id = next((p.get("session_id") for p in parts if p.get("session_id")), None)
    path = (stop or {}).get("agent_transcript_path") or transcript.subagent_transcript_path(
        session_transcript, session_id, group.get("agent_id")
    )

    if stop is not None:
        digest = stop.get("last_digest")
        if post is None and age < grace:
            return None  # a foreground PostToolUse follows its SubagentStop within moments
    elif post is not None and post.get("status") == "completed":
        digest = post.get("last_digest")
    else:
        digest = None
        if group.get("meta") is None:
            group["meta"] = meta_for(path, session_transcript)
        if coerce.mapping(group["meta"]).get("finished") is not True and age < ORPHAN_S:
            return None  # a background spawn still running

    if not path:
        if force or age >= STALE_S:
            return records.unpriced_record(group, prices, "transcript_unknown", now)
        return None
    carried = stop.get("read") if stop is not None and stop.get("agent_transcript_path") == path else None
    usage = read_transcript(path, digest, transcript.read_roots(session_transcript), carried)
    if usage.error is not None:
        if usage.error in transcript.PERMANENT_ERRORS or age >= STALE_S or (force and age >= grace):
            return records.unpriced_record(group, prices, "transcript_" + usage.error, now)
        return None
    if usage.complete:
        return records.spawn_record(group, prices, usage, now)
    if usage.final and not usage.torn_tail and age >= grace:
        return records.spawn_record(group, prices, usage, now)
    if age >= STALE_S or (force and age >= grace):
        return records.spawn_record(group, prices, usage, now)
    return None


def record_after_failure(group: dict, prices, now: float):
    """A spawn whose settling raised (damaged parts): recorded unpriced once it is ``ORPHAN_S`` old,
    so it neither blocks the pending dir nor disappears; ``None`` before that."""
    parts = [group.get(k) for k in ("pre", "post", "stop") if group.get(k)]
    if not parts or now - min(p["ts"] for p in parts) < ORPHAN_S:
        return None
    return records.failed_record(group, prices, now)
