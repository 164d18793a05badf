"""``cco-hooks explain``: what the PreToolUse hook would decide for a spawn, and why.

It decides as the hook does, budgets included (the running totals beside the ledger as they are
now), and exits 1 when a config layer is broken: the config it shows is then not in force.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import TextIO

from cco_hooks import budget, claude_code, hookio, models, paths, policy
from cco_hooks.coerce import visible
from cco_hooks.config import build as config_build
from cco_hooks.errors import CcoHooksError


def read_stdin_if_piped(stream: TextIO) -> str | None:
    """What was piped in, or ``None`` for a terminal or blank input."""
    if stream is None or stream.isatty():
        return None
    text = stream.read()
    return text if text.strip() else None


def model_alias(model: str) -> str:
    """``--model`` as the alias a spawn asks for: every spelling a config file accepts
    (``claude-sonnet-4-5-20250929``, ``sonnet-4.5``); anything else is an error saying why, with
    the alias it is closest to (``sonet`` → did you mean sonnet?)."""
    alias, why = models.to_alias(model)
    if alias is None or alias == claude_code.INHERIT:
        why = why or "inherit is a rule's model, not one a spawn can ask for"
        raise CcoHooksError(
            f"--model {visible(repr(model))}: {why}. Use one of {', '.join(claude_code.ALIASES)}, or any spelling "
            "of them a config accepts (e.g. claude-sonnet-4-5-20250929)."
        )
    return alias


def _spawn_from(payload_text: str | None, agent: str | None, model: str | None, tool: str):
    """``(payload, tool name, tool input, cwd)`` from ``--agent``/``--model``, else from a payload's text."""
    if agent is not None:
        tool_input = {"description": "(explain)", "prompt": "(explain)", "subagent_type": agent}
        if model:
            tool_input["model"] = model_alias(model)
        return {"tool_name": tool, "tool_input": tool_input}, tool, tool_input, None
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
    if not isinstance(payload.get("tool_name"), str):
        raise CcoHooksError(
            "stdin is no PreToolUse payload: it has no tool_name (a spawn's payload has tool_name Agent, or Task, "
            "and tool_input.subagent_type); pipe one, or use --agent NAME [--model MODEL]."
        )
    cwd = payload.get("cwd") if isinstance(payload.get("cwd"), str) else None
    return payload, payload["tool_name"], payload.get("tool_input"), cwd


def _budget_verdict(payload, tool_name, tool_input, routing: dict, env: dict):
    """The budget check the hook would run for this spawn, warnings shown every time (explain
    must not use up the one warning the hooks give)."""
    if not routing.get("budget") or tool_name not in claude_code.SPAWN_TOOLS or not isinstance(tool_input, dict):
        return None
    ledger = paths.ledger_path(routing.get("ledger_path"), env)
    return budget.check(payload, routing, ledger, tell=lambda _topic, text: text)


def _budget_line(routing: dict, verdict, payload) -> str | None:
    if not routing.get("budget"):
        return None
    if verdict and verdict.get("exceeded"):
        return verdict["message"]
    if verdict and verdict.get("warning"):
        return verdict["warning"] + " Spawns still run as routed."
    text = "within every cap, with the ledger's totals as they are now."
    if routing["budget"].get("session_usd") is not None and not isinstance(payload.get("session_id"), str):
        text += " (budget.session_usd is checked per session: pipe a payload with its session_id to include it.)"
    return text


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
    """What the PreToolUse hook would decide for a payload (stdin) or an agent/model pair.
    0, or 1 when a config layer is broken (the config is then not in force)."""
    payload, tool_name, tool_input, cwd = _spawn_from(payload_text, agent, model, tool)
    project = paths.project_dir(cwd, env, chosen=project_dir, default=os.getcwd())
    routing = config_build.build_routing(project, env)
    broken = routing["broken"]
    verdict = None
    if broken:
        decision = policy.broken_config_decision(routing)
    else:
        verdict = _budget_verdict(payload, tool_name, tool_input, routing, env)
        decision = policy.decide(tool_name, tool_input, routing, env, verdict)
    hook_out = policy.hook_output(decision)
    downgrade = policy.budget_downgrade_message(decision)
    if downgrade:
        hook_out = dict(hook_out or {}, systemMessage=downgrade)
    if hook_out is not None:
        hook_out = hookio.shown_as_text(hook_out)  # exactly what the hook prints
    if as_json:
        out(json.dumps({"decision": decision, "hook_output": hook_out, "budget": verdict}, indent=2))
        return 1 if broken else 0
    if broken:
        out(
            "config:    NOT IN FORCE: a layer is broken, so the hooks leave every spawn unchanged"
            + (" (on_error: block denies them)" if routing.get("on_error") == "block" else "")
            + "."
        )
        for problem in broken:
            out(f"           {visible(problem)}")
    if tool_name not in claude_code.SPAWN_TOOLS:
        out(f"tool:      {visible(tool_name)} is not a spawn tool (Agent, or Task): the hook ignores it")
        return 1 if broken else 0
    agent_type = decision.get("agent_type") or (tool_input or {}).get("subagent_type")
    # Each value spelt visibly: the agent type comes from the payload, rules from a config.
    out(f"agent:     {visible(agent_type) if agent_type else '(none)'}")
    requested = decision.get("requested_model") or "(no model)"
    if model and agent is not None and model != decision.get("requested_model"):
        requested += f" (as {visible(model)} is spelt in the Agent tool)"
    out(f"requested: {requested}")
    target = decision.get("enforced_model")
    verdict_text = decision["action"] + (
        f" → {target}" if target and decision["action"] in ("rewrite", "observe") else ""
    )
    out(f"decision:  {verdict_text}" + (f" (would {decision['would']})" if decision.get("would") else ""))
    if decision.get("rule"):
        out(f"rule:      {visible(decision['rule'])}  ← {decision.get('layer')}: {visible(decision.get('source'))}")
    out(f"reason:    {visible(decision['reason'])}")
    budget_line = None if broken else _budget_line(routing, verdict, payload)
    if budget_line:
        out(f"budget:    {visible(budget_line)}")
    out("hook prints: " + (json.dumps(hook_out) if hook_out else "nothing (the spawn proceeds unchanged)"))
    return 1 if broken else 0
