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
