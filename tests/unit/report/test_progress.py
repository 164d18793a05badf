"""The progress bar of a long scan on a terminal's stderr."""

import io

from cco_hooks.report.progress import Progress


def test_progress_bar_waits_a_second_then_draws_and_clears():
    """The bar shows only after `delay` seconds, at most ten times a second, and is wiped."""
    now = [0.0]
    err = io.StringIO()
    bar = Progress(err, "ledger.jsonl", delay=1.0, clock=lambda: now[0])
    bar(10, 100)
    assert err.getvalue() == ""
    now[0] = 1.5
    bar(50_000_000, 100_000_000)
    now[0] = 1.55
    bar(60_000_000, 100_000_000)  # too soon after the last draw
    bar.close()
    assert err.getvalue() == ("\rscanning ledger.jsonl [###############               ]  50%  50/100 MB\r\x1b[K")


def test_quiet_progress_never_clears_anything():
    err = io.StringIO()
    bar = Progress(err, "x", delay=1.0, clock=lambda: 0.0)
    bar(1, 2)
    bar.close()
    assert err.getvalue() == ""
