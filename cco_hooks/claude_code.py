"""What cco-hooks knows about Claude Code itself, in one place: every other module imports it.

Observed by running the real CLI; ``docs/design.md`` ("Claude Code facts") says where each comes from.

Stdlib only and import-free: every hook imports it.
"""

# The tool that spawns a subagent: ``Agent`` since 2.1.63, ``Task`` before. (``TaskCreate`` and
# friends are other tools.)
SPAWN_TOOLS = ("Agent", "Task")
SPAWN_TOOL_MATCHER = "Task|Agent"

# The hook events cco-hooks registers: (Claude Code's event name, our command's argument, matcher,
# timeout in seconds). SessionEnd, not Stop, records the session: Claude Code writes the session's
# ``cost-state`` line only when it exits, and Stop fires after every main-loop turn.
HOOK_EVENTS = (
    ("PreToolUse", "pre-tool-use", SPAWN_TOOL_MATCHER, 10),
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
