"""Telling the orchestrator what its spawns cost (config ``feedback: true``, off by default).

The model that picks subagents and their models never sees a price. With ``feedback: true``:

- after each spawn, PostToolUse answers with ``hookSpecificOutput.additionalContext`` (Claude Code
  adds it to the next main-loop request): the spawn's model, its cost and savings when it has
  settled (a foreground spawn), or that it runs in the background; then the budget left;
- a PreToolUse denial's reason, and a budget downgrade (as ``additionalContext``, a rewrite has
  no reason Claude sees), carry the same figures.

Budget left is each cap the spawn falls under (session, day, agent type) minus what is spent:
the running totals (``totals``) plus spawns stopped but not settled yet (``budget.unsettled_costs``).

Stdlib only: loaded by the PostToolUse and PreToolUse hooks only when the config turns it on.
"""

import time

from cco_hooks import coerce, fastjson, files, pending
from cco_hooks.fastos import os

_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
RECORD_READ_CAP = 1 << 20  # a spawn record is a few hundred bytes


def enabled(snap):
    return isinstance(snap, dict) and snap.get("feedback") is True


def caps_left(payload, snap, ledger_path, agent_type=None, now=None, extra_usd=0.0):
    """``[(what, cap, used)]`` for each budget cap this session (and ``agent_type``) falls under.

    ``extra_usd``: spend the totals do not hold yet and the caller knows of (the status line's
    running subagents), counted against the session and the day."""
    from cco_hooks import budget, totals

    conf = coerce.mapping(snap.get("budget"))
    if not conf:
        return []
    now = time.time() if now is None else now
    zone = budget.day_zone(conf)
    spent = totals.read_totals(ledger_path, zone)
    for session, agent, day, cost in budget.unsettled_costs(ledger_path, snap, zone):
        totals.add_cost(spent, day, session, agent, cost)
    today = totals.utc_day(now) if zone is None else zone.day(now)
    day_totals = coerce.mapping(spent["days"].get(today))
    session = payload.get("session_id") if isinstance(payload.get("session_id"), str) else None
    out = []
    session_cap = coerce.number(conf.get("session_usd"))
    if session_cap is not None and session:
        used = coerce.number(coerce.mapping(spent["sessions"].get(session)).get("usd")) or 0.0
        out.append(("this session", session_cap, used + extra_usd))
    daily = coerce.number(conf.get("daily_usd"))
    if daily is not None:
        used = coerce.number(day_totals.get("usd")) or 0.0
        out.append(("today" if zone is None else f"today ({zone.name})", daily, used + extra_usd))
    if agent_type:
        agent = totals.agent_key(agent_type)
        agent_spend = coerce.mapping(day_totals.get("agents"))
        for key, cap in budget.per_agent_caps(conf):
            if budget.cap_matches(key, agent):
                used = sum(coerce.number(v) or 0.0 for k, v in agent_spend.items() if budget.cap_matches(key, k))
                out.append((f"agent {key} today", cap, used))
    return out


def budget_left_text(caps):
    """``Budget left: this session $4.58 of $5.00; today $20.12 of $25.00.`` (or no budget set)."""
    from cco_hooks import budget

    if not caps:
        return "No budget is set."
    parts = [
        f"{what} {budget.format_usd(max(cap - used, 0.0))} of {budget.format_usd(cap)}" for what, cap, used in caps
    ]
    return "Budget left: " + "; ".join(parts) + "."


def _record_at(ledger_path, offset):
    """The ledger record that starts at ``offset`` (a tombstone's), or ``None``."""
    try:
        fd = os.open(ledger_path, os.O_RDONLY | _O_CLOEXEC | files.O_NONBLOCK | files.O_NOFOLLOW)
    except OSError:
        return None
    try:
        data = os.pread(fd, RECORD_READ_CAP, offset)
    except OSError:
        return None
    finally:
        os.close(fd)
    data = data[1:] if data.startswith(b"\n") else data
    end = data.find(b"\n")
    if end < 0:
        return None
    try:
        record = fastjson.loads(data[:end].decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
    return record if isinstance(record, dict) else None


def spawn_record(payload, ledger_path):
    """This PostToolUse's spawn record, when the settle just wrote it (its tombstone says where)."""
    tool_use_id = payload.get("tool_use_id")
    skey = pending.session_key(payload.get("session_id"))
    pdir = pending.pending_dir(ledger_path)
    offset = pending.settled_offset(pdir, "tu", skey, tool_use_id)
    if offset is None:
        return None
    record = _record_at(ledger_path, offset)
    if record is None or record.get("tool_use_id") != tool_use_id:
        return None
    return record


def after_spawn(payload, snap, ledger_path, now=None):
    """The ``additionalContext`` PostToolUse sends after a spawn: what it ran on and cost, and the
    budget left."""
    from cco_hooks import budget

    tool_input = coerce.mapping(payload.get("tool_input"))
    response = coerce.mapping(payload.get("tool_response"))
    agent_type = coerce.text(response.get("agentType")) or coerce.text(tool_input.get("subagent_type"))
    agent_type = agent_type or "general-purpose"
    record = spawn_record(payload, ledger_path)
    if record is not None and record.get("status") == "completed":
        model = coerce.text(record.get("actual_model"), 100) or "an unknown model"
        cost = coerce.number(record.get("cost_usd"))
        text = f"cco-hooks: the {agent_type} spawn ran on {model} and cost {budget.format_usd(cost or 0.0)}"
        savings = coerce.number(record.get("savings_usd"))
        baseline = coerce.text(record.get("requested_model_id"), 100)
        if savings and baseline:
            verb = "saved" if savings > 0 else "cost"
            text += (
                f" ({verb} {budget.format_usd(abs(savings))} {'against' if savings > 0 else 'more than'} {baseline})"
            )
        text += "."
    elif record is not None and record.get("status") == "unpriced":
        model = coerce.text(record.get("actual_model"), 100) or "an unknown model"
        reason = coerce.text(record.get("unpriced_reason"), 200) or "unknown"
        text = f"cco-hooks: the {agent_type} spawn ran on {model}; its cost is unknown ({reason})."
    else:
        model = coerce.text(response.get("resolvedModel"), 100) or coerce.text(tool_input.get("model"), 100)
        on = f" on {model}" if model else ""
        if response.get("status") == "async_launched" or response.get("isAsync") is True:
            text = f"cco-hooks: the {agent_type} spawn runs in the background{on}; its cost counts once it finishes."
        else:
            text = f"cco-hooks: the {agent_type} spawn ran{on}; its cost is not settled yet."
    caps = caps_left(payload, snap, ledger_path, agent_type, now)
    return f"{text} {budget_left_text(caps)}"


def with_figures(decision, payload, snap, ledger_path, now=None):
    """The figures a denial's reason or a budget downgrade carries: the model the spawn would run
    on and the budget left."""
    agent_type = decision.get("agent_type") or "general-purpose"
    model = decision.get("enforced_model")
    on = f" on {model}" if isinstance(model, str) and model else ""
    caps = caps_left(payload, snap, ledger_path, agent_type, now)
    return f"(cco-hooks feedback: {agent_type}{on}.) {budget_left_text(caps)}"
