"""CCO ("Claude Code Orchestra") configs read as they are: every shape routes, conflicts and
non-Claude models are reported."""

import json

import pytest

from tests.support.locations import CCO_CONFIGS


def messages(routing, level=None):
    return [p["message"] for p in routing["problems"] if level is None or p["level"] == level]


@pytest.mark.parametrize("name", sorted(p.name for p in CCO_CONFIGS.glob("*.json")))
def test_every_cco_sample_loads_without_breaking(project, name):
    """All four real CCO configs load as a layer and make rules; nothing is broken."""
    project.write_config((CCO_CONFIGS / name).read_text(), name="cco-hooks.json")
    snap = project.routing()
    assert snap["broken"] == []
    assert snap["exact"], "a CCO config must produce rules"
    assert snap["layers"][-1]["format"].startswith("cco-")


def test_orchestra_config_maps_all_117_types(project):
    """The 117 unique types of orchestra-config.json each become a rule with the right alias."""
    data = json.loads((CCO_CONFIGS / "orchestra-config.json").read_text())
    project.write_config(json.dumps(data), name="cco-hooks.json")
    snap = project.routing()
    expected = {data["architect"]["type"]: data["architect"]["model"]}
    for key, value in data.items():
        if key.endswith("Agents"):
            expected.update({a["type"]: a["model"] for a in value})
    assert len(expected) == 117
    assert {k: v["model"] for k, v in snap["exact"].items()} == expected
    assert (
        snap["exact"]["python-pro"]["source"].endswith("cco-hooks.json (developmentAgents[0])")
        or "developmentAgents" in snap["exact"]["python-pro"]["source"]
    )


def test_duplicate_types_with_conflicting_models_are_reported_first_wins(project):
    """Conflicting duplicates: reported with every place; the first entry applies."""
    project.write_config((CCO_CONFIGS / "orchestra-config.duplicate-types.json").read_text(), name="cco-hooks.json")
    snap = project.routing()
    conflicts = [m for m in messages(snap) if "conflicting models" in m]
    assert any("'test-automator'" in m for m in conflicts)
    assert snap["exact"]["test-automator"]["model"] == "sonnet"  # codingAgents[0] says sonnet-4.5


def test_non_claude_models_are_reported_not_routed(project):
    """gpt-3.5-turbo in the dict-shaped config makes no rule and is reported."""
    project.write_config((CCO_CONFIGS / "orchestra-config-tdd.dict-shaped.json").read_text(), name="cco-hooks.json")
    snap = project.routing()
    assert any("gpt-3.5-turbo" in m for m in messages(snap, "warning"))
    assert "python-expert" not in snap["exact"]
    assert snap["exact"]["chief-architect"]["model"] == "opus"


def test_agent_model_overrides_format(project):
    """{"agent_model_overrides": ..., "enable_agent_override": true} routes; false is reported."""
    project.write_config(
        {"agent_model_overrides": {"python-pro": "claude-haiku-4"}, "enable_agent_override": True},
        name="cco-hooks.json",
    )
    assert project.routing()["exact"]["python-pro"]["model"] == "haiku"
    project.write_config(
        {"agent_model_overrides": {"python-pro": "haiku"}, "enable_agent_override": False}, name="cco-hooks.json"
    )
    snap = project.routing()
    assert snap["exact"] == {} and any("enable_agent_override" in m or "ignored" in m for m in messages(snap))
