import pytest
from click.testing import CliRunner

from cco_hooks.cli.main import main


@pytest.fixture
def cli():
    """Run ``cco-hooks ARGS...`` in-process; exceptions propagate."""

    def run(*args, input=None):
        return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)

    return run


@pytest.fixture
def terminal_cli():
    """``cli`` as on a terminal: click keeps ANSI sequences (it strips them only from a pipe), so a
    test sees every character the command printed."""

    def run(*args, input=None):
        return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False, color=True)

    return run
