"""Config layers and validation, merged into the routing config the hooks use."""

import ast
import os
import subprocess
import sys

import pytest

from cco_hooks.config import build as config_build
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


def test_unknown_budget_keys_are_warned_about_and_not_carried_to_the_hooks(project):
    """A typo in the budget section is a warning; only the caps the hooks know reach the snapshot
    (a big unknown value would otherwise be copied into every hook's read)."""
    project.write_user_config("version: 1\nbudget: {daily_usd: 5, daily_usd_typo: 1, junk: {a: [1, 2, 3]}}\n")
    snap = project.routing()
    assert {k: v for k, v in snap["budget"].items() if k not in ("layer", "source", "sources")} == {"daily_usd": 5}
    warned = {p["key_path"] for p in snap["problems"] if p["level"] == "warning"}
    assert {"budget.daily_usd_typo", "budget.junk"} <= warned


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


# --------------------------------------------------------------------------- trust between layers
REPOSITORY_LAYER_FILES = {"project": "cco-hooks.yaml", "local": "cco-hooks.local.yaml"}


def ignored(routing) -> dict:
    """``{key path: problem}`` of the keys a repository's layer was not allowed to set."""
    return {p["key_path"]: p for p in routing["problems"] if p["level"] == "ignored"}


@pytest.mark.parametrize("layer", ["project", "local"])
def test_a_repository_layer_cannot_move_files_or_set_prices(project, layer):
    """ledger.path, pricing.file and inline prices from a project or project-local layer are ignored,
    each named with its file and the fix; the user's own ledger and price file stay in force; its
    routing rules still apply."""
    user_layer = project.write_user_config(
        "version: 1\nledger: {path: /user/ledger.jsonl}\npricing: {file: /user/p.json}\n"
    )
    path = project.write_config(
        "version: 1\nagents: {python-pro: haiku}\nledger: {path: ~/.bashrc}\n"
        "pricing: {file: zero.json, overrides: {claude-opus-5-5: {input: 0}}}\n",
        name=REPOSITORY_LAYER_FILES[layer],
    )
    routing = project.routing()
    assert routing["ledger_path"] == "/user/ledger.jsonl" and routing["pricing_file"] == "/user/p.json"
    assert routing["exact"]["python-pro"]["model"] == "haiku" and routing["exact"]["python-pro"]["layer"] == layer
    found = ignored(routing)
    assert set(found) == {"ledger.path", "pricing.file", "pricing.overrides"}
    assert all(p["file"] == str(path) for p in found.values())
    assert config_build.format_problem(found["ledger.path"]) == (
        f"ignored: ledger.path in {path} — a repository's config cannot move cco-hooks' files; "
        f"set it in {user_layer} or CCO_HOOKS_LEDGER."
    )
    assert "cannot choose the price table" in found["pricing.file"]["message"]
    assert "cannot set prices" in found["pricing.overrides"]["message"]
    assert routing["broken"] == [] and not [p for p in routing["problems"] if p["level"] == "error"]


def test_without_a_user_setting_a_repository_ledger_path_still_leaves_the_default(project):
    """Nothing set by the user: the ledger stays where cco-hooks keeps it, whatever the repo says."""
    project.write_config("version: 1\nledger: {path: ~/.claude/settings.json}\npricing: {file: zero.json}\n")
    routing = project.routing()
    assert routing["ledger_path"] is None and routing["pricing_file"] is None
    assert set(ignored(routing)) == {"ledger.path", "pricing.file"}


@pytest.mark.parametrize("trusted", ["user", "env"])
def test_the_user_layer_and_cco_hooks_config_may_move_files(project, monkeypatch, tmp_path, trusted):
    """The user's own file and the one CCO_HOOKS_CONFIG names are the user's choice: obeyed."""
    text = "version: 1\nledger: {path: /chosen/ledger.jsonl}\npricing: {file: /chosen/prices.json}\n"
    if trusted == "user":
        project.write_user_config(text)
    else:
        (tmp_path / "chosen.yaml").write_text(text)
        monkeypatch.setenv("CCO_HOOKS_CONFIG", str(tmp_path / "chosen.yaml"))
    routing = project.routing()
    assert (routing["ledger_path"], routing["pricing_file"]) == ("/chosen/ledger.jsonl", "/chosen/prices.json")
    assert ignored(routing) == {}


@pytest.mark.parametrize(
    ("user", "repository", "expected", "ignored_keys"),
    [
        # caps: lower applies, higher is ignored, a new one applies, null removes nothing
        ("daily_usd: 1", "daily_usd: 0.5", {"daily_usd": 0.5}, set()),
        ("daily_usd: 1", "daily_usd: 5", {"daily_usd": 1}, {"budget.daily_usd"}),
        ("daily_usd: 1", "daily_usd: null", {"daily_usd": 1}, set()),
        ("daily_usd: 1", "session_usd: 2", {"daily_usd": 1, "session_usd": 2}, set()),
        ("session_usd: 1", "session_usd: 3", {"session_usd": 1}, {"budget.session_usd"}),
        ("session_usd: 1", "session_usd: 0.25", {"session_usd": 0.25}, set()),
        # per agent: matched by the normalised name, as the caps are
        (
            "per_agent: {python-pro: 1}",
            "per_agent: {Python_Pro: 9}",
            {"per_agent": {"python-pro": 1}},
            {"budget.per_agent.Python_Pro"},
        ),
        (
            "per_agent: {python-pro: 1}",
            "per_agent: {Python_Pro: 0.5, other: 2}",
            {"per_agent": {"python-pro": 0.5, "other": 2}},
            set(),
        ),
        # on_exceed: deny (the default) cannot become downgrade; downgrade may become deny
        ("daily_usd: 1", "on_exceed: downgrade", {"daily_usd": 1}, {"budget.on_exceed"}),
        (
            "daily_usd: 1, on_exceed: deny",
            "on_exceed: downgrade",
            {"daily_usd": 1, "on_exceed": "deny"},
            {"budget.on_exceed"},
        ),
        ("daily_usd: 1, on_exceed: downgrade", "on_exceed: deny", {"daily_usd": 1, "on_exceed": "deny"}, set()),
        # downgrade_to: only cheaper than the model in force (haiku by default)
        (
            "on_exceed: downgrade, downgrade_to: sonnet",
            "downgrade_to: opus",
            {"on_exceed": "downgrade", "downgrade_to": "sonnet"},
            {"budget.downgrade_to"},
        ),
        (
            "on_exceed: downgrade, downgrade_to: sonnet",
            "downgrade_to: claude-haiku-5-5",
            {"on_exceed": "downgrade", "downgrade_to": "haiku"},
            set(),
        ),
        ("daily_usd: 1", "downgrade_to: sonnet", {"daily_usd": 1}, {"budget.downgrade_to"}),
        # warn_at: only earlier (0.8 by default)
        ("daily_usd: 1", "warn_at: 0.95", {"daily_usd": 1}, {"budget.warn_at"}),
        ("daily_usd: 1", "warn_at: 0.5", {"daily_usd": 1, "warn_at": 0.5}, set()),
        ("daily_usd: 1, warn_at: 0.3", "warn_at: 0.5", {"daily_usd": 1, "warn_at": 0.3}, {"budget.warn_at"}),
        # timezone: where the day begins is the user's
        ("daily_usd: 1", "timezone: Pacific/Kiritimati", {"daily_usd": 1}, {"budget.timezone"}),
    ],
)
@pytest.mark.parametrize("layer", ["project", "local"])
def test_a_repository_budget_can_only_tighten(project, layer, user, repository, expected, ignored_keys):
    """Each budget key, each direction: what tightens applies, what loosens is ignored and named."""
    user_layer = project.write_user_config(f"version: 1\nbudget: {{{user}}}\n")
    path = project.write_config(f"version: 1\nbudget: {{{repository}}}\n", name=REPOSITORY_LAYER_FILES[layer])
    routing = project.routing()
    budget = {k: v for k, v in routing["budget"].items() if k not in ("layer", "source", "sources")}
    assert budget == expected
    found = ignored(routing)
    assert set(found) == ignored_keys
    for problem in found.values():
        assert problem["file"] == str(path) and "can only tighten the budget" in problem["message"]
        assert str(user_layer) in problem["message"]  # where to set it, or where the cap in force is
    assert not [p for p in routing["problems"] if p["level"] == "error"]


def test_a_budget_denial_names_the_file_each_cap_came_from(project):
    """A repository adding a per-agent cap does not make the user's daily cap look like its own."""
    user_layer = project.write_user_config("version: 1\nbudget: {daily_usd: 1}\n")
    path = project.write_config("version: 1\nbudget: {per_agent: {python-pro: 0.5}, daily_usd: 7}\n")
    budget = project.routing()["budget"]
    assert budget["sources"] == {"daily_usd": str(user_layer), "per_agent.python-pro": str(path)}


def test_the_local_layer_cannot_loosen_what_the_project_layer_tightened(project):
    """Both come with the repository: a later one can only tighten further."""
    project.write_user_config("version: 1\nbudget: {daily_usd: 10}\n")
    project.write_config("version: 1\nbudget: {daily_usd: 2}\n")
    local = project.write_config("version: 1\nbudget: {daily_usd: 5}\n", name="cco-hooks.local.yaml")
    routing = project.routing()
    assert routing["budget"]["daily_usd"] == 2
    assert ignored(routing)["budget.daily_usd"]["file"] == str(local)


def test_cco_hooks_config_wins_over_a_repository_budget(project, monkeypatch, tmp_path):
    """The file the user named in CCO_HOOKS_CONFIG may raise a cap, as the user layer may."""
    project.write_user_config("version: 1\nbudget: {daily_usd: 1}\n")
    project.write_config("version: 1\nbudget: {daily_usd: 0.5}\n")
    (tmp_path / "mine.yaml").write_text("version: 1\nbudget: {daily_usd: 3, on_exceed: downgrade}\n")
    monkeypatch.setenv("CCO_HOOKS_CONFIG", str(tmp_path / "mine.yaml"))
    routing = project.routing()
    assert (routing["budget"]["daily_usd"], routing["budget"]["on_exceed"]) == (3, "downgrade")
    assert ignored(routing) == {}


@pytest.mark.parametrize("layer", ["project", "local"])
def test_on_error_block_from_the_user_stays_but_a_repository_may_set_it(project, layer):
    """A repository may ask for block; it cannot turn the user's block back into allow."""
    name = REPOSITORY_LAYER_FILES[layer]
    project.write_config("version: 1\non_error: block\n", name=name)
    assert project.routing()["on_error"] == "block"
    user_layer = project.write_user_config("version: 1\non_error: block\n")
    path = project.write_config("version: 1\non_error: allow\n", name=name)
    routing = project.routing()
    assert routing["on_error"] == "block"
    (problem,) = ignored(routing).values()
    assert (problem["key_path"], problem["file"]) == ("on_error", str(path))
    assert f"cannot loosen on_error: block (set in {user_layer}) to allow" in problem["message"]


def test_a_repository_may_still_route(project):
    """Routing is what a committed config is for: mode, default, limits and rules apply from it."""
    project.write_user_config("version: 1\nmode: observe\n")
    project.write_config(
        "version: 1\nmode: enforce\ndefault: {model: sonnet}\nlimits: {ceiling: opus, floor: haiku}\n"
        "agents: {python-pro: haiku}\n"
    )
    routing = project.routing()
    assert routing["mode"] == "enforce" and routing["default"]["model"] == "sonnet"
    assert (routing["limits"]["ceiling"], routing["limits"]["floor"]) == ("opus", "haiku")
    assert routing["exact"]["python-pro"]["model"] == "haiku" and ignored(routing) == {}


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


def test_export_otlp_is_off_by_default_and_yours_to_turn_on(project):
    assert project.routing()["export_otlp"] is False
    project.write_user_config("version: 1\nexport: {otlp: true}\n")
    assert project.routing()["export_otlp"] is True
    assert project.snapshot()["export_otlp"] is True


@pytest.mark.parametrize("layer", ["project", "local"])
def test_a_repository_layer_cannot_turn_export_on_or_off(project, layer):
    """Export sends your spend to a collector and starts a process after each settle: a cloned
    repository must not decide that, either way."""
    project.write_config("version: 1\nexport: {otlp: true}\n", name=REPOSITORY_LAYER_FILES[layer])
    routing = project.routing()
    assert routing["export_otlp"] is False
    assert "cannot send your spend to a collector" in ignored(routing)["export.otlp"]["message"]
    project.write_user_config("version: 1\nexport: {otlp: true}\n")
    project.write_config("version: 1\nexport: {otlp: false}\n", name=REPOSITORY_LAYER_FILES[layer])
    assert project.routing()["export_otlp"] is True
