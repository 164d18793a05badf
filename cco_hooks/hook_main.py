"""The hook entry points: ``pre-tool-use``, ``post-tool-use``, ``subagent-stop``, ``stop``, ``session-end``.

Each is I/O around pure logic: stdin → payload → decision / accounting → stdout. ``main`` always
returns 0: the hook's own failures fail open (the spawn proceeds unchanged, the user is told once)
unless the config says ``on_error: block``, which makes a failing PreToolUse deny the spawn.

Stdlib only: this is the hot path (see bench/ and tests/unit/architecture/test_hot_path_imports.py).
"""

import sys

from cco_hooks import claude_code, files, hookio, paths, snapshot
from cco_hooks.fastos import os


def _text(payload, key):
    value = payload.get(key)
    return value if isinstance(value, str) else None


def _load_snapshot(payload):
    # CLAUDE_PROJECT_DIR (Claude Code sets it for hooks) wins; else the payload's cwd
    project = paths.project_dir(_text(payload, "cwd"))
    return project, snapshot.load(project)


def _config_messages(project, snap, session=None):
    """Problems with the config, shown to the user once per config state (a broken layer: once per
    session while it stays broken), and the keys a repository's config may not set, told once for
    each set of them."""
    texts = [m for m in (_problem_message(project, snap, session), _ignored_message(snap)) if m]
    return " ".join(texts) if texts else None


def _ignored_message(snap):
    """Once (not per spawn, not per snapshot rebuild): the keys of a repository's config that were
    ignored. The marker is named after the keys and files, so a new one is told again."""
    ignored = [p for p in snap.get("problems") or () if isinstance(p, dict) and p.get("level") == "ignored"]
    if not ignored or snap.get("broken"):
        return None
    by_file = {}
    for p in ignored:
        by_file.setdefault(str(p.get("file")), set()).add(str(p.get("key_path")))
    named = [
        f"{', '.join(sorted(keys)[:8])}{', …' if len(keys) > 8 else ''} in {file}" for file, keys in by_file.items()
    ]
    count = sum(len(keys) for keys in by_file.values())
    text = (
        f"cco-hooks: {count} key(s) of a repository's config were ignored (it cannot move cco-hooks' files, set "
        f"prices or loosen your budget): {'; '.join(named)}. Run `cco-hooks config validate` for why."
    )
    names = sorted(f"{key} in {file}" for file, keys in by_file.items() for key in keys)
    return hookio.tell_once("ignored-config:" + "|".join(names), text)


def _problem_message(project, snap, session=None):
    unbuilt = snap.get("unbuilt")
    if isinstance(unbuilt, dict):  # the config builder's packages are missing: told once per setup attempt
        return hookio.tell_once(str(unbuilt.get("topic")), str(unbuilt.get("message")))
    if snap.get("broken"):
        return _broken_message(snap, session)
    if snap.get("told"):
        return None
    errors = [p for p in snap.get("problems") or () if p.get("level") == "error"]
    if not errors:
        return None
    first = errors[0]
    text = (
        f"cco-hooks: {len(errors)} config problem(s); the affected rules are ignored. First: "
        f"{first.get('file')}: {first.get('key_path')}: {first.get('message')} "
        f"Run `cco-hooks config validate` for all."
    )
    snapshot.mark_told(project, os.environ, snap)
    return text


def _broken_message(snap, session):
    """A broken layer is told once per session for as long as it stays broken (each new session
    is told again; a session is not told once per spawn). The marker is made with O_EXCL, so of
    the spawns a session launches in parallel exactly one carries the message."""
    text = (
        "cco-hooks: a config layer is broken, so spawns are left unchanged"
        + (" (on_error: block denies them)" if snap.get("on_error") == "block" else "")
        + ": "
        + " | ".join(snap["broken"][:3])
    )
    # Named after the session and what is broken: a different breakage is a new message.
    return hookio.tell_once("broken-config:" + (session or "~") + "\0" + "\0".join(snap["broken"][:3]), text)


def _ledger_path(snap):
    return paths.ledger_path((snap or {}).get("ledger_path"))


def _prices(snap):
    from cco_hooks import pricing

    return pricing.load_prices_cached(override_path=(snap or {}).get("pricing_file"))


def _export_after_settling(snap, ledger_path):
    """With ``export: {otlp: true}``, start the detached exporter (it does nothing on this path)."""
    if (snap or {}).get("export_otlp"):
        from cco_hooks import export_start

        export_start.start(ledger_path)


def pre_tool_use(payload, state):
    tool_name = _text(payload, "tool_name")
    if tool_name not in claude_code.SPAWN_TOOLS:
        # PreToolUse is registered for every tool, for the caps of running subagents: a main-loop
        # tool call (no agent_id) leaves here, before any snapshot or further import.
        return subagent_tool_use(payload, state) if "agent_id" in payload else None
    from cco_hooks import policy

    project, snap = _load_snapshot(payload)
    state["snapshot"] = snap
    message = _config_messages(project, snap, _text(payload, "session_id"))
    if snap.get("broken"):
        out = policy.hook_output(policy.broken_config_decision(snap))
        if message:
            out = dict(out or {}, systemMessage=message)
        return out

    tool_input = payload.get("tool_input")
    if snap.get("budget") and isinstance(tool_input, dict):
        # Checked and recorded under the ledger's lock: the spawns of one parallel fan-out are decided
        # one after another, each seeing what the ones before it reserved (``budget.reservation``).
        preload("budget", snap)
        lock = _fan_out_lock(_ledger_path(snap))
        try:
            decision, message = _decide_with_budget(payload, snap, tool_name, tool_input, message, state)
        finally:
            if lock is not None:
                lock.__exit__(None, None, None)
    else:
        decision = policy.decide(tool_name, tool_input, snap, os.environ, None)
        _record_pre(payload, snap, decision, state)
    out = policy.hook_output(decision)
    if snap.get("feedback") is True:
        out = _with_feedback_figures(out, decision, payload, snap, state)
    messages = [m for m in (message, state.pop("told", None)) if m]
    if messages:
        out = dict(out or {}, systemMessage=" ".join(messages))
    return out


def preload(stage, snap):
    """Load a stage of modules (``cco_hooks.HOOK_MODULES``: ``budget``, and ``caps`` when the config
    has caps) from bytecode as the shim loaded this module, before they are imported: only in a
    hook process, which is when this module itself has no import spec."""
    if __spec__ is None:
        import cco_hooks

        cco_hooks.load_hook_modules(stage)
        if stage == "budget" and snap.get("caps_any"):
            cco_hooks.load_hook_modules("caps")  # what a spawn reserves is its caps.max_usd


def _fan_out_lock(ledger_path):
    """The ledger's lock, held (``None`` when its name is not ours: the check then runs unlocked, and
    the accounting tells the user about the name). Not had by the deadline: unlocked too."""
    from cco_hooks import ledger

    lock = ledger.locked(ledger_path)
    try:
        lock.__enter__()
    except (files.UnsafeFile, OSError):
        return None
    return lock


def _decide_with_budget(payload, snap, tool_name, tool_input, message, state):
    from cco_hooks import budget, coerce, policy, totals

    ledger_path = _ledger_path(snap)
    # The running totals, read once for both (a totals file is parsed in each): what this spawn
    # reserves (its agent type's recent costs) and the verdict (the spend so far).
    spent = totals.read_totals(ledger_path, budget.day_zone(coerce.mapping(snap.get("budget"))))
    reserve, basis = budget.reservation(payload, snap, spent=spent)
    verdict = budget.check(payload, snap, ledger_path, reserve=reserve, spent=spent)
    if verdict and verdict.get("warning"):
        message = " ".join(m for m in (message, verdict["warning"]) if m)
    decision = policy.decide(tool_name, tool_input, snap, os.environ, verdict)
    # A budget downgrade changes the model the user asked for: they are told, as a denial tells them.
    message = " ".join(m for m in (message, policy.budget_downgrade_message(decision)) if m) or None
    if reserve > 0 and decision.get("action") != "deny":
        decision = dict(decision, reserve_usd=reserve, reserve_basis=basis)
    _record_pre(payload, snap, decision, state)
    return decision, message


def _record_pre(payload, snap, decision, state):
    try:
        from cco_hooks import accounting, counterfactual

        requested = counterfactual.for_spawn(payload, snap, os.environ, decision.get("enforced_model"))
        accounting.on_pre_tool_use(payload, decision, _ledger_path(snap), requested)
    except Exception:
        # Accounting must never change what routing decided; the error is logged and told once.
        outcome = "the spawn proceeds as routed, but may be missing from the ledger"
        _report_internal("pre-tool-use accounting", sys.exc_info(), state, outcome)


def subagent_tool_use(payload, state):
    """A tool call inside a running subagent: its caps (``caps``), when any are configured. Fails
    open whatever ``on_error`` says: our error never denies a subagent's own work."""
    try:
        _project, snap = _load_snapshot(payload)
        if snap.get("broken") or not snap.get("caps_any"):
            return None
        preload("caps", snap)
        from cco_hooks import caps

        return caps.check(payload, snap, _ledger_path(snap))
    except Exception:
        _report_internal("pre-tool-use caps", sys.exc_info(), state, "the tool call proceeds unchanged")
        return _told(state)


def post_tool_use(payload, state):
    if _text(payload, "tool_name") not in claude_code.SPAWN_TOOLS:
        return None
    _project, snap = _load_snapshot(payload)
    from cco_hooks import accounting

    accounting.on_post_tool_use(payload, _ledger_path(snap), _prices(snap))  # settles what it completes
    _export_after_settling(snap, _ledger_path(snap))
    out = _told(state)
    if snap.get("feedback") is True:
        try:
            from cco_hooks import feedback

            context = feedback.after_spawn(payload, snap, _ledger_path(snap))
        except Exception:
            _report_internal("post-tool-use feedback", sys.exc_info(), state, "the spawn's cost is not told to Claude")
            return _told(state) or out
        out = dict(out or {}, hookSpecificOutput={"hookEventName": "PostToolUse", "additionalContext": context})
    return out


def _with_feedback_figures(out, decision, payload, snap, state):
    """``feedback: true``: a denial's reason, and a budget downgrade (as ``additionalContext``: a
    rewrite has no reason Claude sees), carry the model and the budget left."""
    specific = (out or {}).get("hookSpecificOutput")
    budget_rewrite = decision.get("action") == "rewrite" and str(decision.get("rule") or "").startswith("budget.")
    if not isinstance(specific, dict) or not (decision.get("action") == "deny" or budget_rewrite):
        return out
    try:
        from cco_hooks import feedback

        figures = feedback.with_figures(decision, payload, snap, _ledger_path(snap))
    except Exception:
        _report_internal("pre-tool-use feedback", sys.exc_info(), state, "the decision stands, without its figures")
        return out
    specific = dict(specific)
    if decision.get("action") == "deny":
        specific["permissionDecisionReason"] = f"{specific.get('permissionDecisionReason', '')} {figures}".strip()
    else:
        specific["additionalContext"] = f"{decision.get('reason')} {figures}"
    return dict(out, hookSpecificOutput=specific)


def subagent_stop(payload, state):
    _project, snap = _load_snapshot(payload)
    from cco_hooks import accounting

    accounting.on_subagent_stop(payload, _ledger_path(snap), _prices(snap))  # settles what it completes
    _export_after_settling(snap, _ledger_path(snap))
    return _told(state)


def stop(payload, state):
    """End of a main-loop turn: settle spawns whose transcripts have completed since."""
    _project, snap = _load_snapshot(payload)
    from cco_hooks import accounting

    accounting.settle(_ledger_path(snap), _prices(snap))
    _export_after_settling(snap, _ledger_path(snap))
    return _told(state)


def session_end(payload, state):
    """The session's own cost (its cost-state line exists only once Claude Code exits)."""
    _project, snap = _load_snapshot(payload)
    from cco_hooks import accounting

    ledger, prices = _ledger_path(snap), _prices(snap)
    accounting.settle(ledger, prices)
    accounting.on_session_end(payload, ledger)
    _export_after_settling(snap, ledger)
    return _told(state)


def _told(state):
    message = state.pop("told", None)
    return {"systemMessage": message} if message else None


def _told_input_timeout(event):
    """Stdin never ended (the writer kept it open): the hook gives up and the spawn proceeds
    unchanged; the user is told once."""
    budget = hookio.WAIT_BUDGET_S.get(event, hookio.DEFAULT_WAIT_BUDGET_S)
    message = hookio.tell_once(
        f"input-timeout:{event}",
        f"cco-hooks: the {event} hook's input (stdin) did not end within {budget:g} s, so it was "
        "ignored and the tool call proceeds unchanged; Claude Code closes it at once, so whatever "
        "ran this hook kept it open.",
    )
    return {"systemMessage": message} if message else None


def _block_denial(what, where, fix):
    """The PreToolUse answer when cco-hooks cannot route a spawn and ``on_error`` is ``block``."""
    from cco_hooks import policy

    return policy.hook_output(policy.error_denial(what, where, fix))


def _report_internal(event, exc_info, state, outcome="the spawn proceeds unchanged"):
    exc = exc_info[1]
    if isinstance(exc, files.UnsafeFile):
        # Not our bug: a name beside the ledger holds a link, a pipe or a device; the message says
        # which and the fix, once per name, and nothing is written there.
        message = hookio.tell_once(f"unsafe-file:{exc.filename}", str(exc))
        if message:
            state["told"] = message
        return
    log_path = hookio.log_error(event, exc_info)
    topic = f"internal:{event}:{type(exc).__name__}"
    message = hookio.tell_once(topic, hookio.internal_error_message(event, exc, log_path, outcome))
    if message:
        state["told"] = message


HANDLERS = {
    "pre-tool-use": pre_tool_use,
    "post-tool-use": post_tool_use,
    "subagent-stop": subagent_stop,
    "stop": stop,
    "session-end": session_end,
}


def main(argv):
    try:
        return _run(argv)
    finally:
        hookio.clear_deadline()  # a caller that goes on (tests, an embedding) is not bound by it


def _run(argv):
    event = argv[0] if argv else ""
    handler = HANDLERS.get(event)
    if handler is None:
        expected = ", ".join(claude_code.HOOK_ARGS)
        sys.stderr.write(f"cco-hooks: unknown hook event {event!r}; expected one of {expected}\n")
        return 0
    state = {}
    hookio.start_deadline(event)  # one bound on every wait in this process (stdin, lock, race)
    try:
        payload = hookio.read_payload()
        if payload is None:
            return 0  # not a JSON object: nothing we can act on, and nothing to break
        out = handler(payload, state)
    except hookio.PayloadTimeout:
        out = _told_input_timeout(event)
    except Exception:
        snap = state.get("snapshot")
        blocked = (
            event == "pre-tool-use"
            and isinstance(snap, dict)
            and snap.get("on_error") == "block"
            and not isinstance(sys.exc_info()[1], files.UnsafeFile)  # nothing recorded, spawns still go
        )
        outcome = "the spawn is denied (on_error: block)" if blocked else "the spawn proceeds unchanged"
        _report_internal(event, sys.exc_info(), state, outcome)
        out = _told(state)
        if blocked:
            error = sys.exc_info()[1]
            out = _block_denial(
                f"an internal error ({type(error).__name__})",
                os.path.join(paths.state_dir(), "errors.log"),
                "please report it; set on_error: allow to let spawns through meanwhile",
            ) | (out or {})
    try:
        hookio.emit(out)
    except Exception:
        pass  # stdout closed: nothing left to tell
    return 0
