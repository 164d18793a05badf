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


# --------------------------------------------------------------------------- a broken verdict is cached


def test_a_broken_layer_is_cached_by_its_signature_and_never_parsed_again(project, monkeypatch):
    """A layer over a limit is judged once: the snapshot stores the verdict with the layer's
    signature, and the next load only stats — the parser is not called again until the file changes."""
    from cco_hooks.config import bounded

    path = project.write_config("version: 1\nagents: " + "[" * 50_000 + "]" * 50_000 + "\n")
    parses = []
    real_parse = bounded.parse
    monkeypatch.setattr(bounded, "parse", lambda *a, **k: parses.append(a) or real_parse(*a, **k))
    first = load(project)
    assert first["broken"] and "64 levels deep" in first["broken"][0] and len(parses) == 2  # default + layer
    assert load(project) == first and load(project) == first
    assert len(parses) == 2
    path.write_text("version: 1\nagents: {python-pro: haiku}\n")
    fixed = load(project)
    assert fixed["broken"] == [] and fixed["exact"]["python-pro"]["model"] == "haiku" and len(parses) == 4


def test_a_config_that_fails_to_build_is_cached_as_broken_until_a_layer_changes(project, monkeypatch):
    """The backstop behind the limits: should building raise, the hooks store a broken verdict
    (fail open, the error logged) under the layers' signature instead of failing on every hook."""
    from cco_hooks.config import build as config_build

    path = project.write_config("version: 1\nagents: {python-pro: haiku}\n")
    calls = []
    real_build = config_build.build_routing

    def failing_build(project_dir, env):
        calls.append(project_dir)
        if len(calls) == 1:
            raise RecursionError("maximum recursion depth exceeded")
        return real_build(project_dir, env)

    monkeypatch.setattr(config_build, "build_routing", failing_build)
    snap = load(project)
    [problem] = snap["broken"]
    log = os.path.join(os.environ["HOME"], ".claude", "cco-hooks", "errors.log")
    assert problem == (
        "error: config: building the routing config failed (RecursionError); run `cco-hooks config validate` to "
        f"find the layer, and please report it (details in {log})."
    )
    assert snap["on_error"] == "allow" and "RecursionError: maximum recursion depth" in open(log).read()
    assert load(project) == snap and len(calls) == 1  # the verdict is reused: not built again
    path.write_text("version: 1\nagents: {python-pro: opus}\n")
    assert load(project)["exact"]["python-pro"]["model"] == "opus" and len(calls) == 2
