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
    project.write_config({"version": 1, "ledger": {"path": "spend/ledger.jsonl"}})
    assert project.routing()["ledger_path"] == str(project.root / ".claude" / "spend" / "ledger.jsonl")


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
    project.write_config("version: 1\nbudget: {daily_usd: 5, timezone: Europe/Paris}\n")
    snap = project.routing()
    assert snap["budget"]["timezone"] == "Europe/Paris" and snap["problems"] == []
    path = project.write_config("version: 1\nbudget: {daily_usd: 5, timezone: Mars/Olympus}\n")
    snap = project.routing()
    assert "timezone" not in snap["budget"] and snap["budget"]["daily_usd"] == 5
    (problem,) = snap["problems"]
    assert (problem["level"], problem["file"], problem["key_path"]) == ("error", str(path), "budget.timezone")
    assert problem["message"] == (
        "unknown time zone 'Mars/Olympus'; use UTC, local, a fixed offset such as +05:30, or an IANA name such as "
        "Europe/Paris. The caps' days stay UTC."
    )


# --------------------------------------------------------------------------- hostile layers: bounded parsing


def billion_laughs(levels=9, width=9) -> str:
    """The classic: each anchor a list of ``width`` aliases of the one before; ~500 bytes that expand
    to ``width ** levels`` strings (387 million) — inside a rule, where a message would quote it."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * width) + "]")
    return "version: 1\n" + "\n".join(lines) + f"\nagents: {{python-pro: *a{levels - 1}}}\n"


HOSTILE = {
    "billion laughs": ("cco-hooks.yaml", billion_laughs(), "holds more than 20,000 values"),
    "yaml nested 50,000 deep": ("cco-hooks.yaml", "agents: " + "[" * 50_000 + "]" * 50_000 + "\n", "64 levels deep"),
    # 5 bytes a level: 50,000 levels stay under the size limit, so the depth limit is what refuses it
    "yaml mappings nested 50,000 deep": ("cco-hooks.yaml", "{a: " * 50_000 + "1" + "}" * 50_000, "64 levels deep"),
    "json nested 50,000 deep": ("cco-hooks.json", '{"agents": ' + "[" * 50_000 + "]" * 50_000 + "}", "64 levels deep"),
    "json nested 100 deep": ("cco-hooks.json", '{"agents": ' + "[" * 100 + "]" * 100 + "}", "64 levels deep"),
    "recursive alias": ("cco-hooks.yaml", "version: 1\nagents: &a {x: *a}\n", "recursive YAML alias (*a"),
    "too many aliases": (
        "cco-hooks.yaml",
        "version: 1\nx: &x 1\nlist: [" + ", ".join(["*x"] * 501) + "]\n",
        "more than 500 YAML aliases",
    ),
    "long text repeated by aliases": (
        "cco-hooks.yaml",
        "version: 1\nx: &x " + "y" * 100_000 + "\nlist: [" + ", ".join(["*x"] * 11) + "]\n",
        "more than 1 MiB of text",
    ),
    "a 5,000-digit integer": ("cco-hooks.yaml", "version: 1\nmode: " + "9" * 5000 + "\n", "integer string conversion"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_layer_over_a_limit_is_broken_with_a_message_naming_the_limit_the_file_and_the_fix(project, name):
    """Aliases, nesting and values are counted while the layer is parsed, never expanded: the layer
    is broken, its one error names the file, the limit and the fix, and no other layer is lost."""
    file_name, text, limit = HOSTILE[name]
    path = project.write_config(text, name=file_name)
    routing = project.routing()
    [broken] = routing["broken"]
    assert broken.startswith(f"error: {path}: ") and limit in broken
    assert any(fix in broken for fix in ("flatten it", "remove", "write the values out", "fix the value"))
    assert len(broken) < 400
    assert [layer["broken"] for layer in routing["layers"]] == [False, True]


def test_an_over_size_layer_is_refused_before_it_is_read(project, monkeypatch):
    """A 3.9 MB flat YAML is refused by its size (fstat), so not one byte of it is read."""
    path = project.write_config("".join(f"key{i}: value {i}\n" for i in range(230_000)))
    assert os.path.getsize(path) > 3_900_000
    reads = []
    real_fdopen = os.fdopen

    class ReadSpy:
        """The opened file, recording every read of it."""

        def __init__(self, f):
            self.f = f

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def read(self, *args):
            reads.append(os.fstat(self.f.fileno()).st_ino)
            return self.f.read(*args)

    monkeypatch.setattr(os, "fdopen", lambda fd, *args, **kwargs: ReadSpy(real_fdopen(fd, *args, **kwargs)))
    [broken] = project.routing()["broken"]
    size = os.path.getsize(path)
    assert broken == (
        f"error: {path}: is {size:,} bytes, more than the 256 KiB a config layer may be (the largest CCO configs "
        "are ~70 KB): keep only the routing config in it."
    )
    assert reads and os.stat(path).st_ino not in reads  # the other layers are read; this one only measured


def test_a_real_sized_config_with_anchors_and_merge_keys_still_loads(project):
    """The limits leave real configs alone: anchors, aliases and merge keys work as YAML says."""
    project.write_config(
        "version: 1\nx-cheap: &cheap {model: haiku, effort: low}\n"
        "agents:\n  explorer: *cheap\n  reviewer: {<<: *cheap, model: sonnet}\n"
        + "".join(f"  agent-{i}: *cheap\n" for i in range(200))
    )
    routing = project.routing()
    assert routing["broken"] == []
    assert (routing["exact"]["explorer"]["model"], routing["exact"]["explorer"]["effort"]) == ("haiku", "low")
    assert (routing["exact"]["reviewer"]["model"], routing["exact"]["reviewer"]["effort"]) == ("sonnet", "low")
    assert len(routing["exact"]) == 202


LONG = "x" * 5000


@pytest.mark.parametrize(
    "text",
    [
        f"version: 1\nagents: {{python-pro: [{LONG}]}}\n",  # a rule that is neither a name nor an object
        f"version: 1\nagents: {{python-pro: {{model: haiku, effort: {LONG}}}}}\n",  # pydantic's error
        f"version: 1\nagents: {{python-pro: {LONG}}}\n",  # an unknown model
        f"version: 1\nagents:\n  ? {LONG}\n  : nonsense\n",  # a long agent name (an explicit key: no length limit)
        f"version: 1\n? {LONG}\n: 1\nbudget:\n  ? {LONG}\n  : 2\n",  # unknown keys
        f"version: 1\nlimits: {{ceiling: {LONG}}}\n",  # a bad model field
        f"architect: {{type: {LONG}, model: {LONG}}}\n",  # a CCO orchestra config
        f"agent_model_overrides:\n  x: haiku\n  ? {LONG}\n  : {LONG}\nenable_agent_override: true\n",
    ],
    ids=["rule", "pydantic", "model", "agent-name", "unknown-keys", "model-field", "orchestra", "overrides"],
)
def test_messages_quote_values_cut_short(project, text):
    """Every problem quotes what the layer holds cut to 80 characters and "…", never whole."""
    project.write_config(text)
    problems = project.routing()["problems"]
    assert problems
    for problem in problems:
        assert "x" * 81 not in problem["message"] and "x" * 161 not in (problem["key_path"] or "")
        assert len(problem["message"]) < 600
    assert any("…" in p["message"] + (p["key_path"] or "") for p in problems)


def test_a_layer_lists_at_most_a_hundred_problems_errors_first(project):
    """Thousands of unknown keys make a hundred problems and one line counting the rest; an error
    at the end of the file is still listed."""
    path = project.write_config(
        "version: 1\n" + "".join(f"unknown-{i}: 1\n" for i in range(3000)) + "agents: {a: nonsense}\n"
    )
    problems = [p for p in project.routing()["problems"] if p["file"] == str(path)]
    assert len(problems) == 101
    assert problems[0]["key_path"] == "agents.a.model" and problems[0]["level"] == "error"
    assert problems[-1]["message"] == (
        "2901 more problems (0 errors) are not listed; fix these and validate again to see the rest."
    )


def test_claude_code_settings_nested_50000_deep_are_ignored_not_an_internal_error(project):
    """A repository's `.claude/settings.json` (read for `enabledPlugins`) nested 50,000 deep is
    skipped like any unreadable settings file; the routing config is still built."""
    (project.root / ".claude" / "settings.json").write_text('{"enabledPlugins": ' + "[" * 50_000 + "]" * 50_000 + "}")
    project.write_config("version: 1\nagents: {python-pro: haiku}\n")
    routing = project.routing()
    assert routing["broken"] == [] and routing["plugin_agent_dirs"] == []
    assert routing["exact"]["python-pro"]["model"] == "haiku"
