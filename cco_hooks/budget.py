"""Budgets that act before the spend: the cap check PreToolUse runs before each spawn.

Claude Code's own ``--max-budget-usd`` works only in print mode; this works in every mode. The check
reads the running totals beside the ledger (``totals``), never the whole ledger.

Before deciding, spawns that stopped (SubagentStop) but are not in the ledger yet are settled; any
that still cannot be (their transcript not final yet, their PostToolUse not seen yet) are priced as
their transcripts stand and counted too, for this decision only. So a spend that happened always
counts before the next spawn, and is never counted twice (it reaches the totals once, when its
record is appended).

Reservations: a spawn that is launched (its PreToolUse part written, with ``reserve_usd``) and has
not stopped yet counts for what it reserves (``reservation``: its per-spawn ``caps.max_usd``, else
its agent type's recent p90, else ``budget.reserve_usd``) against every cap it falls under, until it
settles (its part goes) or stops (its transcript counts instead). PreToolUse checks and writes its
part under the ledger's lock, so the spawns of one parallel fan-out are checked one after another,
each seeing what the others reserved.

Config: ``budget: {daily_usd, session_usd, per_agent: {type: usd}, on_exceed: deny | downgrade,
downgrade_to: haiku, warn_at: 0.8, timezone: UTC, reserve_usd}``; the daily and per-agent caps are per day in
``timezone`` (UTC by default; ``local``, ``+05:30`` or an IANA name: ``zones``, loaded only then).

Stdlib only: imported by the PreToolUse hook when a budget is configured.
"""

import time

from cco_hooks import accounting, agents, coerce, hookio, pending, totals
from cco_hooks.fastos import os

completion = hookio.OnFirstUse("completion", globals())
pricing = hookio.OnFirstUse("pricing", globals())
transcript = hookio.OnFirstUse("transcript", globals())
zones = hookio.OnFirstUse("zones", globals())

MAX_UNSETTLED = 32  # pending stops priced for one decision, at most (each reads a transcript)
MAX_RESERVATIONS = 256  # running spawns' reservations read for one decision, at most
RESERVATION_MAX_AGE_S = 24 * 3600  # a spawn launched longer ago than this (a CLI killed) reserves nothing
RECENT_MIN = 3  # an agent type's p90 is its reservation once it has this many recent priced spawns


def format_usd(value):
    """An amount of dollars, readable at every scale: ``$1,234.50``, ``$0.2500``, ``$0.000001``."""
    if value >= 1:
        return f"${value:,.2f}"
    if value >= 0.01 or value == 0:
        return f"${value:.4f}"
    return f"${value:.6f}".rstrip("0").rstrip(".") if value >= 0.000001 else f"${value:.2g}"


def reservation(payload, snap, spent=None, ledger_path=None):
    """``(usd, basis)``: what the spawn in ``payload`` reserves against every budget it falls under
    while it runs. Its per-spawn ``caps.max_usd`` when one applies (it cannot spend more, to within
    one API request); else its agent type's recent p90 cost (once it has ``RECENT_MIN`` priced spawns
    in the running totals); else ``budget.reserve_usd``; else nothing."""
    budget = coerce.mapping(snap.get("budget"))
    agent_type = coerce.mapping(payload.get("tool_input")).get("subagent_type")
    if snap.get("caps_any"):
        from cco_hooks import caps

        cap = caps.reservation(snap, agent_type)
        if cap is not None:
            return cap, "caps.max_usd"
    if spent is None and ledger_path:
        spent = totals.read_totals(ledger_path, day_zone(budget))
    recent = coerce.mapping(coerce.mapping(spent).get("recent")).get(totals.agent_key(agent_type))
    costs = sorted(c for c in recent if coerce.number(c) is not None) if isinstance(recent, list) else []
    if len(costs) >= RECENT_MIN:
        return p90(costs), f"p90 of the last {len(costs)} {totals.agent_key(agent_type)} spawns"
    fallback = coerce.number(budget.get("reserve_usd"))
    if fallback:
        return fallback, "budget.reserve_usd"
    return 0.0, None


def p90(costs):
    """The 90th percentile of sorted ``costs`` (nearest rank)."""
    rank = -(-9 * len(costs) // 10)  # ceil(0.9 n)
    return costs[max(rank, 1) - 1]


def reservations(ledger_path, zone=None, now=None, skip=frozenset()):
    """``(session_id, agent_type, day, usd)`` of each launched spawn not settled and not stopped yet:
    its pending PreToolUse part's ``reserve_usd``. ``skip``: ``(session key, tool_use_id)`` of spawns
    whose stop is counted already (by their transcript)."""
    pdir = pending.pending_dir(ledger_path)
    try:
        names = sorted(n for n in os.listdir(pdir) if n.endswith(pending.PRE))
    except OSError:
        return []
    now = time.time() if now is None else now
    out = []
    for name in names[:MAX_RESERVATIONS]:
        part = pending.read_part(os.path.join(pdir, name))
        if part is None or coerce.mapping(part.get("decision")).get("action") == "deny":
            continue
        usd = coerce.number(part.get("reserve_usd"))
        ts = coerce.number(part.get("ts")) or 0.0
        key = (pending.session_key(part.get("session_id")), part.get("tool_use_id"))
        if not usd or usd <= 0 or now - ts > RESERVATION_MAX_AGE_S or key in skip:
            continue
        day = totals.utc_day(ts) if zone is None else zone.day(ts)
        out.append((part.get("session_id"), part.get("agent_type"), day, usd))
    return out


def reserved_now(ledger_path, snap, now=None):
    """What running spawns hold reserved right now, for ``explain`` and ``report``: ``{"usd", "spawns"}``."""
    zone = day_zone(coerce.mapping(snap.get("budget"))) if snap else None
    held = reservations(ledger_path, zone, now)
    return {"usd": sum(usd for *_rest, usd in held), "spawns": len(held)}


def check(payload, snap, ledger_path, now=None, reserve=0.0, tell=None, spent=None):
    """The budget verdict for the next spawn: ``None`` when no cap is reached, else a dict.

    ``{"exceeded": key, "action": "deny"|"downgrade", "downgrade_to": alias, "message": ...}`` once a
    cap is spent — by settled spawns, stopped ones not settled yet and what running spawns reserve
    — or would be overrun by this spawn's own ``reserve``; or ``{"warning": ...}`` (told once per cap
    and period) past ``warn_at``. ``tell(topic, text)`` says whether a warning is shown
    (``hookio.tell_once`` by default; ``cco-hooks explain`` shows it every time without using up the
    hooks' once). ``spent``: the running totals when the caller has read them already (they are
    added to here).
    """
    tell = hookio.tell_once if tell is None else tell
    budget = coerce.mapping(snap.get("budget"))
    now = time.time() if now is None else now
    zone = day_zone(budget)
    spent = totals.read_totals(ledger_path, zone) if spent is None else spent
    stopped = set()
    for session, agent_type, stop_day, cost in unsettled_costs(ledger_path, snap, zone, stopped):
        totals.add_cost(spent, stop_day, session, agent_type, cost)
    held = totals.empty()
    for session, agent_type, day, usd in reservations(ledger_path, zone, now, stopped):
        totals.add_cost(spent, day, session, agent_type, usd)
        totals.add_cost(held, day, session, agent_type, usd)
    source = budget.get("source") if isinstance(budget.get("source"), str) else "the config"
    warn_at = coerce.number(budget.get("warn_at"))
    warn_at = 0.8 if warn_at is None else warn_at
    action = "downgrade" if budget.get("on_exceed") == "downgrade" else "deny"
    downgrade_to = budget.get("downgrade_to") if isinstance(budget.get("downgrade_to"), str) else "haiku"
    warnings = []
    today = totals.utc_day(now) if zone is None else zone.day(now)
    where = "UTC" if zone is None else ("local" if zone.name == "local" else zone.name)
    reserved = [entry[2] for entry in _caps(budget, held, payload, today, where)]
    for (key, cap, used, what, period), held_usd in zip(
        _caps(budget, spent, payload, today, where), reserved, strict=True
    ):
        if used >= cap or (reserve > 0 and used + reserve > cap):
            # The file that set this cap: a repository's layer may add one to a budget the user set.
            cap_source = coerce.mapping(budget.get("sources")).get(key)
            cap_source = cap_source if isinstance(cap_source, str) else source
            so_far = f"{format_usd(used)} so far" + (
                f", of which {format_usd(held_usd)} reserved by running spawns" if held_usd > 0 else ""
            )
            if used < cap:
                so_far += f"; this spawn would reserve {format_usd(reserve)} more"
            state = "spent" if used >= cap else "taken"
            message = f"cco-hooks: {what} of {format_usd(cap)} is {state} ({so_far}; set in {cap_source}). " + (
                "New spawns are denied until it resets; raise the budget to continue."
                if action == "deny"
                else f"New spawns run on {downgrade_to}."
            )
            return {
                "exceeded": key,
                "action": action,
                "downgrade_to": downgrade_to,
                "message": message,
                "layer": budget.get("layer"),
                "source": cap_source,
            }
        if cap > 0 and used >= warn_at * cap:
            told = tell(
                f"budget-warn:{key}:{period}",
                f"cco-hooks: {format_usd(used)} of {what} of {format_usd(cap)} is spent ({used / cap:.0%}).",
            )
            if told:
                warnings.append(told)
    return {"warning": " ".join(warnings)} if warnings else None


def day_zone(budget):
    """The zone the caps' days are counted in: ``None`` for UTC (the default, and the accounting's
    own totals), else a ``zones.Zone``. A zone that cannot be read counts in UTC (the config
    check reports it)."""
    spec = budget.get("timezone")
    if not isinstance(spec, str) or spec.strip().upper() in ("", "UTC"):
        return None
    try:
        zone = zones.zone(spec, default="UTC")
    except ValueError:
        return None
    return None if zone.ident == "UTC" else zone


def _caps(budget, spent, payload, day, where="UTC"):
    """``(key, cap, spent so far, what it is, period)`` of each cap the config sets for this spawn."""
    day_totals = coerce.mapping(spent["days"].get(day))
    caps = []
    daily = coerce.number(budget.get("daily_usd"))
    if daily is not None:
        used = coerce.number(day_totals.get("usd")) or 0.0
        caps.append(("daily_usd", daily, used, f"the daily budget (budget.daily_usd, {where} day {day})", day))
    session_cap = coerce.number(budget.get("session_usd"))
    session = payload.get("session_id") if isinstance(payload.get("session_id"), str) else None
    if session_cap is not None and session:
        used = coerce.number(coerce.mapping(spent["sessions"].get(session)).get("usd")) or 0.0
        caps.append(("session_usd", session_cap, used, "this session's budget (budget.session_usd)", session))
    agent = totals.agent_key(coerce.mapping(payload.get("tool_input")).get("subagent_type"))
    agent_spend = coerce.mapping(day_totals.get("agents"))
    for cap_key, cap in per_agent_caps(budget):
        if not cap_matches(cap_key, agent):
            continue
        # Every key that matches the agent (as routing matches names) is a cap of its own, shared
        # by all the agent types it matches: {python-*: 5, python-pro: 2} keeps python-pro under
        # $2 and all python agents together under $5. So a key added by any layer can only
        # tighten, never free an agent from a cap it was under.
        used = sum(coerce.number(usd) or 0.0 for name, usd in agent_spend.items() if cap_matches(cap_key, name))
        whom = f"agents matching {cap_key!r}" if agents.is_glob(cap_key) else f"agent {cap_key!r}"
        caps.append(
            (
                f"per_agent.{cap_key}",
                cap,
                used,
                f"the daily budget of {whom} (budget.per_agent, {where} day {day})",
                f"{day}:{cap_key}",
            )
        )
    return caps


def per_agent_caps(budget):
    """``budget.per_agent`` as ``[(normalised key, usd), ...]``, exact keys first, then globs most
    specific first (the order the caps are checked and named in). Keys without a number set no cap."""
    caps = []
    for key, cap in coerce.mapping(budget.get("per_agent")).items():
        usd = coerce.number(cap)
        name = agents.normalize_agent_name(key)
        if usd is not None and name:
            caps.append((name, usd))
    caps.sort(key=lambda item: (agents.is_glob(item[0]), -agents.glob_specificity(item[0]), item[0]))
    return caps


def cap_matches(cap_key, agent_type):
    """Whether a ``per_agent`` key covers an agent type, as a routing rule would match it:
    spelling-insensitive, ``plugin:name`` also as ``name``, ``*`` and ``?`` globs."""
    names = agents.candidate_names(agent_type)
    if agents.is_glob(cap_key):
        return any(agents.glob_match(cap_key, name) for name in names)
    return cap_key in names


def unsettled_costs(ledger_path, snap, zone=None, stopped=None):
    """``(session_id, agent_type, day, usd)`` of each spawn that stopped but is not in the ledger.

    Settles what can be settled first (its cost then reaches the totals file); what is left — a
    transcript still being finished, a PostToolUse not seen yet — is priced as its transcript
    stands. Reads only the pending directory when nothing stopped unsettled. ``stopped`` (a set)
    gets the ``(session key, tool_use_id)`` of each such spawn its meta file names, so its
    reservation is not counted as well."""
    pdir = pending.pending_dir(ledger_path)
    if not pending.stop_part_names(pdir):
        return []
    prices = pricing.load_prices(override_path=snap.get("pricing_file"))
    accounting.settle(ledger_path, prices)
    out = []
    for name in pending.stop_part_names(pdir)[:MAX_UNSETTLED]:
        part = pending.read_part(os.path.join(pdir, name))
        if part is None:
            continue
        if stopped is not None:
            meta = completion.meta_for(part.get("agent_transcript_path"), part.get("transcript_path"))
            stopped.add((pending.session_key(part.get("session_id")), coerce.mapping(meta).get("toolUseId")))
        cost = _transcript_cost(part, prices)
        if cost:
            ts = coerce.number(part.get("ts"))
            when = ts if ts and ts > 0 else time.time()
            day = totals.utc_day(when) if zone is None else zone.day(when)
            out.append((part.get("session_id"), part.get("agent_type"), day, cost))
    return out


def _transcript_cost(part, prices):
    """USD of the requests a pending stop's transcript holds now (models without a price: 0)."""
    roots = transcript.read_roots(part.get("transcript_path"))
    usage = transcript.read_usage(part.get("agent_transcript_path"), roots=roots)
    if usage.error is not None:
        return 0.0
    total = 0.0
    for request in usage.requests:
        cost = prices.cost(request["model"], request["usage"])
        if cost:
            total += cost
    return total
