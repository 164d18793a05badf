"""The compiled snapshot the hooks read: reused while nothing changed, rebuilt when anything did."""

import os
import stat

from cco_hooks import snapshot


def load(project):
    return snapshot.load(str(project.root), dict(os.environ))


def test_snapshot_is_reused_until_a_layer_changes(project):
    """A second load reads the stored snapshot; editing the layer rebuilds it on the next load."""
    path = project.write_config("version: 1\nagents: {python-pro: haiku}\n")
    first = load(project)
    stored = snapshot.snapshot_path(str(project.root), dict(os.environ))
    assert os.path.exists(stored) and stat.S_IMODE(os.stat(stored).st_mode) == 0o600
    assert load(project) == first
    path.write_text("version: 1\nagents: {python-pro: opus, extra-agent: sonnet}\n")
    again = load(project)
    assert again["exact"]["python-pro"]["model"] == "opus" and "extra-agent" in again["exact"]


def test_creating_a_new_layer_rebuilds(project):
    """A layer that did not exist when the snapshot was built is picked up as soon as it appears."""
    project.write_config("version: 1\nagents: {python-pro: haiku}\n")
    assert load(project)["mode"] == "rewrite"
    project.write_config("version: 1\nmode: observe\n", name="cco-hooks.local.yaml")
    assert load(project)["mode"] == "observe"


def test_agent_file_edits_rebuild_when_agent_files_are_on(project):
    """With agent_files on (the default), adding or editing an agent file changes the rules."""
    assert "reviewer" not in load(project)["agent_file_rules"]
    agent = project.write_agent("reviewer", "haiku")
    assert load(project)["agent_file_rules"]["reviewer"]["model"] == "haiku"
    agent.write_text("---\nname: reviewer\nmodel: opus\n---\nlonger body so the size changes\n")
    assert load(project)["agent_file_rules"]["reviewer"]["model"] == "opus"


def test_agent_models_follow_agent_files_and_plugins_even_with_agent_files_off(project):
    """The counterfactual needs every agent definition's model whatever the routing says: an edit
    to an agent file, or enabling a plugin, rebuilds the snapshot with ``agent_files: false`` too."""
    import json

    project.write_config("version: 1\nagent_files: false\n")
    agent = project.write_agent("reviewer", "haiku")
    assert load(project)["agent_models"]["reviewer"]["model"] == "haiku"
    assert load(project)["agent_file_rules"] == {}
    agent.write_text("---\nname: reviewer\nmodel: opus\n---\nlonger body so the size changes\n")
    assert load(project)["agent_models"]["reviewer"]["model"] == "opus"
    root = project.root.parent / "plugin-kit"
    project.write_agent("auditor", "sonnet", directory=root / "agents")
    registry = os.path.join(os.environ["CLAUDE_CONFIG_DIR"], "plugins", "installed_plugins.json")
    os.makedirs(os.path.dirname(registry), exist_ok=True)
    with open(registry, "w") as f:
        json.dump({"version": 2, "plugins": {"kit@m": [{"scope": "user", "installPath": str(root)}]}}, f)
    assert "kit:auditor" not in load(project)["agent_models"]  # installed, not enabled
    (project.root / ".claude" / "settings.local.json").write_text(json.dumps({"enabledPlugins": {"kit@m": True}}))
    enabled = load(project)
    assert enabled["agent_models"]["kit:auditor"]["model"] == "sonnet"
    assert snapshot.is_fresh(enabled, str(project.root), dict(os.environ))  # reused until something changes
    project.write_agent("auditor", "haiku", directory=root / "agents")
    assert load(project)["agent_models"]["kit:auditor"]["model"] == "haiku"


def test_a_corrupt_snapshot_file_is_rebuilt(project):
    """A damaged snapshot file is never trusted: it is compiled again."""
    project.write_config("version: 1\nagents: {python-pro: haiku}\n")
    load(project)
    stored = snapshot.snapshot_path(str(project.root), dict(os.environ))
    with open(stored, "w") as f:
        f.write('{"format": 1, "key": ')
    assert load(project)["exact"]["python-pro"]["model"] == "haiku"


def test_state_directories_are_private(project, isolated_home):
    """The directories cco-hooks creates for its state are 0700."""
    load(project)
    state = isolated_home / ".claude" / "cco-hooks"
    for directory in (state, state / "snapshots"):
        assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700


def test_a_snapshot_is_the_routing_config_plus_what_tells_when_to_rebuild(project):
    """The snapshot wraps config.build's routing data with its format, key and signatures."""
    project.write_config("version: 1\nagents: {python-pro: haiku}\n")
    snap = load(project)
    routing = project.routing()
    assert {k: v for k, v in snap.items() if k in routing} == routing
    assert snap["format"] == snapshot.SNAPSHOT_FORMAT and snap["project"] == str(project.root)
    assert snap["key"] == snapshot.snapshot_key(str(project.root), dict(os.environ))
    assert snap["layer_signature"] == snapshot.layer_signature(str(project.root), dict(os.environ))
    assert snap["told"] is False
