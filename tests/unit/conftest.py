import pytest

from tests.support.planted import make_victim
from tests.support.project import Project


@pytest.fixture
def project(tmp_path):
    return Project(tmp_path / "proj")


@pytest.fixture
def victim(tmp_path):
    """A file of the user's (``tests.support.planted``) for a link planted at one of our names."""
    return make_victim(tmp_path)
