"""Model spellings → the Agent tool's aliases, and the tier order.

Claude Code 2.1.328's Agent tool accepts only ``haiku | sonnet | opus | fable`` as ``model``: a full
ID in a hook's ``updatedInput`` (even ``claude-haiku-5-5``) makes the spawn fail schema validation.
So every spelling a user or a CCO config may write — aliases, full or dated IDs, Bedrock/Vertex IDs,
CCO's ``sonnet-4.5`` — is reduced to its family alias, and only aliases are ever written back.

Stdlib only, no ``re``: imported by the PreToolUse hook.
"""

ALIASES = ("haiku", "sonnet", "opus", "fable")
# The tier order for limits (ceiling / floor): haiku < sonnet < opus < fable.
TIER = {"haiku": 0, "sonnet": 1, "opus": 2, "fable": 3}
# What each alias resolves to in Claude Code 2.1.328 (tool_response.resolvedModel).
ALIAS_MODEL_ID = {
    "haiku": "claude-haiku-5-5",
    "sonnet": "claude-sonnet-5-5",
    "opus": "claude-opus-5-5",
    "fable": "claude-fable-5-2",
}
INHERIT = "inherit"
# Claude families that exist but have no Agent-tool alias, so a spawn can never be routed to them.
_CLAUDE_FAMILIES_WITHOUT_ALIAS = ("mythos",)

_SEPARATORS = str.maketrans({c: " " for c in "-_.:/@,"})


def to_alias(spelling):
    """Return ``(alias, None)`` for a usable spelling, or ``(None, why)`` when it is not one.

    ``inherit`` (leave the model alone) is returned as itself.
    """
    if not isinstance(spelling, str) or not spelling.strip():
        return None, "a model must be a non-empty string"
    text = spelling.strip().lower()
    if text in TIER or text == INHERIT:
        return text, None
    words = text.translate(_SEPARATORS).split()
    families = [w for w in words if w in TIER]
    if len(families) == 1:
        return families[0], None
    if len(families) > 1:
        return None, f"it names more than one model family ({', '.join(families)})"
    for family in _CLAUDE_FAMILIES_WITHOUT_ALIAS:
        if family in words:
            return None, (
                f"the {family} family has no alias in Claude Code's Agent tool, so a spawn cannot be "
                f"routed to it"
            )
    if "claude" in words:
        return None, "it is a Claude model ID without a known family (haiku, sonnet, opus, fable)"
    return None, "it is not a Claude model; the Agent tool runs only haiku, sonnet, opus or fable"


def tier(alias):
    return TIER.get(alias, -1)


def clamp(alias, floor=None, ceiling=None):
    """Apply limits on the tier order; returns ``(alias, which limit applied or None)``."""
    if ceiling in TIER and TIER[alias] > TIER[ceiling]:
        return ceiling, "ceiling"
    if floor in TIER and TIER[alias] < TIER[floor]:
        return floor, "floor"
    return alias, None
