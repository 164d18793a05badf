"""What cco-hooks knows about Claude Code itself, in one place: every other module imports it.

Observed by running the real CLI; ``docs/design.md`` ("Claude Code facts") says where each comes from.

Stdlib only and import-free: every hook imports it.
"""

# The tool that spawns a subagent: ``Agent`` since 2.1.63, ``Task`` before. (``TaskCreate`` and
# friends are other tools.)
SPAWN_TOOLS = ("Agent", "Task")
SPAWN_TOOL_MATCHER = "Task|Agent"
# PreToolUse runs for every tool: inside a subagent, its tool calls are where its caps are enforced
# (the payload carries ``agent_id``); a main-loop call that is no spawn leaves the hook at once.
EVERY_TOOL_MATCHER = "*"

# The hook events cco-hooks registers: (Claude Code's event name, our command's argument, matcher,
# timeout in seconds). SessionEnd, not Stop, records the session: Claude Code writes the session's
# ``cost-state`` line only when it exits, and Stop fires after every main-loop turn.
HOOK_EVENTS = (
    ("PreToolUse", "pre-tool-use", EVERY_TOOL_MATCHER, 10),
    ("PostToolUse", "post-tool-use", SPAWN_TOOL_MATCHER, 30),
    ("SubagentStop", "subagent-stop", None, 30),
    ("Stop", "stop", None, 30),
    ("SessionEnd", "session-end", None, 30),
)
HOOK_ARGS = tuple(arg for _event, arg, _matcher, _timeout in HOOK_EVENTS)

# The Agent tool's ``model`` accepts only these aliases: a full model ID in a hook's
# ``updatedInput`` (even ``claude-haiku-5-5``) makes the spawn fail schema validation.
ALIASES = ("haiku", "sonnet", "opus", "fable")
# The tier order for limits (ceiling / floor): haiku < sonnet < opus < fable.
TIER = {"haiku": 0, "sonnet": 1, "opus": 2, "fable": 3}
# What each alias resolves to with the first-party API (``tool_response.resolvedModel``).
ALIAS_MODEL_ID = {
    "haiku": "claude-haiku-5-5",
    "sonnet": "claude-sonnet-5-5",
    "opus": "claude-opus-5-5",
    "fable": "claude-fable-5-2",
}
# Agent files may say ``model: inherit`` (run on the parent's model).
INHERIT = "inherit"
# Claude families that exist but have no Agent-tool alias, so a spawn can never be routed to them.
FAMILIES_WITHOUT_ALIAS = ("mythos",)

# A ``fork`` subagent always runs on its parent's model, whatever the call's ``model`` says.
FORK_AGENT_TYPE = "fork"


def is_fork(agent_type):
    """Whether a spawn's ``subagent_type`` names the built-in fork (any case, spaces around)."""
    return isinstance(agent_type, str) and agent_type.strip().lower() == FORK_AGENT_TYPE


def version_tuple(text):
    """``"2.1.328 (Claude Code)"`` → ``(2, 1, 328)``; missing or odd parts count as 0."""
    parts = []
    for piece in (text if isinstance(text, str) else "").strip().split(" ")[0].split(".")[:3]:
        digits = ""
        for ch in piece:
            if not ch.isdigit():
                break
            digits += ch
        parts.append(int(digits) if digits else 0)
    return tuple(parts + [0] * (3 - len(parts)))


# Releases that ignore the Agent tool's ``model`` parameter, so a rewrite has no effect.
IGNORES_MODEL_PARAM = ((2, 1, 69), (2, 1, 71))
# Builds in which ``CLAUDE_CODE_SUBAGENT_MODEL`` beats the spawn's own model.
SUBAGENT_MODEL_ENV_WINS = ((2, 1, 200), (2, 1, 299))
# Before this release the spawn tool was called ``Task``.
AGENT_TOOL_SINCE = (2, 1, 63)


def ignores_model_param(version):
    low, high = IGNORES_MODEL_PARAM
    return low <= version_tuple(version) <= high


def subagent_model_env_wins(version):
    low, high = SUBAGENT_MODEL_ENV_WINS
    return low <= version_tuple(version) <= high


def model_param_overridden(version):
    """Whether this version may run a spawn on another model than its ``model`` parameter names."""
    return ignores_model_param(version) or subagent_model_env_wins(version)


# ----- the Claude Code releases cco-hooks is tested against -----------------------------------------
# The end-to-end suite runs on each of them and ``.ci/run`` installs each (a unit test keeps the two,
# and docs/claude-code-versions.md, equal). The pinned baseline is the release every captured payload
# and the price fixture come from; the newest is the newest published release, pinned by number so a
# run is reproducible (bump it with ``npm view @anthropic-ai/claude-code version``).
PINNED_VERSION = "2.1.328"
NEWEST_TESTED_VERSION = "2.1.332"
TESTED_VERSIONS = (PINNED_VERSION, NEWEST_TESTED_VERSION)
# Hook events newer than the pinned baseline, with the release that added them. cco-hooks registers
# none of them: ``PreSkillShellCommand`` runs before a skill's shell command and matches on its
# ``tool_name``; it never fires for a spawn, so the ``Task|Agent`` PreToolUse matcher is unaffected.
HOOK_EVENTS_ADDED = {"PreSkillShellCommand": (2, 1, 332)}


# --------------------------------------------------------------------------- the counterfactual
# What Claude Code runs a spawn on without cco-hooks. Read from the 2.1.328 and 2.1.332 binaries
# (the subagent model resolver, ``ops`` in 2.1.332, ``vBo`` in 2.1.328, same logic) and measured
# in the real CLI (docs/design.md, "The counterfactual"):
#   1. the call's ``model``; 2. the agent definition's ``model:``; 3. ``CLAUDE_CODE_SUBAGENT_MODEL``;
#   4. the parent's model. ``inherit`` in the call or the file means the parent's model at once: a
#   file saying ``model: inherit`` runs on the parent's model even when the env var is set.
#   A fork always runs on the parent's model.
#   A call or file naming a family alias whose family the parent's model is in runs on the
#   parent's exact model (``fCi``/``EBo``: the parent's ID contains the alias), not the alias's.
#   ``CLAUDE_CODE_SUBAGENT_MODEL_FORCE`` (truthy) makes the env var beat the call and the file.
#   Measured (tests/e2e/test_counterfactual_e2e.py, both versions): the order 1-4, ``inherit`` in a
#   file over the env var, forks, an alias pin. Read from the binaries only: the parent's-family
#   rule and the force switch.
SUBAGENT_MODEL_ENV = "CLAUDE_CODE_SUBAGENT_MODEL"
SUBAGENT_MODEL_FORCE_ENV = "CLAUDE_CODE_SUBAGENT_MODEL_FORCE"
# The main loop's model when set by the environment (``--model`` and settings are not visible to a
# hook: the session transcript's message that issued the spawn says what really ran).
MAIN_MODEL_ENV = "ANTHROPIC_MODEL"
# Where the counterfactual came from, as the ledger records it (``requested_source``).
REQUESTED_SOURCES = ("call", "agent_file", "env", "parent")
# Built-in agents that carry a ``model`` in their definition (2.1.328 and 2.1.332 alike);
# ``general-purpose`` carries none. (Not modelled: Explore's first-party "inherit, capped at opus"
# when the parent is a fable or mythos model.)
BUILTIN_AGENT_MODELS = {"statusline-setup": "sonnet", "explore": INHERIT, "plan": INHERIT}

# Environment switches Claude Code reads as true: "1", "true", "yes", "on" (any case, trimmed).
TRUE_WORDS = ("1", "true", "yes", "on")


def env_true(value):
    return isinstance(value, str) and value.strip().lower() in TRUE_WORDS


# Alias pins: each alias resolves to its pin when the variable is set, on every provider (``Hv``,
# ``Wb``, ``vz``, ``l6e`` in 2.1.332; same in 2.1.328). A ``[1m]`` context tag is not part of the ID.
ALIAS_PIN_ENV = {
    "opus": "ANTHROPIC_DEFAULT_OPUS_MODEL",
    "sonnet": "ANTHROPIC_DEFAULT_SONNET_MODEL",
    "haiku": "ANTHROPIC_DEFAULT_HAIKU_MODEL",
    "fable": "ANTHROPIC_DEFAULT_FABLE_MODEL",
}

# The provider switch, in the order Claude Code checks it (``be()``): the first true one wins; none
# set is the first-party API. (The "gateway" provider is chosen by host credentials, not by the
# environment, and is not modelled.)
PROVIDER_ENV = (
    ("CLAUDE_CODE_USE_BEDROCK", "bedrock"),
    ("CLAUDE_CODE_USE_FOUNDRY", "foundry"),
    ("CLAUDE_CODE_USE_ANTHROPIC_AWS", "anthropic_aws"),
    ("CLAUDE_CODE_USE_ANTHROPIC_GOOGLE_CLOUD", "anthropic_google_cloud"),
    ("CLAUDE_CODE_USE_MANTLE", "mantle"),
    ("CLAUDE_CODE_USE_VERTEX", "vertex"),
)
FIRST_PARTY = "first_party"

# Each alias's model per provider, as the catalog baked into each binary says
# (``aliases: {opus: {default, per_provider}}``); a provider not listed gets the default.
# 2.1.329-2.1.331 ship the 2.1.328 map (their catalog changes are capability flags only).
_ALIAS_MAP_2_1_328 = {
    "opus": (
        "claude-opus-5-5",
        {"foundry": "claude-opus-4-6", "gateway": "claude-opus-4-7"},
    ),
    "sonnet": (
        "claude-sonnet-5-5",
        {
            "bedrock": "claude-sonnet-4-5",
            "vertex": "claude-sonnet-4-5",
            "foundry": "claude-sonnet-4-5",
            "mantle": "claude-sonnet-4-5",
            "anthropic_aws": "claude-sonnet-4-6",
            "gateway": "claude-sonnet-4-6",
        },
    ),
    "haiku": (
        "claude-haiku-5-5",
        dict.fromkeys(
            ("bedrock", "vertex", "foundry", "mantle", "anthropic_aws", "anthropic_google_cloud", "gateway"),
            "claude-haiku-4-5",
        ),
    ),
    "fable": ("claude-fable-5-2", {"gateway": "claude-fable-5"}),
}
# 2.1.332: opus on Foundry → opus-5-5; sonnet on Vertex and Foundry → sonnet-5-5, on Mantle → sonnet-5.
_ALIAS_MAP_2_1_332 = dict(
    _ALIAS_MAP_2_1_328,
    opus=("claude-opus-5-5", {"gateway": "claude-opus-4-7"}),
    sonnet=(
        "claude-sonnet-5-5",
        {
            "bedrock": "claude-sonnet-4-5",
            "mantle": "claude-sonnet-5",
            "anthropic_aws": "claude-sonnet-4-6",
            "gateway": "claude-sonnet-4-6",
        },
    ),
)
# (first version, its map), newest first. A version older than every entry gets the oldest map;
# an unknown version gets the newest.
PROVIDER_ALIAS_MAPS = (((2, 1, 332), _ALIAS_MAP_2_1_332), ((2, 1, 328), _ALIAS_MAP_2_1_328))

# The ID each provider is sent for a catalog model (``provider_ids``; identical in 2.1.328 and
# 2.1.332), for the models the alias maps name. ``None``: the catalog has no ID there (the first-
# party ID is recorded instead: it prices the same).
_SAME_EVERYWHERE = ("vertex", "foundry", "anthropic_aws", "anthropic_google_cloud", "gateway")


def _ids(model, bedrock, mantle, **others):
    ids = dict.fromkeys(_SAME_EVERYWHERE, model)
    ids.update(first_party=model, bedrock=bedrock, mantle=mantle)
    ids.update(others)
    return ids


PROVIDER_MODEL_IDS = {
    "claude-opus-5-5": _ids("claude-opus-5-5", "us.anthropic.claude-opus-5-5", "anthropic.claude-opus-5-5"),
    "claude-opus-4-7": _ids("claude-opus-4-7", "us.anthropic.claude-opus-4-7", "anthropic.claude-opus-4-7"),
    "claude-opus-4-6": _ids("claude-opus-4-6", "us.anthropic.claude-opus-4-6-v1", None),
    "claude-sonnet-5-5": _ids("claude-sonnet-5-5", "us.anthropic.claude-sonnet-5-5", "anthropic.claude-sonnet-5-5"),
    "claude-sonnet-5": _ids("claude-sonnet-5", "us.anthropic.claude-sonnet-5", "anthropic.claude-sonnet-5"),
    "claude-sonnet-4-6": _ids("claude-sonnet-4-6", "us.anthropic.claude-sonnet-4-6", None),
    "claude-sonnet-4-5": _ids(
        "claude-sonnet-4-5-20250929",
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        None,
        vertex="claude-sonnet-4-5@20250929",
        foundry="claude-sonnet-4-5",
    ),
    "claude-haiku-5-5": _ids("claude-haiku-5-5", "us.anthropic.claude-haiku-5-5", "anthropic.claude-haiku-5-5"),
    "claude-haiku-4-5": _ids(
        "claude-haiku-4-5-20251001",
        "us.anthropic.claude-haiku-4-5-20251001-v1:0",
        "anthropic.claude-haiku-4-5",
        vertex="claude-haiku-4-5@20251001",
        foundry="claude-haiku-4-5",
    ),
    "claude-fable-5-2": _ids("claude-fable-5-2", "us.anthropic.claude-fable-5-2", "anthropic.claude-fable-5-2"),
    "claude-fable-5": _ids("claude-fable-5", "us.anthropic.claude-fable-5", "anthropic.claude-fable-5"),
}


def provider(env):
    """The API provider Claude Code uses under ``env`` (``PROVIDER_ENV``), e.g. ``"bedrock"``."""
    for name, which in PROVIDER_ENV:
        if env_true(env.get(name)):
            return which
    return FIRST_PARTY


def alias_map(version=None):
    """The provider alias map of a Claude Code version (``"2.1.330"``); the newest when unknown."""
    wanted = version_tuple(version) if version else None
    if wanted is None or wanted == (0, 0, 0):
        return PROVIDER_ALIAS_MAPS[0][1]
    for since, mapping in PROVIDER_ALIAS_MAPS:
        if wanted >= since:
            return mapping
    return PROVIDER_ALIAS_MAPS[-1][1]


def alias_model_id(alias, env, version=None):
    """The model ID Claude Code sends for an Agent-tool alias under ``env``: its pin when set, else
    the provider's model in ``version``'s catalog, spelt as that provider is sent it."""
    pin = env.get(ALIAS_PIN_ENV.get(alias, ""), "")
    pin = pin.replace("[1m]", "").replace("[1M]", "").strip() if isinstance(pin, str) else ""
    if pin:
        return pin
    entry = alias_map(version).get(alias)
    if entry is None:
        return None
    which = provider(env)
    default, per_provider = entry
    model = per_provider.get(which, default)
    spelt = PROVIDER_MODEL_IDS.get(model, {}).get(which)
    return spelt or (PROVIDER_MODEL_IDS.get(model, {}).get(FIRST_PARTY) or model)
