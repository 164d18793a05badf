"""No spawn lost or counted twice, in real hook processes (the command ``install`` registers):
sessions that reuse a tool_use_id, and a disk that fills up while a hook settles.

The full disk is injected into the hook process itself (``tests/support/disk_full.py``: the hook
runs ``python -S``, so no ``sitecustomize`` runs; a ``fcntl.py`` on ``PYTHONPATH`` installs the
fault), ENOSPC or EDQUOT on the tombstones and the ledger. Where this machine lets us mount a tiny
tmpfs (root), the same is also done on a filesystem that is really full; elsewhere that test is
skipped, and nothing else needs it.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess

import pytest

from cco_hooks import ledger, pending, totals
from tests.support.disk_full import process_env
from tests.support.hookproc import COST, SID, Hooks, check_state, only

OTHER_SID = "0c0c0c0c-1111-4222-8333-444444444444"
THIRD_SID = "session-three"


@pytest.fixture
def hooks(tmp_path):
    return Hooks(tmp_path)


def run_ok(hooks, event, payload, **env):
    proc, _ = hooks.run(event, payload, timeout=60, **env)
    assert proc.returncode == 0 and proc.stderr == b"", proc.stderr.decode()
    return proc


def spawn(hooks, session, tool_use_id, agent_id, model="claude-opus-5-5", **env):
    """One foreground spawn of ``session`` through three real hook processes."""
    hooks.write_transcript(agent_id, model=model, session=session)
    stop = hooks.stop(agent_id, path=hooks.transcript_path(agent_id, session))
    for event, payload in (
        ("pre-tool-use", hooks.pre(tool_use_id, model="opus")),
        ("subagent-stop", stop),
        ("post-tool-use", hooks.post_completed(tool_use_id, agent_id, model, model_in="opus")),
    ):
        run_ok(hooks, event, hooks.in_session(payload, session), **env)


def test_sessions_reusing_toolu_1_are_each_recorded_once(hooks):
    sessions = [(SID, "a1111111111111111"), (OTHER_SID, "a2222222222222222"), (THIRD_SID, "a3333333333333333")]
    for session, agent_id in sessions:
        spawn(hooks, session, "toolu_1", agent_id)
    for session, agent_id in sessions:  # every hook replayed
        spawn(hooks, session, "toolu_1", agent_id)
    records = hooks.records()
    assert sorted((r["session_id"], r["tool_use_id"], r["agent_id"]) for r in records) == sorted(
        (session, "toolu_1", agent_id) for session, agent_id in sessions
    )
    assert all(r["cost_usd"] == pytest.approx(COST["claude-opus-5-5"], abs=1e-9) for r in records)
    assert hooks.pending() == []
    check_state(hooks)


@pytest.mark.parametrize("error", [errno.ENOSPC, errno.EDQUOT])
def test_a_disk_full_while_a_hook_settles_then_space_back_records_each_spawn_once(hooks, tmp_path, error):
    """The PostToolUse hook finds the disk full for its tombstones, then (second spawn) for the ledger
    line, which fails half-way. Nothing is recorded, nothing is trusted, the parts wait; the next
    hook with space back records each spawn exactly once, and replays add nothing."""
    pdir = pending.pending_dir(hooks.ledger)
    tombstones = os.path.join(pdir, pending.TOMBSTONES_DIRNAME)
    first, second = ("toolu_1", "a1111111111111111"), ("toolu_2", "a2222222222222222")
    for tool_use_id, agent_id in (first, second):
        hooks.write_transcript(agent_id)
        hooks.write_meta(agent_id, tool_use_id)
        run_ok(hooks, "pre-tool-use", hooks.pre(tool_use_id, model="opus"))

    full_tombstones = process_env(tmp_path, [tombstones], error=error)
    run_ok(hooks, "post-tool-use", hooks.post_completed(first[0], first[1], model_in="opus"), **full_tombstones)
    full_ledger = process_env(tmp_path, [hooks.ledger], modes=["write"], error=error)
    run_ok(hooks, "post-tool-use", hooks.post_completed(second[0], second[1], model_in="opus"), **full_ledger)
    # the hooks ran (their parts are written) but nothing reached the ledger, not even half a line
    assert hooks.pending() == sorted(
        f"{SID}.{tool_use_id}.{part}.json" for tool_use_id, _ in (first, second) for part in ("pre", "post")
    )
    assert not os.path.exists(hooks.ledger) or os.path.getsize(hooks.ledger) == 0
    for tool_use_id, agent_id in (first, second):
        assert not pending.is_settled(pdir, "tu", SID, tool_use_id)
        assert not pending.is_settled(pdir, "ag", SID, agent_id)

    # space is back: the next hook (a replayed PostToolUse of the first spawn) settles both, once
    run_ok(hooks, "post-tool-use", hooks.post_completed(first[0], first[1], model_in="opus"))
    records = hooks.records()
    assert sorted(r["tool_use_id"] for r in records) == ["toolu_1", "toolu_2"]
    assert all(r["status"] == "completed" and r["transcript_complete"] for r in records)
    for tool_use_id, agent_id in (first, second):
        run_ok(hooks, "subagent-stop", hooks.stop(agent_id))
        run_ok(hooks, "post-tool-use", hooks.post_completed(tool_use_id, agent_id, model_in="opus"))
    stats = {}
    assert len(list(ledger.iter_records(hooks.ledger, stats))) == 2 and stats["skipped"] == 0
    counted = sum(day["usd"] for day in totals.read_totals(hooks.ledger)["days"].values())
    assert counted == pytest.approx(2 * COST["claude-opus-5-5"], abs=1e-9)
    assert hooks.pending() == []
    check_state(hooks)


def test_the_fault_injection_reaches_a_real_hook_process(hooks, tmp_path):
    """The check on the harness itself: with the whole pending store full, the PostToolUse hook
    cannot even write its part (and still exits 0, silently: hooks fail open)."""
    run_ok(hooks, "pre-tool-use", hooks.pre("toolu_1", model="opus"))
    full = process_env(tmp_path, [pending.pending_dir(hooks.ledger)], modes=["open"])
    hooks.write_transcript("a1111111111111111")
    run_ok(hooks, "post-tool-use", hooks.post_completed("toolu_1", "a1111111111111111", model_in="opus"), **full)
    assert hooks.pending() == [f"{SID}.toolu_1.pre.json"]
    assert not os.path.exists(hooks.ledger) or os.path.getsize(hooks.ledger) == 0
    run_ok(hooks, "post-tool-use", hooks.post_completed("toolu_1", "a1111111111111111", model_in="opus"))
    assert only(hooks.records())["tool_use_id"] == "toolu_1"


# --------------------------------------------------------------------------- a real full filesystem


@pytest.fixture
def tiny_disk(tmp_path):
    """A 256 KiB tmpfs, when this machine lets us mount one (root, no sandbox); skipped otherwise,
    so nothing depends on it."""
    mountpoint = tmp_path / "tiny-disk"
    mountpoint.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", str(mountpoint)])
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", str(mountpoint)], check=True)


def fill_leaving(directory, free_pages):
    """Fill the filesystem of ``directory`` with one-page files, then free ``free_pages`` of them;
    the files left are the filler to remove when space is to come back."""
    filler = []
    while True:
        path = directory / f"filler-{len(filler)}"
        try:
            with open(path, "wb") as f:
                f.write(b"x" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
            path.unlink(missing_ok=True)
            break
        filler.append(path)
    for path in filler[:free_pages]:
        path.unlink()
    return filler[free_pages:]


@pytest.mark.parametrize("free_pages", [1, 3], ids=["no room for a tombstone", "no room for the ledger line"])
def test_a_really_full_filesystem_while_settling_then_space_back(tiny_disk, tmp_path, monkeypatch, free_pages):
    """The ledger and the pending store on a tmpfs that fills up: the PostToolUse hook writes its
    part into the last free page, then finds no room for a tombstone (1 page free) or for the
    ledger line (3 pages: its part and two tombstones fit). Nothing is recorded or trusted; once
    space is back, the next hook (the main loop's Stop) records the spawn exactly once."""
    monkeypatch.setenv("CCO_HOOKS_LEDGER", str(tiny_disk / "cco" / "ledger.jsonl"))
    hooks = Hooks(tmp_path)
    pdir = pending.pending_dir(hooks.ledger)
    agent_id = "a1111111111111111"
    run_ok(hooks, "pre-tool-use", hooks.pre("toolu_1", model="opus"))
    hooks.write_transcript(agent_id)
    hooks.write_meta(agent_id, "toolu_1")
    filler = fill_leaving(tiny_disk, free_pages)
    run_ok(hooks, "post-tool-use", hooks.post_completed("toolu_1", agent_id, model_in="opus"))
    assert hooks.pending() == [f"{SID}.toolu_1.post.json", f"{SID}.toolu_1.pre.json"]
    assert not os.path.exists(hooks.ledger) or os.path.getsize(hooks.ledger) == 0
    tombstones = os.path.join(pdir, pending.TOMBSTONES_DIRNAME)
    assert not os.path.isdir(tombstones) or os.listdir(tombstones) == []  # none empty, none half
    for path in filler:
        path.unlink()
    run_ok(hooks, "stop", hooks.session_event("Stop"))
    r = only(hooks.records())
    assert r["tool_use_id"] == "toolu_1" and r["cost_usd"] == pytest.approx(COST["claude-opus-5-5"], abs=1e-9)
    run_ok(hooks, "post-tool-use", hooks.post_completed("toolu_1", agent_id, model_in="opus"))
    run_ok(hooks, "subagent-stop", hooks.stop(agent_id))
    assert len(hooks.records()) == 1 and hooks.pending() == []
    check_state(hooks)
