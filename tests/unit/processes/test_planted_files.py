"""A ledger directory others can write, in real hook processes (the command ``install`` registers):
a name planted where cco-hooks keeps a file — a symbolic link to the user's own file, a named pipe,
a device — is never written through, truncated or chmodded; the spawn proceeds; the user is told
once what the name holds and the fix.

Each planted link points at a victim file (standing for ``~/.bashrc``): after a whole priced spawn
(PreToolUse, SubagentStop, PostToolUse) the victim is byte-identical and keeps its mode.
"""

from __future__ import annotations

import json
import os
import stat

import pytest

from cco_hooks import pending
from tests.support.hookproc import SID, Hooks, answer, check_answer

VICTIM_TEXT = b"export PATH=/usr/bin  # the user's own file\n"


@pytest.fixture
def hooks(tmp_path):
    shared = tmp_path / "team"
    shared.mkdir()
    os.chmod(shared, 0o777)  # a team directory: anyone can plant a name in it
    h = Hooks(tmp_path)
    h.ledger = str(shared / "ledger.jsonl")
    return h


@pytest.fixture
def victim(tmp_path):
    path = tmp_path / "victim-home" / ".bashrc"
    path.parent.mkdir()
    path.write_bytes(VICTIM_TEXT)
    os.chmod(path, 0o644)
    return path


def run(hooks, event, payload):
    proc, _ = hooks.run(event, payload, timeout=60, CCO_HOOKS_LEDGER=hooks.ledger)
    assert proc.returncode == 0 and proc.stderr == b"", proc.stderr.decode()
    check_answer(event, proc.stdout)
    return answer(proc.stdout)


def spawn(hooks, tool_use_id, agent_id):
    """One priced foreground spawn through three real hook processes; their answers."""
    hooks.write_transcript(agent_id, model="claude-opus-5-5")
    return [
        run(hooks, "pre-tool-use", hooks.pre(tool_use_id, model="opus")),
        run(hooks, "subagent-stop", hooks.stop(agent_id, path=hooks.transcript_path(agent_id))),
        run(hooks, "post-tool-use", hooks.post_completed(tool_use_id, agent_id, "claude-opus-5-5", model_in="opus")),
    ]


def messages(answers):
    return [a["systemMessage"] for a in answers if a and "systemMessage" in a]


def proceeds(pre_answer):
    decision = ((pre_answer or {}).get("hookSpecificOutput") or {}).get("permissionDecision")
    return decision in (None, "allow")


def assert_untouched(victim):
    assert victim.read_bytes() == VICTIM_TEXT
    assert stat.S_IMODE(os.stat(victim).st_mode) == 0o644


def ledger_lines(hooks):
    try:
        with open(hooks.ledger, "rb") as f:
            return [json.loads(line) for line in f]
    except FileNotFoundError:
        return []


@pytest.mark.parametrize("suffix", ["", ".lock", ".totals.json"])
def test_a_link_planted_at_the_ledger_lock_or_totals_is_never_written_through(hooks, victim, suffix):
    """The hook records nothing (it cannot without that name), tells once, and the spawn proceeds."""
    planted = hooks.ledger + suffix
    os.symlink(victim, planted)
    answers = spawn(hooks, "toolu_1", "a1111111111111111")
    assert proceeds(answers[0])
    assert_untouched(victim)
    assert os.path.islink(planted) and os.readlink(planted) == str(victim)
    told = messages(answers)
    assert len(told) == 1 and planted in told[0] and "symbolic link" in told[0] and "chmod 700" in told[0]
    again = spawn(hooks, "toolu_2", "a2222222222222222")
    assert messages(again) == [], "told once, not on every hook"
    assert_untouched(victim)
    # Removed, as the message says: the next hooks record the spawns left pending.
    os.unlink(planted)
    spawn(hooks, "toolu_3", "a3333333333333333")
    recorded = sorted(r["tool_use_id"] for r in ledger_lines(hooks) if r.get("kind") == "spawn")
    assert "toolu_3" in recorded
    assert_untouched(victim)


def test_links_planted_at_every_temporary_name_the_previous_version_used(hooks, victim):
    """The totals' fixed temporary name, the per-process temporaries of parts and summaries: all
    planted; the spawn is recorded and priced, the victim untouched, the links left as they were."""
    directory, name = os.path.split(hooks.ledger)
    pdir = pending.pending_dir(hooks.ledger)
    os.makedirs(os.path.join(pdir, pending.TOMBSTONES_DIRNAME), mode=0o700)
    planted = [hooks.ledger + ".totals.json.tmp", os.path.join(directory, f".{name}.totals.json.tmp")]
    for pid in range(os.getpid(), os.getpid() + 200):  # every pid the next hook processes may get
        planted.append(os.path.join(directory, f".{name}.totals.json.{pid}.tmp"))
        planted.append(os.path.join(pdir, f".{SID}.toolu_1.pre.json.{pid}.tmp"))
    for path in planted:
        os.symlink(victim, path)
    answers = spawn(hooks, "toolu_1", "a1111111111111111")
    assert proceeds(answers[0]) and messages(answers) == []
    records = [r for r in ledger_lines(hooks) if r.get("kind") == "spawn"]
    assert [r["tool_use_id"] for r in records] == ["toolu_1"] and records[0]["cost_usd"] > 0
    with open(hooks.ledger + ".totals.json") as f:
        assert sum(day["usd"] for day in json.load(f)["days"].values()) == pytest.approx(records[0]["cost_usd"])
    assert_untouched(victim)
    assert all(os.path.islink(path) for path in planted)


def test_a_link_planted_as_a_part_is_never_read_into_the_ledger(hooks, victim):
    """A ``.pre.json`` part that is a link to another file (a JSON secret, here) is not read: its
    content never reaches the ledger, where the one who planted it could read it."""
    victim.write_bytes(b'{"part": "pre", "tool_use_id": "toolu_9", "description": "SECRET"}')
    os.chmod(victim, 0o644)
    pdir = pending.pending_dir(hooks.ledger)
    os.makedirs(pdir, mode=0o700)
    os.symlink(victim, pending.pre_path(pdir, SID, "toolu_9"))
    spawn(hooks, "toolu_1", "a1111111111111111")
    assert b"SECRET" not in open(hooks.ledger, "rb").read()
    assert victim.read_bytes().startswith(b'{"part"') and stat.S_IMODE(os.stat(victim).st_mode) == 0o644


def test_a_ledger_on_a_named_pipe_is_left_alone_and_the_hooks_never_hang(hooks):
    """No chmod of the pipe (its mode stays 0644), nothing written into it, each hook answers."""
    os.mkfifo(hooks.ledger, 0o644)
    os.chmod(hooks.ledger, 0o644)
    answers = spawn(hooks, "toolu_1", "a1111111111111111")
    assert proceeds(answers[0])
    assert stat.S_ISFIFO(os.lstat(hooks.ledger).st_mode) and stat.S_IMODE(os.lstat(hooks.ledger).st_mode) == 0o644
    told = messages(answers)
    assert len(told) == 1 and hooks.ledger in told[0] and "named pipe" in told[0]
    assert not os.path.exists(hooks.ledger + ".lock"), "nothing is created beside it either"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="mknod of a device needs root")
def test_a_ledger_on_a_device_node_is_never_chmodded_or_written(hooks):
    """``/dev/null``'s own device (1, 3) planted as the ledger: mode unchanged, nothing recorded."""
    os.mknod(hooks.ledger, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    os.chmod(hooks.ledger, 0o666)
    answers = spawn(hooks, "toolu_1", "a1111111111111111")
    assert proceeds(answers[0])
    st = os.lstat(hooks.ledger)
    assert stat.S_ISCHR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o666
    told = messages(answers)
    assert len(told) == 1 and "character device" in told[0]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="chown to another user needs root")
def test_a_ledger_owned_by_another_user_is_left_alone(hooks):
    """A regular ledger someone else owns (and made writable to all) is not appended to or chmodded."""
    with open(hooks.ledger, "wb") as f:
        f.write(b"")
    os.chmod(hooks.ledger, 0o666)
    os.chown(hooks.ledger, 65534, 65534)
    answers = spawn(hooks, "toolu_1", "a1111111111111111")
    assert proceeds(answers[0])
    st = os.lstat(hooks.ledger)
    assert st.st_size == 0 and stat.S_IMODE(st.st_mode) == 0o666 and st.st_uid == 65534
    told = messages(answers)
    assert len(told) == 1 and "another user (uid 65534)" in told[0]


# A named pipe where a hook only reads — an agent definition, Claude Code's settings, our config
# snapshot, the session transcript — has no writer: a blocking open would wait for ever. Each is
# read non-blocking and as a regular file only, so the hook answers and the spawn is routed.


def routed_model(hooks, tool_use_id, **env):
    proc, _ = hooks.run("pre-tool-use", hooks.pre(tool_use_id, model="opus"), timeout=60, **env)
    assert proc.returncode == 0, proc.stderr.decode()
    check_answer("pre-tool-use", proc.stdout)
    out = answer(proc.stdout) or {}
    return ((out.get("hookSpecificOutput") or {}).get("updatedInput") or {}).get("model")


def test_a_pipe_for_an_agent_file_or_for_claude_codes_settings_is_not_waited_on(hooks):
    hooks.write_config("version: 1\nagents: {general-purpose: haiku}\n")
    agents_dir = hooks.project / ".claude" / "agents"
    agents_dir.mkdir(parents=True)
    os.mkfifo(agents_dir / "general-purpose.md")
    os.mkfifo(hooks.project / ".claude" / "settings.json")
    assert routed_model(hooks, "toolu_fifo_agent") == "haiku"


def test_a_pipe_for_the_config_snapshot_is_not_waited_on(hooks):
    hooks.write_config("version: 1\nagents: {general-purpose: haiku}\n")
    assert routed_model(hooks, "toolu_first") == "haiku"  # writes the snapshot
    snapshots = hooks.config / "cco-hooks" / "snapshots"
    [snap] = [snapshots / name for name in os.listdir(snapshots) if name.endswith(".json")]
    snap.unlink()
    os.mkfifo(snap)
    assert routed_model(hooks, "toolu_second") == "haiku"  # built again, the pipe never opened blocking
    assert stat.S_ISREG(os.lstat(snap).st_mode)  # the pipe's name now holds the rebuilt snapshot


def test_a_pipe_for_the_session_transcript_is_not_waited_on(hooks):
    """With a provider switch on, PreToolUse reads the release from the session transcript."""
    hooks.write_config("version: 1\nagents: {general-purpose: haiku}\n")
    hooks.session_transcript.unlink()
    os.mkfifo(hooks.session_transcript)
    assert routed_model(hooks, "toolu_fifo_transcript", CLAUDE_CODE_USE_BEDROCK="1") == "haiku"
