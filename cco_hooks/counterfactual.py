"""The counterfactual: the model Claude Code would have run a spawn on without cco-hooks.

Savings are measured against it, so it must be what Claude Code really does (``claude_code``,
"the counterfactual", says where each rule comes from): the call's ``model``, else the agent
definition's ``model:`` (project, user and plugin agent files, and the built-in agents), else
``CLAUDE_CODE_SUBAGENT_MODEL``, else the parent's model; ``inherit`` and a fork mean the parent's
model. Aliases resolve as Claude Code resolves them under the hook's environment: an alias pin
(``ANTHROPIC_DEFAULT_*_MODEL``) first, else the provider's alias map (``CLAUDE_CODE_USE_BEDROCK``
and the other switches) of the running Claude Code version.

Computed at PreToolUse (the hook runs with Claude Code's environment) and stored in the spawn's
pre part; the parent's model is known only later, from the session transcript, and is filled in
when the spawn is settled. The version is read from the session transcript's first lines, and only
when a third-party provider is on (the first-party map is the same in every version we know).

Stdlib only and import-light: the PreToolUse hook imports it.
"""

from cco_hooks import agents, claude_code, files

VERSION_HEAD_BYTES = 64 * 1024  # the session transcript's first lines carry "version"
_VERSION_KEY = b'"version"'


def _spec(value):
    """A model as Claude Code reads it from a call, a file or the environment: an alias
    (lower-cased), ``inherit``, or a model ID (without a ``[1m]`` tag); ``None`` when empty."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or len(text) > 200:
        return None
    lowered = text.lower()
    if lowered in claude_code.TIER or lowered == claude_code.INHERIT:
        return lowered
    return text.replace("[1m]", "").replace("[1M]", "").strip() or None


def model_id(spec, env, version=None):
    """The model ID Claude Code sends for ``spec`` (an alias, or a model ID as it is)."""
    if spec is None or spec == claude_code.INHERIT:
        return None
    if spec in claude_code.TIER:
        return claude_code.alias_model_id(spec, env, version)
    return spec


def agent_model(agent_type, agent_models):
    """The ``model:`` of the agent definition ``agent_type`` names (a file's, else a built-in's):
    ``(spec, where)``, or ``(None, None)`` when the definition names none."""
    name = agents.normalize_agent_name(agent_type or "general-purpose")
    entry = (agent_models or {}).get(name)
    if isinstance(entry, dict):
        return _spec(entry.get("model")), entry.get("source")
    builtin = claude_code.BUILTIN_AGENT_MODELS.get(name)
    if builtin is not None:
        return builtin, "built-in"
    return None, None


def requested(tool_input, agent_models, env, version=None):
    """What Claude Code would run this spawn on without us.

    Returns ``{"source", "spec", "model_id", "where", "parent_model_env"}``: ``source`` is one of
    ``claude_code.REQUESTED_SOURCES``; ``spec`` the alias or ID that decided it (``None`` for the
    parent); ``model_id`` its ID under ``env`` (``None`` for the parent: filled in at settle time);
    ``parent_model_env`` the parent's model when ``ANTHROPIC_MODEL`` sets it (a fallback for when
    the transcript cannot tell).
    """
    tool_input = tool_input if isinstance(tool_input, dict) else {}
    agent_type = tool_input.get("subagent_type")
    env_spec = _spec(env.get(claude_code.SUBAGENT_MODEL_ENV))
    if env_spec == claude_code.INHERIT:
        env_spec = None
    parent = _spec(env.get(claude_code.MAIN_MODEL_ENV))
    result = {
        "source": "parent",
        "spec": None,
        "model_id": None,
        "where": None,
        "parent_model_env": model_id(parent, env, version),
    }
    if claude_code.is_fork(agent_type):
        return result
    force = claude_code.env_true(env.get(claude_code.SUBAGENT_MODEL_FORCE_ENV))
    if force:
        # The env var beats the call and the file; without it, the parent's model.
        if env_spec is not None:
            result.update(source="env", spec=env_spec, where=claude_code.SUBAGENT_MODEL_ENV)
    else:
        call = _spec(tool_input.get("model"))
        file_spec, where = agent_model(agent_type, agent_models)
        if call is not None:
            if call != claude_code.INHERIT:
                result.update(source="call", spec=call, where="call")
        elif file_spec is not None:
            # ``model: inherit`` means the parent's model, even with the env var set.
            if file_spec != claude_code.INHERIT:
                result.update(source="agent_file", spec=file_spec, where=where)
        elif env_spec is not None:
            result.update(source="env", spec=env_spec, where=claude_code.SUBAGENT_MODEL_ENV)
    result["model_id"] = model_id(result["spec"], env, version)
    return result


def same_family_as_parent(spec, source, parent_model):
    """Whether Claude Code runs the spawn on its parent's exact model although a model was named:
    a call or file naming a family alias the parent's model is in (the parent's ID contains it)."""
    return (
        source in ("call", "agent_file")
        and spec in claude_code.TIER
        and isinstance(parent_model, str)
        and spec in parent_model.lower()
    )


def read_version(transcript_path):
    """The Claude Code version on the first lines of a session transcript, or ``None``."""
    if not isinstance(transcript_path, str) or not transcript_path.endswith(".jsonl") or "\0" in transcript_path:
        return None
    head = files.read_head(transcript_path, VERSION_HEAD_BYTES)
    if head is None:
        return None
    at = head.find(_VERSION_KEY)
    if at < 0:
        return None
    start = at + len(_VERSION_KEY)
    while start < len(head) and head[start : start + 1] in (b" ", b":"):
        start += 1
    if head[start : start + 1] != b'"':
        return None
    start += 1
    end = head.find(b'"', start, start + 40)
    if end < 0:
        return None
    text = head[start:end].decode("ascii", "replace")
    return text if text[:1].isdigit() else None


def for_spawn(payload, snapshot, env, enforced=None):
    """The counterfactual of a PreToolUse payload, with the version it was resolved for (read only
    when a third-party provider makes the version matter), the provider, and the ID of the model
    the routing enforced (``enforced``, an alias) under the same environment."""
    version = None
    which = claude_code.provider(env)
    if which != claude_code.FIRST_PARTY:
        version = read_version(payload.get("transcript_path"))
    result = requested(payload.get("tool_input"), (snapshot or {}).get("agent_models"), env, version)
    result["provider"] = which
    result["catalog_version"] = version
    result["enforced_model_id"] = model_id(_spec(enforced), env, version)
    return result
