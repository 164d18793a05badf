"""claude_code: the facts about Claude Code that the rest of the package imports."""

import json

import pytest

from cco_hooks import claude_code
from tests.support.locations import REPO


def test_every_alias_has_a_tier_and_a_model():
    assert set(claude_code.ALIASES) == set(claude_code.TIER) == set(claude_code.ALIAS_MODEL_ID)
    assert sorted(claude_code.ALIASES, key=claude_code.TIER.get) == ["haiku", "sonnet", "opus", "fable"]


def test_the_spawn_tool_matcher_names_every_spawn_tool():
    assert set(claude_code.SPAWN_TOOL_MATCHER.split("|")) == set(claude_code.SPAWN_TOOLS)


def test_the_plugin_registers_exactly_the_hook_events():
    """hooks/hooks.json (the plugin route) and HOOK_EVENTS agree on events, matchers and timeouts."""
    registered = json.loads((REPO / "hooks" / "hooks.json").read_text())["hooks"]
    expected = {event: (arg, matcher, timeout) for event, arg, matcher, timeout in claude_code.HOOK_EVENTS}
    assert set(registered) == set(expected)
    for event, groups in registered.items():
        arg, matcher, timeout = expected[event]
        (group,) = groups
        assert group.get("matcher") == matcher
        (hook,) = group["hooks"]
        assert hook["command"].endswith(" " + arg) and hook["timeout"] == timeout


@pytest.mark.parametrize(
    ("agent_type", "expected"),
    [
        ("fork", True),
        (" Fork ", True),
        ("FORK", True),
        ("forked", False),
        ("", False),
        (None, False),
        (3, False),
    ],
)
def test_is_fork(agent_type, expected):
    assert claude_code.is_fork(agent_type) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2.1.328", (2, 1, 328)),
        ("2.1.328 (Claude Code)", (2, 1, 328)),
        ("2.1", (2, 1, 0)),
        ("2.1.70-beta", (2, 1, 70)),
        ("", (0, 0, 0)),
        (None, (0, 0, 0)),
    ],
)
def test_version_tuple(text, expected):
    assert claude_code.version_tuple(text) == expected


@pytest.mark.parametrize(
    ("version", "ignores", "env_wins"),
    [
        ("2.1.68", False, False),
        ("2.1.69", True, False),
        ("2.1.71", True, False),
        ("2.1.72", False, False),
        ("2.1.200", False, True),
        ("2.1.299", False, True),
        # no release the suite runs against has a quirk
        *[(version, False, False) for version in claude_code.TESTED_VERSIONS],
        (None, False, False),
    ],
)
def test_version_quirks(version, ignores, env_wins):
    assert claude_code.ignores_model_param(version) is ignores
    assert claude_code.subagent_model_env_wins(version) is env_wins
    assert claude_code.model_param_overridden(version) is (ignores or env_wins)


def test_hook_events_added_since_the_baseline_are_not_ours_and_came_in_a_tested_range():
    """A new event is recorded with the release that added it: after the pinned baseline, by the
    newest tested release. cco-hooks registers none of them (a spawn never fires them)."""
    ours = {event for event, _arg, _matcher, _timeout in claude_code.HOOK_EVENTS}
    assert claude_code.HOOK_EVENTS_ADDED
    for event, since in claude_code.HOOK_EVENTS_ADDED.items():
        assert event not in ours
        pinned = claude_code.version_tuple(claude_code.PINNED_VERSION)
        assert pinned < since <= claude_code.version_tuple(claude_code.NEWEST_TESTED_VERSION), event
