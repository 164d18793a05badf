"""The summary file beside the ledger: private, and thrown away when it cannot be trusted."""

import os
import stat
import subprocess
import sys

import pytest

from cco_hooks.report import summary_file
from tests.support.ledger_records import assert_same_as_cold, warm
from tests.support.locations import REPO
from tests.support.planted import untouched

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


def test_a_link_at_the_summary_is_neither_read_nor_written_through(sample_ledger, victim):
    """The summary name holds a link: the report is right (a full scan), the link stays a link and
    its target keeps its bytes and mode."""
    os.symlink(victim, sample_ledger + ".summary")
    s = warm(sample_ledger)
    assert_same_as_cold(s, sample_ledger)
    assert os.path.islink(sample_ledger + ".summary")
    assert untouched(victim)


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
    assert untouched(victim)


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


# ---- the footer's checksum: any damage is a rescan, never a wrong total, never a traceback --------


def _footer_at(path):
    with open(path, "rb") as f:
        data = f.read()
    fixed = len(summary_file.MAGIC) + len(summary_file.PY_TAG)
    return data, fixed, int.from_bytes(data[fixed : fixed + 8], "little")


def _report_of(ledger):
    """The report's totals and rows as the CLI prints them (JSON), and what it said on stderr."""
    from tests.support.ledger_records import run

    code, out, err = run([ledger], fmt="json", group_by="agent")
    assert code == 0, err
    assert "Traceback" not in err
    import json

    doc = json.loads(out)
    return {"totals": doc["totals"], "rows": doc["rows"]}


def _expected_and_summary(ledger):
    """The report of ``ledger`` from a full scan, and the summary file a report leaves beside it."""
    expected = _report_of(ledger)  # writes the summary
    assert _report_of(ledger) == expected  # read back from the summary
    with open(ledger + ".summary", "rb") as f:
        return expected, f.read()


def _rewrite(ledger, data):
    with open(ledger + ".summary", "wb") as f:
        f.write(data)


def test_every_flipped_bit_in_the_footer_means_a_rescan_with_the_right_total(sample_ledger):
    """A bit flipped in the footer (the rollups the totals come from, the offsets, the checksum
    itself) or in the footer's offset fails the footer's CRC-32: the report scans the ledger again
    and prints the right totals, and the summary is written anew."""
    expected, good = _expected_and_summary(sample_ledger)
    _, fixed, footer_at = _footer_at(sample_ledger + ".summary")
    positions = sorted(set(range(footer_at, len(good), max(1, (len(good) - footer_at) // 97))))
    positions += list(range(len(good) - 8, len(good))) + list(range(fixed, fixed + 8))
    for position in positions:
        for bit in (0, 5):
            damaged = bytearray(good)
            damaged[position] ^= 1 << bit
            _rewrite(sample_ledger, bytes(damaged))
            assert summary_file.load_saved(sample_ledger) is None, position
            assert _report_of(sample_ledger) == expected, position
            assert summary_file.load_saved(sample_ledger) is not None  # rewritten whole


def test_a_truncated_summary_means_a_rescan_with_the_right_total(sample_ledger):
    expected, good = _expected_and_summary(sample_ledger)
    _, _, footer_at = _footer_at(sample_ledger + ".summary")
    cuts = sorted({1, 4, 5, 8, 100, len(good) - footer_at - 1, len(good) - footer_at, len(good) - 10})
    for cut in cuts:
        _rewrite(sample_ledger, good[: len(good) - cut])
        assert summary_file.load_saved(sample_ledger) is None, cut
        assert _report_of(sample_ledger) == expected, cut


def _with_footer_change(good, change):
    """The summary with its footer changed by ``change(footer)`` and a valid CRC-32 again: damage
    the checksum cannot see (another writer, a bug)."""
    import marshal
    import zlib

    fixed = len(summary_file.MAGIC) + len(summary_file.PY_TAG)
    footer_at = int.from_bytes(good[fixed : fixed + 8], "little")
    footer = marshal.loads(good[footer_at:-4])
    change(footer)
    body = marshal.dumps(footer)
    return good[:footer_at] + body + zlib.crc32(body).to_bytes(4, "little")


def _first_row(footer):
    return next(iter(next(iter(v for v in footer["rollups"].values() if v)).values()))


WRONG_TYPES = {
    "offset is text": lambda f: f.update(offset="12"),
    "skipped is None": lambda f: f.update(skipped=None),
    "ident is short": lambda f: f.update(ident=[1]),
    "a rollup row holds text": lambda f: _first_row(f).__setitem__(0, "1"),
    "a rollup row holds a float": lambda f: _first_row(f).__setitem__(9, 271400000.5),
    "a rollup row is short": lambda f: _first_row(f).pop(),
    "a rollup is a list": lambda f: f["rollups"].update({0: []}),
    "a rollup group is a number": lambda f: next(v for v in f["rollups"].values() if v).update({7: [0] * 13}),
    "a share is a dict": lambda f: f["shares"].__setitem__(0, {}),
    "a share's project pair is text": lambda f: f["shares"].__setitem__(0, [1, 2, 3, {"p": "x"}]),
    "session marks are text": lambda f: f["marks"].__setitem__(0, "abc"),
    "session marks are torn": lambda f: f["marks"].__setitem__(0, b"1234567"),
    "session marks missing": lambda f: f.pop("marks"),
    "drift counts are floats": lambda f: f["drift"].update({("2026-11-25", None, "cause"): 1.5}),
    "a partition span is text": lambda f: f["parts"].__setitem__(0, "here"),
    "drift offsets are a list": lambda f: f.update(drift_offsets=[1, 2]),
    "the footer is a list": lambda f: f.clear(),
    "format missing": lambda f: f.pop("format"),
}


@pytest.mark.parametrize("damage", sorted(WRONG_TYPES))
def test_a_wrong_typed_value_in_the_footer_means_a_rescan_not_a_traceback(sample_ledger, damage):
    """A footer whose checksum holds but whose values are of the wrong type or shape is refused
    (``summary_file._well_formed``): the report rescans and prints the right totals."""
    expected, good = _expected_and_summary(sample_ledger)
    _rewrite(sample_ledger, _with_footer_change(good, WRONG_TYPES[damage]))
    assert summary_file.load_saved(sample_ledger) is None
    assert _report_of(sample_ledger) == expected
    assert summary_file.load_saved(sample_ledger) is not None


def test_the_footer_as_written_is_well_formed(sample_ledger):
    """The validator accepts every footer a report writes (else every report would rescan)."""
    _, good = _expected_and_summary(sample_ledger)
    _rewrite(sample_ledger, _with_footer_change(good, lambda f: None))
    assert summary_file.load_saved(sample_ledger) is not None
