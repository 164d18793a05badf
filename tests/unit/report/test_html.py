"""`cco-hooks report --format html`: one self-contained page, rendered in headless Chromium.

The page shows the JSON report's totals (read back from the rendered DOM), loads nothing, logs no
console message, keeps every name from the ledger as text, and follows light and dark mode (read
from the screenshot's pixels). Screenshots are kept in ``tests.support.chromium.artifacts_dir()``.
"""

import os
import stat
import subprocess
import sys
from html.parser import HTMLParser

import pytest

from cco_hooks.coerce import visible
from cco_hooks.report.render import format_pct, format_usd
from tests.support import chromium
from tests.support.ledger_records import run, run_json, sample_records, spawn, write_ledger
from tests.support.locations import REPO
from tests.support.planted import untouched

HOSTILE_AGENT = '<img src=x onerror="document.title=1">'
SPELT_AGENT = "evil\x1b[31m\u202eagent"
MONEY = ("cost_usd", "requested_cost_usd", "savings_usd")
COUNTS = ("spawns", "unpriced", "rewrites", "denials", "drift", "sessions")


@pytest.fixture
def hostile_ledger(tmp_path):
    """The sample ledger, plus spawns whose agent types are markup and controls."""
    extra = [
        spawn(ts="2026-11-23T10:00:00.000Z", tool_use_id="toolu_h1", agent_type=HOSTILE_AGENT, cost_usd=0.5),
        spawn(
            ts="2026-11-25T11:00:00.000Z",
            tool_use_id="toolu_h2",
            agent_type=SPELT_AGENT,
            cost_usd=0.25,
        ),
    ]
    return write_ledger(tmp_path / "ledger.jsonl", sample_records() + extra)


class _Page(HTMLParser):
    """The totals (``data-total`` elements: exact value and shown text), the tables with an id
    (``{id: {"tbody": [[cell text]], "tfoot": [...]}}``), every element's tag, and the page's text."""

    def __init__(self):
        super().__init__()
        self.totals, self.tables, self.tags, self.text = {}, {}, [], []
        self._open = self._table = self._section = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if "data-total" in attrs:
            self._open = attrs["data-total"]
            self.totals[self._open] = [attrs.get("data-value"), ""]
        elif tag == "table":
            self._table = self.tables.setdefault(attrs.get("id"), {"thead": [], "tbody": [], "tfoot": []})
        elif tag in ("thead", "tbody", "tfoot") and self._table is not None:
            self._section = self._table[tag]
        elif tag == "tr" and self._section is not None:
            self._section.append([])
        elif tag in ("td", "th") and self._section is not None:
            self._section[-1].append("")

    def handle_endtag(self, tag):
        self._open = None
        if tag == "table":
            self._table = self._section = None

    def handle_data(self, data):
        self.text.append(data)
        if self._open:
            self.totals[self._open][1] += data
        elif self._section and self._section[-1]:
            self._section[-1][-1] += data


def parse(page_html):
    page = _Page()
    page.feed(page_html)
    return page


def html_report(ledger, tmp_path, **kwargs):
    page = tmp_path / "out" / "report.html"
    code, out, err = run([ledger], fmt="html", output=str(page), **kwargs)
    assert (code, out, err) == (0, "", "")
    return page


def assert_totals_equal(page, doc):
    """The page's totals are the JSON report's: each exact value, and the text shown for it."""
    totals = doc["totals"]
    for name in MONEY:
        value, shown = page.totals[name]
        assert float(value) == totals[name], name
        assert shown == format_usd(totals[name]), name
    for name in COUNTS:
        assert page.totals[name] == [str(totals[name]), str(totals[name])], name
    assert float(page.totals["savings_pct"][0]) == totals["savings_pct"]
    assert page.totals["savings_pct"][1] == format_pct(totals["savings_pct"])
    assert float(page.totals["subagent_share"][0]) == totals["subagent_share"]
    t = totals["tokens"]
    assert page.totals["tokens"][0] == f"{t['input']} {t['output']} {t['cache_read']} {t['cache_write']}"


# ---- in Chromium --------------------------------------------------------------------------------


def test_the_page_in_chromium_shows_the_json_totals_with_no_console_message(hostile_ledger, tmp_path):
    """Rendered by headless Chromium: no console message at all, the totals read from the DOM equal
    the JSON report's, and the names from the ledger stay text (no element made of them)."""
    page_file = html_report(hostile_ledger, tmp_path)
    doc = run_json([hostile_ledger])
    dom, console = chromium.dump_dom(page_file, tmp_path / "profile")
    assert console == []
    page = parse(dom)
    assert_totals_equal(page, doc)
    assert doc["totals"]["spawns"] == 9 and doc["totals"]["cost_usd"] == pytest.approx(3.2235)
    assert [tag for tag, _ in page.tags if tag in ("img", "script", "link", "iframe")] == []
    assert not any(name.startswith("on") for _, attrs in page.tags for name in attrs)
    shown = "".join(page.text)
    assert HOSTILE_AGENT in shown
    assert "evil\\x1b[31m\\u202eagent" in shown and "\x1b" not in shown and "\u202e" not in shown
    assert "<title>cco-hooks report</title>" in dom


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_the_page_follows_light_and_dark_mode(hostile_ledger, tmp_path, dark):
    """Screenshots (kept as test artifacts): the background is light in light mode and dark in dark
    mode, with no console message either way."""
    page_file = html_report(hostile_ledger, tmp_path)
    png = chromium.artifacts_dir() / f"html-report-{'dark' if dark else 'light'}.png"
    png.unlink(missing_ok=True)
    assert chromium.screenshot(page_file, png, tmp_path / "profile", dark=dark) == []
    width, rows = chromium.png_rows(png, 8)
    corner = chromium.luminance(rows[4][4])
    if dark:
        assert corner < 40, f"dark mode background {rows[4][4]}"
    else:
        assert corner > 240, f"light mode background {rows[4][4]}"
    assert width == 1280


def test_the_page_loads_and_runs_nothing_even_when_markup_is_planted_in_it(hostile_ledger, tmp_path):
    """Its Content-Security-Policy refuses a script and a remote image spliced into the page (as a
    hole in the escaping would): the browser logs both refusals and the script never runs."""
    page_file = html_report(hostile_ledger, tmp_path)
    planted = '<script>document.title="ran"</script><img src="http://127.0.0.1:9/beacon.png"></body>'
    spliced = tmp_path / "spliced.html"
    spliced.write_text(page_file.read_text(encoding="utf-8").replace("</body>", planted), encoding="utf-8")
    dom, console = chromium.dump_dom(spliced, tmp_path / "profile")
    assert "<title>cco-hooks report</title>" in dom
    assert len(console) == 2 and all("Content Security Policy" in m for m in console), console


def test_the_tables_are_the_json_reports_rows(hostile_ledger, tmp_path):
    """Each table lists the rows of the JSON report it stands for, in its order: the main table
    (``--by``), by model, by decision, the top sessions and drift by cause."""
    page = parse(html_report(hostile_ledger, tmp_path, group_by="day").read_text(encoding="utf-8"))

    def first_cells(table_id):
        return [cells[0] for cells in page.tables[table_id]["tbody"]]

    def keys(group_by):
        return [
            visible(r["key"]) if r["key"] is not None else "(none)"
            for r in run_json([hostile_ledger], group_by=group_by)["rows"]
        ]

    assert first_cells("rows") == keys("day") == ["2026-11-23", "2026-11-24", "2026-11-25"]
    assert page.tables["rows"]["tfoot"][0][:2] == ["total", "9"]
    assert first_cells("by-model") == keys("model")
    assert first_cells("decisions") == keys("decision")
    assert first_cells("sessions") == keys("session")
    drift = run_json([hostile_ledger], drift=True)["drift"]
    assert page.tables["drift-causes"]["tbody"] == [
        [c, str(n), drift["causes"][c]] for c, n in drift["by_cause"].items()
    ]
    assert page.tables["drift-causes"]["tfoot"] == []


# ---- the page as text -----------------------------------------------------------------------------


def test_the_page_is_self_contained(sample_ledger, tmp_path):
    """Nothing on the page points elsewhere: no script, link, source, URL or import."""
    text = html_report(sample_ledger, tmp_path).read_text(encoding="utf-8")
    lowered = text.lower()
    for needle in ("<script", "<link", "src=", "href=", "url(", "@import", "http:", "https:", "//"):
        assert needle not in lowered, needle
    assert "default-src 'none'" in text and "prefers-color-scheme: dark" in text


def test_every_name_is_escaped_and_spelt(hostile_ledger, tmp_path):
    text = html_report(hostile_ledger, tmp_path).read_text(encoding="utf-8")
    assert "<img" not in text and "&lt;img src=x onerror=&quot;document.title=1&quot;&gt;" in text
    assert "\x1b" not in text and "\u202e" not in text and "evil\\x1b[31m\\u202eagent" in text


def test_without_output_the_page_goes_to_stdout(hostile_ledger, tmp_path):
    page = html_report(hostile_ledger, tmp_path)
    code, out, err = run([hostile_ledger], fmt="html")
    assert (code, err) == (0, "") and out == page.read_text(encoding="utf-8")


def test_output_is_private_and_never_written_through_a_link(hostile_ledger, tmp_path, victim):
    """``-o FILE`` is 0600 and replaces a link planted at its name instead of writing through it."""
    target = tmp_path / "planted.html"
    target.symlink_to(victim)
    code, out, err = run([hostile_ledger], fmt="html", output=str(target))
    assert (code, out, err) == (0, "", "")
    assert untouched(victim)
    st = os.lstat(target)
    assert stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_output_takes_every_format(hostile_ledger, tmp_path):
    target = tmp_path / "report.json"
    assert run([hostile_ledger], fmt="json", output=str(target)) == (0, "", "")
    assert target.read_text(encoding="utf-8") == run([hostile_ledger], fmt="json")[1]


def test_an_output_that_cannot_be_written_says_where_and_the_fix(hostile_ledger, tmp_path):
    from cco_hooks.errors import CcoHooksError

    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(CcoHooksError, match=r"Cannot write the report to .*file/report\.html: .*Name a file"):
        run([hostile_ledger], fmt="html", output=str(blocker / "report.html"))


def test_the_cli_takes_format_html_and_output(hostile_ledger, tmp_path):
    target = tmp_path / "cli.html"
    done = subprocess.run(
        [sys.executable, "-m", "cco_hooks", "report", "--ledger", hostile_ledger, "--tz", "UTC"]
        + ["--format", "html", "-o", str(target)],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    page = parse(target.read_text(encoding="utf-8"))
    assert_totals_equal(page, run_json([hostile_ledger]))


def test_an_empty_ledger_is_a_page_that_says_so(tmp_path):
    ledger = write_ledger(tmp_path / "empty.jsonl", [])
    text = html_report(ledger, tmp_path).read_text(encoding="utf-8")
    assert "No spawns recorded." in text and "<svg" not in text
    assert parse(text).totals["cost_usd"] == ["0.0", "$0"]


def test_every_series_has_a_colour_of_its_own():
    """The daily charts' series (``TOP_AGENTS`` types, then "other") never share a colour."""
    from cco_hooks.report.dashboard import TOP_AGENTS
    from cco_hooks.report.html import PALETTE

    assert len(set(PALETTE)) == len(PALETTE) == TOP_AGENTS + 1
