"""The ledger: atomic appends under the lock, modes, torn-line tolerant reading."""

import errno
import fcntl
import json
import multiprocessing
import os
import stat
import subprocess
import sys
import time

import pytest

from cco_hooks import files, ledger
from tests.support.disk_full import DiskFull
from tests.support.locations import REPO
from tests.support.planted import untouched


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_append_creates_private_file_and_dirs(tmp_path):
    path = tmp_path / "a" / "b" / "ledger.jsonl"
    old = os.umask(0o022)
    try:
        ledger.append(str(path), {"v": 1, "x": 1})
    finally:
        os.umask(old)
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    assert mode(path.parent.parent) == 0o700
    assert mode(str(path) + ".lock") == 0o600
    assert path.read_text() == '{"v":1,"x":1}\n'


def test_existing_directory_is_left_alone_and_file_mode_is_fixed(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o755)
    path = shared / "ledger.jsonl"
    path.write_text("")
    path.chmod(0o644)
    ledger.append(str(path), {"a": 1})
    assert mode(shared) == 0o755
    assert mode(path) == 0o600


def test_a_real_hook_process_makes_an_existing_wide_ledger_and_lock_private(hooks):
    """A ledger and lock left 0644 by an older release: the hook processes that settle a spawn
    append to the same ledger (its old line kept) and leave both 0600."""
    path = hooks.ledger
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write('{"v": 1, "kind": "note"}\n')
    with open(ledger.lock_path(path), "w"):
        pass
    for wide in (path, ledger.lock_path(path)):
        os.chmod(wide, 0o644)
    hooks.write_transcript("a1")
    for event, payload in (
        ("pre-tool-use", hooks.pre("toolu_1")),
        ("subagent-stop", hooks.stop("a1")),
        ("post-tool-use", hooks.post_completed("toolu_1", "a1")),
    ):
        proc, _seconds = hooks.run(event, payload)
        assert proc.returncode == 0, proc.stderr
    lines = open(path).read().splitlines()
    assert lines[0] == '{"v": 1, "kind": "note"}' and json.loads(lines[-1])["tool_use_id"] == "toolu_1"
    assert mode(path) == 0o600 and mode(ledger.lock_path(path)) == 0o600


def test_umask_cannot_widen_modes(tmp_path):
    path = tmp_path / "d" / "ledger.jsonl"
    old = os.umask(0)
    try:
        ledger.append(str(path), {"a": 1})
    finally:
        os.umask(old)
    assert mode(path) == 0o600 and mode(path.parent) == 0o700


def test_records_are_single_ascii_lines(tmp_path):
    path = tmp_path / "ledger.jsonl"
    records = [{"i": i, "text": 'line\nbreak ☃ \u2028 "quoted"', "n": None, "f": 0.1 + 0.2} for i in range(5)]
    for r in records:
        ledger.append(str(path), r)
    raw = path.read_bytes()
    assert raw.count(b"\n") == 5
    raw.decode("ascii")
    got, skipped = ledger.read_records(str(path))
    assert got == records and skipped == 0


def test_unserialisable_record_raises_and_writes_nothing(tmp_path):
    path = tmp_path / "ledger.jsonl"
    with pytest.raises((TypeError, ValueError)):
        ledger.append(str(path), {"bad": object()})
    with pytest.raises((TypeError, ValueError)):
        ledger.append(str(path), {"bad": float("nan")})
    assert not path.exists() or path.read_bytes() == b""


def test_torn_last_line_is_skipped_counted_and_does_not_eat_the_next_record(tmp_path):
    path = tmp_path / "ledger.jsonl"
    ledger.append(str(path), {"i": 1})
    with open(path, "ab") as f:
        f.write(b'{"i": 2, "torn')  # kill -9 mid-write
    stats = {}
    assert list(ledger.iter_records(str(path), stats)) == [{"i": 1}]
    assert stats["skipped"] == 1 and stats["records"] == 1
    ledger.append(str(path), {"i": 3})
    records, skipped = ledger.read_records(str(path))
    assert records == [{"i": 1}, {"i": 3}]
    assert skipped == 1


def test_garbage_lines_never_raise(tmp_path):
    path = tmp_path / "ledger.jsonl"
    path.write_bytes(
        b'{"ok": 1}\n'
        b"garbage\n"
        b"\xff\xfe\xfd\n"
        b"[1, 2]\n"
        b"42\n"
        b"null\n"
        b'"string"\n'
        b"\n"
        b"   \n"
        b'{"ok": 2}\n'
        b'{"nested": ' + b"[" * 50000 + b"\n"
        b"\x00\x00\x00\n"
        b'{"ok": 3}'
    )
    stats = {}
    got = list(ledger.iter_records(str(path), stats))
    assert got == [{"ok": 1}, {"ok": 2}]
    assert stats["skipped"] == 9  # the unterminated last line too: it may be a write in progress


def test_missing_and_non_regular_ledgers_yield_nothing(tmp_path):
    assert ledger.read_records(str(tmp_path / "none.jsonl")) == ([], 0)
    assert ledger.read_records(str(tmp_path)) == ([], 0)
    assert ledger.read_records("/dev/zero") == ([], 0)


def test_whole_record_without_newline_is_read_once_after_the_next_append(tmp_path):
    path = tmp_path / "ledger.jsonl"
    ledger.append(str(path), {"i": 1})
    with open(path, "ab") as f:
        f.write(b'{"i": 2}')
    stats = {}
    assert list(ledger.iter_records(str(path), stats)) == [{"i": 1}]
    assert stats["skipped"] == 1
    end = stats["end"]
    ledger.append(str(path), {"i": 3})
    assert list(ledger.iter_records(str(path), {}, offset=end)) == [{"i": 2}, {"i": 3}]


def test_incremental_reading_with_offsets(tmp_path):
    path = tmp_path / "ledger.jsonl"
    for i in range(3):
        ledger.append(str(path), {"i": i})
    stats = {}
    assert len(list(ledger.iter_records(str(path), stats))) == 3
    end = stats["end"]
    assert end == path.stat().st_size
    ledger.append(str(path), {"i": 3})
    stats2 = {}
    assert list(ledger.iter_records(str(path), stats2, offset=end)) == [{"i": 3}]


def test_big_ledger_chunks(tmp_path):
    path = tmp_path / "ledger.jsonl"
    line = json.dumps({"pad": "x" * 1000}) + "\n"
    path.write_text(line * 3000)  # 3 MB: several read chunks, lines cut across chunk borders
    records, skipped = ledger.read_records(str(path))
    assert len(records) == 3000 and skipped == 0


def test_locked_is_reentrant(tmp_path):
    path = str(tmp_path / "ledger.jsonl")
    with ledger.locked(path) as ok:
        assert ok
        with ledger.locked(path) as ok2:
            assert ok2
            ledger.append(path, {"inner": True})  # must not deadlock on our own lock
        ledger.append(path, {"outer": True})
    assert ledger._held == {}
    assert len(ledger.read_records(path)[0]) == 2


def _hold_lock(lock_file, ready, release):
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    ready.set()
    release.wait(10)
    os.close(fd)


def test_lock_timeout_returns_false_and_append_still_lands(tmp_path):
    path = str(tmp_path / "ledger.jsonl")
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(path + ".lock", ready, release))
    holder.start()
    try:
        assert ready.wait(10)
        slept = []
        with pytest.MonkeyPatch.context() as fake:
            fake.setattr(time, "sleep", slept.append)
            clock = {"now": 1000.0}
            fake.setattr(time, "monotonic", lambda: clock["now"] + sum(slept))
            with ledger.locked(path, timeout=0.1) as ok:
                assert not ok
        assert 0.1 <= sum(slept) < 0.1 + 0.021  # waited its timeout (on a fake clock), no longer
    finally:
        release.set()
        holder.join(10)
    with ledger.locked(path, timeout=1) as ok:
        assert ok


def _writer(path, worker, count):
    for i in range(count):
        ledger.append(path, {"worker": worker, "i": i, "pad": "p" * (100 + (i * 37) % 3000)})


def test_parallel_appends_from_processes_stay_intact(tmp_path):
    path = str(tmp_path / "ledger.jsonl")
    ctx = multiprocessing.get_context("fork")
    workers = [ctx.Process(target=_writer, args=(path, w, 50)) for w in range(8)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(60)
        assert p.exitcode == 0
    records, skipped = ledger.read_records(path)
    assert skipped == 0
    assert len(records) == 400
    assert sorted((r["worker"], r["i"]) for r in records) == [(w, i) for w in range(8) for i in range(50)]
    with open(path, "rb") as f:
        lines = f.read().split(b"\n")
    assert lines[-1] == b"" and all(json.loads(line) for line in lines[:-1])


def test_parallel_appends_from_fresh_interpreters(tmp_path):
    """Same, through separate `python -S` processes as the hooks run (no shared module state)."""
    path = str(tmp_path / "ledger.jsonl")
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); from cco_hooks import ledger\n"
        "for i in range(50): ledger.append(sys.argv[2], {'w': int(sys.argv[3]), 'i': i})\n"
    )
    procs = [subprocess.Popen([sys.executable, "-S", "-c", code, str(REPO), path, str(w)]) for w in range(8)]
    for p in procs:
        assert p.wait(60) == 0
    records, skipped = ledger.read_records(path)
    assert skipped == 0 and len(records) == 400
    assert len({(r["w"], r["i"]) for r in records}) == 400


@pytest.mark.parametrize("error", [errno.ENOSPC, errno.EDQUOT])
def test_an_append_that_fails_half_way_takes_its_half_line_back(tmp_path, error):
    """Disk full (or over quota) half-way through a line: the append raises, the ledger is as it
    was (no torn line to skip or count), and the next append is read once space is back."""
    path = str(tmp_path / "ledger.jsonl")
    ledger.append(path, {"v": 1, "n": 1})
    before = open(path, "rb").read()
    with DiskFull([path], modes=["write"], error=error) as full, pytest.raises(OSError) as raised:
        ledger.append(path, {"v": 1, "n": 2, "pad": "x" * 200})
    assert raised.value.errno == error and full.failures == 1
    assert open(path, "rb").read() == before
    ledger.append(path, {"v": 1, "n": 3})
    stats = {}
    assert [r["n"] for r in ledger.iter_records(path, stats)] == [1, 3]
    assert stats["skipped"] == 0


# --------------------------------------------------------------------------- names others can plant


@pytest.mark.parametrize("planted", ["ledger.jsonl", "ledger.jsonl.lock"])
def test_append_never_writes_through_a_link_at_the_ledger_or_its_lock(tmp_path, victim, planted):
    """Neither appended to nor chmodded: the append is refused (``UnsafeFile``) before any write."""
    os.symlink(victim, tmp_path / planted)
    with pytest.raises(files.UnsafeFile) as raised:
        ledger.append(str(tmp_path / "ledger.jsonl"), {"v": 1})
    assert raised.value.filename == str(tmp_path / planted)
    assert untouched(victim)
    assert os.path.islink(tmp_path / planted)


def test_a_lock_on_a_named_pipe_raises_and_leaves_it_as_it_was(tmp_path):
    lock = tmp_path / "ledger.jsonl.lock"
    os.mkfifo(lock, 0o644)
    os.chmod(lock, 0o644)
    with pytest.raises(files.UnsafeFile, match="named pipe"):
        with ledger.locked(str(tmp_path / "ledger.jsonl")):
            pass
    assert stat.S_ISFIFO(os.lstat(lock).st_mode) and mode(lock) == 0o644


def test_a_ledger_on_a_named_pipe_is_never_chmodded_written_or_waited_for(tmp_path):
    """In a process of its own, so a hang fails the test (timeout) rather than the suite."""
    fifo = tmp_path / "ledger.jsonl"
    os.mkfifo(fifo, 0o644)
    os.chmod(fifo, 0o644)
    code = (
        "from cco_hooks import files, ledger\n"
        f"print(list(ledger.iter_records({str(fifo)!r})))\n"
        f"try: ledger.append({str(fifo)!r}, {{'v': 1}})\n"
        "except files.UnsafeFile as exc: print(exc.strerror)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert result.stdout.split("\n")[:2] == ["[]", "it is a named pipe (FIFO), not a regular file of yours"]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and mode(fifo) == 0o644


def test_a_linked_ledger_is_not_read_by_the_hooks(tmp_path, victim):
    """A link at the ledger's name is no ledger of the user's: the hooks read nothing through it."""
    victim.write_bytes(b'{"v": 1, "kind": "spawn", "cost_usd": 99}\n')
    os.symlink(victim, tmp_path / "ledger.jsonl")
    assert list(ledger.iter_records(str(tmp_path / "ledger.jsonl"))) == []


def test_the_lock_wait_ends_at_the_hook_processs_deadline(tmp_path, monkeypatch):
    """Held by another open file (as by another process), the lock is waited for only until the
    process's deadline, not the full ``timeout``: on a fake clock the waits add up to the time left."""
    from cco_hooks import hookio

    path = str(tmp_path / "ledger.jsonl")
    holder = os.open(path + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(holder, fcntl.LOCK_EX)
    clock = [500.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(time, "sleep", lambda seconds: clock.__setitem__(0, clock[0] + seconds))
    try:
        hookio.start_deadline("pre-tool-use")  # 505.0
        with ledger.locked(path, timeout=10.0) as ok:
            assert not ok
        assert clock[0] == 505.0  # waited exactly to the deadline, never past it
        with ledger.locked(path, timeout=10.0) as ok:  # a second wait: nothing left
            assert not ok
        assert clock[0] == 505.0
    finally:
        hookio.clear_deadline()
        os.close(holder)
    with ledger.locked(path, timeout=0.0) as ok:
        assert ok
