"""The ledger's records, built in one place: every spawn record (completed, unpriced, denied,
failed to settle) starts from the same blank record, so every kind carries every field of
``config/ledger.schema.json``; the session record is built here too.

A spawn's parts (``pending``) are joined into a ``group`` dict — ``pre``, ``post``, ``stop``,
``meta``, ``tool_use_id``, ``agent_id`` — and priced here from its transcript's requests.

Stdlib only and import-light: PreToolUse records a denied spawn with it. The transcript reader is
loaded only when a record needs it.
"""

import time

from cco_hooks import claude_code, coerce, counterfactual, hookio, paths
from cco_hooks.fastos import os

transcript = hookio.OnFirstUse("transcript", globals())

# 2: spawn records say where the counterfactual came from (``requested_source``), and measure
# savings against what Claude Code would have run without cco-hooks. Readers keep reading 1.
SCHEMA_VERSION = 2
DESCRIPTION_CHARS = 80
REASON_CHARS = 300

TOKEN_KEYS = ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h")
DECISION_KEYS = ("action", "mode", "rule", "layer", "source", "reason", "would")
# What a recorded decision's ``action`` may be; anything else is recorded as "unknown".
DECISION_ACTIONS = ("rewrite", "deny", "observe", "allow", "none")
UNKNOWN_ACTION = "unknown"

# The spawn record's fields, in the order they are written.
SPAWN_FIELDS = (
    "v",
    "kind",
    "ts",
    "session_id",
    "project",
    "tool_use_id",
    "agent_id",
    "agent_type",
    "description",
    "background",
    "requested_model",
    "requested_model_id",
    "requested_source",
    "enforced_model",
    "actual_model",
    "effort",
    "decision",
    "status",
    "priced",
    "tokens",
    "web_search_requests",
    "requests",
    "cost_usd",
    "requested_cost_usd",
    "savings_usd",
    "by_model",
    "duration_ms",
    "claude_code_version",
    "transcript_complete",
    "unpriced_reason",
)


def decision_fields(decision: dict) -> dict:
    """The routing decision as recorded: the ``DECISION_KEYS``, cut and checked."""
    fields = {}
    for key in DECISION_KEYS:
        value = decision.get(key)
        fields[key] = coerce.cut(value, REASON_CHARS) if key in ("reason", "source") else coerce.text(value, 200)
    if fields["action"] not in DECISION_ACTIONS:
        fields["action"] = UNKNOWN_ACTION
    if fields["would"] not in ("rewrite", "deny"):
        fields["would"] = None
    return fields


def now_iso(epoch: float) -> str:
    """``epoch`` as the ledger's timestamp; the current time when ``epoch`` is not a usable time."""
    try:
        return transcript.format_iso(epoch)
    except (OverflowError, ValueError, OSError, TypeError):
        return transcript.format_iso(time.time())


def alias_model(prices, alias):
    """The model an Agent-tool alias runs: the price table's alias, else Claude Code's own."""
    if not isinstance(alias, str) or not alias:
        return None
    model = None
    if prices is not None:
        model = prices.alias_model(alias)
        if model is None:
            model = prices.resolve(alias)
    return model or claude_code.ALIAS_MODEL_ID.get(alias.strip().lower())


def session_transcript_ok(path, session_id) -> bool:
    """The session transcript is read (its tail only) when it is a ``.jsonl`` under the Claude config
    dir, or named ``<session_id>.jsonl`` as Claude Code names it."""
    if jsonl_path(path) is None:
        return False
    if transcript.is_under(path, paths.claude_config_dir()):
        return True
    return bool(session_id) and os.path.basename(path) == f"{session_id}.jsonl"


def jsonl_path(value):
    """A transcript path as a payload gives it (a plain ``.jsonl`` path), else ``None``."""
    if isinstance(value, str) and 0 < len(value) <= 4096 and "\0" not in value and value.endswith(".jsonl"):
        return value
    return None


# --------------------------------------------------------------------------- spawn records


def _first(*values):
    for value in values:
        if value is not None:
            return value
    return None


def blank_spawn_record(now: float, tool_use_id=None, agent_id=None) -> dict:
    """A spawn record that knows nothing yet: every field, all unknown. Every spawn record starts so."""
    record = dict.fromkeys(SPAWN_FIELDS)
    decision = dict.fromkeys(DECISION_KEYS)
    decision["action"] = UNKNOWN_ACTION
    record.update(
        v=SCHEMA_VERSION,
        kind="spawn",
        ts=now_iso(now),
        tool_use_id=tool_use_id,
        agent_id=agent_id,
        decision=decision,
        priced=False,
    )
    return record


def _parent_model(group, lookup_parent):
    """The model the spawn's parent ran on: PostToolUse's find, else the session transcript (when
    ``lookup_parent``), else ``ANTHROPIC_MODEL`` as PreToolUse saw it."""
    pre, post, stop = group.get("pre") or {}, group.get("post") or {}, group.get("stop") or {}
    model = post.get("parent_model")
    if model is None and lookup_parent:
        session_transcript = _first(
            pre.get("transcript_path"), post.get("transcript_path"), stop.get("transcript_path")
        )
        session_id = _first(pre.get("session_id"), post.get("session_id"), stop.get("session_id"))
        tool_use_id = group.get("tool_use_id")
        if tool_use_id and session_transcript_ok(session_transcript, session_id):
            model = transcript.find_tool_use_model(session_transcript, tool_use_id)
    return model if model is not None else pre.get("parent_model_env")


def _requested(group, prices, requested, agent_type, lookup_parent):
    """``(requested_source, requested_model_id)``: where the counterfactual came from and the model
    Claude Code would have run the spawn on without us.

    A pre part of schema 2 holds the counterfactual as PreToolUse computed it (``counterfactual``);
    only the parent's model is found here. Without one (an older pre part, or none): the call's
    alias, else (no model named, or a fork, which ignores it) the parent's model."""
    pre = group.get("pre") or {}
    source = pre.get("requested_source")
    if source in claude_code.REQUESTED_SOURCES:
        if source == "parent":
            return source, _parent_model(group, lookup_parent)
        requested_id = pre.get("requested_model_id")
        if requested_id is not None and requested_id == claude_code.ALIAS_MODEL_ID.get(requested):
            # An unpinned first-party alias: the price table may say what it runs (a price file's
            # ``aliases``), as it does for the spawn's own model.
            requested_id = alias_model(prices, requested) or requested_id
        if source in ("call", "agent_file") and requested in claude_code.TIER:
            parent = _parent_model(group, lookup_parent)
            if counterfactual.same_family_as_parent(requested, source, parent):
                requested_id = parent
        return source, requested_id
    fork = claude_code.is_fork(agent_type)
    requested_id = alias_model(prices, requested) if requested and not fork else None
    if requested_id is not None or not (requested is None or fork):
        return "call", requested_id
    return "parent", _parent_model(group, lookup_parent)


def base_record(group: dict, prices, now: float, lookup_parent: bool = True) -> dict:
    """What the parts say about a spawn (not priced yet): the start of every spawn record."""
    pre = group.get("pre") or {}
    post = group.get("post") or {}
    stop = group.get("stop") or {}
    meta = coerce.mapping(group.get("meta"))
    if pre:
        requested = pre.get("requested_model")
    else:
        requested = _first(post.get("input_model"), coerce.text(meta.get("model"), 100))
    agent_type = _first(
        pre.get("agent_type"), post.get("agent_type"), stop.get("agent_type"), coerce.text(meta.get("agentType"))
    )
    background = post.get("background") if "background" in post else None
    if background is None:
        background = pre.get("background")
    if background is None and isinstance(meta.get("requestShape"), str):
        background = meta["requestShape"] != "foreground"
    end = _first(stop.get("ts"), post.get("ts") if post.get("status") == "completed" else None, now)
    record = blank_spawn_record(end, group.get("tool_use_id"), group.get("agent_id"))
    record["requested_source"], record["requested_model_id"] = _requested(
        group, prices, requested, agent_type, lookup_parent
    )
    if isinstance(pre.get("decision"), dict):
        record["decision"] = pre["decision"]
    record.update(
        session_id=_first(pre.get("session_id"), post.get("session_id"), stop.get("session_id")),
        project=_first(pre.get("project"), post.get("project"), stop.get("project")),
        agent_type=agent_type,
        description=_first(
            pre.get("description"), post.get("description"), coerce.cut(meta.get("description"), DESCRIPTION_CHARS)
        ),
        background=background,
        requested_model=requested,
        enforced_model=pre.get("enforced_model"),
        actual_model=post.get("resolved_model"),
        effort=pre.get("effort"),
        duration_ms=duration_ms(group, None),
    )
    return record


def duration_ms(group: dict, usage):
    """PostToolUse's duration, else the transcript's, else from the parts' times."""
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


def denied_record(pre: dict) -> dict:
    """A spawn the routing denied: it never ran, so it cost nothing."""
    group = {"pre": pre, "tool_use_id": pre.get("tool_use_id")}
    record = base_record(group, None, pre.get("ts") or time.time(), lookup_parent=False)
    record.update(
        status="denied",
        priced=True,
        tokens=dict.fromkeys(TOKEN_KEYS, 0),
        web_search_requests=0,
        requests=0,
        cost_usd=0.0,
        by_model={},
        duration_ms=0,
        actual_model=None,
    )
    return record


def unpriced_record(group: dict, prices, reason: str, now: float) -> dict:
    """A spawn whose transcript cannot be priced (missing, unreadable, unknown): recorded with why."""
    record = base_record(group, prices, now)
    record["status"] = "unpriced"
    record["unpriced_reason"] = reason
    return record


def failed_record(group: dict, prices, now: float) -> dict:
    """A spawn that failed to settle (damaged parts): unpriced, ``internal_error``; when even its
    parts cannot be read, the blank record with its ids."""
    try:
        return unpriced_record(group, prices, "internal_error", now)
    except Exception:  # noqa: BLE001 - whatever the parts hold, the spawn is recorded
        record = blank_spawn_record(now, group.get("tool_use_id"), group.get("agent_id"))
        record.update(status="unpriced", unpriced_reason="internal_error")
        return record


def _cost_by_model(usage, prices):
    """``(by_model, total cost, models without a price)`` of a transcript's requests (their usages
    are normalised: ``pricing.Prices.pricer``)."""
    by_model: dict = {}
    pricers: dict = {}
    cost = 0.0
    unknown = []
    for request in usage.requests:
        model = request["model"]
        entry = by_model.get(model)
        if entry is None:
            entry = by_model[model] = {"requests": 0, "cost_usd": 0.0}
            pricers[model] = prices.pricer(model) if prices is not None else None
        entry["requests"] += 1
        pricer = pricers[model]
        price = pricer(request["usage"]) if pricer is not None else None
        if price is None:
            entry["cost_usd"] = None
            if model not in unknown:
                unknown.append(model)
        else:
            cost += price
            if entry["cost_usd"] is not None:
                entry["cost_usd"] += price
    return by_model, cost, unknown


UNCHANGED_ACTIONS = ("none", "allow", "observe")


def left_unchanged(group: dict, record: dict) -> bool:
    """Whether the hook left the spawn on the model Claude Code would have run anyway: it did not
    act (none, allow, observe), or it rewrote the spawn to that same model. Such a spawn saves
    exactly nothing. Without a pre part the decision is unknown: ``False``."""
    pre = group.get("pre") or {}
    if not pre:
        return False
    action = (record.get("decision") or {}).get("action")
    if action in UNCHANGED_ACTIONS:
        return True
    if action != "rewrite" or pre.get("requested_source") not in claude_code.REQUESTED_SOURCES:
        return False
    enforced = pre.get("enforced_model")
    if enforced is not None and enforced == pre.get("requested_model"):
        return True
    enforced_id = pre.get("enforced_model_id")
    parent = (group.get("post") or {}).get("parent_model")
    if counterfactual.same_family_as_parent(enforced, "call", parent):
        enforced_id = parent  # the rewrite runs on the parent's model too
    return enforced_id is not None and enforced_id == record.get("requested_model_id")


def spawn_record(group: dict, prices, usage, now: float) -> dict:
    """A spawn priced from its transcript (``usage``): completed, or unpriced when a model has no price."""
    record = base_record(group, prices, now)
    by_model, cost, unknown = _cost_by_model(usage, prices)
    requested_cost = None
    requested_id = record["requested_model_id"]
    requested_pricer = prices.pricer(requested_id) if requested_id and prices is not None else None
    if requested_pricer is not None:
        requested_cost = 0.0
        for request in usage.requests:
            requested_cost += requested_pricer(request["usage"])
    totals = usage.totals()
    actual = max(by_model, key=lambda m: by_model[m]["requests"]) if by_model else record["actual_model"]
    record.update(
        actual_model=actual,
        tokens={key: totals[key] for key in TOKEN_KEYS},
        web_search_requests=totals["web_search_requests"],
        requests=len(usage.requests),
        by_model=by_model,
        duration_ms=duration_ms(group, usage),
        claude_code_version=usage.version,
        transcript_complete=bool(usage.complete or (usage.final and not usage.torn_tail)),
        requested_cost_usd=requested_cost,
    )
    if unknown:
        record.update(
            status="unpriced",
            priced=False,
            cost_usd=None,
            savings_usd=None,
            unpriced_reason="no price for model " + ", ".join(unknown),
        )
    else:
        record.update(
            status="completed",
            priced=True,
            cost_usd=cost,
            savings_usd=None if requested_cost is None else requested_cost - cost,
        )
        if left_unchanged(group, record):
            # Exactly what Claude Code would have spent: no rounding, no model-spelling guesswork.
            record.update(requested_cost_usd=cost, savings_usd=0.0)
            if record["requested_model_id"] is None:
                record["requested_model_id"] = actual
    return record


# --------------------------------------------------------------------------- session record


def session_record(state: dict, session_id, project, version, now: float):
    """The session record from Claude Code's ``cost-state`` line, or ``None`` when it holds no cost."""
    total = coerce.number(state.get("totalCostUSD"))
    model_costs = {}
    model_usage = state.get("modelUsage")
    if isinstance(model_usage, dict):
        for model, usage in model_usage.items():
            cost = coerce.number(coerce.mapping(usage).get("costUSD"))
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
        "ts": now_iso(now),
        "session_id": session_id,
        "project": project,
        "session_cost_usd": total,
        "model_costs": model_costs,
        "has_unknown_model_cost": unknown if isinstance(unknown, bool) else None,
        "claude_code_version": version,
    }
