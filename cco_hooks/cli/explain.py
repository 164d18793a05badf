"""``cco-hooks explain``: what the PreToolUse hook would decide for a spawn, and why."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import TextIO

from cco_hooks import hookio, paths, policy
from cco_hooks.budget import format_usd
from cco_hooks.coerce import visible
from cco_hooks.config import build as config_build
from cco_hooks.errors import CcoHooksError


def read_stdin_if_piped(stream: TextIO) -> str | None:
    """What was piped in, or ``None`` for a terminal or blank input."""
    if stream is None or stream.isatty():
        return None
    text = stream.read()
    return text if text.strip() else None


def _spawn_from(payload_text: str | None, agent: str | None, model: str | None, tool: str):
    """``(tool name, tool input, cwd)`` from ``--agent``/``--model``, else from a payload's text."""
    if agent is not None:
        tool_input = {"description": "(explain)", "prompt": "(explain)", "subagent_type": agent}
        if model:
            tool_input["model"] = model
        return tool, tool_input, None
    if payload_text is None:
        raise CcoHooksError("explain needs a PreToolUse payload on stdin, or --agent NAME [--model MODEL].")
    try:
        payload = json.loads(payload_text)
    except json.JSONDecodeError as exc:
        raise CcoHooksError(
            f"stdin is not a JSON payload ({exc.msg} at line {exc.lineno}); pipe a PreToolUse payload, or use --agent."
        ) from None
    if not isinstance(payload, dict):
        raise CcoHooksError("stdin must be a JSON object (a PreToolUse payload).")
    return payload.get("tool_name"), payload.get("tool_input"), payload.get("cwd")


def _decide(tool_name, tool_input, routing: dict, env: dict) -> dict:
    """The hook's decision, including what it does when a config layer is broken."""
    if not routing["broken"]:
        return policy.decide(tool_name, tool_input, routing, env)
    return policy.broken_config_decision(routing)


def run_explain(
    payload_text: str | None,
    agent: str | None,
    model: str | None,
    tool: str,
    project_dir: str | None,
    env: dict,
    as_json: bool,
    out: Callable[[str], None],
) -> int:
    """What the PreToolUse hook would decide for a payload (stdin) or an agent/model pair."""
    tool_name, tool_input, cwd = _spawn_from(payload_text, agent, model, tool)
    project = paths.project_dir(cwd, env, chosen=project_dir, default=os.getcwd())
    routing = config_build.build_routing(project, env)
    decision = _decide(tool_name, tool_input, routing, env)
    reservation = _reservation(tool_input, routing, env)
    hook_out = policy.hook_output(decision)
    if hook_out is not None:
        hook_out = hookio.shown_as_text(hook_out)  # exactly what the hook prints
    if as_json:
        out(json.dumps({"decision": decision, "hook_output": hook_out, "reservation": reservation}, indent=2))
        return 0
    agent_type = decision.get("agent_type") or (tool_input or {}).get("subagent_type")
    # Each value spelt visibly: the agent type comes from the payload, rules from a config.
    out(f"agent:     {visible(agent_type)}")
    out(f"requested: {decision.get('requested_model') or '(no model)'}")
    target = decision.get("enforced_model")
    verdict = decision["action"] + (f" → {target}" if target and decision["action"] in ("rewrite", "observe") else "")
    out(f"decision:  {verdict}" + (f" (would {decision['would']})" if decision.get("would") else ""))
    if decision.get("rule"):
        out(f"rule:      {visible(decision['rule'])}  ← {decision.get('layer')}: {visible(decision.get('source'))}")
    out(f"reason:    {visible(decision['reason'])}")
    if reservation is not None:
        out(
            f"reserves:  {format_usd(reservation['usd'])} ({visible(reservation['basis'] or 'nothing to reserve')}) "
            f"against the budgets while it runs; running spawns hold {format_usd(reservation['held_usd'])} now "
            f"({reservation['held_spawns']})"
        )
    if reservation is not None or routing.get("caps_any"):
        from cco_hooks import caps

        limits = caps.effective(routing, agent_type)
        if limits:
            shown = ", ".join(f"{key}: {value:g}" for key, value in limits.items())
            out(f"caps:      {shown} (enforced on the subagent's own tool calls)")
    out("hook prints: " + (json.dumps(hook_out) if hook_out else "nothing (the spawn proceeds unchanged)"))
    return 0


def _reservation(tool_input, routing: dict, env: dict) -> dict | None:
    """What the spawn would reserve against the budgets (only when a budget is set), and what
    running spawns hold reserved now beside the ledger."""
    if not routing.get("budget") or routing.get("broken"):
        return None
    from cco_hooks import budget

    ledger_path = paths.ledger_path(routing.get("ledger_path"), env)
    usd, basis = budget.reservation({"tool_input": tool_input or {}}, routing, ledger_path=ledger_path)
    held = budget.reserved_now(ledger_path, routing)
    return {"usd": usd, "basis": basis, "held_usd": held["usd"], "held_spawns": held["spawns"]}
