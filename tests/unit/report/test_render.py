"""The report rendered: exact tables (snapshots), Markdown, CSV, and the numbers' formats."""

import csv
import io
import json
import os
from pathlib import Path

import pytest

from cco_hooks.report.document import GROUPS
from cco_hooks.report.render import csv_cell, format_tokens, format_usd, short_model
from tests.support.controls import ALL_RAW, assert_shown_not_run, raw_controls
from tests.support.ledger_records import run, run_json, spawn, write_ledger

SNAPSHOTS = Path(__file__).parent / "snapshots"


def check_snapshot(name, text):
    """Compare with tests/unit/report/snapshots/<name>; UPDATE_SNAPSHOTS=1 rewrites them."""
    path = SNAPSHOTS / name
    if os.environ.get("UPDATE_SNAPSHOTS"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no snapshot {path}; run with UPDATE_SNAPSHOTS=1 to write it"
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("group_by", GROUPS)
def test_table_snapshot_80_columns(ledger_path, group_by):
    """The default table for every --by, exactly, in 80 columns."""
    code, out, err = run([ledger_path], fmt="table", group_by=group_by, width=80)
    assert code == 0 and err == ""
    assert max(len(x) for x in out.splitlines()) <= 80
    check_snapshot(f"report_table_by_{group_by}.txt", out)


def test_table_snapshot_narrow_terminal_truncates_keys(ledger_path):
    """In 60 columns the key column gives way (… marks the cut; projects keep their end)."""
    code, out, _ = run([ledger_path], fmt="table", group_by="session", width=60)
    check_snapshot("report_table_by_session_60.txt", out)
    code, out, _ = run([ledger_path], fmt="table", group_by="project", width=60)
    check_snapshot("report_table_by_project_60.txt", out)


def test_table_snapshot_markdown_and_csv(ledger_path):
    """Markdown and CSV renderings, exactly."""
    check_snapshot("report_by_agent.md", run([ledger_path], fmt="markdown")[1])
    check_snapshot("report_by_agent.csv", run([ledger_path], fmt="csv")[1])


def test_table_snapshot_drift(ledger_path, tmp_path):
    """--drift: counts by cause, then the drifted spawns."""
    code, out, _ = run([ledger_path], fmt="table", drift=True)
    check_snapshot("report_drift.txt", out)
    csv_text = run([ledger_path], fmt="csv", drift=True)[1]
    check_snapshot("report_drift.csv", csv_text.replace(ledger_path, "LEDGER"))


def test_unpriced_marker_and_footnote(ledger_path):
    """Rows with unpriced spawns carry * on their cost; a footnote says what is missing."""
    out = run([ledger_path], fmt="table")[1]
    py_line = next(x for x in out.splitlines() if x.startswith("python-pro"))
    assert "$0.4235*" in py_line
    out = run([ledger_path], fmt="markdown")[1]  # footnotes unwrapped
    assert (
        "* 1 unpriced spawn (no price for the model, or no readable transcript) is in no cost sum; "
        "1 spawn without a price at the requested model is in no requested cost or savings." in out
    )


def test_no_drift_says_so(tmp_path):
    path = write_ledger(tmp_path / "l.jsonl", [spawn()])
    out = run([path], fmt="table", drift=True)[1]
    assert out.endswith("\nDrift: no spawn ran on another model than the enforced one.\n")


@pytest.mark.parametrize(
    "value, text",
    [
        (0, "$0"),
        (0.00001, "<$0.0001"),
        (0.0123, "$0.0123"),
        (0.5, "$0.5000"),
        (1, "$1.00"),
        (12.345678, "$12.35"),
        (999.99, "$999.99"),
        (12345.6, "$12,346"),
        (-0.25, "-$0.2500"),
        (None, "-"),
    ],
)
def test_money_format(value, text):
    """Four decimals under $1, cents under $1000, whole dollars above."""
    assert format_usd(value) == text


@pytest.mark.parametrize(
    "value, text",
    [
        (0, "0"),
        (999, "999"),
        (1000, "1.0k"),
        (9949, "9.9k"),
        (12345, "12k"),
        (999_499, "999k"),
        (999_500, "1.0M"),
        (12_345_678, "12M"),
        (3_400_000_000, "3.4G"),
    ],
)
def test_token_format(value, text):
    """Token counts in two or three significant figures."""
    assert format_tokens(value) == text


def test_lone_surrogates_are_spelt_out_in_every_format(tmp_path):
    """A lone surrogate the hooks wrote (valid JSON, not UTF-8) is counted and printed spelt out,
    in every format, so no output fails to encode."""
    from cco_hooks import ledger

    path = str(tmp_path / "l.jsonl")
    ledger.append(path, spawn(agent_type="py\ud800", project="/p/\udfff", actual_model="claude-sonnet-5-5"))
    ledger.append(path, spawn())
    code, out, _ = run([path], fmt="json", group_by="agent")
    keys = {row["key"]: row["spawns"] for row in json.loads(out)["rows"]}
    assert keys == {"py\\ud800": 1, "python-pro": 1}
    for fmt in ("table", "markdown", "csv"):
        code, out, err = run([path], fmt=fmt, group_by="agent")
        assert code == 0 and err == ""
        assert "py\\ud800" in out
        out.encode("utf-8")  # strict: no surrogate left
    code, out, _ = run([path], fmt="table", group_by="project", drift=True)
    assert "/p/\\udfff" in out and "py\\ud800" in out  # the drift list re-reads the line itself
    out.encode("utf-8")


@pytest.mark.parametrize(
    "pending, note",
    [
        (0, None),
        (
            1,
            "1 spawn is still pending (running, or waiting for its transcript): in no row yet; a later report "
            "counts it.",
        ),
        (
            3,
            "3 spawns are still pending (running, or waiting for their transcript): in no row yet; a later report "
            "counts them.",
        ),
    ],
)
def test_pending_spawns_are_told_in_table_and_markdown(sample_ledger, pending, note):
    from cco_hooks.report.document import build_report
    from cco_hooks.report.render import render
    from cco_hooks.report.update import summarize

    s = summarize(sample_ledger)
    doc = build_report([s], "agent", pending=pending)
    s.close()
    for fmt in ("table", "markdown"):
        text = render(doc, fmt, width=200)
        if note is None:
            assert "pending" not in text
        else:
            assert note in text.replace("\n  ", " ")


# ---- hostile text: shown, never run ---------------------------------------------------------


def hostile_ledger(tmp_path):
    """A ledger whose agent type, project and models carry every hostile control, one of them drifted."""
    path = str(tmp_path / "hostile.jsonl")
    write_ledger(
        path,
        [
            spawn(agent_type=ALL_RAW, project=f"/home/{ALL_RAW}", tool_use_id="toolu_h1"),
            spawn(
                agent_type=ALL_RAW,
                project=f"/home/{ALL_RAW}",
                tool_use_id="toolu_h2",
                enforced_model="haiku",
                actual_model=f"claude-{ALL_RAW}",
            ),
        ],
    )
    return path


@pytest.mark.parametrize("fmt", ["table", "markdown", "csv"])
@pytest.mark.parametrize("group_by", ["agent", "project", "model"])
def test_hostile_names_are_spelt_out_in_table_markdown_and_csv(tmp_path, fmt, group_by):
    """ESC[2J, OSC 52, BEL, CR, 0x9b and U+202E in agent types, projects and models reach no
    terminal raw: each report format shows them spelt out."""
    code, out, err = run([hostile_ledger(tmp_path)], fmt=fmt, group_by=group_by, width=250)
    assert code == 0 and err == ""
    assert_shown_not_run(out)


@pytest.mark.parametrize("fmt", ["table", "markdown", "csv"])
def test_the_drift_list_spells_out_hostile_text(tmp_path, fmt):
    """--drift lists each drifted spawn's agent and models: spelt out in every format."""
    code, out, err = run([hostile_ledger(tmp_path)], fmt=fmt, drift=True, width=250)
    assert code == 0 and err == ""
    assert_shown_not_run(out)


def test_json_writes_the_controls_it_allows_raw_as_escapes(tmp_path):
    """JSON escapes C0 itself; C1, DEL and bidi controls (allowed raw in JSON) are escaped too,
    and the strings read back are the ones in the ledger."""
    code, out, _ = run([hostile_ledger(tmp_path)], fmt="json", group_by="agent")
    assert code == 0
    assert not raw_controls(out)
    assert "\\u009b" in out and "\\u202e" in out
    assert [row["key"] for row in json.loads(out)["rows"]] == [ALL_RAW]


# distinct agent names (a report groups "\tx" with "\rx": both are agent x to Claude Code)
FORMULAS = ['=HYPERLINK("http://x")', "+1+2", "-2+3", "@SUM(A1:A9)", "\tx", "\ry"]


def test_csv_text_cells_that_start_a_formula_are_prefixed_and_numbers_are_not(tmp_path):
    """OWASP: a text cell beginning with =, +, -, @, tab or CR gets a leading quote (tab and CR are
    spelt out first); a negative saving stays a number."""
    path = str(tmp_path / "formulas.jsonl")
    write_ledger(
        path,
        [
            spawn(agent_type=name, tool_use_id=f"toolu_f{i}", cost_usd=0.05, requested_cost_usd=0.0123)
            for i, name in enumerate(FORMULAS)
        ],
    )
    code, out, _ = run([path], fmt="csv", group_by="agent")
    rows = list(csv.reader(io.StringIO(out)))
    header = rows[0]
    cells = {row[1]: dict(zip(header, row, strict=True)) for row in rows[1:] if row[0] == "group"}
    assert set(cells) == {'\'=HYPERLINK("http://x")', "'+1+2", "'-2+3", "'@SUM(A1:A9)", "'\\tx", "'\\ry"}
    for row in cells.values():
        assert float(row["savings_usd"]) < 0 and row["savings_usd"].startswith("-")  # a number, no quote
    total = next(row for row in rows if row[0] == "total")
    assert total[header.index("savings_usd")].startswith("-")


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@x", "'@x"),
        ("\t=1", "'\\t=1"),
        ("\r=1", "'\\r=1"),
        ("a=1", "a=1"),
        ("python-pro", "python-pro"),
        (-0.12, -0.12),
        (-3, -3),
        (None, ""),
    ],
)
def test_csv_cell(value, cell):
    """Text is neutralised; numbers and the empty cell are left as they are."""
    assert csv_cell(value) == cell


# --------------------------------------------------------------------------- models, upgrades, empty


def long_model_ledger(tmp_path):
    """Dated, provider-spelt model IDs and costs large enough to widen every number column."""
    models = [
        "claude-sonnet-4-5-20250929",
        "us.anthropic.claude-haiku-4-5-20251001-v1:0",
        "claude-opus-4-1@20250805",
        "claude-opus-5-5",
    ]
    return write_ledger(
        tmp_path / "models.jsonl",
        [
            spawn(
                actual_model=model,
                tool_use_id=f"toolu_m{i}",
                tokens={
                    "input": 12_345_678,
                    "output": 2_345_678,
                    "cache_read": 9_876_543,
                    "cache_write_5m": 1,
                    "cache_write_1h": 0,
                },
                cost_usd=1234.5 + i,
                requested_cost_usd=5678.9,
                savings_usd=5678.9 - 1234.5 - i,
            )
            for i, model in enumerate(models)
        ],
    )


def test_at_80_columns_model_names_keep_family_and_version(tmp_path):
    """No "claude-sonne…": the claude- prefix, provider parts and dates go, family and version stay."""
    code, out, _ = run([long_model_ledger(tmp_path)], fmt="table", group_by="model", width=80)
    assert code == 0
    lines = out.splitlines()
    assert max(map(len, lines)) <= 80
    keys = [line.split()[0] for line in lines[3:7]]
    assert sorted(keys) == ["haiku-4-5", "opus-4-1", "opus-5-5", "sonnet-4-5"]
    assert "…" not in out
    assert "Models are shown without the claude- prefix and release date to fit; --format json has them whole." in (
        " ".join(line.strip() for line in lines)
    )
    wide = run([long_model_ledger(tmp_path)], fmt="table", group_by="model", width=160)[1]
    assert "us.anthropic.claude-haiku-4-5-20251001-v1:0" in wide and "Models are shown" not in wide


@pytest.mark.parametrize(
    ("model", "level", "shown"),
    [
        ("claude-sonnet-4-5-20250929", 1, "claude-sonnet-4-5"),
        ("claude-sonnet-4-5-20250929", 2, "sonnet-4-5"),
        ("us.anthropic.claude-haiku-4-5-20251001-v1:0", 1, "us.anthropic.claude-haiku-4-5"),
        ("us.anthropic.claude-haiku-4-5-20251001-v1:0", 2, "haiku-4-5"),
        ("claude-opus-4-1@20250805", 2, "opus-4-1"),
        ("claude-opus-5-5", 2, "opus-5-5"),
        ("gpt-4o-2024-08-06", 2, "gpt-4o-2024-08-06"),
    ],
)
def test_short_model(model, level, shown):
    assert short_model(model, level) == shown


def test_an_upgrade_is_shown_as_extra_cost_not_a_negative_percentage(tmp_path):
    """A rewrite to a dearer model: the table says what it cost extra; JSON and CSV keep the number."""
    path = write_ledger(
        tmp_path / "up.jsonl",
        [spawn(agent_type="architect", cost_usd=0.4865, requested_cost_usd=0.0125, savings_usd=-0.474)],
    )
    out = run([path], fmt="table")[1]
    row = next(line for line in out.splitlines() if line.startswith("architect"))
    assert row.split()[-4:] == ["$0.4740", "extra", "-", "1/0"]
    assert "%" not in out.replace(" % ", "")  # the header of the % column only
    notes = " ".join(line.strip() for line in out.splitlines())
    assert "extra: cost more than the requested model would have (a rewrite to a dearer model, an upgrade)" in notes
    markdown = run([path], fmt="markdown")[1]
    assert "| $0.4740 extra | - |" in markdown
    assert run_json([path])["rows"][0]["savings_usd"] == pytest.approx(-0.474)


def test_an_empty_report_names_the_ledgers_read(tmp_path):
    one = write_ledger(tmp_path / "a.jsonl", [])
    assert run([one], fmt="table")[1] == f"No spawns recorded in {one}.\n"
    others = [write_ledger(tmp_path / f"{n}.jsonl", []) for n in "bcdefg"]
    out = run([one, *others], fmt="table")[1]
    assert out.startswith(f"No spawns recorded in the 7 ledgers read: {one}, ")
    assert out.endswith(" and 2 more.\n")
    filtered = run([one], fmt="markdown", agents=("nobody",))[1]
    assert filtered == f"No spawns recorded matching the filters in {one}.\n"


def test_an_empty_live_report_names_the_live_ledger(tmp_path):
    """No ledger named: the live one (CCO_HOOKS_LEDGER), which may not exist yet."""
    assert run([], fmt="table")[1] == f"No spawns recorded in {os.environ['CCO_HOOKS_LEDGER']}.\n"
