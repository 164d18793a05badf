"""`cco-hooks config validate | show`: exact outputs and exit codes."""

import re


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
