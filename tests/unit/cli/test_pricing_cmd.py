"""`cco-hooks pricing`: the price table in use."""

import json

from tests.support.locations import FIXTURES


def test_pricing_prints_every_model_of_the_reference_table(project, cli):
    """cco-hooks pricing lists every model of Claude Code 2.1.328's catalog."""
    reference = json.loads((FIXTURES / "claude-code-2.1.328-prices.json").read_text())
    result = cli("pricing", "--project", str(project.root))
    assert result.exit_code == 0
    for model in reference["models"]:
        assert model["id"] in result.output
