"""`cco-hooks report` as a command: options, --fail-over, progress on a terminal, settling first."""

import io
import json
import os
import stat
import subprocess
import sys

import pytest

from cco_hooks.errors import CcoHooksError
from cco_hooks.report.command import run_report
from cco_hooks.report.progress import Progress
from cco_hooks.report.render import format_usd
from tests.support.ledger_records import TODAY, run, run_json, spawn, write_ledger
from tests.support.locations import REPO


def test_empty_ledger(tmp_path):
    """An empty ledger prints one line, JSON with no rows and zero totals, exit 0."""
    path = write_ledger(tmp_path / "l.jsonl", [])
    code, out, err = run([path], fmt="table")
    assert (code, out, err) == (0, f"No spawns recorded in {path}.\n", "")
    doc = run_json([path])
    assert doc["rows"] == [] and doc["totals"]["spawns"] == 0 and doc["totals"]["cost_usd"] == 0.0


def test_bad_format_or_grouping_is_refused(ledger_path):
    with pytest.raises(CcoHooksError, match="Unknown format"):
        run([ledger_path], fmt="xml")
    with pytest.raises(CcoHooksError, match="Unknown grouping"):
        run([ledger_path], group_by="colour")


# ---- --fail-over ------------------------------------------------------------------------------


@pytest.mark.parametrize("amount, code", [(0, 1), (2.47, 1), (2.4735, 0), (2.48, 0), (1000, 0)])
def test_fail_over_exit_codes(ledger_path, amount, code):
    """--fail-over USD exits 1 when the selected cost is over it (not when equal), else 0."""
    total = 0.0123 + 0.3412 + 1.25 + 0.8 + 0.05 + 0.02  # 2.4735
    got, out, err = run([ledger_path], fmt="table", fail_over=amount)
    assert got == code
    assert "\ntotal " in out  # the report is printed either way
    if code:
        assert err == f"cco-hooks report: cost $2.47 is over --fail-over {format_usd(amount)}.\n"
    else:
        assert err == ""
    assert total == pytest.approx(2.4735)


def test_fail_over_uses_the_selected_cost(ledger_path):
    """The gate applies to what the filters select."""
    assert run([ledger_path], fail_over=1.0, agents=["python-pro"])[0] == 0
    assert run([ledger_path], fail_over=1.0, agents=["code-reviewer"])[0] == 1


def test_fail_over_must_be_an_amount(ledger_path):
    with pytest.raises(CcoHooksError, match="must be an amount"):
        run([ledger_path], fail_over=-1)


# ---- progress, settling -----------------------------------------------------------------------


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


def test_no_progress_when_stderr_is_not_a_terminal(ledger_path, monkeypatch):
    """Nothing goes to stderr when it is not a terminal, whatever the scan takes."""
    monkeypatch.setattr(Progress, "__init__", lambda *a, **k: pytest.fail("progress made"))
    code, out, err = run([ledger_path], fmt="table")
    assert err == "" and out


def test_progress_goes_to_a_terminal_stderr(ledger_path, monkeypatch):
    """With a terminal on stderr the scan reports progress there (and stdout has only the report)."""
    calls = []
    monkeypatch.setattr(Progress, "__call__", lambda self, done, total: calls.append((done, total)))
    out, err = io.StringIO(), FakeTTY()
    run_report(ledgers=[ledger_path], fmt="json", stdout=out, stderr=err, today=TODAY)
    assert calls and calls[-1][0] == os.path.getsize(ledger_path)
    json.loads(out.getvalue())


def test_live_ledger_is_settled_first(monkeypatch, ledger_path):
    """Only the live ledger is settled (force=True), and a failure there does not break the report."""
    from cco_hooks import accounting

    calls = []
    monkeypatch.setattr(accounting, "settle", lambda path, prices, **kw: calls.append((path, kw)))
    monkeypatch.setenv("CCO_HOOKS_LEDGER", ledger_path)
    run([])
    assert calls == [(ledger_path, {"force": True})]
    run([ledger_path])
    assert len(calls) == 2
    run([ledger_path, ledger_path])  # the same file named twice is still the live one
    assert len(calls) == 3


def test_foreign_ledgers_are_not_settled(monkeypatch, ledger_path, tmp_path):
    from cco_hooks import accounting

    monkeypatch.setattr(accounting, "settle", lambda *a, **k: pytest.fail("settled a foreign ledger"))
    other = write_ledger(tmp_path / "other.jsonl", [spawn()])
    run([other])
    run([ledger_path, other])


def test_a_settling_failure_is_one_line_on_stderr(monkeypatch, ledger_path):
    from cco_hooks import pricing

    def boom(*a, **k):
        raise RuntimeError("price table unreadable")

    monkeypatch.setattr(pricing, "load_prices", boom)
    monkeypatch.setenv("CCO_HOOKS_LEDGER", ledger_path)
    code, out, err = run([], fmt="json")
    assert code == 0 and json.loads(out)["totals"]["spawns"] == 7
    assert err == (
        "cco-hooks report: pending spawns were not settled (price table unreadable); "
        "the report shows what the ledger holds.\n"
    )


def test_pending_spawns_are_counted_on_the_live_ledger_only(tmp_path, ledger_path):
    """Read live, the report settles what it can, then says how many spawns are still pending (a
    spawn still running here); another ledger has no pending store of ours: null."""
    from tests.support.hookproc import Hooks

    hooks = Hooks(tmp_path)
    assert hooks.ledger == ledger_path
    doc = run_json([])
    assert doc["pending"] == 0
    hooks.run_pre("toolu_running", model="haiku")
    doc = run_json([])
    assert doc["pending"] == 1 and doc["totals"]["spawns"] == 7
    code, out, _ = run([], fmt="table", width=200)
    assert "1 spawn is still pending (running, or waiting for its transcript): in no row yet" in out
    other = write_ledger(tmp_path / "other.jsonl", [spawn()])
    assert run_json([other])["pending"] is None


# --------------------------------------------------------------------------- a ledger that is no file

REPORT_TIMEOUT_S = 60  # a report that waited on a pipe or read a device forever fails here


def report_process(*args, **env):
    """``cco-hooks report`` in a process of its own (``python -m cco_hooks``), with a timeout."""
    return subprocess.run(
        [sys.executable, "-m", "cco_hooks", "report", *args],
        capture_output=True,
        text=True,
        timeout=REPORT_TIMEOUT_S,
        env=dict(os.environ, PYTHONPATH=str(REPO), **env),
    )


@pytest.mark.parametrize("how", ["--ledger", "live"])
def test_a_ledger_on_a_named_pipe_is_refused_never_waited_for(tmp_path, how):
    fifo = tmp_path / "ledger.jsonl"
    os.mkfifo(fifo, 0o644)
    os.chmod(fifo, 0o644)
    if how == "live":
        result = report_process(CCO_HOOKS_LEDGER=str(fifo))
    else:
        result = report_process("--ledger", str(fifo))
    assert result.returncode != 0 and result.stdout == ""
    assert str(fifo) in result.stderr and "named pipe (FIFO)" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and stat.S_IMODE(os.lstat(fifo).st_mode) == 0o644


def test_a_zero_device_as_the_ledger_is_refused_never_read_forever(tmp_path):
    """``--ledger /dev/zero`` and a link to it."""
    (tmp_path / "ledger.jsonl").symlink_to("/dev/zero")
    for path in ("/dev/zero", str(tmp_path / "ledger.jsonl")):
        result = report_process("--ledger", path)
        assert result.returncode != 0 and path in result.stderr and "character device" in result.stderr, result.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="mknod of a device needs root")
def test_a_zero_device_planted_as_the_live_ledger_is_refused(tmp_path):
    device = tmp_path / "ledger.jsonl"
    os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 5))  # /dev/zero's own numbers
    os.chmod(device, 0o666)
    result = report_process(CCO_HOOKS_LEDGER=str(device))
    assert result.returncode != 0 and str(device) in result.stderr and "character device" in result.stderr
    assert stat.S_IMODE(os.lstat(device).st_mode) == 0o666
