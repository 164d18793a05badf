"""files: private directories, the atomic private writers, bounded JSON reads, stable names."""

import errno
import os
import stat
import subprocess
import sys

import pytest

from cco_hooks import files
from tests.support.disk_full import DiskFull
from tests.support.planted import untouched


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_make_private_dirs_creates_every_missing_parent_0700(tmp_path):
    target = tmp_path / "a" / "b" / "c"
    old = os.umask(0o077 ^ 0o777)  # a umask that would leave group and other bits on
    try:
        files.make_private_dirs(target)
    finally:
        os.umask(old)
    assert [mode(p) for p in (tmp_path / "a", tmp_path / "a" / "b", target)] == [0o700] * 3


def test_make_private_dirs_leaves_existing_directories_alone(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    files.make_private_dirs(shared / "mine")
    assert mode(shared) == 0o755 and mode(shared / "mine") == 0o700


def test_write_private_replaces_atomically_with_mode_0600(tmp_path):
    path = tmp_path / "new" / "state.json"
    files.write_private(str(path), "first")
    files.write_private(str(path), b"second")
    assert path.read_bytes() == b"second" and mode(path) == 0o600 and mode(path.parent) == 0o700
    assert sorted(os.listdir(path.parent)) == ["state.json"], "no temporary file is left behind"


def test_write_private_keeps_a_mode_it_is_given(tmp_path):
    path = tmp_path / "settings.json"
    files.write_private(str(path), "{}", mode=0o644)
    assert mode(path) == 0o644


def test_write_private_uses_the_temporary_name_it_is_given(tmp_path):
    path, tmp = tmp_path / "totals.json", tmp_path / "totals.json.tmp"
    tmp.write_text("a stray file from a writer that died")
    files.write_private(str(path), "{}", tmp=str(tmp))
    assert path.read_text() == "{}" and not tmp.exists()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"a": 1}', {"a": 1}),
        (b"[1]", None),
        (b"not json", None),
        (b"", None),
        (b'{"a": "' + b"x" * 100 + b'"}', None),
    ],
)
def test_read_json_object(tmp_path, content, expected):
    path = tmp_path / "part.json"
    path.write_bytes(content)
    assert files.read_json_object(str(path), 64) == expected


def test_read_json_object_of_a_missing_file_or_directory_is_none(tmp_path):
    assert files.read_json_object(str(tmp_path / "missing"), 64) is None
    assert files.read_json_object(str(tmp_path), 64) is None


def test_read_json_object_never_blocks_on_a_named_pipe(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    code = f"from cco_hooks import files; print(files.read_json_object({str(fifo)!r}, 64))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=20)
    assert result.stdout.strip() == "None", result.stderr


def test_stable_name_is_the_same_in_every_process():
    code = "from cco_hooks import files; print(files.stable_name('project\\0config'))"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert other == files.stable_name("project\0config")
    assert len(other) == 16 and int(other, 16) >= 0
    assert files.stable_name("a") != files.stable_name("b")
    assert files.stable_name("\ud800") == files.stable_name("\ud800"), "lone surrogates are names too"


def test_a_replacement_is_read_back_before_it_replaces_the_file(tmp_path):
    (tmp_path / "ledger").mkdir()
    path = tmp_path / "ledger" / "ledger.summary"
    path.write_bytes(b"old")
    replacement = files.Replacement(str(path))
    replacement.write(b"new data")
    assert os.pread(replacement.fd, 3, 4) == b"dat" and path.read_bytes() == b"old"
    replacement.commit()
    os.close(replacement.fd)
    assert path.read_bytes() == b"new data" and mode(path) == 0o600 and os.listdir(path.parent) == ["ledger.summary"]


def test_a_discarded_replacement_leaves_the_file_as_it_was(tmp_path):
    (tmp_path / "ledger").mkdir()
    path = tmp_path / "ledger" / "ledger.summary"
    path.write_bytes(b"old")
    replacement = files.Replacement(str(path))
    replacement.write(b"half")
    os.close(replacement.fd)
    replacement.discard()
    assert path.read_bytes() == b"old" and os.listdir(path.parent) == ["ledger.summary"]


def test_a_mode_to_keep_is_kept_whatever_the_umask(tmp_path):
    path = tmp_path / "settings.json"
    old = os.umask(0o077)
    try:
        files.write_private(str(path), "{}", mode=0o644, durable=True)
    finally:
        os.umask(old)
    assert mode(path) == 0o644 and path.read_text() == "{}"


def test_write_exclusive_creates_private_dirs_and_a_0600_file(tmp_path):
    path = tmp_path / "a" / "b" / "marker"
    old = os.umask(0)
    try:
        files.write_exclusive(str(path), b"123")
    finally:
        os.umask(old)
    assert path.read_bytes() == b"123" and mode(path) == 0o600 and mode(path.parent) == 0o700
    files.write_exclusive(str(path), "4567")
    assert path.read_bytes() == b"4567"
    assert os.listdir(path.parent) == ["marker"]


@pytest.mark.parametrize("how", ["open", "write", "replace"])
def test_write_exclusive_on_a_full_disk_leaves_the_old_file_and_no_temporary_one(tmp_path, how):
    disk = tmp_path / "disk"
    disk.mkdir()
    path = disk / "marker"
    path.write_bytes(b"old")
    with DiskFull([disk], modes=[how]) as full, pytest.raises(OSError) as raised:
        files.write_exclusive(str(path), b"a longer new content")
    assert raised.value.errno == errno.ENOSPC and full.failures == 1
    assert path.read_bytes() == b"old"
    assert os.listdir(disk) == ["marker"]


def test_write_exclusive_never_writes_through_a_planted_link(tmp_path, monkeypatch):
    """Its temporary name is its own (O_EXCL): a file or symlink already there is an error, not a target."""
    victim = tmp_path / "victim"
    victim.write_text("keep")
    monkeypatch.setattr(os, "urandom", lambda n: b"\0" * n)
    tmp = tmp_path / f".marker.{os.getpid()}.{'00' * 6}.tmp"
    tmp.symlink_to(victim)
    with pytest.raises(FileExistsError):
        files.write_exclusive(str(tmp_path / "marker"), b"x")
    assert victim.read_text() == "keep" and not (tmp_path / "marker").exists() and tmp.is_symlink()


# --------------------------------------------------------------------------- tighten_mode


def test_tighten_mode_narrows_a_wide_file_we_own_through_its_descriptor(tmp_path):
    """A 0644 (or 0666, 0700) file we own becomes 0600; one already 0600 or narrower is left alone."""
    for before, after, changed in ((0o644, 0o600, True), (0o666, 0o600, True), (0o700, 0o600, True)):
        path = tmp_path / f"f{before:o}"
        path.write_text("x")
        path.chmod(before)
        fd = os.open(path, os.O_RDONLY)
        try:
            assert files.tighten_mode(fd) is changed
        finally:
            os.close(fd)
        assert mode(path) == after
    for narrow in (0o600, 0o400, 0o000):
        path = tmp_path / f"n{narrow:o}"
        path.write_text("x")
        path.chmod(narrow)
        fd = os.open(path, os.O_RDONLY) if narrow else os.open(tmp_path, os.O_RDONLY)
        try:
            assert files.tighten_mode(fd) is False
        finally:
            os.close(fd)
        assert mode(path) == narrow  # never widened


def test_tighten_mode_leaves_a_fifo_alone(tmp_path):
    """Not a regular file: a named pipe (as a device node would be) keeps its mode."""
    fifo = tmp_path / "errors.log"
    os.mkfifo(fifo, 0o644)
    fifo.chmod(0o644)
    fd = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)
    try:
        assert files.tighten_mode(fd) is False
    finally:
        os.close(fd)
    assert mode(fifo) == 0o644


@pytest.mark.skipif(os.getuid() != 0, reason="giving a file to another user needs root")
def test_tighten_mode_leaves_another_users_file_alone(tmp_path):
    """A file in a shared directory that belongs to someone else is theirs to chmod, not ours."""
    path = tmp_path / "ledger.jsonl"
    path.write_text("x")
    path.chmod(0o644)
    os.chown(path, 65534, 65534)
    fd = os.open(path, os.O_RDONLY)
    try:
        assert files.tighten_mode(fd) is False
    finally:
        os.close(fd)
    assert mode(path) == 0o644


def test_write_private_through_a_wide_leftover_temp_file_is_private(tmp_path):
    """A fixed-name temp file left 0644 (an older release, a copy) does not make the new file 0644."""
    path = tmp_path / "ledger.jsonl.totals.json"
    leftover = tmp_path / "ledger.jsonl.totals.json.tmp"
    leftover.write_text("old")
    leftover.chmod(0o644)
    files.write_private(str(path), "{}", tmp=str(leftover))
    assert path.read_text() == "{}" and mode(path) == 0o600


# --------------------------------------------------------------------------- names others can plant


def test_write_private_never_writes_through_a_link_at_the_temporary_name_it_is_given(tmp_path, victim):
    """The name given is unlinked first (the link goes, its target stays) and created O_EXCL."""
    path, tmp = tmp_path / "totals.json", tmp_path / "totals.json.tmp"
    tmp.symlink_to(victim)
    files.write_private(str(path), "{}", tmp=str(tmp))
    assert path.read_text() == "{}" and not os.path.lexists(tmp) and untouched(victim)


def test_replacement_never_writes_through_a_link_at_its_own_temporary_name(tmp_path, victim, monkeypatch):
    """The default temporary name is the writer's own (pid and random); one planted anyway is an
    error, never a target."""
    monkeypatch.setattr(os, "urandom", lambda n: b"\0" * n)
    tmp = tmp_path / f".summary.{os.getpid()}.{'00' * 6}.tmp"
    tmp.symlink_to(victim)
    with pytest.raises(FileExistsError):
        files.Replacement(str(tmp_path / "summary"))
    assert untouched(victim) and tmp.is_symlink()
    monkeypatch.undo()
    replacement = files.Replacement(str(tmp_path / "summary"))
    replacement.write(b"new")
    os.close(replacement.fd)
    replacement.commit()
    assert (tmp_path / "summary").read_bytes() == b"new" and untouched(victim)


def test_write_private_replaces_a_link_at_the_final_name_never_its_target(tmp_path, victim):
    """The rename replaces the link itself (the install's settings, the snapshot)."""
    path = tmp_path / "snapshot.json"
    path.symlink_to(victim)
    files.write_private(str(path), "{}")
    assert not path.is_symlink() and path.read_text() == "{}" and untouched(victim)


def test_check_own_and_open_own_refuse_a_link(tmp_path, victim):
    link = tmp_path / "ledger.jsonl"
    link.symlink_to(victim)
    for attempt in (
        lambda: files.check_own(str(link)),
        lambda: files.open_own(str(link), os.O_RDWR | os.O_CREAT | os.O_APPEND),
        lambda: files.read_own_json_object(str(link), 64),
    ):
        with pytest.raises(files.UnsafeFile) as raised:
            attempt()
        assert raised.value.filename == str(link) and "symbolic link" in str(raised.value)
        assert "chmod 700" in str(raised.value)
    assert untouched(victim)


def test_open_own_refuses_a_named_pipe_without_blocking_or_chmodding_it(tmp_path):
    fifo = tmp_path / "ledger.jsonl"
    os.mkfifo(fifo, 0o644)
    os.chmod(fifo, 0o644)
    code = (
        "import os; from cco_hooks import files\n"
        f"try: files.open_own({str(fifo)!r}, os.O_WRONLY | os.O_CREAT | os.O_APPEND)\n"
        "except files.UnsafeFile as exc: print(exc.strerror)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "it is a named pipe (FIFO), not a regular file of yours", result.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and mode(fifo) == 0o644


@pytest.mark.skipif(os.geteuid() != 0, reason="mknod of a device and chown to another user need root")
def test_open_own_refuses_a_device_and_another_users_file(tmp_path):
    device = tmp_path / "zero"
    os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 5))  # /dev/zero's own numbers
    os.chmod(device, 0o666)
    with pytest.raises(files.UnsafeFile, match="a character device"):
        files.open_own(str(device), os.O_RDONLY)
    assert mode(device) == 0o666
    theirs = tmp_path / "theirs"
    theirs.write_bytes(b"{}")
    os.chown(theirs, 65534, 65534)
    with pytest.raises(files.UnsafeFile, match=r"owned by another user \(uid 65534\)"):
        files.read_own_json_object(str(theirs), 64)


def test_open_own_creates_a_missing_file_and_never_truncates(tmp_path):
    path = tmp_path / "ledger.jsonl.lock"
    os.close(files.open_own(str(path), os.O_RDWR | os.O_CREAT))
    assert path.exists() and mode(path) == 0o600
    with pytest.raises(ValueError):
        files.open_own(str(path), os.O_RDWR | os.O_TRUNC)
    with pytest.raises(FileNotFoundError):
        files.open_own(str(tmp_path / "missing"), os.O_RDONLY)
    assert files.check_own(str(path)) is True and files.check_own(str(tmp_path / "missing")) is False


def test_check_own_dir_refuses_a_link_to_a_directory(tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "pending").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(files.UnsafeFile, match="symbolic link"):
        files.check_own_dir(str(tmp_path / "pending"))
    assert files.check_own_dir(str(tmp_path / "elsewhere")) is True
    assert files.check_own_dir(str(tmp_path / "missing")) is False


def test_kind_of_says_what_a_name_holds(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "link").symlink_to(tmp_path / "fifo")
    (tmp_path / "file").write_text("")
    assert files.kind_of(str(tmp_path / "fifo")) == "a named pipe (FIFO)"
    assert files.kind_of(str(tmp_path / "link")) == "a symbolic link"
    assert files.kind_of(str(tmp_path)) == "a directory"
    assert files.kind_of(str(tmp_path / "file")) is None and files.kind_of(str(tmp_path / "missing")) is None
