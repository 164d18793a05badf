"""`cco-hooks config validate | show`: exact outputs and exit codes."""

import json
import re

from tests.support.controls import ALL_RAW, ALL_SPELT, assert_shown_not_run
from tests.support.project import Project


def test_config_validate_names_file_key_and_fix_and_exits_1(project, cli):
    """A bad model is an error naming the file, the key path and the fix; exit 1."""
    path = project.write_config("version: 1\nagents:\n  code-reviewer: sonet\n")
    result = cli("config", "validate", "--project", str(project.root))
    assert result.exit_code == 1
    assert (
        f"error: {path}: agents.code-reviewer.model: Unknown model 'sonet' for agent 'code-reviewer'" in result.output
    )
    assert "expected one of haiku, sonnet, opus, fable" in result.output


def test_config_validate_passes_a_good_config(project, cli):
    """A valid config validates with exit 0."""
    project.write_config("version: 1\nagents: {python-pro: haiku}\n")
    result = cli("config", "validate", "--project", str(project.root))
    assert result.exit_code == 0 and result.output.rstrip().endswith("0 error(s).")


def test_config_validate_says_what_a_broken_layer_does_to_spawns(project, cli):
    """A layer that is not YAML is broken: validate says so and what the hooks do meanwhile; exit 1."""
    path = project.write_config("version: 1\nagents: [unclosed\n")
    result = cli("config", "validate", "--project", str(project.root))
    assert result.exit_code == 1
    assert f"{path} [project, unreadable]: broken, 0 rule(s)" in result.output
    assert "While a layer is broken the hooks leave spawns unchanged (with on_error: block they deny them)." in (
        result.output
    )


def test_config_show_says_where_each_rule_came_from(project, cli):
    """config show lists each rule with its model and the layer and file it came from."""
    path = project.write_config("version: 1\nagents: {python-pro: haiku}\n")
    result = cli("config", "show", "--project", str(project.root))
    assert result.exit_code == 0
    line = next(row for row in result.output.splitlines() if row.strip().startswith("python-pro"))
    assert re.match(rf"\s+python-pro\s+haiku\s+← project: {re.escape(str(path))}$", line)


HOSTILE = (
    "version: 1\nagents: {python-pro: haiku}\nledger: {path: ~/.bashrc}\npricing: {file: zero.json}\n"
    "on_error: allow\nbudget: {daily_usd: 100, on_exceed: downgrade}\n"
)


def test_config_validate_names_each_key_a_repository_may_not_set(project, cli):
    """Each ignored key of the project and the local layer on its own line: the key, the file, why
    and where to set it instead. Nothing is wrong with the user's config, so exit 0."""
    user_layer = project.write_user_config("version: 1\non_error: block\nbudget: {daily_usd: 1}\n")
    path = project.write_config(HOSTILE)
    local = project.write_config("version: 1\nledger: {path: /tmp/elsewhere.jsonl}\n", name="cco-hooks.local.yaml")
    result = cli("config", "validate", "--project", str(project.root))
    assert result.exit_code == 0, result.output
    lines = [line.strip() for line in result.output.splitlines()]
    assert f"{path} [project, cco-hooks]: ok, 1 rule(s)" in lines
    assert (
        f"ignored: ledger.path in {path} — a repository's config cannot move cco-hooks' files; set it in "
        f"{user_layer} or CCO_HOOKS_LEDGER."
    ) in lines
    assert (
        f"ignored: ledger.path in {local} — a repository's config cannot move cco-hooks' files; set it in "
        f"{user_layer} or CCO_HOOKS_LEDGER."
    ) in lines
    assert (
        f"ignored: pricing.file in {path} — a repository's config cannot choose the price table cco-hooks charges "
        f"by; set it in {user_layer}."
    ) in lines
    assert (
        f"ignored: on_error in {path} — a repository's config cannot loosen on_error: block (set in {user_layer}) "
        "to allow; change it there if you mean it."
    ) in lines
    assert (
        f"ignored: budget.daily_usd in {path} — a repository's config can only tighten the budget: 100 is above "
        f"the cap of 1 set in {user_layer}; raise it there."
    ) in lines
    assert any(line.startswith(f"ignored: budget.on_exceed in {path} — ") for line in lines)
    assert sum(line.startswith("ignored: ") for line in lines) == 6
    assert lines[-1] == "0 error(s)."


def test_config_show_lists_what_was_ignored_and_what_applies(project, cli, isolated_home):
    """show: the ledger is the user's, the budget the user's cap, and every ignored key listed."""
    project.write_user_config("version: 1\nbudget: {daily_usd: 1}\n")
    path = project.write_config(HOSTILE)
    result = cli("config", "show", "--project", str(project.root))
    assert result.exit_code == 0
    lines = result.output.splitlines()
    ledger_line = next(line for line in lines if line.startswith("ledger: "))
    assert ledger_line == f"ledger: {isolated_home.parent / 'ledger' / 'ledger.jsonl'}"  # CCO_HOOKS_LEDGER
    budget_line = next(line for line in lines if line.startswith("budget: "))
    assert budget_line.startswith('budget: {"daily_usd": 1.0}')
    start = lines.index("ignored (4), from a repository's config:")
    shown = [line.strip().split(" — ")[0] for line in lines[start + 1 : start + 5]]
    assert shown == [
        f"ignored: {key} in {path}" for key in ("ledger.path", "pricing.file", "budget.daily_usd", "budget.on_exceed")
    ]
    assert "on_error: allow" in result.output  # the default: the user set no block, so the repository's allow stands


def test_config_show_json_carries_the_ignored_keys(project, cli):
    """The JSON form keeps them as problems of level "ignored", for tools."""
    import json

    path = project.write_config("version: 1\nledger: {path: ~/.bashrc}\n")
    shown = json.loads(cli("config", "show", "--project", str(project.root), "--format", "json").output)
    assert [(p["level"], p["file"], p["key_path"]) for p in shown["problems"]] == [
        ("ignored", str(path), "ledger.path")
    ]
    assert shown["ledger_path"] is None


def test_config_validate_names_the_limit_a_billion_laughs_breaks(project, cli):
    """A layer of nested YAML aliases is counted, not expanded: validate names the file, the limit
    and the fix in one short line, and exits 1."""
    laughs = 'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n' + "".join(
        f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]\n" for n in range(1, 9)
    )
    path = project.write_config("version: 1\n" + laughs + "agents: {python-pro: *a8}\n")
    result = cli("config", "validate", "--project", str(project.root))
    assert result.exit_code == 1
    assert (
        f"error: {path}: holds more than 20,000 values (counting what each YAML alias repeats); a config has a few "
        "hundred: remove what is not config, or repeated aliases." in result.output
    )
    assert len(result.output) < 2000


# ---- hostile keys and paths: shown, never run -------------------------------------------------


def test_config_validate_spells_out_a_hostile_key_and_path(tmp_path, terminal_cli):
    """A repository's config key and directory holding ESC[2J, OSC 52, BEL, CR, 0x9b and U+202E:
    validate names them spelt out, and prints no raw control character."""
    project = Project(tmp_path / ALL_RAW)
    project.write_config(f"version: 1\nagents: {{{json.dumps(ALL_RAW)}: sonet}}\n")
    result = terminal_cli("config", "validate", "--project", str(project.root))
    assert result.exit_code == 1
    assert_shown_not_run(result.output)
    assert f"agents.{ALL_SPELT}.model: Unknown model 'sonet'" in result.output
    assert f"{tmp_path}/{ALL_SPELT}/.claude/cco-hooks.yaml [project, cco-hooks]" in result.output


def test_config_show_spells_out_a_hostile_rule_and_path(tmp_path, terminal_cli):
    """show lists a hostile rule by its name spelt out, on one line, beside its file."""
    project = Project(tmp_path / ALL_RAW)
    project.write_config(f"version: 1\nagents: {{{json.dumps(ALL_RAW)}: haiku}}\n")
    result = terminal_cli("config", "show", "--project", str(project.root))
    assert result.exit_code == 0
    assert_shown_not_run(result.output)
    line = next(row for row in result.output.splitlines() if row.strip().startswith(ALL_SPELT))
    assert f"haiku    ← project: {tmp_path}/{ALL_SPELT}/.claude/cco-hooks.yaml" in line


def test_config_show_spells_a_newline_in_a_rule_name_on_its_line(project, terminal_cli):
    """A rule name with a line break cannot forge a line of its own in show's list."""
    project.write_config('version: 1\nagents: {"a\\nmode: enforce": haiku}\n')
    result = terminal_cli("config", "show", "--project", str(project.root))
    assert "  a\\nmode: enforce " in result.output
    assert not any(row.startswith("mode: enforce") for row in result.output.splitlines())


def test_config_validate_suggests_the_alias_a_typo_meant(project, cli):
    """A mistyped model gets "did you mean"; junk gets the list of aliases only."""
    project.write_config("version: 1\nagents:\n  code-reviewer: sonet\n  python-pro: gpt-4o\n")
    result = cli("config", "validate", "--project", str(project.root))
    assert result.exit_code == 1
    assert "Unknown model 'sonet' for agent 'code-reviewer': it is not a Claude model (did you mean sonnet?)" in (
        result.output
    )
    junk = next(line for line in result.output.splitlines() if "'gpt-4o'" in line)
    assert "did you mean" not in junk and "runs only haiku, sonnet, opus or fable" in junk


def test_config_show_on_a_broken_layer_says_it_is_not_in_force_and_exits_1(project, cli):
    """A broken local layer beside a good project layer: show names the broken layer, lists no rule
    as if it applied, and exits 1 (table and JSON)."""
    project.write_config("version: 1\nagents: {python-pro: haiku, code-reviewer: sonnet}\n")
    broken = project.write_config("agents: [unclosed\n", name="cco-hooks.local.yaml")
    result = cli("config", "show", "--project", str(project.root))
    assert result.exit_code == 1
    assert f"local    {broken}  [unreadable, BROKEN]" in result.output
    assert (
        "NOT IN FORCE: a config layer is broken, so no rule applies and the hooks leave every spawn unchanged:"
        in result.output
    )
    assert f"  error: {broken}: is not valid YAML" in result.output
    assert "python-pro" not in result.output and "rules (" not in result.output
    as_json = cli("config", "show", "--format", "json", "--project", str(project.root))
    assert as_json.exit_code == 1 and json.loads(as_json.output)["broken"]


def test_config_show_on_a_broken_layer_under_on_error_block_says_spawns_are_denied(project, cli):
    project.write_user_config("version: 1\non_error: block\n")
    project.write_config("agents: [unclosed\n")
    result = cli("config", "show", "--project", str(project.root))
    assert result.exit_code == 1
    assert "the hooks deny every spawn (on_error: block):" in result.output
