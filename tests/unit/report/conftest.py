import pytest

from tests.support.ledger_records import sample_records, write_ledger


@pytest.fixture
def ledger_path(tmp_path):
    """The sample ledger at the live ledger's path (``CCO_HOOKS_LEDGER``): a report settles it."""
    return write_ledger(tmp_path / "ledger" / "ledger.jsonl", sample_records())


@pytest.fixture
def sample_ledger(tmp_path):
    """The sample ledger elsewhere: a report reads it as it is."""
    return write_ledger(tmp_path / "ledger.jsonl", sample_records())
