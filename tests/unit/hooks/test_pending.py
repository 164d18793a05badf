"""The pending store: private parts and tombstones, garbage left in it, tombstones swept after their TTL."""

import json
import os
import stat
from pathlib import Path

from cco_hooks import completion, ledger, pending
from tests.support.hookproc import FINAL_TEXT, PROMPT_MARKER, only, schema_validator

VALIDATOR = schema_validator()


def test_modes_and_no_prompt_text_anywhere(hooks):
    hooks.run_pre("toolu_2", model="haiku", background=True, description="d" * 300)
    hooks.run_post(hooks.post_async("toolu_2", "ab89ef272c1ab95db", model_in="haiku"))
    pdir = Path(pending.pending_dir(hooks.ledger))
    assert stat.S_IMODE(pdir.stat().st_mode) == 0o700
    for part in pdir.glob("*.json"):
        assert stat.S_IMODE(part.stat().st_mode) == 0o600
    hooks.write_transcript("ab89ef272c1ab95db", model="claude-haiku-5-5")
    hooks.run_stop(hooks.stop("ab89ef272c1ab95db"))
    r = only(hooks.records())
    assert r["description"] == "d" * 80
    assert stat.S_IMODE(os.stat(hooks.ledger).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(hooks.ledger)).st_mode) == 0o700
    for tomb in (pdir / "settled").iterdir():
        assert stat.S_IMODE(tomb.stat().st_mode) == 0o600
    assert stat.S_IMODE((pdir / "settled").stat().st_mode) == 0o700
    for path in Path(os.path.dirname(hooks.ledger)).rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert PROMPT_MARKER.encode() not in data, path
            assert FINAL_TEXT.encode() not in data, path


def test_garbage_in_the_pending_dir(hooks):
    pdir = Path(pending.pending_dir(hooks.ledger))
    (pdir / "settled").mkdir(parents=True)
    (pdir / "toolu_a.pre.json").write_text("{garbage")
    (pdir / "toolu_b.pre.json").write_text("[1, 2]")
    (pdir / "toolu_c.post.json").write_text(json.dumps({"ts": "yesterday", "agent_id": ["x"], "status": 5}))
    (pdir / "agent-zz.stop.json").write_text(json.dumps({"ts": None, "agent_transcript_path": 5, "last_digest": []}))
    (pdir / "bad name!.pre.json").write_text("{}")
    (pdir / "toolu_d.pre.json").mkdir()
    (pdir / "toolu_e.pre.json").write_text(json.dumps({"ts": 1, "decision": "deny", "transcript_path": ["x"]}))
    (pdir / ".toolu_f.pre.json.123.tmp").write_text("half")
    (pdir / "unrelated.txt").write_text("hello")
    for later in (0, completion.GRACE_S + 1, completion.STALE_S + 1, completion.ORPHAN_S + 1):
        hooks.settle(later=later, force=True)
    records, skipped = ledger.read_records(hooks.ledger)
    assert skipped == 0
    for r in records:
        VALIDATOR.validate(r)


def test_tombstones_are_swept_after_their_ttl(hooks):
    hooks.run_pre("toolu_3", model="opus")
    hooks.write_transcript("a887642912c4f6be6")
    hooks.run_post(hooks.post_completed("toolu_3", "a887642912c4f6be6", model_in="opus"))
    settled = Path(pending.pending_dir(hooks.ledger)) / "settled"
    assert sorted(os.listdir(settled)) == ["ag-a887642912c4f6be6", "tu-toolu_3"]
    hooks.settle(later=pending.TOMBSTONE_TTL_S - 3600, force=True)
    assert len(os.listdir(settled)) == 2
    hooks.settle(later=pending.TOMBSTONE_TTL_S + 3600, force=True)
    assert os.listdir(settled) == []


def test_count_pending_counts_each_unsettled_spawn_once(hooks):
    """One per spawn whatever parts it has (pre, post, stop joined by the post's agent id); a
    stop no post names is a spawn of its own; settled spawns and foreign files are not counted;
    counting changes nothing on disk."""
    pdir = pending.pending_dir(hooks.ledger)
    assert pending.count_pending(pdir) == 0  # no pending dir at all
    hooks.run_pre("toolu_1", model="haiku")
    assert pending.count_pending(pdir) == 1
    hooks.run_post(hooks.post_async("toolu_1", "a1111111111111111", model_in="haiku"))
    assert pending.count_pending(pdir) == 1  # its pre and post: one spawn
    hooks.run_pre("toolu_2", model="opus")
    pending.write_part(pending.stop_path(pdir, "a2222222222222222"), {"ts": 1.0})  # seen by SubagentStop only
    pending.write_part(pending.stop_path(pdir, "a1111111111111111"), {"ts": 1.0})  # toolu_1's own stop
    Path(pdir, "notes.txt").write_text("not a part")
    before = sorted(os.listdir(pdir))
    assert pending.count_pending(pdir) == 3
    assert sorted(os.listdir(pdir)) == before
    pending.mark_settled(pdir, "tu", "toolu_2")
    assert pending.count_pending(pdir) == 2
