"""``cco-hooks statusline``: the session's spend with finished and running subagents, savings, budget left."""

import json
import os
import subprocess
import sys

import pytest

from cco_hooks import budget, statusline
from cco_hooks.cli import install
from tests.support.hookproc import COST, OPUS_RUN, SID


def status_json(hooks, total_cost=1.5, session=SID):
    """What Claude Code pipes to the statusLine command (the fields ``h9r`` builds in 2.1.332)."""
    return {
        "session_id": session,
        "transcript_path": str(hooks.session_transcript),
        "cwd": str(hooks.project),
        "model": {"id": "claude-opus-5-5", "display_name": "Opus 5.5"},
        "workspace": {"current_dir": str(hooks.project), "project_dir": str(hooks.project), "added_dirs": []},
        "version": "2.1.332",
        "output_style": {"name": "default"},
        "cost": {
            "total_cost_usd": total_cost,
            "total_duration_ms": 1000,
            "total_api_duration_ms": 500,
            "total_lines_added": 0,
            "total_lines_removed": 0,
        },
        "exceeds_200k_tokens": False,
    }


def run_statusline(hooks, status, *args, **env):
    """The command as ``install --statusline`` registers it, in a real process."""
    argv = [*install.hook_command("statusline").split()[:3], "statusline", *args]
    proc = subprocess.run(
        argv, input=json.dumps(status).encode(), capture_output=True, env=hooks.env(**env), timeout=30
    )
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout.decode()


def test_usd_is_written_as_the_budget_writes_it():
    for value in (0, 1e-9, 0.000004, 0.004, 0.0123, 0.5, 1, 4.5135, 1234.5, 1e7):
        assert statusline.usd(value) == budget.format_usd(value)


def test_no_spawn_yet_shows_the_session_and_an_empty_subagent_share(hooks):
    line = run_statusline(hooks, status_json(hooks, total_cost=0.25))
    assert line == "cco-hooks │ session $0.2500 · subagents $0.0000 (0 done) · saved $0.0000\n"


def test_finished_and_running_subagents_both_count(hooks):
    hooks.write_config("version: 1\nagents: {python-pro: haiku}\nbudget: {session_usd: 5, daily_usd: 25}\n")
    hooks.spend(1, agent_type="python-pro", model="claude-haiku-5-5")  # settled: in the ledger
    hooks.write_transcript("arun", model="claude-opus-5-5", upto=3)  # running: its transcript so far
    partial = statusline.running_spend(str(hooks.transcript_path("arun")), None, None, lambda: hooks.prices)
    assert 0 < partial["usd"] < OPUS_RUN
    line = run_statusline(hooks, status_json(hooks))
    settled = COST["claude-haiku-5-5"]
    saved = COST["claude-sonnet-5-5"] - COST["claude-haiku-5-5"]
    spent = settled + partial["usd"]
    assert line == (
        f"cco-hooks │ session $1.50 · subagents {budget.format_usd(spent)} "
        f"(1 done, 1 running {budget.format_usd(partial['usd'])}) · saved {budget.format_usd(saved)} · "
        f"left: session {budget.format_usd(5 - spent)} of $5.00, today {budget.format_usd(25 - spent)} of $25.00\n"
    )
    # the running subagent goes on; the next refresh reads its transcript again
    hooks.write_transcript("arun", model="claude-opus-5-5")
    assert f"1 running {budget.format_usd(OPUS_RUN)}" in run_statusline(hooks, status_json(hooks))


def test_other_sessions_spawns_are_not_this_sessions(hooks):
    hooks.spend(1, session="other-session")
    line = run_statusline(hooks, status_json(hooks))
    assert "subagents $0.0000 (0 done)" in line


def test_the_cache_reads_only_new_ledger_lines_and_changed_transcripts(hooks, monkeypatch):
    hooks.spend(1)
    hooks.write_transcript("arun", upto=3)
    status = status_json(hooks)
    first = statusline.status_line(status)
    cache = json.loads(open(statusline.cache_path(SID)).read())
    assert cache["ledger"]["end"] == os.path.getsize(hooks.ledger) and cache["ledger"]["agents"] == ["as1"]
    assert set(cache["running"]) == {"arun"}
    # nothing changed: neither the ledger nor a transcript is read again
    from cco_hooks import ledger, live

    monkeypatch.setattr(live, "read_running", _must_not_read)
    monkeypatch.setattr(ledger, "iter_records", _must_not_read)
    assert statusline.status_line(status) == first


def test_a_growing_transcript_is_read_from_where_the_last_refresh_stopped(hooks, monkeypatch):
    """A refresh after a running subagent's transcript grew reads only the bytes added since (the
    live reader's state is kept in the cache), and prices the whole of it as a full read does."""
    from cco_hooks import live

    path = hooks.write_transcript("arun", model="claude-opus-5-5", upto=3)
    first = statusline.running_spend(str(path), None, None, lambda: hooks.prices)
    before = path.stat().st_size
    hooks.write_transcript("arun", model="claude-opus-5-5")  # the rest of its run, appended
    read = []
    real = live._read_upto
    monkeypatch.setattr(live, "_read_upto", lambda fd, n: read.append(n) or real(fd, n))
    grown = statusline.running_spend(str(path), None, first, lambda: hooks.prices)
    assert read == [path.stat().st_size - before]  # only what was added
    assert grown["usd"] == pytest.approx(OPUS_RUN) and first["usd"] < grown["usd"]


def _must_not_read(*args, **kwargs):
    raise AssertionError("read again although nothing changed")


def test_a_replaced_ledger_is_summed_again_from_its_start(hooks):
    hooks.spend(1)
    statusline.status_line(status_json(hooks))
    os.replace(hooks.ledger, hooks.ledger + ".old")
    # the new ledger holds no record of the spawn: its transcript counts as not settled yet
    line = statusline.status_line(status_json(hooks))
    assert f"subagents {budget.format_usd(OPUS_RUN)} (0 done, 1 running {budget.format_usd(OPUS_RUN)})" in line


def test_a_wrapped_status_line_shows_first_with_the_same_stdin(hooks, tmp_path):
    seen = tmp_path / "seen.json"
    theirs = f"cat > {seen}; printf 'my line\\n'"
    out = run_statusline(hooks, status_json(hooks, total_cost=0.5), statusline.WRAP_FLAG, theirs)
    lines = out.splitlines()
    assert lines[0] == "my line" and lines[1].startswith("cco-hooks │ session $0.5000")
    assert json.loads(seen.read_text())["session_id"] == SID


@pytest.mark.parametrize("theirs", ["exit 3", "sleep 30"])
def test_a_failing_or_hanging_wrapped_line_leaves_ours(hooks, theirs, monkeypatch):
    monkeypatch.setattr(statusline, "WRAPPED_TIMEOUT_S", 0.5)
    assert statusline.run_wrapped(theirs, b"{}", timeout=0.5) == ""


@pytest.mark.parametrize("stdin", [b"", b"not json", b"[]", json.dumps({"session_id": "../x"}).encode()])
def test_input_that_is_no_status_prints_nothing_and_exits_0(hooks, stdin):
    argv = [*install.hook_command("statusline").split()[:3], "statusline"]
    proc = subprocess.run(argv, input=stdin, capture_output=True, env=hooks.env(), timeout=30)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, b"", b"")


def test_agent_names_and_control_characters_never_reach_the_terminal_raw(hooks):
    hooks.write_user_config("version: 1\nbudget: {session_usd: 5}\n")
    status = status_json(hooks, total_cost=0.5)
    line = run_statusline(hooks, status)
    assert "\x1b" not in line and line.count("\n") == 1


def test_the_statusline_process_loads_only_its_listed_modules(hooks, tmp_path):
    """Like the hooks: its modules come from bytecode, none heavy (bench/ measures its speed)."""
    dump = tmp_path / "modules.txt"
    hooks.spend(1)
    run_statusline(hooks, status_json(hooks))  # writes the cache and the bytecode
    run_statusline(hooks, status_json(hooks), CCO_HOOKS_DEBUG_MODULES=str(dump))
    loaded = dump.read_text().split("\n")
    ours = {line.split()[0].removeprefix("cco_hooks.") for line in loaded if line.startswith("cco_hooks.")}
    assert ours == set(sys.modules["cco_hooks"].HOOK_MODULES["statusline"])
    assert not {"json", "re", "click", "typing", "pathlib", "subprocess"} & {line.split()[0] for line in loaded}
