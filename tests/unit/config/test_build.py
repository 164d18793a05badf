"""Config layers and validation, merged into the routing config the hooks use."""

import ast
import os
import subprocess
import sys

import pytest

from tests.support.locations import REPO


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
    snap = project.routing()
    assert {k: (v["model"], v["layer"]) for k, v in snap["exact"].items()} == {
        "a": ("haiku", "user"),
        "b": ("sonnet", "project"),
        "c": ("opus", "local"),
    }
    assert snap["mode"] == "rewrite" and snap["mode_source"] == str(env_layer)


def test_unknown_keys_and_bad_models_are_reported_and_skipped(project):
    """Unknown keys warn; a bad model names the file, the key path and the fix, and only that rule is dropped."""
    path = project.write_config("version: 1\nagents:\n  code-reviewer: sonet\n  python-pro: haiku\ncolour: blue\n")
    snap = project.routing()
    assert snap["broken"] == []
    problems = {(p["key_path"], p["level"]) for p in snap["problems"]}
    assert ("colour", "warning") in problems and ("agents.code-reviewer.model", "error") in problems
    error = next(p for p in snap["problems"] if p["key_path"] == "agents.code-reviewer.model")
    assert error["file"] == str(path)
    assert (
        "Unknown model 'sonet' for agent 'code-reviewer'" in error["message"]
        and "haiku, sonnet, opus, fable" in error["message"]
    )
    assert list(snap["exact"]) == ["python-pro"]


@pytest.mark.parametrize(
    "text", ["version: 1\nagents: [unclosed\n", "- a\n- b\n", "version: 1\nmode: rewrit\n", "{not json"]
)
def test_a_broken_layer_is_reported_and_leaves_spawns_unchanged(project, text):
    """Bad syntax, a non-mapping or a bad mode break the layer: spawns pass unchanged, the file is named."""
    path = project.write_config(text, name="cco-hooks.json" if text.startswith("{") else "cco-hooks.yaml")
    snap = project.routing()
    assert snap["broken"] and str(path) in snap["broken"][0]


def test_yaml_is_loaded_safely(project):
    """A YAML tag that would build a Python object is refused, never executed."""
    project.write_config("version: 1\nagents: !!python/object/apply:os.system ['touch /tmp/cco-pwned']\n")
    snap = project.routing()
    assert snap["broken"] and not os.path.exists("/tmp/cco-pwned")


def test_ledger_path_in_config_is_relative_to_the_file(project):
    """`ledger.path` resolves against the config file's directory."""
    user_layer = project.write_user_config({"version": 1, "ledger": {"path": "spend/ledger.jsonl"}})
    assert project.routing()["ledger_path"] == os.path.join(os.path.dirname(user_layer), "spend", "ledger.jsonl")


def test_a_layer_that_is_a_named_pipe_is_broken_not_a_hang(project, monkeypatch, tmp_path):
    """CCO_HOOKS_CONFIG naming a FIFO is reported as not a regular file; nothing blocks."""
    fifo = tmp_path / "layer.yaml"
    os.mkfifo(fifo)
    monkeypatch.setenv("CCO_HOOKS_CONFIG", str(fifo))
    snap = project.routing()
    assert snap["broken"] and "not a regular file" in snap["broken"][0]


def test_the_builder_knows_nothing_of_snapshots():
    """config/build.py returns routing data; cco_hooks.snapshot builds the snapshot around it, so
    the builder never imports it (no cycle between them)."""
    tree = ast.parse((REPO / "cco_hooks" / "config" / "build.py").read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported |= {f"{node.module}.{alias.name}" for alias in node.names} | {node.module}
    assert not {name for name in imported if name.startswith("cco_hooks.snapshot")}
    assert not {name for name in imported if name.startswith("cco_hooks") and name.endswith(".snapshot")}
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, cco_hooks.config.build; print(sorted(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    ).stdout
    assert "'cco_hooks.snapshot'" not in loaded


def test_routing_config_carries_no_snapshot_fields(project):
    """What the builder returns is routing data only: no format, key, signature or `told`."""
    project.write_config("version: 1\nagents: {python-pro: haiku}\n")
    routing = project.routing()
    assert routing["exact"]["python-pro"]["model"] == "haiku"
    snapshot_fields = {"format", "package_version", "key", "project", "layer_signature", "agent_signature", "told"}
    assert not snapshot_fields & set(routing)


def test_budget_timezone_is_checked_and_kept(project):
    """budget.timezone reaches the hooks when it is a zone; else it is an error naming the forms,
    and the caps' days stay UTC."""
    project.write_user_config("version: 1\nbudget: {daily_usd: 5, timezone: Europe/Paris}\n")
    snap = project.routing()
    assert snap["budget"]["timezone"] == "Europe/Paris" and snap["problems"] == []
    path = project.write_user_config("version: 1\nbudget: {daily_usd: 5, timezone: Mars/Olympus}\n")
    snap = project.routing()
    assert "timezone" not in snap["budget"] and snap["budget"]["daily_usd"] == 5
    (problem,) = snap["problems"]
    assert (problem["level"], problem["file"], problem["key_path"]) == ("error", str(path), "budget.timezone")
    assert problem["message"] == (
        "unknown time zone 'Mars/Olympus'; use UTC, local, a fixed offset such as +05:30, or an IANA name such as "
        "Europe/Paris. The caps' days stay UTC."
    )
