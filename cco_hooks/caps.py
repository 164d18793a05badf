"""Per-spawn caps, enforced inside a running subagent by PreToolUse on its own tool calls.

Config: ``caps: {max_usd, max_requests, max_tool_calls, max_minutes, warn_at}`` at the top (the
default for every spawn) and inside an agent's rule, merged per key; a rule's caps from a
repository's layer only tighten (``config.build``). Claude Code runs PreToolUse for every tool call
a subagent makes, with its ``agent_id`` and ``agent_type``: at ``warn_at`` (default 0.8) of a cap
the subagent is told once, through ``additionalContext``, to wrap up; once a cap is reached its
tool calls are denied with a reason telling it to stop and report what it has, so its final
answer still reaches the parent. A denied call is answered to the subagent as the tool's error; the
subagent then writes its report, one more API request, which the cost and request caps leave room
for: ``max_requests: 5`` is five requests, the report included; ``max_usd`` is reached once one more
request like the latest would pass it, so a spawn ends within about one request of its cost cap.

What the subagent has done so far is kept in its cursor (``live``): the running cost and requests
read incrementally from its transcript, the tool calls counted here, when it started, whether it
was warned, and the cap that stopped it (``capped``: the settle copies it into the spawn's record).
Two tool calls of one response run their hooks at the same time and may both read the same cursor:
one call may then go uncounted, never one counted twice.

Stdlib only: imported by the PreToolUse hook only for tool calls made inside a subagent.
"""

import time

from cco_hooks import agents, coerce, hookio, paths

# Loaded when a subagent's tool call is checked; ``budget.reservation`` needs none of them.
live = hookio.OnFirstUse("live", globals())
pricing = hookio.OnFirstUse("pricing", globals())
transcript = hookio.OnFirstUse("transcript", globals())

CAP_KEYS = ("max_usd", "max_requests", "max_tool_calls", "max_minutes")
DEFAULT_WARN_AT = 0.8
LINE_WAIT_S = 2.0  # at most, for the transcript line of the response that made the tool call
WHAT = {
    "max_usd": "cost",
    "max_requests": "API requests",
    "max_tool_calls": "tool calls",
    "max_minutes": "minutes",
}


def _values(section):
    """The caps a config section sets: numbers ≥ 0 only (the config check reports the rest)."""
    out = {}
    for key in CAP_KEYS + ("warn_at",):
        value = coerce.number(coerce.mapping(section).get(key))
        if value is not None and value >= 0:
            out[key] = value
    return out


def rule_for(agent_type, snap):
    """The routing rule whose ``caps`` apply to ``agent_type`` (config rules only: agent files and the
    default rule carry no caps), or ``None``."""
    return agents.find_rule(agent_type, snap.get("exact") or {}, snap.get("globs") or [])


def effective(snap, agent_type):
    """The caps in force for a spawn of ``agent_type``: the top-level ``caps`` with its rule's over
    them per key. A rule's cap from a repository's layer (not in ``caps_trusted``) lowers the
    top-level one, never raises it (``warn_at`` only earlier)."""
    base = _values(snap.get("caps"))
    rule = rule_for(agent_type, snap)
    if not isinstance(rule, dict) or not rule.get("caps"):
        return base
    merged = dict(base)
    trusted = rule.get("caps_trusted") or ()
    for key, value in _values(rule.get("caps")).items():
        if key not in trusted and key in base and value > base[key]:
            continue
        merged[key] = value
    return merged


def reservation(snap, agent_type):
    """The per-spawn ``max_usd`` in force for ``agent_type``, or ``None`` (a budget reserves it)."""
    if not snap.get("caps_any"):
        return None
    return effective(snap, agent_type).get("max_usd")


def _measures(state, now):
    started = coerce.number(state.get("first_ts")) or coerce.number(state.get("seen_at")) or now
    return {
        "max_usd": coerce.number(state.get("usd_now")) or 0.0,
        "max_requests": coerce.number(state.get("requests_now")) or 0,
        "max_tool_calls": coerce.number(state.get("tool_calls")) or 0,
        "max_minutes": max(0.0, (now - started) / 60.0),
    }


def _shown(key, value):
    if key == "max_usd":
        return f"${value:.4f}"
    if key == "max_minutes":
        return f"{value:.1f} min"
    return f"{value:g}"


def check(payload, snap, ledger_path, now=None):
    """The answer to a subagent's tool call: ``None`` (go on), a wrap-up note, or a denial."""
    agent_id = payload.get("agent_id")
    if not snap.get("caps_any") or not paths.safe_name(agent_id):
        return None
    agent_type = payload.get("agent_type") if isinstance(payload.get("agent_type"), str) else None
    caps = effective(snap, agent_type)
    limits = {key: caps[key] for key in CAP_KEYS if key in caps}
    if not limits:
        return None
    now = time.time() if now is None else now
    session_id = payload.get("session_id")
    cursor = live.cursor_path(ledger_path, session_id, agent_id)
    previous = live.load_cursor(cursor)
    session_transcript = payload.get("transcript_path")
    path = transcript.subagent_transcript_path(session_transcript, session_id, agent_id)
    prices = None
    if "max_usd" in limits:
        prices = pricing.load_prices(override_path=snap.get("pricing_file"))
    roots = transcript.read_roots(session_transcript)
    tool_use_id = payload.get("tool_use_id")
    if ("max_usd" in limits or "max_requests" in limits) and path and paths.safe_name(tool_use_id):
        # the response that made this call must be counted: wait for its line (it lags a little)
        if transcript.allowed(path, roots):
            live.wait_for_line(path, f'"{tool_use_id}"'.encode(), LINE_WAIT_S)
    state = live.read_running(path, previous, prices, roots)
    state["agent_type"] = agent_type
    state.setdefault("seen_at", now)
    state["tool_calls"] = int(coerce.number(state.get("tool_calls")) or 0) + 1  # this call included
    measures = _measures(state, now)
    # Tool calls: this one is the n-th, allowed up to the cap; minutes: reached at the cap. Cost and
    # requests leave room for the one request that must still come, the report: reached once one
    # more like the latest would pass the cap, so the spawn ends within about one request of it.
    upcoming = {
        "max_usd": coerce.number(state.get("last_usd_now")) or 0.0,
        "max_requests": 1,
        "max_tool_calls": 0,
        "max_minutes": 0,
    }
    hit = state.get("capped") if isinstance(state.get("capped"), dict) else None
    if hit is None:
        for key, cap in limits.items():
            used = measures[key]
            if used + upcoming[key] > cap if key != "max_minutes" else used >= cap:
                hit = {"cap": key, "limit": cap, "at": round(used, 9), "ts": now}
                state["capped"] = hit
                break
    out = None
    if hit is not None:
        out = _deny(hit, agent_type)
    else:
        warn_at = caps.get("warn_at", DEFAULT_WARN_AT)
        near = [k for k, cap in limits.items() if cap > 0 and measures[k] >= warn_at * cap]
        if near and not state.get("warned"):
            state["warned"] = near[0]
            out = _wrap_up(near[0], measures[near[0]], limits[near[0]])
    for key in ("usd_now", "requests_now", "last_usd_now"):
        state.pop(key, None)
    try:
        live.save_cursor(cursor, state)
    except OSError:
        pass  # a full disk: the next call counts from the last saved cursor
    return out


def _wrap_up(key, used, cap):
    text = (
        f"cco-hooks: this subagent has used {_shown(key, used)} of its cap of {_shown(key, cap)} "
        f"({WHAT[key]}, caps.{key}). Wrap up now: finish the step you are on, then give your final "
        "report with what you have found so far. At the cap, further tool calls will be denied."
    )
    return {"hookSpecificOutput": {"hookEventName": "PreToolUse", "additionalContext": text}}


def _deny(hit, agent_type):
    key = hit.get("cap") if hit.get("cap") in WHAT else "max_usd"
    limit = coerce.number(hit.get("limit")) or 0
    text = (
        f"cco-hooks: this subagent reached its cap of {_shown(key, limit)} ({WHAT[key]}, caps.{key}"
        + (f" for {agent_type}" if agent_type else "")
        + "). Do not call any more tools. Stop now and reply with your final report: what you found, what "
        "is done and what is left undone, so the task that spawned you can go on from there."
    )
    return {
        "hookSpecificOutput": {
            "hookEventName": "PreToolUse",
            "permissionDecision": "deny",
            "permissionDecisionReason": text,
        }
    }


def capped(ledger_path, session_id, agent_id):
    """``{"cap", "limit", "at", "ts"}`` when this spawn was stopped by a cap, else ``None``."""
    state = live.load_cursor(live.cursor_path(ledger_path, session_id, agent_id))
    hit = state.get("capped") if isinstance(state, dict) else None
    if not isinstance(hit, dict) or hit.get("cap") not in WHAT:
        return None
    return {key: hit.get(key) for key in ("cap", "limit", "at")}
