"""`cco-hooks statusline` end to end, with the real Claude Code CLI (each tested release).

Fact checked here: in ``-p`` mode Claude Code never runs the ``statusLine`` command (the status line
is part of the interactive UI: ``vws``, called only from its status-line component; in 2.1.332 the
input is built by ``h9r``). So, as a user would have it after ``cco-hooks install --statusline``
over a status line of their own, the test runs the command from the settings file itself, the way
the UI runs it (``sh -c``, the status JSON on stdin, with the fields ``h9r`` builds), at two
moments of a real session:

1. while a subagent is running — its first turn answered and in its transcript, its Bash tool
   waiting for a file the test creates: our line counts it as running, at the cost of that first
   request (priced independently, ``ledger_prices``);
2. after the run: the spawn is settled, our line counts it as done at the ledger's cost, and the
   budget left is the session cap minus it. The wrapped status line's output comes first, and it
   got the same stdin.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path

import pytest

from cco_hooks import budget, ledger, paths
from tests.support.claude_cli import assistant_usages, cco_hooks_cli, claude_env
from tests.support.fake_api import Scenario, Spawn, Usage
from tests.support.ledger_prices import ReferencePrices
from tests.support.locations import FIXTURES

pytestmark = pytest.mark.e2e

PRICES = ReferencePrices(FIXTURES / "claude-code-2.1.328-prices.json")
TURNS = (Usage(input_tokens=4_000, output_tokens=500), Usage(input_tokens=5_000, output_tokens=600))
SESSION_CAP = 5


def status_json(session_id: str, transcript: Path, project: Path, version: str, total_cost: float) -> dict:
    """The status JSON the interactive UI pipes to the command (``h9r``'s fields)."""
    return {
        "session_id": session_id,
        "transcript_path": str(transcript),
        "cwd": str(project),
        "model": {"id": "claude-opus-5-5", "display_name": "Opus 5.5"},
        "workspace": {"current_dir": str(project), "project_dir": str(project), "added_dirs": []},
        "version": version,
        "output_style": {"name": "default"},
        "cost": {
            "total_cost_usd": total_cost,
            "total_duration_ms": 1,
            "total_api_duration_ms": 1,
            "total_lines_added": 0,
            "total_lines_removed": 0,
        },
        "exceeds_200k_tokens": False,
        "fast_mode": False,
        "thinking": {"enabled": False},
    }


def run_status_line(command: str, status: dict, env: dict, project: Path) -> list[str]:
    proc = subprocess.run(
        ["/bin/sh", "-c", command],
        input=json.dumps(status).encode(),
        capture_output=True,
        env=env,
        cwd=project,
        timeout=60,
    )
    assert proc.returncode == 0 and proc.stderr == b"", proc.stderr.decode()
    return proc.stdout.decode().splitlines()


def wait_for(predicate, timeout: float = 90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_the_status_line_shows_a_running_then_a_finished_subagent(
    run_e2e, fake_api, e2e_project, e2e_home, claude_version, tmp_path
):
    probe = tmp_path / "their-stdin.json"
    settings = e2e_project / ".claude" / "settings.json"
    settings.write_text(json.dumps({"statusLine": {"type": "command", "command": f"cat > {probe}; echo their-line"}}))
    (e2e_project / ".claude" / "cco-hooks.yaml").write_text(f"version: 1\nbudget: {{session_usd: {SESSION_CAP}}}\n")
    result = cco_hooks_cli("install", "--scope", "project", "--statusline", project=e2e_project, home=e2e_home)
    assert result.returncode == 0, result.stderr
    command = json.loads(settings.read_text())["statusLine"]["command"]

    release = tmp_path / "release"
    spawn = Spawn(
        "SUB-SL",
        model="haiku",
        run_in_background=False,
        turns=TURNS,
        tool_input_for_turns={"command": f"while [ ! -e {release} ]; do sleep 0.05; done; echo hi", "description": "w"},
    )
    fake_api.set_scenario(Scenario(spawns=[spawn]))
    outcome = {}
    runner = threading.Thread(target=lambda: outcome.setdefault("run", run_e2e(timeout=180)))
    runner.start()
    env = claude_env(e2e_home, fake_api.base_url)
    projects = e2e_home / ".claude" / "projects"
    try:
        # 1. running: the subagent's first request is in its transcript; its Bash tool waits for us
        def first_turn_written():
            for path in projects.glob("*/*/subagents/agent-*.jsonl"):
                if assistant_usages(path):
                    return path
            return None

        sub_transcript = wait_for(first_turn_written)
        session_id = sub_transcript.parent.parent.name
        session_transcript = sub_transcript.parent.parent.parent / f"{session_id}.jsonl"
        usages = assistant_usages(sub_transcript)
        running = PRICES.cost(usages[0]["model"], [u["usage"] for u in usages])
        status = status_json(session_id, session_transcript, e2e_project, claude_version, 0.01)
        lines = run_status_line(command, status, env, e2e_project)
        assert assistant_usages(sub_transcript) == usages  # nothing moved while the line was drawn
        assert lines[0] == "their-line" and json.loads(probe.read_text()) == status
        assert lines[1] == (
            f"cco-hooks │ session $0.0100 · subagents {budget.format_usd(running)} "
            f"(0 done, 1 running {budget.format_usd(running)}) · saved $0.0000 · "
            f"left: session {budget.format_usd(SESSION_CAP - running)} of ${SESSION_CAP}.00"
        )
    finally:
        release.touch()
        runner.join(200)
    run = outcome["run"]
    assert run.returncode == 0, run.describe()
    assert run.session_id == session_id

    # 2. finished: settled in the ledger at its whole cost
    records = [r for r in ledger.read_records(paths.default_ledger_path())[0] if r["kind"] == "spawn"]
    assert len(records) == 1 and records[0]["status"] == "completed", records
    usages = assistant_usages(run.subagent_transcript_for("SUB-SL"))
    cost = PRICES.cost(records[0]["actual_model"], [u["usage"] for u in usages])
    assert records[0]["cost_usd"] == pytest.approx(cost, abs=1e-9)
    total = run.cost_state()["totalCostUSD"]
    probe.unlink()
    lines = run_status_line(
        command, status_json(session_id, session_transcript, e2e_project, claude_version, total), env, e2e_project
    )
    assert lines == [
        "their-line",
        f"cco-hooks │ session {budget.format_usd(total)} · subagents {budget.format_usd(cost)} (1 done) · "
        f"saved $0.0000 · left: session {budget.format_usd(SESSION_CAP - cost)} of ${SESSION_CAP}.00",
    ]
    assert total > cost  # Claude Code's own session total: the main loop's requests and the subagent's


def test_claude_p_never_runs_the_status_line(run_e2e, fake_api, e2e_project, tmp_path):
    """The fact the test above rests on: ``-p`` mode leaves a configured statusLine unrun."""
    probe = tmp_path / "ran"
    settings = e2e_project / ".claude" / "settings.json"
    settings.write_text(json.dumps({"statusLine": {"type": "command", "command": f"touch {probe}; echo x"}}))
    fake_api.set_scenario(Scenario(spawns=[Spawn("SUB-P", run_in_background=False)]))
    run = run_e2e()
    assert run.returncode == 0, run.describe()
    assert fake_api.subagent_finished("SUB-P")
    assert not probe.exists()
