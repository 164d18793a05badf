"""The pending store: private parts and tombstones, garbage left in it, tombstones swept after their TTL."""

import json
import os
import stat
from pathlib import Path

from cco_hooks import completion, ledger, paths, pending
from tests.support.hookproc import FINAL_TEXT, PROMPT_MARKER, SID, only, schema_validator

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
    tombstones = list((pdir / "tombstones").iterdir())
    assert len(tombstones) == 2
    for tomb in tombstones:
        assert stat.S_IMODE(tomb.stat().st_mode) == 0o600
    assert stat.S_IMODE((pdir / "tombstones").stat().st_mode) == 0o700
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
    settled = Path(pending.pending_dir(hooks.ledger)) / "tombstones"
    assert sorted(os.listdir(settled)) == [f"ag.{SID}.a887642912c4f6be6", f"tu.{SID}.toolu_3"]
    hooks.settle(later=pending.TOMBSTONE_TTL_S - 3600, force=True)
    assert len(os.listdir(settled)) == 2
    hooks.settle(later=pending.TOMBSTONE_TTL_S + 3600, force=True)
    assert os.listdir(settled) == []


# --------------------------------------------------------------------------- identity and upgrade

OTHER_SID = "0c0c0c0c-1111-4222-8333-444444444444"


def test_session_keys_and_part_names():
    assert pending.session_key(SID) == SID
    assert pending.session_key(None) == pending.session_key("") == pending.session_key("a/b") == pending.NO_SESSION
    long_id = "s" * 128
    key = pending.session_key(long_id)
    assert key != long_id and key == pending.session_key(long_id) and paths.safe_name(key)
    pdir = "/p"
    name = os.path.basename(pending.stop_path(pdir, key, "a" * 128))
    assert len(name.encode()) < 255
    assert pending._classify(name) == (key, "a" * 128, "stop", "ag")
    assert pending._classify(f"{SID}.toolu_1.pre.json") == (SID, "toolu_1", "pre", "tu")
    assert pending._classify("~.toolu_1.post.json") == ("~", "toolu_1", "post", "tu")
    assert pending._classify("toolu_1.pre.json") == (None, "toolu_1", "pre", "tu")  # the previous layout
    assert pending._classify("agent-a1.stop.json") == (None, "a1", "stop", "ag")
    assert pending._classify("notes.txt") is None


def legacy(hooks, name):
    """Rename a part written by this version to the name the previous version gave it."""
    pdir = Path(pending.pending_dir(hooks.ledger))
    os.rename(pdir / name, pdir / name.split(".", 1)[1])


def test_the_previous_layout_is_honoured_after_an_upgrade(hooks):
    """What the previous version left — parts named by id alone, tombstones ``settled/tu-<id>`` with
    or without an offset — settles with no spawn recorded twice and none lost, and another session's
    reuse of a settled id is recorded."""
    pdir = Path(pending.pending_dir(hooks.ledger))
    # toolu_1 and toolu_2 were recorded by the previous version: their tombstones are in its place
    for n in (1, 2):
        hooks.run_pre(f"toolu_{n}", model="opus")
        hooks.write_transcript(f"a{n}{n}")
        hooks.run_post(hooks.post_completed(f"toolu_{n}", f"a{n}{n}", model_in="opus"))
    # toolu_4: a settle killed between its tombstone and its record, parts in the old names
    hooks.run_pre("toolu_4", model="opus")
    hooks.write_transcript("a44")
    hooks.write_meta("a44", "toolu_4")
    hooks.run_stop(hooks.stop("a44"))
    (pdir / "settled").mkdir()
    for name in sorted(os.listdir(pdir / "tombstones")):
        kind, _, key = name.split(".")
        content = (pdir / "tombstones" / name).read_bytes()
        (pdir / "settled" / f"{kind}-{key}").write_bytes(b"" if key in ("toolu_2", "a22") else content)
        os.unlink(pdir / "tombstones" / name)
    legacy(hooks, f"{SID}.toolu_4.pre.json")
    legacy(hooks, f"{SID}.agent-a44.stop.json")
    (pdir / "settled" / "tu-toolu_4").write_text(str(os.path.getsize(hooks.ledger)))
    # a replayed PreToolUse of toolu_1, written by the previous version
    (pdir / "toolu_1.pre.json").write_text(
        json.dumps({"v": 1, "ts": 1.0, "session_id": SID, "part": "pre", "tool_use_id": "toolu_1"})
    )
    assert len(hooks.records()) == 2

    assert hooks.settle(later=completion.GRACE_S + 1) == 1  # toolu_4, once
    assert not (pdir / "settled").exists()
    assert sorted(os.listdir(pdir / "tombstones")) == sorted(
        f"{k}.{SID}.{i}"
        for k, i in [("tu", "toolu_1"), ("ag", "a11"), ("tu", "toolu_2"), ("ag", "a22")]
        + [("tu", "toolu_4"), ("ag", "a44")]
    )
    hooks.run_stop(hooks.stop("a22"))  # replays of what the previous version recorded
    hooks.run_post(hooks.post_completed("toolu_1", "a11", model_in="opus"))
    assert hooks.settle(later=completion.ORPHAN_S + 1, force=True) == 0
    assert sorted(r["tool_use_id"] for r in hooks.records()) == ["toolu_1", "toolu_2", "toolu_4"]
    assert hooks.pending() == []

    # another session reusing toolu_1 is a spawn of its own
    hooks.write_transcript("a55", session=OTHER_SID)
    hooks.run_post(hooks.in_session(hooks.post_completed("toolu_1", "a55", model_in="opus"), OTHER_SID))
    assert sorted((r["session_id"], r["tool_use_id"]) for r in hooks.records()) == sorted(
        [(SID, "toolu_1"), (SID, "toolu_2"), (SID, "toolu_4"), (OTHER_SID, "toolu_1")]
    )


def test_an_old_tombstone_whose_spawn_the_ledger_does_not_hold_is_dropped(hooks):
    pdir = Path(pending.pending_dir(hooks.ledger))
    (pdir / "settled").mkdir(parents=True)
    (pdir / "settled" / "tu-toolu_8").write_text("0")
    (pdir / "settled" / "ag-a88").write_text("")
    (pdir / "settled" / "junk").write_text("")
    hooks.run_pre("toolu_8", model="opus")
    hooks.write_transcript("a88")
    hooks.run_post(hooks.post_completed("toolu_8", "a88", model_in="opus"))
    assert only(hooks.records())["tool_use_id"] == "toolu_8"
    assert not (pdir / "settled").exists() and hooks.pending() == []


def test_scan_ledger_finds_whole_records_by_id_and_session(tmp_path):
    path = str(tmp_path / "ledger.jsonl")
    lines = [
        {"v": 1, "kind": "spawn", "session_id": SID, "tool_use_id": "toolu_1", "agent_id": "a1"},
        {"v": 1, "kind": "session", "session_id": SID, "tool_use_id": "toolu_1"},
        {"v": 1, "kind": "spawn", "session_id": OTHER_SID, "tool_use_id": "toolu_1", "agent_id": "a2"},
    ]
    ledger.append(path, lines[0])
    ledger.append(path, lines[1])
    second = os.path.getsize(path)
    ledger.append(path, lines[2])
    with open(path, "ab") as f:
        f.write(b'{"v": 1, "kind": "spawn", "session_id": "x", "tool_use_id": "toolu_1"')  # torn: not whole
    found = pending.scan_ledger(path, {("tu", "toolu_1"), ("ag", "a2"), ("ag", "a9")})
    assert found == {("tu", "toolu_1"): [(0, SID), (second, OTHER_SID)], ("ag", "a2"): [(second, OTHER_SID)]}
    assert pending.scan_ledger(path, {("tu", "toolu_1")}, start=second) == {("tu", "toolu_1"): [(second, OTHER_SID)]}
    assert pending.recorded_at(path, second, "tu", OTHER_SID, "toolu_1")
    assert not pending.recorded_at(path, second, "tu", SID, "toolu_1")


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
    pending.write_part(pending.stop_path(pdir, SID, "a2222222222222222"), {"ts": 1.0})  # seen by SubagentStop only
    pending.write_part(pending.stop_path(pdir, SID, "a1111111111111111"), {"ts": 1.0})  # toolu_1's own stop
    Path(pdir, "notes.txt").write_text("not a part")
    before = sorted(os.listdir(pdir))
    assert pending.count_pending(pdir) == 3
    assert sorted(os.listdir(pdir)) == before
    pending.mark_settled(pdir, "tu", SID, "toolu_2", 0)
    assert pending.count_pending(pdir) == 2


def test_count_pending_keeps_sessions_apart(hooks):
    """The same tool_use_id in two sessions is two spawns; a part in the previous layout counts in
    the session it holds."""
    pdir = pending.pending_dir(hooks.ledger)
    hooks.run_pre("toolu_1", model="haiku")
    pending.write_part(pending.pre_path(pdir, OTHER_SID, "toolu_1"), {"ts": 1.0, "session_id": OTHER_SID})
    assert pending.count_pending(pdir) == 2
    Path(pdir, "toolu_1.pre.json").write_text(json.dumps({"ts": 1.0, "session_id": OTHER_SID}))
    assert pending.count_pending(pdir) == 2  # the same spawn as OTHER_SID's toolu_1
