"""The summary file beside the ledger: private, and thrown away when it cannot be trusted."""

import os
import stat
import subprocess
import sys

import pytest

from cco_hooks.report import summary_file
from tests.support.ledger_records import assert_same_as_cold, warm
from tests.support.locations import REPO

REPO_PATH = str(REPO)


def test_summary_is_written_beside_the_ledger_0600(sample_ledger):
    """A report leaves <ledger>.summary, readable by its owner only."""
    warm(sample_ledger)
    mode = stat.S_IMODE(os.stat(sample_ledger + ".summary").st_mode)
    assert mode == 0o600


@pytest.mark.parametrize(
    "damage",
    [
        b"",
        b"garbage",
        b"cco-hooks report summary\nwrong-python\n",
        b"cco-hooks report summary\n" + summary_file.PY_TAG + b"\x00\x01\x02",
    ],
)
def test_damaged_or_foreign_summary_is_ignored(sample_ledger, damage):
    """A summary we cannot trust is thrown away and rewritten; the report is unaffected."""
    warm(sample_ledger)
    with open(sample_ledger + ".summary", "wb") as f:
        f.write(damage)
    s = warm(sample_ledger)
    assert s.rebuilt
    assert_same_as_cold(s, sample_ledger)
    assert not warm(sample_ledger).rebuilt  # rewritten


def test_summary_writable_by_others_is_not_trusted(sample_ledger):
    warm(sample_ledger)
    os.chmod(sample_ledger + ".summary", 0o666)
    assert warm(sample_ledger).rebuilt


def test_summary_from_another_python_is_rebuilt(sample_ledger, monkeypatch):
    """marshal's format belongs to the interpreter: another version's summary is rebuilt."""
    warm(sample_ledger)
    monkeypatch.setattr(summary_file, "PY_TAG", b"cpython-9.99\n")
    assert warm(sample_ledger).rebuilt


def test_unwritable_directory_still_reports(sample_ledger, monkeypatch):
    """When the summary cannot be saved the report is still right."""
    monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(PermissionError("read-only")))
    s = warm(sample_ledger)
    assert not os.path.exists(sample_ledger + ".summary")
    assert [n for n in os.listdir(os.path.dirname(sample_ledger)) if ".tmp." in n] == []
    assert_same_as_cold(s, sample_ledger)


def test_each_time_zone_keeps_its_own_summary_and_never_reads_anothers(tmp_path):
    """A row's day depends on the zone: a summary built for UTC is never used for Kolkata (nor the
    reverse), even when one is copied over the other; each catches up on its own."""
    import shutil

    from cco_hooks import zones
    from cco_hooks.report.update import summarize
    from tests.support.ledger_records import all_rows, spawn, write_ledger

    kolkata = zones.zone("Asia/Kolkata")
    path = write_ledger(tmp_path / "l.jsonl", [spawn(ts="2026-11-24T20:00:00.000Z")])
    utc_file, tz_file = summary_file.summary_path(path), summary_file.summary_path(path, kolkata)
    assert utc_file == path + ".summary" and tz_file.endswith(".summary") and tz_file != utc_file
    s = summarize(path)
    assert {k[0] for k in all_rows(s)} == {"2026-11-24"} and s.rebuilt
    s.close()
    s = summarize(path, zone=kolkata)
    assert {k[0] for k in all_rows(s)} == {"2026-11-25"} and s.rebuilt  # not the UTC one
    s.close()
    write_ledger(path, [spawn(ts="2026-11-25T19:00:00.000Z")], mode="a")
    for zone, days in ((zones.UTC, {"2026-11-24", "2026-11-25"}), (kolkata, {"2026-11-25", "2026-11-26"})):
        s = summarize(path, zone=zone)
        assert not s.rebuilt and {k[0] for k in all_rows(s)} == days  # caught up from its own file
        s.close()
    shutil.copyfile(utc_file, tz_file)
    assert summary_file.load_saved(path, kolkata) is None  # built for UTC: refused
    s = summarize(path, zone=kolkata)
    assert s.rebuilt and {k[0] for k in all_rows(s)} == {"2026-11-25", "2026-11-26"}
    s.close()


# --------------------------------------------------------------------------- names others can plant

VICTIM = b"the user's own ~/.bashrc\n"


@pytest.fixture
def victim(tmp_path):
    path = tmp_path / "victim"
    path.write_bytes(VICTIM)
    os.chmod(path, 0o644)
    return path


def test_a_link_at_the_summary_is_neither_read_nor_written_through(sample_ledger, victim):
    """The summary name holds a link: the report is right (a full scan), the link stays a link and
    its target keeps its bytes and mode."""
    os.symlink(victim, sample_ledger + ".summary")
    s = warm(sample_ledger)
    assert_same_as_cold(s, sample_ledger)
    assert os.path.islink(sample_ledger + ".summary")
    assert victim.read_bytes() == VICTIM and stat.S_IMODE(os.stat(victim).st_mode) == 0o644


def test_links_at_the_previous_temporary_names_are_never_written_through(sample_ledger, victim):
    """The summary's temporary file had a per-process name opened O_TRUNC; links planted at every
    such name (and the new form, with a fixed random part) are left alone."""
    directory, name = os.path.split(sample_ledger)
    planted = [os.path.join(directory, f".{name}.summary.{os.getpid()}.tmp")]
    for path in planted:
        os.symlink(victim, path)
    s = warm(sample_ledger)
    assert_same_as_cold(s, sample_ledger)
    assert stat.S_IMODE(os.stat(sample_ledger + ".summary").st_mode) == 0o600
    assert not os.path.islink(sample_ledger + ".summary")
    assert victim.read_bytes() == VICTIM and stat.S_IMODE(os.stat(victim).st_mode) == 0o644


def test_a_named_pipe_at_the_summary_never_hangs_the_report(sample_ledger):
    """Read in a process of its own: a report that waited on the pipe would time out."""
    fifo = sample_ledger + ".summary"
    os.mkfifo(fifo, 0o600)
    code = (
        "from cco_hooks.report import summary_file, update\n"
        f"print(summary_file.load_saved({sample_ledger!r}), update.summarize({sample_ledger!r}).rebuilt)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ, PYTHONPATH=REPO_PATH),
    )
    assert result.stdout.split() == ["None", "True"], result.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and stat.S_IMODE(os.lstat(fifo).st_mode) == 0o600
