"""Drift: a spawn that ran on another model family than the one the hook enforced, and why.

The causes are those Claude Code is known for (``claude_code`` holds the facts); a ledger record
cannot prove which one happened, so ``drift_cause`` names the likeliest.
"""

from cco_hooks import claude_code, models

DRIFT_CAUSES = {
    "fork": 'Claude Code runs a "fork" subagent on the parent\'s model whatever the call says',
    "version_quirk": "a Claude Code version that ignores the model parameter (2.1.69-2.1.71) "
    "or lets CLAUDE_CODE_SUBAGENT_MODEL win over it (2.1.2xx)",
    "another_hook": "the spawn ran on the model Claude asked for: another PreToolUse hook's "
    "answer won over the rewrite",
    "substituted": "Claude Code ran a model that neither Claude nor the rule asked for "
    "(a fallback model, or the model changed mid-run)",
}


def same_family(enforced, actual):
    """Whether two model spellings name the same family (an alias and a dated ID may)."""
    want, _ = models.to_alias(enforced)
    got, _ = models.to_alias(actual)
    return want is not None and want == got


def drift_cause(record):
    """Why a spawn ran on another model than the enforced one, inferred from its ledger record
    (a dict; one of the ``DRIFT_CAUSES``)."""
    if claude_code.is_fork(record.get("agent_type")):
        return "fork"
    if claude_code.model_param_overridden(record.get("claude_code_version")):
        return "version_quirk"
    by_model = record.get("by_model")
    if isinstance(by_model, dict) and len(by_model) > 1:
        return "substituted"
    requested = record.get("requested_model") or record.get("requested_model_id")
    actual = record.get("actual_model")
    if isinstance(requested, str) and isinstance(actual, str) and same_family(requested, actual):
        return "another_hook"
    return "substituted"
