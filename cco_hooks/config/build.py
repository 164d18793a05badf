"""Load, validate and merge the config layers into the routing config: rules, default, limits,
budget, and every problem found on the way.

Layers, later wins per key and per agent:
embedded default (``config/default.yaml``) → ``${CLAUDE_CONFIG_DIR:-~/.claude}/cco-hooks.{yaml,json}``
→ ``<project>/.claude/cco-hooks.{yaml,json}`` → ``<project>/.claude/cco-hooks.local.{yaml,json}``
→ the file named by ``CCO_HOOKS_CONFIG``.

Trust: the embedded default, the user's file and the one ``CCO_HOOKS_CONFIG`` names are the user's
own choice. The project and project-local layers come with a repository (a clone carries either), so
they may route spawns (agents, mode, default, limits) but never move cco-hooks' files (``ledger``,
``pricing.file``), set prices, or loosen a protection: their budget can only tighten what the layers
before them set, and ``on_error: block`` stays. What they may not set is ignored and reported as an
``ignored`` problem naming the key, the file and why (:data:`REPOSITORY_LAYERS`).

Any layer may be a CCO orchestra config (``cco_format``). Problems never raise: each names the file,
the key path and the fix. A layer that cannot be read at all (bad syntax, not a mapping, a wrong
top-level value) is *broken*: the hooks then leave every spawn unchanged (or deny it, with
``on_error: block``) and tell the user once, because half a config could route spawns the user
never meant to route.

Knows nothing of snapshots: ``cco_hooks.snapshot`` stores what :func:`build_routing` returns, with
what it needs to tell when to build it again.
"""

from __future__ import annotations

import json
import os

from pydantic import ValidationError

from cco_hooks import agents, claude_code, files, models, paths, zones
from cco_hooks.config import bounded, cco_format
from cco_hooks.config.schema import AgentRule, Budget, Config

# Claude Code's own JSON files (plugin registry, settings), read best effort; not config layers.
MAX_SETTINGS_BYTES = 4 * 1024 * 1024
# A layer lists at most this many problems; the rest are counted in one last line.
MAX_PROBLEMS_PER_LAYER = 100
KEY_PATH_CHARS = 160
NATIVE = "cco-hooks"
# Layers that come with a repository: whoever clones it gets them without choosing them.
REPOSITORY_LAYERS = ("project", "local")
# Where a user sets what a repository's config may not (the ``~`` form when none is given).
USER_CONFIG_HINT = "~/.claude/cco-hooks.yaml"
DEFAULT_WARN_AT = 0.8
DEFAULT_DOWNGRADE_TO = "haiku"


def _problem(level, file, key_path, message):
    # Key paths are made of the layer's own keys: cut short like every value quoted in a message.
    if key_path is not None:
        key_path = bounded.shorten(key_path, KEY_PATH_CHARS)
    return {"level": level, "file": file, "key_path": key_path, "message": message}


def format_problem(problem) -> str:
    if problem["level"] == "ignored":
        return f"ignored: {problem['key_path']} in {problem['file']} — {problem['message']}"
    where = problem["file"] or "config"
    if problem.get("key_path"):
        where += f": {problem['key_path']}"
    return f"{problem['level']}: {where}: {problem['message']}"


def _validation_problems(exc, file, key_prefix=(), consequence=""):
    """pydantic's errors as problems: the key path, what was wrong, the value given."""
    return [
        _problem(
            "error",
            file,
            ".".join(bounded.shorten(p) for p in (*key_prefix, *err["loc"])),
            f"{bounded.shorten(err['msg'], 200)}; got {bounded.quote(err.get('input'))}.{consequence}",
        )
        for err in exc.errors()
    ]


def parse_file(path) -> tuple[object, str | None]:
    """Parsed content of a YAML or JSON file, or ``(None, why)``. YAML is loaded safely, and both
    within the limits of ``cco_hooks.config.bounded`` (size, nesting, values, aliases)."""
    text, why = bounded.read_text(path)
    if why is not None:
        return None, why
    return bounded.parse(text, is_json=path.endswith(".json"))


def _rule_from(name, value, file, layer, problems):
    key_path = f"agents.{bounded.shorten(name)}"
    if isinstance(value, str):
        value = {"model": value}
    if not isinstance(value, dict):
        problems.append(
            _problem(
                "error",
                file,
                key_path,
                f"must be a model name or an object with `model`; got {bounded.quote(value)}. This rule is ignored.",
            )
        )
        return None
    origin = value.get("origin")
    value = {k: v for k, v in value.items() if k != "origin"}
    try:
        rule = AgentRule.model_validate(value)
    except ValidationError as exc:
        problems.extend(_validation_problems(exc, file, (key_path,), " This rule is ignored."))
        return None
    for extra in sorted(rule.model_extra or {}):
        problems.append(
            _problem(
                "warning",
                file,
                f"{key_path}.{bounded.shorten(extra)}",
                "unknown key, ignored; expected model, effort or mode.",
            )
        )
    alias, why = models.to_alias(rule.model)
    if alias is None:
        problems.append(
            _problem(
                "error",
                file,
                f"{key_path}.model",
                f"Unknown model {bounded.quote(rule.model)} for agent {bounded.quote(name)}: {why}; expected one of "
                f"{', '.join(claude_code.ALIASES)} (or inherit). This rule is ignored.",
            )
        )
        return None
    return {
        "model": alias,
        "effort": rule.effort,
        "mode": rule.mode,
        "pattern": name,
        "layer": layer,
        "source": file + (f" ({origin})" if origin else ""),
    }


def _model_field(section, key, file, problems, allow_inherit=False):
    raw = (section or {}).get(key)
    if raw is None:
        return None
    alias, why = models.to_alias(raw)
    if alias is None or (alias == claude_code.INHERIT and not allow_inherit):
        why = why or "inherit is not a tier"
        problems.append(
            _problem(
                "error",
                file,
                key,
                f"model {bounded.quote(raw)}: {why}; expected one of {', '.join(claude_code.ALIASES)}.",
            )
        )
        return None
    return alias


def read_layer(layer, path) -> dict:
    """One layer: its format, its normalised content, its problems, and whether it is broken.

    At most ``MAX_PROBLEMS_PER_LAYER`` problems are listed, errors first: a layer with thousands of
    unknown keys must not make every hook carry thousands of messages in its snapshot."""
    result = _read_layer(layer, path)
    problems = result["problems"]
    if len(problems) > MAX_PROBLEMS_PER_LAYER:
        problems.sort(key=lambda p: p["level"] != "error")  # stable: errors first, each in file order
        dropped = problems[MAX_PROBLEMS_PER_LAYER:]
        del problems[MAX_PROBLEMS_PER_LAYER:]
        errors = sum(p["level"] == "error" for p in dropped)
        problems.append(
            _problem(
                "error" if errors else "warning",
                path,
                None,
                f"{len(dropped)} more problems ({errors} errors) are not listed; fix these and validate again "
                "to see the rest.",
            )
        )
    return result


def _read_layer(layer, path) -> dict:
    result = {"layer": layer, "path": path, "format": None, "config": {}, "rules": {}, "problems": [], "broken": False}
    problems = result["problems"]
    data, why = parse_file(path)
    if why is not None:
        problems.append(_problem("error", path, None, f"{why}."))
        result["broken"] = True
        return result
    if data is None:
        result["format"] = NATIVE  # an empty file is an empty layer
        return result
    if not isinstance(data, dict):
        problems.append(
            _problem(
                "error",
                path,
                None,
                f"must be a mapping (key: value) at the top; got a {type(data).__name__}.",
            )
        )
        result["broken"] = True
        return result
    shape = cco_format.detect(data)
    if shape is not None:
        result["format"] = shape
        native, cco_problems = cco_format.translate(data, shape)
        for p in cco_problems:
            problems.append(_problem(p["level"], path, p["key_path"], p["message"]))
            if p["level"] == "error":
                result["broken"] = True
        data = native
    else:
        result["format"] = NATIVE
    agents_section = data.get("agents")
    top = {k: v for k, v in data.items() if k != "agents"}
    try:
        config = Config.model_validate(top)
    except ValidationError as exc:
        problems.extend(_validation_problems(exc, path))
        result["broken"] = True
        return result
    if shape is None:
        _warn_native_keys(config, bool(data), path, problems)
    result["config"] = config.model_dump(exclude_none=True, exclude_unset=True, by_alias=False)
    if agents_section is not None:
        _read_agent_rules(agents_section, result)
    return result


def _warn_native_keys(config, non_empty, path, problems):
    """Warnings for a native layer: unknown keys (top level and in each section), no ``version``."""
    for extra in sorted(config.model_extra or {}):
        problems.append(
            _problem(
                "warning",
                path,
                bounded.shorten(extra),
                "unknown key, ignored. See config/cco-hooks.schema.json for the keys.",
            )
        )
    for section_name in ("default", "limits", "ledger", "pricing", "budget", "export"):
        section = getattr(config, section_name)
        for extra in sorted(getattr(section, "model_extra", None) or {}):
            problems.append(
                _problem("warning", path, f"{section_name}.{bounded.shorten(extra)}", "unknown key, ignored.")
            )
    if config.version is None and non_empty:
        problems.append(
            _problem(
                "warning", path, "version", "is missing; add `version: 1` so future formats can tell this one apart."
            )
        )


def _read_agent_rules(agents_section, result):
    """The layer's ``agents`` section into ``result["rules"]``; a non-mapping breaks the layer."""
    path, problems = result["path"], result["problems"]
    if not isinstance(agents_section, dict):
        problems.append(
            _problem(
                "error",
                path,
                "agents",
                f"must be a mapping of agent type to model; got {type(agents_section).__name__}.",
            )
        )
        result["broken"] = True
        return
    for name, value in agents_section.items():
        key = agents.normalize_agent_name(str(name))
        rule = _rule_from(str(name), value, path, result["layer"], problems)
        if rule is None:
            continue
        if key in result["rules"] and result["rules"][key]["pattern"] != str(name):
            problems.append(
                _problem(
                    "warning",
                    path,
                    f"agents.{bounded.shorten(name)}",
                    f"names the same agent as {bounded.quote(result['rules'][key]['pattern'])} (names match case- and "
                    "separator-insensitively); this later entry applies.",
                )
            )
        result["rules"][key] = rule


def _resolve_relative(value, file):
    if not value:
        return None
    value = os.path.expanduser(value)
    if not os.path.isabs(value) and file:
        value = os.path.join(os.path.dirname(file), value)
    return os.path.abspath(value)


def user_config_hint(env) -> str:
    """The user's own config file, as an "ignored" problem names it: where to set it instead."""
    return os.path.join(paths.claude_config_dir(env), paths.CONFIG_BASENAMES[0])


def load_layers(project, env) -> list[dict]:
    """Every layer that exists, lowest priority first; the embedded default first of all."""
    layers = [read_layer("default", paths.default_config_path())]
    for layer, path in paths.config_layer_paths(project, env):
        if os.path.exists(path) or layer == "env":
            if not os.path.exists(path):
                missing = _problem(
                    "error",
                    path,
                    None,
                    "CCO_HOOKS_CONFIG names this file, but it does not exist; fix the variable or create the file.",
                )
                layers.append(
                    {
                        "layer": layer,
                        "path": path,
                        "format": None,
                        "config": {},
                        "rules": {},
                        "broken": True,
                        "problems": [missing],
                    }
                )
                continue
            layers.append(read_layer(layer, path))
    return layers


def merge(layers, user_config=USER_CONFIG_HINT) -> dict:
    """Later layers win per key and per agent; each value remembers the layer it came from.

    A repository's layer (:data:`REPOSITORY_LAYERS`) is first cut down to what it may set
    (:func:`_repository_view`); ``user_config`` is the file its "ignored" problems point the user to.
    """
    merged = {
        "mode": ("rewrite", "default", None),
        "on_error": ("allow", "default", None),
        "agent_files": (False, "default", None),
        "route_fork": (False, "default", None),
        "default": ({"model": "inherit", "effort": None}, "default", None),
        "ceiling": (None, None, None),
        "floor": (None, None, None),
        "ledger_path": (None, None, None),
        "pricing_file": (None, None, None),
        "export_otlp": (False, "default", None),
        "budget": ({}, None, None),
        "budget_sources": {},
        "rules": {},
    }
    for layer in layers:
        if layer["broken"]:
            continue
        cfg, name, path = layer["config"], layer["layer"], layer["path"]
        problems = layer["problems"]
        if name in REPOSITORY_LAYERS:
            cfg = _repository_view(cfg, merged, path, problems, user_config)
        for key in ("mode", "on_error", "agent_files", "route_fork"):
            if key in cfg:
                merged[key] = (cfg[key], name, path)
        if "default" in cfg:
            alias = _model_field(cfg["default"], "model", path, problems, allow_inherit=True)
            if alias is not None:
                merged["default"] = ({"model": alias, "effort": cfg["default"].get("effort")}, name, path)
        for key in ("ceiling", "floor"):
            alias = _model_field(cfg.get("limits"), key, path, problems)
            if alias is not None:
                merged[key] = (alias, name, path)
        if (cfg.get("ledger") or {}).get("path"):
            merged["ledger_path"] = (_resolve_relative(cfg["ledger"]["path"], path), name, path)
        if (cfg.get("pricing") or {}).get("file"):
            merged["pricing_file"] = (_resolve_relative(cfg["pricing"]["file"], path), name, path)
        if (cfg.get("export") or {}).get("otlp") is not None:
            merged["export_otlp"] = (bool(cfg["export"]["otlp"]), name, path)
        if cfg.get("budget"):
            merged["budget"] = (_merge_budget(merged["budget"][0], cfg["budget"], path, problems), name, path)
            _note_cap_sources(merged["budget_sources"], cfg["budget"], path)
        merged["rules"].update(layer["rules"])
    ceiling, floor = merged["ceiling"][0], merged["floor"][0]
    if ceiling and floor and models.tier(floor) > models.tier(ceiling):
        source = merged["floor"][2]
        for layer in layers:
            if layer["path"] == source:
                layer["problems"].append(
                    _problem(
                        "error",
                        source,
                        "limits.floor",
                        f"floor {floor} is above ceiling {ceiling}; the floor is ignored. Lower the floor or raise the "
                        "ceiling.",
                    )
                )
        merged["floor"] = (None, None, None)
    return merged


def _ignored(path, key_path, why):
    return _problem("ignored", path, key_path, why)


def _repository_view(cfg, merged, path, problems, user_config) -> dict:
    """What a repository's layer may set, given what the layers before it set: everything but the
    file locations and prices, ``on_error`` only towards ``block``, the budget only tighter. Each
    key left out is reported as ``ignored``, with why and where the user can set it instead."""
    cfg = dict(cfg)
    for key in sorted(cfg.pop("ledger", None) or {}):
        fix = f"set it in {user_config} or CCO_HOOKS_LEDGER." if key == "path" else "it is not a ledger key."
        problems.append(_ignored(path, f"ledger.{key}", f"a repository's config cannot move cco-hooks' files; {fix}"))
    for key in sorted(cfg.pop("pricing", None) or {}):
        why = (
            "a repository's config cannot choose the price table cco-hooks charges by"
            if key == "file"
            else "a repository's config cannot set prices"
        )
        problems.append(_ignored(path, f"pricing.{key}", f"{why}; set it in {user_config}."))
    for key in sorted(cfg.pop("export", None) or {}):
        problems.append(
            _ignored(
                path,
                f"export.{key}",
                "a repository's config cannot send your spend to a collector or start processes; "
                f"set it in {user_config}.",
            )
        )
    current_on_error, _layer, on_error_source = merged["on_error"]
    if cfg.get("on_error") == "allow" and current_on_error == "block":
        cfg.pop("on_error")
        problems.append(
            _ignored(
                path,
                "on_error",
                f"a repository's config cannot loosen on_error: block (set in {on_error_source}) to allow; change it "
                "there if you mean it.",
            )
        )
    if cfg.get("budget"):
        cfg["budget"] = _tighter_budget(cfg["budget"], merged, path, problems, user_config)
    return cfg


def _tighter_budget(section, merged, path, problems, user_config) -> dict:
    """The part of a repository's budget section that tightens the budget merged so far: a cap
    lower than the one in force (or a new one), ``deny`` over ``downgrade``, a cheaper
    ``downgrade_to``, an earlier ``warn_at``. The rest is reported and dropped."""
    budget, sources = merged["budget"][0], merged["budget_sources"]
    where = merged["budget"][2] or "the embedded default"
    kept = {}

    def ignore(key_path, why):
        problems.append(
            _ignored(path, f"budget.{key_path}", f"a repository's config can only tighten the budget: {why}")
        )

    for key in ("daily_usd", "session_usd"):
        if key not in section:
            continue
        value, cap = section[key], budget.get(key)
        if cap is None or value < cap:
            kept[key] = value
        elif value > cap:
            ignore(key, f"{value:g} is above the cap of {cap:g} set in {sources.get(key, where)}; raise it there.")
    per_agent_caps = budget.get("per_agent") or {}
    kept_per_agent = {}
    for name, value in (section.get("per_agent") or {}).items():
        key = agents.normalize_agent_name(name)
        cap = per_agent_caps.get(key)
        if cap is None or value < cap:
            kept_per_agent[name] = value
        elif value > cap:
            source = sources.get(f"per_agent.{key}", where)
            ignore(f"per_agent.{name}", f"{value:g} is above the cap of {cap:g} set in {source}; raise it there.")
    if kept_per_agent:
        kept["per_agent"] = kept_per_agent
    if "on_exceed" in section:
        if section["on_exceed"] == "downgrade" and budget.get("on_exceed", "deny") == "deny":
            ignore(
                "on_exceed",
                f"downgrade would let spawns go on once a cap is spent, where {where} denies them; set it in "
                f"{user_config}.",
            )
        else:
            kept["on_exceed"] = section["on_exceed"]
    if "downgrade_to" in section:
        alias, _why = models.to_alias(section["downgrade_to"])
        current = budget.get("downgrade_to", DEFAULT_DOWNGRADE_TO)
        if alias in claude_code.TIER and models.tier(alias) > models.tier(current):
            ignore("downgrade_to", f"{alias} costs more than {current}, the model in force; set it in {user_config}.")
        else:
            kept["downgrade_to"] = section["downgrade_to"]  # an unknown model is reported by _merge_budget
    if "warn_at" in section:
        current = budget.get("warn_at", DEFAULT_WARN_AT)
        if section["warn_at"] > current:
            ignore("warn_at", f"{section['warn_at']:g} would warn later than {current:g}; set it in {user_config}.")
        else:
            kept["warn_at"] = section["warn_at"]
    if "timezone" in section:
        if str(section["timezone"]) != str(budget.get("timezone", "UTC")):
            ignore(
                "timezone",
                "moving the hour the caps' day begins lets one day's spend run over two days; set it in "
                f"{user_config}.",
            )
    return kept  # any other key is unknown: warned about already, and never merged from a repository


def _note_cap_sources(sources, section, path):
    """Which file set each cap now in force, so a denial names the file the cap really came from."""
    for key in ("daily_usd", "session_usd"):
        if key in section:
            sources[key] = path
    for name in section.get("per_agent") or {}:
        sources[f"per_agent.{agents.normalize_agent_name(name)}"] = path


def _merge_budget(budget, section, path, problems) -> dict:
    """``budget`` with a layer's ``budget`` section over it; ``per_agent`` merges per agent."""
    budget = dict(budget)
    for key, value in section.items():
        if key == "per_agent" and isinstance(value, dict):
            per_agent = dict(budget.get("per_agent") or {})
            per_agent.update({agents.normalize_agent_name(k): v for k, v in value.items()})
            budget["per_agent"] = per_agent
        elif key == "downgrade_to":
            alias = _model_field(section, "downgrade_to", path, problems)
            if alias:
                budget["downgrade_to"] = alias
        elif key == "timezone":
            try:
                zones.zone(value, default="UTC")
            except ValueError as exc:
                problems.append(_problem("error", path, "budget.timezone", f"{exc} The caps' days stay UTC."))
            else:
                budget["timezone"] = value
        elif key in Budget.model_fields:
            budget[key] = value
        # An unknown key (a typo, a newer release's) is warned about by validation; it is not
        # carried into the snapshot the hooks read, where nothing would use it.
    return budget


def agent_file_rules(project, env, problems) -> dict:
    """Rules from the ``model:`` frontmatter of agent files; project files beat user files."""
    rules = {}
    for layer, directory in reversed(paths.agent_dirs(project, env)):  # user first, project overrides
        for path in agents.agent_files(directory):
            fields = agents.read_frontmatter(path)
            name = fields.get("name") or os.path.basename(path)[: -len(".md")]
            raw = fields.get("model")
            if not raw:
                continue
            alias, why = models.to_alias(raw)
            if alias is None:
                problems.append(
                    _problem("warning", path, "model", f"{bounded.quote(raw)}: {why}; this agent file makes no rule.")
                )
                continue
            if alias == claude_code.INHERIT:
                continue
            rules[agents.normalize_agent_name(name)] = {
                "model": alias,
                "effort": fields.get("effort") or None,
                "mode": None,
                "pattern": name,
                "layer": f"agent-file ({layer})",
                "source": path,
            }
    return rules


def _read_json(path):
    """A small JSON file as an object, or ``None`` (missing, unreadable, not JSON, not an object)."""
    raw = files.read_head(path, MAX_SETTINGS_BYTES)  # a pipe or a device there: not read
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: nested thousands deep
        return None
    return value if isinstance(value, dict) else None


def plugin_agent_dirs(project, env) -> list[list[str]]:
    """``[plugin name, agents directory]`` of every plugin Claude Code has installed for this
    project and enabled, best effort: ``<config>/plugins/installed_plugins.json`` (version 2:
    ``plugins: {"name@marketplace": [{scope, projectPath, installPath}]}``) and ``enabledPlugins``
    in the user, project and local settings (later wins). A plugin loaded for one session only
    (``--plugin-dir``) is not visible to a hook and is not listed."""
    registry_path, *settings_paths = paths.plugin_registry_paths(project, env)
    registry = _read_json(registry_path) or {}
    enabled = {}
    for path in settings_paths:
        value = (_read_json(path) or {}).get("enabledPlugins")
        if isinstance(value, dict):
            enabled.update(value)
    installed = registry.get("plugins")
    found = []
    for key, installs in (installed if isinstance(installed, dict) else {}).items():
        if enabled.get(key) is not True or not isinstance(installs, list):
            continue
        for install in installs:
            if not isinstance(install, dict) or not isinstance(install.get("installPath"), str):
                continue
            scope, where = install.get("scope"), install.get("projectPath")
            if scope in ("project", "local") and not (project and where == project):
                continue
            root = install["installPath"]
            manifest = _read_json(os.path.join(root, ".claude-plugin", "plugin.json")) or {}
            name = manifest.get("name") if isinstance(manifest.get("name"), str) else key.split("@", 1)[0]
            found.append([name, os.path.join(root, "agents")])
            break
    return found


def agent_models(project, env, plugin_dirs) -> dict:
    """Every agent definition's ``model:`` as Claude Code reads it, whatever the routing config
    says: ``{normalized name: {"model": raw value, "source": file}}`` (only files that name a
    model). Plugin agents are ``plugin:name``; project files beat user files. The counterfactual
    reads it (``cco_hooks.counterfactual``)."""
    found = {}
    sources = [(f"{plugin}:", directory) for plugin, directory in plugin_dirs]
    sources += [("", directory) for _layer, directory in reversed(paths.agent_dirs(project, env))]
    for prefix, directory in sources:
        for path in agents.agent_files(directory):
            fields = agents.read_frontmatter(path)
            name = fields.get("name") or os.path.basename(path)[: -len(".md")]
            raw = fields.get("model")
            if raw and raw.strip():
                found[agents.normalize_agent_name(prefix + name)] = {"model": raw.strip()[:200], "source": path}
    return found


def _split_rules(rules) -> tuple[dict, list]:
    """Exact rules by name, and glob rules most specific first."""
    exact, globs = {}, []
    for key, rule in rules.items():
        if agents.is_glob(key):
            globs.append([key, rule])
        else:
            exact[key] = rule
    globs.sort(key=lambda item: (-agents.glob_specificity(item[0]), item[0]))
    return exact, globs


def _default_rule(merged) -> dict | None:
    """The rule for agents no rule names, or ``None`` when unconfigured agents are left alone."""
    value, layer, source = merged["default"]
    if value["model"] not in claude_code.TIER:
        return None
    return {
        "model": value["model"],
        "effort": value.get("effort"),
        "mode": None,
        "pattern": "default",
        "layer": layer,
        "source": source,
    }


def build_routing(project, env) -> dict:
    """Everything the routing policy reads, from every layer that applies to ``project``.

    Never raises for config problems: they are listed in ``problems``, and a broken layer's errors
    in ``broken``.
    """
    env = os.environ if env is None else env
    layers = load_layers(project, env)
    merged = merge(layers, user_config_hint(env))
    problems = [p for layer in layers for p in layer["problems"]]
    broken = [
        format_problem(p) for layer in layers if layer["broken"] for p in layer["problems"] if p["level"] == "error"
    ]
    exact, globs = _split_rules(merged["rules"])
    agent_files_on = bool(merged["agent_files"][0])
    file_rules = agent_file_rules(project, env, problems) if agent_files_on else {}
    budget_value, budget_layer, budget_source = merged["budget"]
    plugin_dirs = plugin_agent_dirs(project, env)
    return {
        "layers": [{key: layer[key] for key in ("layer", "path", "format", "broken")} for layer in layers],
        "mode": merged["mode"][0],
        "mode_source": merged["mode"][2],
        "on_error": merged["on_error"][0],
        "route_fork": bool(merged["route_fork"][0]),
        "agent_files": agent_files_on,
        "default": _default_rule(merged),
        "limits": {
            "ceiling": merged["ceiling"][0],
            "ceiling_layer": merged["ceiling"][1],
            "ceiling_source": merged["ceiling"][2],
            "floor": merged["floor"][0],
            "floor_layer": merged["floor"][1],
            "floor_source": merged["floor"][2],
        },
        "exact": exact,
        "globs": globs,
        "agent_file_rules": file_rules,
        "plugin_agent_dirs": plugin_dirs,
        "agent_models": agent_models(project, env, plugin_dirs),
        "ledger_path": merged["ledger_path"][0],
        "pricing_file": merged["pricing_file"][0],
        "export_otlp": bool(merged["export_otlp"][0]),
        "budget": (
            dict(budget_value, layer=budget_layer, source=budget_source, sources=dict(merged["budget_sources"]))
            if budget_value
            else None
        ),
        "problems": problems,
        "broken": broken,
    }
