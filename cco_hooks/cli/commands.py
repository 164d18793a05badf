"""The CLI's commands as plain functions: explicit arguments in, an exit code out, text to ``out``.

The click layer (``cco_hooks.cli``) only parses arguments. Heavy imports (pydantic, yaml) happen
here, never in the hooks.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from typing import Callable, TextIO

from cco_hooks import __version__, paths, policy, snapshot
from cco_hooks.config import build as config_build
from cco_hooks.errors import CcoHooksError

Out = Callable[[str], None]


def _project(project_dir: str | None, env: dict) -> str:
    return os.path.abspath(project_dir) if project_dir else (paths.project_dir(os.getcwd(), env) or os.getcwd())


# ---- install / uninstall -------------------------------------------------------------------


def registration(action: str, scope: str, project_dir: str | None, env: dict, out: Out) -> int:
    """``install`` or ``uninstall`` the hooks in the settings file of ``scope``; says what changed."""
    from cco_hooks.cli import install

    result = getattr(install, action)(scope, project_dir, env)
    out(install.describe(result))
    return 0


# ---- config validate ------------------------------------------------------------------------


def config_validate(files: list[str], project_dir: str | None, env: dict, out: Out) -> int:
    """Validate the given files, or every layer that applies to the project. 1 when any error."""
    if files:
        layers = [config_build.read_layer("file", os.path.abspath(f)) for f in files]
    else:
        project = _project(project_dir, env)
        layers = config_build.load_layers(project, env)
        config_build.merge(layers)  # merge-time checks (limits, budget models) add their problems
    errors = 0
    for layer in layers:
        status = "broken" if layer["broken"] else "ok"
        out(f"{layer['path']} [{layer['layer']}, {layer['format'] or 'unreadable'}]: {status}, "
            f"{len(layer['rules'])} rule(s)")
        for problem in layer["problems"]:
            errors += problem["level"] == "error"
            out("  " + config_build.format_problem(problem))
    if not files and not any(layer["layer"] != "default" for layer in layers):
        out("No config file found; the embedded default applies (agent files' model: is the policy).")
    out(f"{errors} error(s).")
    return 1 if errors else 0


# ---- config show ----------------------------------------------------------------------------


def config_show(project_dir: str | None, env: dict, fmt: str, out: Out) -> int:
    project = _project(project_dir, env)
    snap = snapshot.build(project, env)
    if fmt == "json":
        shown = {k: v for k, v in snap.items() if k not in ("layer_signature", "agent_signature", "key", "told")}
        out(json.dumps(shown, indent=2))
        return 0
    out(f"project: {project}")
    out("layers (lowest first):")
    for layer in snap["layers"]:
        out(f"  {layer['layer']:<8} {layer['path']}  [{layer['format']}{', BROKEN' if layer['broken'] else ''}]")
    out(f"mode: {snap['mode']}  (from {snap['mode_source'] or 'the embedded default'})")
    out(f"on_error: {snap['on_error']}   route_fork: {snap['route_fork']}   agent_files: {snap['agent_files']}")
    limits = snap["limits"]
    out(f"limits: ceiling={limits['ceiling'] or '-'} floor={limits['floor'] or '-'}")
    default = snap["default"]
    out(f"default: {default['model'] + ' (' + str(default['source']) + ')' if default else 'inherit (unconfigured agents untouched)'}")
    rules = list(snap["exact"].items()) + [tuple(glob) for glob in snap["globs"]]
    rules += [(k, r) for k, r in snap["agent_file_rules"].items() if k not in snap["exact"]]
    out(f"rules ({len(rules)}):")
    for _key, rule in sorted(rules, key=lambda item: item[0]):
        extra = "".join(f" {name}={rule[name]}" for name in ("effort", "mode") if rule.get(name))
        out(f"  {rule['pattern']:<32} {rule['model']:<7}{extra}  ← {rule['layer']}: {rule['source']}")
    if snap["budget"]:
        budget = {k: v for k, v in snap["budget"].items() if k not in ("layer", "source")}
        out(f"budget: {json.dumps(budget)}  ← {snap['budget']['source']}")
    out(f"ledger: {paths.ledger_path(snap['ledger_path'], env)}")
    errors = sum(p["level"] == "error" for p in snap["problems"])
    if snap["problems"]:
        out(f"{len(snap['problems'])} problem(s), {errors} error(s): run `cco-hooks config validate`.")
    return 0


def config_schema(out: Out) -> int:
    from cco_hooks.config.schema import json_schema

    out(json.dumps(json_schema(), indent=2))
    return 0


# ---- explain --------------------------------------------------------------------------------


def explain(payload_text: str | None, agent: str | None, model: str | None, tool: str,
            project_dir: str | None, env: dict, as_json: bool, out: Out) -> int:
    """What the PreToolUse hook would decide for a payload (stdin) or an agent/model pair."""
    if agent is None and payload_text is None:
        raise CcoHooksError("explain needs a PreToolUse payload on stdin, or --agent NAME [--model MODEL].")
    if agent is not None:
        tool_input = {"description": "(explain)", "prompt": "(explain)", "subagent_type": agent}
        if model:
            tool_input["model"] = model
        tool_name, cwd = tool, None
    else:
        try:
            payload = json.loads(payload_text)
        except json.JSONDecodeError as exc:
            raise CcoHooksError(f"stdin is not a JSON payload ({exc.msg} at line {exc.lineno}); pipe a PreToolUse payload, or use --agent.") from None
        if not isinstance(payload, dict):
            raise CcoHooksError("stdin must be a JSON object (a PreToolUse payload).")
        tool_name, tool_input, cwd = payload.get("tool_name"), payload.get("tool_input"), payload.get("cwd")
    project = os.path.abspath(project_dir) if project_dir else paths.project_dir(cwd, env) or os.getcwd()
    snap = config_build.build_routing(project, env)
    if snap["broken"]:
        decision = policy.make_decision("none", "a config layer is broken, so the hook leaves spawns unchanged: " + snap["broken"][0])
        if snap["on_error"] == "block":
            decision = policy.make_decision("deny", "the config is broken and on_error is block: " + snap["broken"][0])
    else:
        decision = policy.decide(tool_name, tool_input, snap, env)
    hook_out = policy.hook_output(decision)
    if as_json:
        out(json.dumps({"decision": decision, "hook_output": hook_out}, indent=2))
        return 0
    agent_type = decision.get("agent_type") or (tool_input or {}).get("subagent_type")
    out(f"agent:     {agent_type}")
    out(f"requested: {decision.get('requested_model') or '(no model)'}")
    target = decision.get("enforced_model")
    verdict = decision["action"] + (f" → {target}" if target and decision["action"] in ("rewrite", "observe") else "")
    out(f"decision:  {verdict}" + (f" (would {decision['would']})" if decision.get("would") else ""))
    if decision.get("rule"):
        out(f"rule:      {decision['rule']}  ← {decision.get('layer')}: {decision.get('source')}")
    out(f"reason:    {decision['reason']}")
    out("hook prints: " + (json.dumps(hook_out) if hook_out else "nothing (the spawn proceeds unchanged)"))
    return 0


# ---- pricing -------------------------------------------------------------------------------


def pricing(fmt: str, project_dir: str | None, env: dict, out: Out) -> int:
    from cco_hooks import pricing as prices_module

    snap = config_build.build_routing(_project(project_dir, env), env)
    prices = prices_module.load_prices(override_path=snap["pricing_file"])
    if fmt == "json":
        out(json.dumps(prices.as_table(), indent=2))
    else:
        out(prices_module.format_pricing_table(prices))
    for warning in prices.warnings:
        out(f"warning: {warning}")
    return 0


# ---- doctor ---------------------------------------------------------------------------------


def _claude_version(env: dict) -> str | None:
    claude = shutil.which("claude", path=env.get("PATH"))
    if not claude:
        return None
    try:
        result = subprocess.run([claude, "--version"], capture_output=True, text=True, timeout=20, env=dict(env))
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip().split(" ")[0] or None


def _version_tuple(version: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in version.split(".")[:3])
    except ValueError:
        return ()


def doctor(project_dir: str | None, env: dict, out: Out) -> int:
    """Where cco-hooks is installed, which layers load, and what could override its decisions."""
    from cco_hooks.cli import install

    project = _project(project_dir, env)
    problems = 0
    out(f"cco-hooks {__version__} at {os.path.dirname(os.path.dirname(os.path.abspath(__file__)))} (python {sys.version.split()[0]}: {sys.executable})")
    out(f"project: {project}")
    out(f"claude config dir: {paths.claude_config_dir(env)}")

    locations = install.installed_locations(project, env)
    plugins = install.enabled_plugin_entries(project, env)
    if locations:
        for location in locations:
            if location.error:
                problems += 1
                out(f"settings file {location.path} ({location.scope}) cannot be read: {location.error}")
                continue
            complete = len(location.events) == len(install.HOOKS)
            if location.current:
                state = "current"
            elif complete and all(_runs_existing_shim(c, project) for c in location.commands):
                state = "complete, runs another checkout's or the project's own shim"
            else:
                state = "STALE (a hook is missing or points at a shim that is gone; fix: cco-hooks install --scope " + location.scope + ")"
                problems += 1
            out(f"installed: {location.scope} scope, {location.path}: {', '.join(location.events)} [{state}]")
    if plugins:
        for scope, path, name in plugins:
            out(f"plugin enabled: {name} in {path} ({scope})")
    if not locations and not plugins:
        problems += 1
        out("NOT INSTALLED: no settings file registers the cco-hooks hooks. Fix: cco-hooks install --scope project")
    if len(locations) > 1:
        out("note: the hooks are registered in more than one settings file; Claude Code runs each, "
            "so each spawn is routed and accounted once per registration. Keep one: cco-hooks uninstall --scope ...")

    snap = config_build.build_routing(project, env)
    out("config layers (lowest first):")
    for layer in snap["layers"]:
        out(f"  {layer['layer']:<8} {layer['path']}  [{layer['format']}]" + ("  BROKEN" if layer["broken"] else ""))
    errors = [p for p in snap["problems"] if p["level"] == "error"]
    if snap["broken"] or errors:
        problems += 1
        out(f"config problems: {len(errors)} error(s); run `cco-hooks config validate`.")
    out(f"mode: {snap['mode']}, {len(snap['exact']) + len(snap['globs'])} rule(s), "
        f"{len(snap['agent_file_rules'])} from agent files, on_error: {snap['on_error']}")

    for foreign in install.conflicting_hooks(project, env):
        problems += 1
        out(f"CONFLICT: another PreToolUse hook also runs on Agent/Task spawns: {foreign.command!r} (matcher {foreign.matcher!r} in {foreign.path}). "
            "If it returns updatedInput too, one rewrite overrides the other. Fix: narrow its matcher or remove it.")
    subagent_model = env.get("CLAUDE_CODE_SUBAGENT_MODEL")
    if subagent_model:
        problems += 1
        out(f"CONFLICT: CLAUDE_CODE_SUBAGENT_MODEL={subagent_model} is set. Claude Code 2.1.328 lets a spawn's model "
            "beat it, but spawns whose model cco-hooks leaves unset run on it, and some 2.1.2xx builds let it beat the "
            "spawn's model. Fix: unset it, or route with cco-hooks rules instead.")
    version = _claude_version(env)
    if version:
        out(f"claude code: {version}")
        parsed = _version_tuple(version)
        if (2, 1, 69) <= parsed <= (2, 1, 71):
            problems += 1
            out("CONFLICT: Claude Code 2.1.69–2.1.71 ignore the Agent tool's model parameter: rewrites have no effect. Fix: upgrade Claude Code.")
        elif parsed and parsed < (2, 1, 63):
            out("note: this Claude Code names the spawn tool Task; cco-hooks matches Task|Agent.")
    else:
        out("claude code: not found on PATH (fine for the hooks; doctor cannot check version quirks).")

    ledger = paths.ledger_path(snap["ledger_path"], env)
    ledger_dir = os.path.dirname(ledger)
    writable = os.access(ledger_dir, os.W_OK) if os.path.isdir(ledger_dir) else os.access(_existing_parent(ledger_dir), os.W_OK)
    out(f"ledger: {ledger} ({'writable' if writable else 'NOT WRITABLE'})")
    if not writable:
        problems += 1
    out("ok" if problems == 0 else f"{problems} problem(s) found.")
    return 1 if problems else 0


def _runs_existing_shim(command: str, project: str) -> bool:
    """Whether a registered command runs a cco-hooks shim that exists (``$CLAUDE_PROJECT_DIR`` is
    the project, as Claude Code sets it for hooks)."""
    import shlex

    for variable in ("${CLAUDE_PROJECT_DIR}", "$CLAUDE_PROJECT_DIR"):
        command = command.replace(variable, project)
    try:
        words = shlex.split(command)
    except ValueError:
        return False
    shims = [w for w in words if w.endswith(("cco_hooks/_shim.py", "hooks/cco-hook", "hooks/cco-hook.py"))]
    return bool(shims) and all(os.path.isfile(w) for w in shims)


def _existing_parent(path: str) -> str:
    while not os.path.exists(path) and os.path.dirname(path) != path:
        path = os.path.dirname(path)
    return path


def read_stdin_if_piped(stream: TextIO) -> str | None:
    if stream is None or stream.isatty():
        return None
    text = stream.read()
    return text if text.strip() else None
