"""The routing decision: a pure function of the spawn and the compiled config.

``decide()`` reads nothing and writes nothing: the hook does the I/O around it, and tests call it
directly with recorded payloads. Every decision carries a one-line human reason.

Modes (config ``mode``, or per agent):
- ``rewrite``: answer with ``updatedInput`` = the whole tool input with the configured model (and
  effort). Never with ``permissionDecision: allow``: a rewrite needs none, and granting one would
  widen permissions the user did not widen (observed in 2.1.328).
- ``enforce``: deny a spawn whose model differs; the reason names the model to retry with.
- ``observe``: change nothing; the would-be decision is still recorded for accounting.

Stdlib only: imported by the PreToolUse hook.
"""

from cco_hooks import agents, claude_code, counterfactual, models


def make_decision(action, reason, **fields):
    decision = {
        "action": action,
        "reason": reason,
        "mode": None,
        "rule": None,
        "layer": None,
        "source": None,
        "agent_type": None,
        "requested_model": None,
        "enforced_model": None,
        "effort": None,
        "would": None,
        "updated_input": None,
    }
    decision.update(fields)
    return decision


def error_denial(what, where, fix):
    """The decision for a spawn when cco-hooks cannot route it and the config says ``on_error:
    block``: a denial saying what went wrong, where, and the fix."""
    return make_decision(
        "deny", f"cco-hooks: {what}, and on_error is block, so the spawn is denied. Where: {where}. Fix: {fix}"
    )


BROKEN_CONFIG_FIX = "correct it (`cco-hooks config validate` lists every problem), or set on_error: allow"


def broken_config_decision(routing):
    """The decision for every spawn while a config layer is broken: denied under ``on_error:
    block``, else left unchanged. Both say which layer is broken."""
    problem = routing["broken"][0].removeprefix("error: ").rstrip(".")
    if routing.get("on_error") == "block":
        return error_denial("a config layer is broken", problem, BROKEN_CONFIG_FIX)
    return make_decision("none", f"a config layer is broken, so spawns are left unchanged: {problem}.")


def _where(rule):
    return f"rule {rule['pattern']!r} in {rule.get('source') or rule.get('layer')}"


def find_rule(agent_type, snapshot):
    """The rule for an agent type: config rules, then agent files (if enabled), then the default."""
    rule = agents.find_rule(agent_type, snapshot.get("exact") or {}, snapshot.get("globs") or [])
    if rule is None and snapshot.get("agent_files"):
        rule = agents.find_rule(agent_type, snapshot.get("agent_file_rules") or {}, [])
    if rule is None:
        default = snapshot.get("default") or {}
        if default.get("model") in claude_code.TIER:
            rule = default
    return rule


def _effective_unnamed_model(agent_type, snapshot, env):
    """The alias Claude Code would run a spawn that names no model on, when we can tell without I/O.

    Precedence measured in 2.1.328 and 2.1.332 (``counterfactual``): the agent definition's
    ``model:``, then ``CLAUDE_CODE_SUBAGENT_MODEL``, then the parent's model (unknown here).
    """
    agent_models = snapshot.get("agent_models")
    if agent_models is None:  # a snapshot built before agent_models existed
        agent_models = {
            name: {"model": rule.get("model")} for name, rule in (snapshot.get("agent_file_rules") or {}).items()
        }
    spec = counterfactual.requested({"subagent_type": agent_type}, agent_models, env or {})["spec"]
    alias, _ = models.to_alias(spec) if spec is not None else (None, None)
    return alias if alias in claude_code.TIER else None


def decide(tool_name, tool_input, snapshot, env=None, budget=None):
    """Decide what to do with one spawn.

    ``budget`` (optional) is the verdict of the budget check, ``{"exceeded": "daily_usd", "action":
    "deny" | "downgrade", "downgrade_to": alias, "message": "..."}``, computed by the caller.
    Returns a decision dict; ``updated_input`` is set only for an applied rewrite.
    """
    verdict = _route(tool_name, tool_input, snapshot, env)
    if budget and budget.get("exceeded") and tool_name in claude_code.SPAWN_TOOLS and isinstance(tool_input, dict):
        verdict = _apply_budget(verdict, tool_input, budget)
    return verdict


def _apply_budget(verdict, tool_input, budget):
    """A spent budget acts on every spawn, whatever the routing rules and mode say: ``deny``, or
    ``downgrade`` to ``downgrade_to`` (default haiku) unless the spawn already runs at or below it.
    A fork cannot be downgraded (Claude Code ignores its model): it is left as routed."""
    fields = {key: verdict.get(key) for key in ("agent_type", "requested_model", "mode", "effort")}
    fields.update(rule=f"budget.{budget['exceeded']}", layer=budget.get("layer"), source=budget.get("source"))
    message = budget.get("message") or "cco-hooks: a budget is spent"
    if budget.get("action") != "downgrade":
        return make_decision("deny", message, enforced_model=verdict.get("enforced_model"), **fields)
    to = budget.get("downgrade_to")
    to = to if to in claude_code.TIER else "haiku"
    if agents.normalize_agent_name(tool_input.get("subagent_type")) == claude_code.FORK_AGENT_TYPE:
        return verdict
    if verdict.get("action") == "rewrite" and verdict.get("updated_input"):
        current = verdict["updated_input"].get("model")
        updated = dict(verdict["updated_input"])
    else:
        current = tool_input.get("model")
        updated = dict(tool_input)
    if current in claude_code.TIER and models.tier(current) <= models.tier(to):
        return verdict
    updated["model"] = to
    return make_decision(
        "rewrite",
        f"{message} Downgraded from {current if current in claude_code.TIER else 'its default model'} to {to}.",
        enforced_model=to,
        updated_input=updated,
        **fields,
    )


def _route(tool_name, tool_input, snapshot, env):
    if tool_name not in claude_code.SPAWN_TOOLS:
        return make_decision("none", f"{tool_name!r} is not a spawn tool")
    if not isinstance(tool_input, dict):
        return make_decision("none", "the tool input is not an object; left to Claude Code")
    agent_type = tool_input.get("subagent_type")
    if not isinstance(agent_type, str) or not agent_type.strip():
        agent_type = "general-purpose"  # what Claude Code runs when subagent_type is omitted
    requested_raw = tool_input.get("model")
    requested = requested_raw if requested_raw in claude_code.TIER else None
    base = {"agent_type": agent_type, "requested_model": requested}

    if agents.normalize_agent_name(agent_type) == claude_code.FORK_AGENT_TYPE and not snapshot.get("route_fork"):
        return make_decision(
            "none", "fork always runs on the parent's model (Claude Code ignores model); left untouched", **base
        )
    target = _target(agent_type, requested, snapshot, base)
    if "action" in target:
        return target  # nothing to route: the decision already
    verdict = _verdict(tool_input, snapshot, env, base, target)
    if target["mode"] == "observe":
        return _observed(verdict)
    return verdict


def _target(agent_type, requested, snapshot, base):
    """The model the spawn must run on: ``{mode, target, effort, where, rule_fields}``; or, when no
    rule applies or the rule says inherit, the ``none`` decision."""
    rule = find_rule(agent_type, snapshot)
    mode = snapshot.get("mode") or "rewrite"
    limits = snapshot.get("limits") or {}
    if rule is not None and rule.get("model") not in claude_code.TIER:
        return make_decision(
            "none",
            f"{_where(rule)} says inherit: {agent_type!r} left untouched",
            mode=mode,
            rule=rule.get("pattern"),
            layer=rule.get("layer"),
            source=rule.get("source"),
            **base,
        )
    if rule is not None:
        mode = rule.get("mode") or mode
        target = rule["model"]
        effort = rule.get("effort")
        where = _where(rule)
        rule_fields = {"rule": rule["pattern"], "layer": rule.get("layer"), "source": rule.get("source")}
    elif requested is not None and models.clamp(requested, limits.get("floor"), limits.get("ceiling"))[1] is not None:
        # No rule, but an explicit model still answers to the global limits.
        target, effort, where, rule_fields = requested, None, None, {}
    else:
        return make_decision("none", f"no rule for agent {agent_type!r}; left untouched", mode=mode, **base)

    clamped, limit = models.clamp(target, limits.get("floor"), limits.get("ceiling"))
    if limit is not None:
        where = f"limits.{limit} {clamped!r} in {limits.get(limit + '_source') or 'config'}" + (
            f" (over {where} → {target})" if where else ""
        )
        if rule is None:
            rule_fields = {
                "rule": f"limits.{limit}",
                "layer": limits.get(limit + "_layer"),
                "source": limits.get(limit + "_source"),
            }
        target = clamped
    return {"mode": mode, "target": target, "effort": effort, "where": where, "rule_fields": rule_fields}


def _verdict(tool_input, snapshot, env, base, target_info):
    """Allow, deny (enforce) or rewrite the spawn onto its target model."""
    agent_type, requested = base["agent_type"], base["requested_model"]
    mode, target, effort, where = (target_info[k] for k in ("mode", "target", "effort", "where"))
    fields = dict(base, mode=mode, enforced_model=target, effort=effort, **target_info["rule_fields"])
    asked = requested or "no model"

    if requested == target and (effort is None or tool_input.get("effort") == effort):
        return make_decision("allow", f"{agent_type} already runs on {target} ({where})", **fields)
    if mode == "enforce":
        if requested is None and _effective_unnamed_model(agent_type, snapshot, env) == target:
            return make_decision("allow", f"{agent_type} will run on {target} without a model ({where})", **fields)
        return make_decision(
            "deny",
            f"cco-hooks: agent {agent_type!r} must run on {target} ({where}); this call asked for "
            f'{asked}. Retry the Agent call with model: "{target}".',
            **fields,
        )
    updated = dict(tool_input)
    updated["model"] = target  # always an alias: a full ID makes the spawn fail
    if effort is not None:
        updated["effort"] = effort
    change = f"{asked} → {target}" + (f", effort {effort}" if effort is not None else "")
    return make_decision("rewrite", f"{agent_type}: {change} ({where})", updated_input=updated, **fields)


def _observed(verdict):
    """Observe records what would have happened, and changes nothing."""
    would = verdict["action"]
    if would == "allow":
        return verdict
    verdict["would"] = "deny" if would == "deny" else "rewrite"
    verdict["action"] = "observe"
    verdict["reason"] = "observe: would have " + verdict["reason"].replace("cco-hooks: ", "")
    verdict["updated_input"] = None
    return verdict


def budget_downgrade_message(decision):
    """What the user is told when a spent budget downgraded a spawn (a denial's reason reaches them
    with the denial; a rewrite has no reason field, so this goes in the systemMessage), else ``None``."""
    rule = decision.get("rule")
    if decision["action"] == "rewrite" and isinstance(rule, str) and rule.startswith("budget."):
        return decision["reason"]
    return None


def hook_output(decision):
    """The PreToolUse hook's stdout object for a decision, or ``None`` to print nothing."""
    if decision["action"] == "rewrite" and decision["updated_input"] is not None:
        return {"hookSpecificOutput": {"hookEventName": "PreToolUse", "updatedInput": decision["updated_input"]}}
    if decision["action"] == "deny":
        return {
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": "deny",
                "permissionDecisionReason": decision["reason"],
            }
        }
    return None
