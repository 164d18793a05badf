"""What each tested Claude Code release is, by its own word: the hook events it knows.

``claude plugin validate --strict --json`` lists a plugin's hooks under ``provides.hooks`` when the
release knows their event, and warns ``unknown hook event; entry ignored at runtime`` when it does
not (2.1.328 on ``PreSkillShellCommand``). So on every release: the events cco-hooks registers are
known, and each event in ``claude_code.HOOK_EVENTS_ADDED`` is known exactly from the release that
added it — a newer release that dropped or renamed one, or a version table that says the wrong
release, fails here.
"""

from __future__ import annotations

import json
from pathlib import Path

from cco_hooks import claude_code
from tests.support.claude_cli import run_claude_command


def probe_plugin(root: Path, events: list[str]) -> Path:
    (root / ".claude-plugin").mkdir(parents=True)
    (root / ".claude-plugin" / "plugin.json").write_text(json.dumps({"name": "event-probe", "version": "0.0.1"}))
    (root / "hooks").mkdir()
    hooks = {event: [{"matcher": "Bash", "hooks": [{"type": "command", "command": "true"}]}] for event in events}
    (root / "hooks" / "hooks.json").write_text(json.dumps({"description": "event probe", "hooks": hooks}))
    return root


def test_the_release_knows_our_hook_events_and_those_added_since_the_baseline(
    claude_bin: str, claude_version: str, e2e_home: Path, tmp_path: Path
) -> None:
    ours = [event for event, _arg, _matcher, _timeout in claude_code.HOOK_EVENTS]
    added = sorted(claude_code.HOOK_EVENTS_ADDED)
    plugin = probe_plugin(tmp_path / "plugin", ours + added)

    proc = run_claude_command(
        ["plugin", "validate", "--strict", "--json", str(plugin)], home=e2e_home, claude_bin=claude_bin
    )
    report = json.loads(proc.stdout)
    known = {hook["event"] for hook in report["provides"]["hooks"]}
    warnings = [w["message"] for part in report.get("contents", []) for w in part.get("warnings", [])]

    running = claude_code.version_tuple(claude_version)
    expected_known = set(ours) | {event for event in added if running >= claude_code.HOOK_EVENTS_ADDED[event]}
    assert known == expected_known, (claude_version, known, warnings)
    for event in set(ours + added) - expected_known:
        assert any(f"hooks.{event}: unknown hook event" in message for message in warnings), (event, warnings)
