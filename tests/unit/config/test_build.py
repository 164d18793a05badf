"""Config layers, CCO formats and validation, compiled into the snapshot the hooks read."""

import json
import os

import pytest

from tests.support.locations import CCO_CONFIGS


def messages(snap, level=None):
    return [p["message"] for p in snap["problems"] if level is None or p["level"] == level]


@pytest.mark.parametrize("name", sorted(p.name for p in CCO_CONFIGS.glob("*.json")))
def test_every_cco_sample_loads_without_breaking(project, name):
    """All four real CCO configs load as a layer and make rules; nothing is broken."""
    project.write_config((CCO_CONFIGS / name).read_text(), name="cco-hooks.json")
    snap = project.snapshot()
    assert snap["broken"] == []
    assert snap["exact"], "a CCO config must produce rules"
    assert snap["layers"][-1]["format"].startswith("cco-")


def test_orchestra_config_maps_all_117_types(project):
    """The 117 unique types of orchestra-config.json each become a rule with the right alias."""
    data = json.loads((CCO_CONFIGS / "orchestra-config.json").read_text())
    project.write_config(json.dumps(data), name="cco-hooks.json")
    snap = project.snapshot()
    expected = {data["architect"]["type"]: data["architect"]["model"]}
    for key, value in data.items():
        if key.endswith("Agents"):
            expected.update({a["type"]: a["model"] for a in value})
    assert len(expected) == 117
    assert {k: v["model"] for k, v in snap["exact"].items()} == expected
    assert snap["exact"]["python-pro"]["source"].endswith("cco-hooks.json (developmentAgents[0])") or "developmentAgents" in snap["exact"]["python-pro"]["source"]


def test_duplicate_types_with_conflicting_models_are_reported_first_wins(project):
    """Conflicting duplicates: reported with every place; the first entry applies."""
    project.write_config((CCO_CONFIGS / "orchestra-config.duplicate-types.json").read_text(), name="cco-hooks.json")
    snap = project.snapshot()
    conflicts = [m for m in messages(snap) if "conflicting models" in m]
    assert any("'test-automator'" in m for m in conflicts)
    assert snap["exact"]["test-automator"]["model"] == "sonnet"  # codingAgents[0] says sonnet-4.5


def test_non_claude_models_are_reported_not_routed(project):
    """gpt-3.5-turbo in the dict-shaped config makes no rule and is reported."""
    project.write_config((CCO_CONFIGS / "orchestra-config-tdd.dict-shaped.json").read_text(), name="cco-hooks.json")
    snap = project.snapshot()
    assert any("gpt-3.5-turbo" in m for m in messages(snap, "warning"))
    assert "python-expert" not in snap["exact"]
    assert snap["exact"]["chief-architect"]["model"] == "opus"


def test_agent_model_overrides_format(project):
    """{"agent_model_overrides": ..., "enable_agent_override": true} routes; false is reported."""
    project.write_config({"agent_model_overrides": {"python-pro": "claude-haiku-4"}, "enable_agent_override": True}, name="cco-hooks.json")
    assert project.snapshot()["exact"]["python-pro"]["model"] == "haiku"
    project.write_config({"agent_model_overrides": {"python-pro": "haiku"}, "enable_agent_override": False}, name="cco-hooks.json")
    snap = project.snapshot()
    assert snap["exact"] == {} and any("enable_agent_override" in m or "ignored" in m for m in messages(snap))


def test_layers_later_wins_per_key_and_per_agent(project, isolated_home, monkeypatch, tmp_path):
    """user → project → local → CCO_HOOKS_CONFIG; each agent and key from the last layer naming it."""
    user_dir = isolated_home / ".claude"
    user_dir.mkdir()
    (user_dir / "cco-hooks.yaml").write_text("version: 1\nmode: enforce\nagents: {a: haiku, b: haiku, c: haiku}\n")
    project.write_config({"version": 1, "agents": {"b": "sonnet", "c": "sonnet"}})
    project.write_config({"version": 1, "agents": {"c": "opus"}, "mode": "observe"}, name="cco-hooks.local.json")
    env_layer = tmp_path / "extra.yaml"
    env_layer.write_text("version: 1\nmode: rewrite\n")
    monkeypatch.setenv("CCO_HOOKS_CONFIG", str(env_layer))
    snap = project.snapshot()
    assert {k: (v["model"], v["layer"]) for k, v in snap["exact"].items()} == {
        "a": ("haiku", "user"), "b": ("sonnet", "project"), "c": ("opus", "local")}
    assert snap["mode"] == "rewrite" and snap["mode_source"] == str(env_layer)


def test_unknown_keys_and_bad_models_are_reported_and_skipped(project):
    """Unknown keys warn; a bad model names the file, the key path and the fix, and only that rule is dropped."""
    path = project.write_config("version: 1\nagents:\n  code-reviewer: sonet\n  python-pro: haiku\ncolour: blue\n")
    snap = project.snapshot()
    assert snap["broken"] == []
    problems = {(p["key_path"], p["level"]) for p in snap["problems"]}
    assert ("colour", "warning") in problems and ("agents.code-reviewer.model", "error") in problems
    error = next(p for p in snap["problems"] if p["key_path"] == "agents.code-reviewer.model")
    assert error["file"] == str(path)
    assert "Unknown model 'sonet' for agent 'code-reviewer'" in error["message"] and "haiku, sonnet, opus, fable" in error["message"]
    assert list(snap["exact"]) == ["python-pro"]


@pytest.mark.parametrize("text", ["version: 1\nagents: [unclosed\n", "- a\n- b\n", "version: 1\nmode: rewrit\n", "{not json"])
def test_a_broken_layer_is_reported_and_leaves_spawns_unchanged(project, text):
    """Bad syntax, a non-mapping or a bad mode break the layer: spawns pass unchanged, the file is named."""
    path = project.write_config(text, name="cco-hooks.json" if text.startswith("{") else "cco-hooks.yaml")
    snap = project.snapshot()
    assert snap["broken"] and str(path) in snap["broken"][0]


def test_yaml_is_loaded_safely(project):
    """A YAML tag that would build a Python object is refused, never executed."""
    project.write_config("version: 1\nagents: !!python/object/apply:os.system ['touch /tmp/cco-pwned']\n")
    snap = project.snapshot()
    assert snap["broken"] and not os.path.exists("/tmp/cco-pwned")


def test_ledger_path_in_config_is_relative_to_the_file(project):
    """`ledger.path` resolves against the config file's directory."""
    project.write_config({"version": 1, "ledger": {"path": "spend/ledger.jsonl"}})
    assert project.snapshot()["ledger_path"] == str(project.root / ".claude" / "spend" / "ledger.jsonl")


def test_schema_file_is_generated_from_the_models():
    """config/cco-hooks.schema.json is exactly what the pydantic models generate."""
    from cco_hooks.config.schema import json_schema
    from tests.support.locations import REPO

    on_disk = json.loads((REPO / "config" / "cco-hooks.schema.json").read_text())
    assert on_disk == json_schema(), "regenerate it: cco-hooks config schema > config/cco-hooks.schema.json"


def test_default_and_example_configs_validate_against_the_schema():
    """The embedded default validates against the published JSON Schema."""
    import jsonschema
    import yaml

    from tests.support.locations import REPO

    schema = json.loads((REPO / "config" / "cco-hooks.schema.json").read_text())
    for path in [REPO / "config" / "default.yaml", *(REPO / "config").glob("example*.yaml")]:
        jsonschema.validate(yaml.safe_load(path.read_text()), schema)


def test_a_layer_that_is_a_named_pipe_is_broken_not_a_hang(project, monkeypatch, tmp_path):
    """CCO_HOOKS_CONFIG naming a FIFO is reported as not a regular file; nothing blocks."""
    fifo = tmp_path / "layer.yaml"
    os.mkfifo(fifo)
    monkeypatch.setenv("CCO_HOOKS_CONFIG", str(fifo))
    snap = project.snapshot()
    assert snap["broken"] and "not a regular file" in snap["broken"][0]
