"""Model spellings → the Agent tool's aliases, and the tier order.

The Agent tool accepts only its aliases as ``model`` (``claude_code.ALIASES``: a full ID in a hook's
``updatedInput`` makes the spawn fail schema validation). So every spelling a user or a CCO config
may write — aliases, full or dated IDs, Bedrock/Vertex IDs, CCO's ``sonnet-4.5`` — is reduced to its
family alias, and only aliases are ever written back.

Stdlib only, no ``re``: imported by the PreToolUse hook.
"""

from cco_hooks import claude_code

_SEPARATORS = str.maketrans({c: " " for c in "-_.:/@,"})


def to_alias(spelling):
    """Return ``(alias, None)`` for a usable spelling, or ``(None, why)`` when it is not one.

    ``inherit`` (leave the model alone) is returned as itself.
    """
    if not isinstance(spelling, str) or not spelling.strip():
        return None, "a model must be a non-empty string"
    text = spelling.strip().lower()
    if text in claude_code.TIER or text == claude_code.INHERIT:
        return text, None
    words = text.translate(_SEPARATORS).split()
    families = [w for w in words if w in claude_code.TIER]
    if len(families) == 1:
        return families[0], None
    if len(families) > 1:
        return None, f"it names more than one model family ({', '.join(families)})"
    for family in claude_code.FAMILIES_WITHOUT_ALIAS:
        if family in words:
            return None, (
                f"the {family} family has no alias in Claude Code's Agent tool, so a spawn cannot be routed to it"
            )
    if "claude" in words:
        return None, "it is a Claude model ID without a known family (haiku, sonnet, opus, fable)"
    return None, "it is not a Claude model; the Agent tool runs only haiku, sonnet, opus or fable"


def tier(alias):
    return claude_code.TIER.get(alias, -1)


def clamp(alias, floor=None, ceiling=None):
    """Apply limits on the tier order; returns ``(alias, which limit applied or None)``."""
    tiers = claude_code.TIER
    if ceiling in tiers and tiers[alias] > tiers[ceiling]:
        return ceiling, "ceiling"
    if floor in tiers and tiers[alias] < tiers[floor]:
        return floor, "floor"
    return alias, None
