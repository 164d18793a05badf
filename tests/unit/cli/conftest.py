import pytest
from click.testing import CliRunner

from cco_hooks.cli.main import main


@pytest.fixture
def cli():
    """Run ``cco-hooks ARGS...`` in-process; exceptions propagate."""

    def run(*args, input=None):
        return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)

    return run
