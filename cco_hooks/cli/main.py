"""The ``cco-hooks`` command line: argument parsing only; each verb's work is a plain function in
its own module (``cli/install.py``, ``cli/config_cmd.py``, ``cli/explain.py``, ``cli/doctor.py``,
``cli/pricing_cmd.py``, ``report/command.py``), imported inside the command so start-up pays only
for the verb used.

Every command returns an exit code; a ``CcoHooksError`` becomes one line on stderr and exit 2.
Everything printed passes ``coerce.visible``: what the commands print quotes config keys, agent
names, paths and settings from files a repository brings, and no control character in them may
reach the terminal raw (the lines' own newlines stay).
"""

from __future__ import annotations

import os
import sys

import click

from cco_hooks import __version__, coerce, paths
from cco_hooks.errors import CcoHooksError


def _out(text: str) -> None:
    click.echo(coerce.visible(text, keep="\n"))


def _run(fn, *args, **kwargs) -> None:
    try:
        code = fn(*args, **kwargs)
    except CcoHooksError as exc:
        click.echo(coerce.visible(f"cco-hooks: {exc}", keep="\n"), err=True)
        code = 2
    sys.exit(code or 0)


project_option = click.option(
    "--project",
    "project_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="The project directory (default: $CLAUDE_PROJECT_DIR, else the current directory; ~ is expanded).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cco-hooks")
def main() -> None:
    """Route Claude Code subagent spawns to the model your config names, and account for their cost."""


scope_option = click.option(
    "--scope",
    type=click.Choice(paths.SETTINGS_SCOPES),
    default="project",
    show_default=True,
    help="project: .claude/settings.json; local: .claude/settings.local.json; user: ~/.claude/settings.json.",
)


@main.command()
@scope_option
@project_option
def install(scope: str, project_dir: str | None) -> None:
    """Register the hooks in a Claude Code settings file (idempotent, backed up)."""
    from cco_hooks.cli.install import run_install

    _run(run_install, scope, project_dir, dict(os.environ), _out)


@main.command()
@scope_option
@project_option
def uninstall(scope: str, project_dir: str | None) -> None:
    """Remove exactly the hooks `install` added."""
    from cco_hooks.cli.install import run_uninstall

    _run(run_uninstall, scope, project_dir, dict(os.environ), _out)


@main.group()
def config() -> None:
    """Validate, show and describe the layered config."""


@config.command("validate")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@project_option
def config_validate(files: tuple[str, ...], project_dir: str | None) -> None:
    """Check every layer (or FILES): schema and meaning; each problem names file, key and fix."""
    from cco_hooks.cli.config_cmd import run_validate

    _run(run_validate, list(files), project_dir, dict(os.environ), _out)


@config.command("show")
@project_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def config_show(project_dir: str | None, fmt: str) -> None:
    """The merged config, and which layer each rule came from."""
    from cco_hooks.cli.config_cmd import run_show

    _run(run_show, project_dir, dict(os.environ), fmt, _out)


@config.command("schema")
def config_schema() -> None:
    """Print the config's JSON Schema (config/cco-hooks.schema.json)."""
    from cco_hooks.cli.config_cmd import run_schema

    _run(run_schema, _out)


@main.command()
@click.option("--agent", default=None, help="The subagent_type to explain (instead of a payload on stdin).")
@click.option("--model", default=None, help="The model the spawn asks for (haiku, sonnet, opus, fable).")
@click.option(
    "--tool", default="Agent", show_default=True, help="Tool name (Agent, or Task before Claude Code 2.1.63)."
)
@project_option
@click.option("--json", "as_json", is_flag=True, help="Print the decision as JSON.")
def explain(agent: str | None, model: str | None, tool: str, project_dir: str | None, as_json: bool) -> None:
    """The decision for a spawn, and why: a PreToolUse payload on stdin, or --agent/--model."""
    from cco_hooks.cli.explain import read_stdin_if_piped, run_explain

    payload = None if agent is not None else read_stdin_if_piped(sys.stdin)
    _run(run_explain, payload, agent, model, tool, project_dir, dict(os.environ), as_json, _out)


@main.command()
@project_option
def doctor(project_dir: str | None) -> None:
    """Where the hooks are installed, which layers load, and what conflicts with them."""
    from cco_hooks.cli.doctor import run_doctor

    _run(run_doctor, project_dir, dict(os.environ), _out)


@main.command("report")
@click.option(
    "--by",
    "group_by",
    type=click.Choice(["agent", "model", "day", "week", "month", "session", "project", "decision"]),
    default="agent",
    show_default=True,
    help="What a row is.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv", "markdown", "html"]),
    default="table",
    show_default=True,
    help="json follows config/report.schema.json; html is one self-contained page (charts, light and dark).",
)
@click.option(
    "-o",
    "--output",
    metavar="FILE",
    type=click.Path(dir_okay=False),
    help="Write the report to FILE (0600, replaced whole) instead of stdout.",
)
@click.option("--since", metavar="WHEN", help="First day: YYYY-MM-DD, today, yesterday, 7d, 2w (today included).")
@click.option("--until", metavar="WHEN", help="Last day, same forms.")
@click.option(
    "--tz",
    metavar="ZONE",
    help="Time zone of days, weeks and months: local (default), UTC, +05:30, or an IANA name (Europe/Paris).",
)
@click.option("--session", "sessions", multiple=True, metavar="ID", help="Session id or prefix; repeatable.")
@click.option(
    "--project", "projects", multiple=True, metavar="PATH", help="Project path or directory name; repeatable."
)
@click.option(
    "--agent",
    "agents",
    multiple=True,
    metavar="TYPE",
    help="Agent type (Claude Code's matching, * ? globs); repeatable.",
)
@click.option(
    "--ledger",
    "ledgers",
    multiple=True,
    metavar="PATH|GLOB",
    help="Ledger(s) to read and merge instead of the live one; repeatable.",
)
@click.option("--drift", is_flag=True, help="Spawns that ran on another model than the enforced one, counted by cause.")
@click.option(
    "--limit",
    "drift_limit",
    type=click.IntRange(min=0),
    default=50,
    show_default=True,
    help="Drifted spawns --drift lists (latest; 0 = all).",
)
@click.option(
    "--fail-over",
    "fail_over",
    type=click.FloatRange(min=0),
    metavar="USD",
    help="Exit 1 when the selected cost is over USD.",
)
@click.option("--no-summary", is_flag=True, help="Full scan; neither read nor write <ledger>.summary.")
def report_cmd(
    group_by,
    fmt,
    output,
    since,
    until,
    tz,
    sessions,
    projects,
    agents,
    ledgers,
    drift,
    drift_limit,
    fail_over,
    no_summary,
) -> None:
    """What subagents cost: by agent type (default), model, day, week, month, session, project or decision."""
    from cco_hooks.report.command import run_report

    _run(
        run_report,
        ledgers=ledgers,
        group_by=group_by,
        fmt=fmt,
        since=since,
        until=until,
        tz=tz,
        sessions=sessions,
        projects=projects,
        agents=agents,
        drift=drift,
        drift_limit=drift_limit,
        fail_over=fail_over,
        use_summary=not no_summary,
        output=output,
    )


@main.command("export")
@click.option("--ledger", "ledger", metavar="PATH", help="The ledger to export (default: the live one).")
@click.option(
    "--background", is_flag=True, help="As a hook starts it: leave at once if another export runs; print nothing."
)
@project_option
def export_cmd(ledger: str | None, background: bool, project_dir: str | None) -> None:
    """Send the ledger's records not yet exported to an OpenTelemetry collector (OTEL_* variables), once."""
    from cco_hooks.export.command import run_export

    _run(
        run_export,
        ledger=ledger,
        project=paths.project_dir(env=os.environ, chosen=project_dir, default=os.getcwd()),
        background=background,
        out=_out,
    )


@main.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="json prints the table in the shape of a price override file.",
)
@project_option
def pricing(fmt: str, project_dir: str | None) -> None:
    """The price table in use: shipped prices plus your overrides (pricing.file)."""
    from cco_hooks.cli.pricing_cmd import run_pricing

    _run(run_pricing, fmt, project_dir, dict(os.environ), _out)


if __name__ == "__main__":  # pragma: no cover
    main()
