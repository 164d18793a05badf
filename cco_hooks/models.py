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
    guess = suggest(text)
    if guess is not None:
        return None, f"it is not a Claude model (did you mean {guess}?)"
    return None, "it is not a Claude model; the Agent tool runs only haiku, sonnet, opus or fable"


def suggest(spelling):
    """The alias (or ``inherit``) a mistyped model is closest to (``sonet`` → ``sonnet``), or ``None``
    when none is within two edits: a typo is answered with what was meant, junk with nothing."""
    text = spelling.strip().lower() if isinstance(spelling, str) else ""
    best, best_distance = None, 3
    for word in (*claude_code.TIER, claude_code.INHERIT):
        distance = _edit_distance(text, word)
        if distance < best_distance and distance < len(word) // 2 + 1:
            best, best_distance = word, distance
    return best


def _edit_distance(a, b):
    """Levenshtein distance, a transposition counting as one edit (``sonent`` is one from ``sonnet``)."""
    previous2, previous = None, list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if previous2 is not None and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, previous2[j - 2] + 1)
            current.append(cost)
        previous2, previous = previous, current
    return previous[-1]


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
