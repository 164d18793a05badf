"""The click layer: every command is documented, each verb's module is imported only when it runs,
`python -m cco_hooks` is the same CLI, and a CcoHooksError is one line on stderr."""

import subprocess
import sys

from cco_hooks.cli.main import main
from tests.support.controls import ALL_RAW, ALL_SPELT, assert_shown_not_run
from tests.support.locations import REPO
from tests.support.project import Project


def test_readme_documents_every_command():
    """Every top-level command appears in the README."""
    readme = (REPO / "README.md").read_text()
    for name in main.commands:
        assert f"cco-hooks {name}" in readme, f"README does not mention `cco-hooks {name}`"


def test_the_click_layer_imports_no_verb_module_until_it_runs():
    """Start-up pays only for the verb used: importing the CLI loads no verb module, no pydantic or yaml."""
    code = "import sys, cco_hooks.cli.main; print(' '.join(sorted(sys.modules)))"
    loaded = set(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
        ).stdout.split()
    )
    verbs = {
        "cco_hooks.cli.install",
        "cco_hooks.cli.config_cmd",
        "cco_hooks.cli.explain",
        "cco_hooks.cli.doctor",
        "cco_hooks.cli.pricing_cmd",
        "cco_hooks.config.build",
        "pydantic",
        "yaml",
    }
    assert not loaded & verbs
    assert not {name for name in loaded if name.startswith("cco_hooks.report")}


def test_python_dash_m_cco_hooks_is_the_cli():
    """`python -m cco_hooks --help` runs the same click group: exit 0, every command listed."""
    proc = subprocess.run([sys.executable, "-m", "cco_hooks", "--help"], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Usage: python -m cco_hooks [OPTIONS] COMMAND [ARGS]...\n")
    listed = proc.stdout.split("\nCommands:\n", 1)[1].splitlines()
    assert [line.split()[0] for line in listed if line.strip()] == sorted(main.commands)


def test_a_cco_hooks_error_is_one_line_on_stderr_and_exit_2(tmp_path):
    """A CcoHooksError raised by a verb: its message on stderr after `cco-hooks: `, exit 2, no traceback."""
    proc = subprocess.run(
        [sys.executable, "-m", "cco_hooks", "explain", "--project", str(tmp_path)],
        input="[1, 2]",
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == "cco-hooks: stdin must be a JSON object (a PreToolUse payload).\n"


def test_report_by_week_and_month_in_a_chosen_time_zone(cli, tmp_path):
    """`cco-hooks report --by week|month --tz ZONE` reaches the report; a bad zone is exit 2 with
    the forms it accepts."""
    import json

    from tests.support.ledger_records import spawn, write_ledger

    # Monday 2026-11-30 in UTC: 02:00 is still Sunday at -05:00; 12:00 is already December at +14:00.
    records = [spawn(ts="2026-11-30T02:00:00.000Z"), spawn(ts="2026-11-30T12:00:00.000Z")]
    path = write_ledger(tmp_path / "l.jsonl", records)
    args = ["report", "--ledger", path, "--format", "json"]

    def keys(*more):
        doc = json.loads(cli(*args, *more).output)
        return doc["time_zone"], [(r["key"], r["spawns"]) for r in doc["rows"]]

    assert keys("--by", "week", "--tz", "UTC") == ("UTC", [("2026-W49", 2)])
    assert keys("--by", "week", "--tz", "-05:00") == ("-05:00", [("2026-W48", 1), ("2026-W49", 1)])
    assert keys("--by", "month", "--tz", "UTC") == ("UTC", [("2026-11", 2)])
    assert keys("--by", "month", "--tz", "Pacific/Kiritimati") == (
        "Pacific/Kiritimati",
        [("2026-11", 1), ("2026-12", 1)],
    )
    result = cli(*args, "--tz", "Mars/Olympus")
    assert result.exit_code == 2
    assert result.stderr == (
        "cco-hooks: --tz: unknown time zone 'Mars/Olympus'; use UTC, local, a fixed offset such as +05:30, "
        "or an IANA name such as Europe/Paris.\n"
    )


def test_an_error_quoting_hostile_text_is_spelt_out_on_stderr(tmp_path):
    """The real CLI's one error line quotes what it was given: any control character in it is spelt
    out, never sent to the terminal raw."""
    proc = subprocess.run(
        [sys.executable, "-m", "cco_hooks", "report", "--ledger", str(tmp_path / ALL_RAW)],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr.startswith(f'cco-hooks: --ledger "{tmp_path}/{ALL_SPELT}" matches no file;')
    assert_shown_not_run(proc.stderr)


def test_every_line_a_command_prints_is_spelt_out(tmp_path, terminal_cli, monkeypatch):
    """doctor in a repository cloned under a hostile name: every line it prints (here the project
    and the layers' paths) shows the name spelt out; the lines' own breaks stay."""
    monkeypatch.setenv("PATH", "/nonexistent")  # no `claude` to ask for its version
    project = Project(tmp_path / ALL_RAW)
    project.write_config("version: 1\nagents: {python-pro: haiku}\n")
    result = terminal_cli("doctor", "--project", str(project.root))
    assert_shown_not_run(result.output)
    assert f"project: {tmp_path}/{ALL_SPELT}\n" in result.output
