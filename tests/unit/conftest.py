import pytest

from tests.support.project import Project


@pytest.fixture
def project(tmp_path):
    return Project(tmp_path / "proj")
