"""``cco-hooks config validate | show | schema``: check the layers, show what they add up to, print
the JSON Schema.

Named ``config_cmd`` so it is never mistaken for the ``cco_hooks.config`` package it reports on.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable

from cco_hooks import paths, snapshot
from cco_hooks.coerce import visible
from cco_hooks.config import build as config_build


def run_validate(files: list[str], project_dir: str | None, env: dict, out: Callable[[str], None]) -> int:
    """Validate the given files, or every layer that applies to the project. 1 when any error."""
    if files:
        layers = [config_build.read_layer("file", os.path.abspath(f)) for f in files]
    else:
        project = paths.project_dir(env=env, chosen=project_dir, default=os.getcwd())
        layers = config_build.load_layers(project, env)
        # merge-time checks (limits, budget models, what a repository's layer may not set) add problems
        config_build.merge(layers, config_build.user_config_hint(env))
    errors = 0
    for layer in layers:
        status = "broken" if layer["broken"] else "ok"
        out(
            f"{visible(layer['path'])} [{layer['layer']}, {layer['format'] or 'unreadable'}]: {status}, "
            f"{len(layer['rules'])} rule(s)"
        )
        for problem in layer["problems"]:
            errors += problem["level"] == "error"
            out("  " + visible(config_build.format_problem(problem)))
    if any(layer["broken"] for layer in layers):
        out("While a layer is broken the hooks leave spawns unchanged (with on_error: block they deny them).")
    if not files and not any(layer["layer"] != "default" for layer in layers):
        out("No config file found; the embedded default applies (agent files' model: is the policy).")
    out(f"{errors} error(s).")
    return 1 if errors else 0


def run_show(project_dir: str | None, env: dict, fmt: str, out: Callable[[str], None]) -> int:
    """The snapshot the hooks would read for the project: as JSON, or each rule with its origin.
    0, or 1 when a layer is broken: no rule is then in force (the hooks leave spawns unchanged), so
    none is listed as if it were."""
    project = paths.project_dir(env=env, chosen=project_dir, default=os.getcwd())
    snap = snapshot.build(project, env)
    if fmt == "json":
        shown = {k: v for k, v in snap.items() if k not in ("layer_signature", "agent_signature", "key", "told")}
        out(json.dumps(shown, indent=2))
        return 1 if snap["broken"] else 0
    out(f"project: {visible(project)}")
    out("layers (lowest first):")
    for layer in snap["layers"]:
        broken = ", BROKEN" if layer["broken"] else ""
        out(f"  {layer['layer']:<8} {visible(layer['path'])}  [{layer['format'] or 'unreadable'}{broken}]")
    if snap["broken"]:
        return _show_broken(snap, out)
    out(f"mode: {snap['mode']}  (from {visible(snap['mode_source'] or 'the embedded default')})")
    out(f"on_error: {snap['on_error']}   route_fork: {snap['route_fork']}   agent_files: {snap['agent_files']}")
    limits = snap["limits"]
    out(f"limits: ceiling={limits['ceiling'] or '-'} floor={limits['floor'] or '-'}")
    default = snap["default"]
    if default:
        out(f"default: {default['model']} ({visible(default['source'])})")
    else:
        out("default: inherit (unconfigured agents untouched)")
    _show_rules(snap, out)
    if snap["budget"]:
        budget = {k: v for k, v in snap["budget"].items() if k not in ("layer", "source", "sources")}
        out(f"budget: {json.dumps(budget)}  ← {visible(snap['budget']['source'])}")
    out(f"ledger: {visible(paths.ledger_path(snap['ledger_path'], env))}")
    ignored = [p for p in snap["problems"] if p["level"] == "ignored"]
    if ignored:
        out(f"ignored ({len(ignored)}), from a repository's config:")
        for problem in ignored:
            out("  " + visible(config_build.format_problem(problem)))
    problems = [p for p in snap["problems"] if p["level"] != "ignored"]
    errors = sum(p["level"] == "error" for p in problems)
    if problems:
        out(f"{len(problems)} problem(s), {errors} error(s): run `cco-hooks config validate`.")
    return 0


def _show_broken(snap: dict, out: Callable[[str], None]) -> int:
    """A broken layer: the config is not in force, so its rules are not listed as if they were."""
    spawns = "deny every spawn (on_error: block)" if snap["on_error"] == "block" else "leave every spawn unchanged"
    out(f"NOT IN FORCE: a config layer is broken, so no rule applies and the hooks {spawns}:")
    for problem in snap["broken"]:
        out("  " + visible(problem))
    out("Fix the layer (`cco-hooks config validate` lists every problem), then run `cco-hooks config show` again.")
    return 1


def _show_rules(snap: dict, out: Callable[[str], None]) -> None:
    """Every rule by name: model, effort and mode, and the layer and file it came from (each value
    spelt visibly: a rule's name is a key from a config a repository may bring)."""
    rules = list(snap["exact"].items()) + [tuple(glob) for glob in snap["globs"]]
    rules += [(k, r) for k, r in snap["agent_file_rules"].items() if k not in snap["exact"]]
    out(f"rules ({len(rules)}):")
    for _key, rule in sorted(rules, key=lambda item: item[0]):
        extra = "".join(f" {name}={visible(rule[name])}" for name in ("effort", "mode") if rule.get(name))
        out(
            f"  {visible(rule['pattern']):<32} {visible(rule['model']):<7}{extra}  "
            f"← {rule['layer']}: {visible(rule['source'])}"
        )


def run_schema(out: Callable[[str], None]) -> int:
    """The config's JSON Schema, generated from the pydantic models."""
    from cco_hooks.config.schema import json_schema

    out(json.dumps(json_schema(), indent=2))
    return 0
