import pytest

from cco_hooks import models


@pytest.mark.parametrize(
    "spelling, alias",
    [
        ("haiku", "haiku"),
        ("Sonnet", "sonnet"),
        ("claude-haiku-5-5", "haiku"),
        ("claude-3-5-haiku-20241022", "haiku"),
        ("claude-sonnet-4-5-20250929", "sonnet"),
        ("sonnet-4.5", "sonnet"),
        ("claude-haiku-4", "haiku"),
        ("claude-opus-4-1", "opus"),
        ("claude-fable-5-2", "fable"),
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "sonnet"),
        ("anthropic.claude-3-5-haiku-20241022-v1:0", "haiku"),
        ("claude-opus-4-1@20250805", "opus"),
        ("inherit", "inherit"),
    ],
)
def test_every_spelling_becomes_a_tool_alias(spelling, alias):
    """Aliases, full, dated, provider and CCO spellings all reduce to one of the tool's aliases."""
    assert models.to_alias(spelling) == (alias, None)


@pytest.mark.parametrize(
    "spelling", ["gpt-3.5-turbo", "gpt-4", "ollama/qwen2.5-coder:7b", "claude-mythos-5", "", None, 3, "claude-2"]
)
def test_unusable_spellings_say_why(spelling):
    """Non-Claude models, families without an alias and junk are refused with a reason."""
    alias, why = models.to_alias(spelling)
    assert alias is None and why


def test_clamp_follows_the_tier_order():
    """haiku < sonnet < opus < fable: a ceiling lowers, a floor raises."""
    assert models.clamp("opus", ceiling="sonnet") == ("sonnet", "ceiling")
    assert models.clamp("fable", ceiling="opus") == ("opus", "ceiling")
    assert models.clamp("haiku", floor="sonnet") == ("sonnet", "floor")
    assert models.clamp("sonnet", floor="haiku", ceiling="opus") == ("sonnet", None)


@pytest.mark.parametrize(
    ("typo", "meant"),
    [
        ("sonet", "sonnet"),
        ("sonent", "sonnet"),
        ("Opsu", "opus"),
        ("hiaku", "haiku"),
        ("fabel", "fable"),
        ("inhert", "inherit"),
        ("opu", "opus"),
    ],
)
def test_a_typo_is_answered_with_the_alias_it_meant(typo, meant):
    assert models.suggest(typo) == meant
    assert models.to_alias(typo) == (None, f"it is not a Claude model (did you mean {meant}?)")


@pytest.mark.parametrize("junk", ["gpt-4o", "xyz", "o", "deepseek-chat", "", "   "])
def test_junk_gets_no_suggestion(junk):
    assert models.suggest(junk) is None
