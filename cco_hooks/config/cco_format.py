"""Read real-world CCO ("Claude Code Orchestra") configs as they are, detected by content.

Three shapes exist in the wild:

- the orchestra config: an ``architect`` object plus ``<category>Agents`` lists whose entries map
  ``type`` (the ``subagent_type``) to ``model``;
- the dict-shaped TDD variant: top-level ``agents`` is a dict keyed by agent id, each entry with
  ``type`` and ``model`` (and a ``fallback_model`` we do not use);
- ``{"agent_model_overrides": {type: model}, "enable_agent_override": true}``.

Each becomes a native layer (``{"agents": {name: {"model": alias}}}``) plus a list of problems.
Duplicate types with conflicting models: the first entry wins (as a first-match lookup would) and
the conflict is reported. Non-Claude models (``gpt-3.5-turbo``) make no rule and are reported.
Every other key (``coordination``, ``workflow``, ``llmRouting`` …) carries no agent→model mapping.
"""

from cco_hooks import agents as agent_names
from cco_hooks import claude_code, models
from cco_hooks.config.bounded import quote, shorten

ORCHESTRA = "cco-orchestra"
DICT_SHAPED = "cco-agents-dict"
OVERRIDES = "cco-overrides"
_NATIVE_RULE_KEYS = {"model", "effort", "mode"}


def detect(data):
    """The CCO shape of a parsed config, or ``None`` for a native cco-hooks config."""
    if not isinstance(data, dict):
        return None
    if "agent_model_overrides" in data:
        return OVERRIDES
    if data.get("version") == 1 and not isinstance(data.get("version"), bool):
        return None
    if isinstance(data.get("architect"), dict) or any(
        key.endswith("Agents") and isinstance(value, list) for key, value in data.items()
    ):
        return ORCHESTRA
    agents = data.get("agents")
    if isinstance(agents, dict) and any(
        isinstance(entry, dict) and (set(entry) - _NATIVE_RULE_KEYS) for entry in agents.values()
    ):
        return DICT_SHAPED
    return None


def _problem(level, key_path, message):
    return {"level": level, "key_path": key_path, "message": message}


class _Collector:
    """Collects type → model entries in order, reporting conflicts and unusable models."""

    def __init__(self):
        self.entries = {}  # name -> (alias, key_path, raw model)
        self.conflicts = {}  # name -> [(key_path, raw model)]
        self.problems = []

    def add(self, name, raw_model, key_path):
        if not isinstance(name, str) or not name.strip():
            self.problems.append(_problem("warning", key_path, "entry has no usable type/name; skipped."))
            return
        alias, why = models.to_alias(raw_model)
        if alias is None:
            self.problems.append(
                _problem(
                    "warning",
                    key_path + ".model",
                    f"agent {quote(name)} uses model {quote(raw_model)}: {why}. No rule is made for it; "
                    f"set a Claude model (haiku, sonnet, opus, fable) to route it.",
                )
            )
            return
        if alias == claude_code.INHERIT:
            return
        name = agent_names.normalize_agent_name(name)
        if name in self.entries:
            first_alias, first_path, first_raw = self.entries[name]
            if first_alias != alias:
                self.conflicts.setdefault(name, [(first_path, first_raw)]).append((key_path, raw_model))
            return
        self.entries[name] = (alias, key_path, raw_model)

    def finish(self):
        for name, places in self.conflicts.items():
            listed = ", ".join(f"{path} = {quote(raw)}" for path, raw in places[:5])
            listed += ", …" if len(places) > 5 else ""
            chosen = self.entries[name]
            self.problems.append(
                _problem(
                    "warning",
                    places[0][0],
                    f"type {quote(name)} is listed {len(places)} times with conflicting models ({listed}); "
                    f"the first ({chosen[1]}: {chosen[0]}) applies. Give each entry its own type, or "
                    f"make their models agree.",
                )
            )
        agents = {name: {"model": alias, "origin": path} for name, (alias, path, _raw) in self.entries.items()}
        return {"agents": agents}, self.problems


def translate(data, shape):
    """A native layer dict and problems for a CCO config of the given shape."""
    collector = _Collector()
    if shape == ORCHESTRA:
        architect = data.get("architect")
        if isinstance(architect, dict):
            collector.add(architect.get("type"), architect.get("model"), "architect")
        for key, value in data.items():
            if not (key.endswith("Agents") and isinstance(value, list)):
                continue
            for index, entry in enumerate(value):
                if isinstance(entry, dict):
                    collector.add(entry.get("type"), entry.get("model"), f"{shorten(key)}[{index}]")
                else:
                    collector.problems.append(
                        _problem("warning", f"{shorten(key)}[{index}]", "entry is not an object; skipped.")
                    )
    elif shape == DICT_SHAPED:
        for agent_id, entry in data["agents"].items():
            if not isinstance(entry, dict):
                collector.problems.append(
                    _problem("warning", f"agents.{shorten(agent_id)}", "entry is not an object; skipped.")
                )
                continue
            # The id is the agent's own name; its type is the subagent_type it runs as. Either may be
            # what Claude is asked to spawn, so both route.
            collector.add(agent_id, entry.get("model"), f"agents.{shorten(agent_id)}")
            usable = models.to_alias(entry.get("model"))[0] is not None  # else reported once, above
            if usable and isinstance(entry.get("type"), str) and entry["type"] != agent_id:
                collector.add(entry["type"], entry.get("model"), f"agents.{shorten(agent_id)}")
    elif shape == OVERRIDES:
        overrides = data.get("agent_model_overrides")
        if not isinstance(overrides, dict):
            collector.problems.append(
                _problem("error", "agent_model_overrides", "must be an object mapping agent type to model.")
            )
        elif data.get("enable_agent_override") is not True:
            collector.problems.append(
                _problem(
                    "warning",
                    "enable_agent_override",
                    "is not true, so agent_model_overrides are ignored; set it to true to apply them.",
                )
            )
        else:
            for name, raw in overrides.items():
                collector.add(name, raw, f"agent_model_overrides.{shorten(name)}")
    return collector.finish()
