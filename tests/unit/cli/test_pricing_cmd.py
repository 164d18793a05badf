"""`cco-hooks pricing`: the price table in use."""

import json

import pytest
from click.testing import CliRunner

from cco_hooks import pricing
from cco_hooks.cli.main import main
from tests.support.locations import FIXTURES


def test_pricing_prints_every_model_of_the_reference_table(project, cli):
    """cco-hooks pricing lists every model of Claude Code 2.1.328's catalog."""
    reference = json.loads((FIXTURES / "claude-code-2.1.328-prices.json").read_text())
    result = cli("pricing", "--project", str(project.root))
    assert result.exit_code == 0
    for model in reference["models"]:
        assert model["id"] in result.output


def pricing_in(project, columns):
    """``cco-hooks pricing`` on a terminal ``columns`` wide (COLUMNS, as shutil reads it)."""
    return CliRunner().invoke(main, ["pricing", "--project", str(project.root)], env={"COLUMNS": str(columns)})


@pytest.mark.parametrize("columns", [80, 100, 120, 200])
def test_pricing_fits_the_terminal_and_still_lists_every_rate(project, columns):
    """Every line fits COLUMNS; every model keeps its five rates, and its dated ID, long-prompt and
    fast rates are in the table or listed below it."""
    reference = json.loads((FIXTURES / "claude-code-2.1.328-prices.json").read_text())
    result = pricing_in(project, columns)
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert max(map(len, lines)) <= columns
    prices = pricing.load_prices(override_path=str(project.root / "none.json"))
    for row in prices.table_rows():
        line = next(line for line in lines if line.startswith(row["model"] + " "))
        rates = [f"{row[key]:g}" for key in ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")]
        cells = line.split()
        assert any(cells[i : i + 5] == rates for i in range(1, len(cells))), line
        if row["fast"]:
            fast = "/".join(
                f"{row['fast'][k]:g}" for k in ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")
            )
            assert any(row["model"] in x and fast in x for x in lines)
        if row["long_prompt"]:
            assert any(row["model"] in x and f">{row['long_prompt']['above_prompt_tokens']:,}:" in x for x in lines)
    for model in reference["models"]:
        assert model["id"] in result.output


def test_pricing_on_a_wide_terminal_is_the_whole_table(project):
    result = pricing_in(project, 300)
    header = next(line for line in result.output.splitlines() if line.startswith("model "))
    assert header.split() == [
        "model",
        "tier",
        "input",
        "output",
        "5m",
        "write",
        "1h",
        "write",
        "cache",
        "read",
        "long",
        "prompt",
        "fast",
        "from",
    ]
    assert "Fast-mode rates" not in result.output and "Dated IDs" not in result.output


def test_pricing_at_80_columns_lists_what_moved_out_of_the_table(project):
    result = pricing_in(project, 80)
    header = next(line for line in result.output.splitlines() if line.startswith("model "))
    assert header.split() == ["model", "input", "output", "5m", "write", "1h", "write", "cache", "read", "from"]
    text = " ".join(result.output.split())
    assert "Long-prompt rates (input/output/5m write/1h write/cache read): claude-haiku-5-5 >100,000:" in text
    assert "Fast-mode rates (input/output/5m write/1h write/cache read): claude-opus-4-6 30/150/37.5/60/3" in text
    assert "Dated IDs: claude-3-5-haiku = claude-3-5-haiku-20241022," in text


def test_pricing_names_its_source_and_what_an_unlisted_model_is(project):
    text = " ".join(pricing_in(project, 80).output.split())
    assert text.startswith("Price table dated 2026-11-25 — the model catalog built into Claude Code 2.1.328")
    assert "A model not listed here is recorded as unpriced (never 0)." in text
