import pytest

from cco_hooks import agents


@pytest.mark.parametrize("name", ["Python Pro", "python-pro", "PYTHON_PRO", " python  pro "])
def test_names_match_case_and_separator_insensitively(name):
    """Claude Code finds `python-pro` for "Python Pro"; rules match the same way."""
    assert agents.normalize_agent_name(name) == "python-pro"


@pytest.mark.parametrize(
    "pattern, text, expected",
    [
        ("test-*", "test-engineer", True),
        ("test-*", "tester", False),
        ("*-expert", "go-expert", True),
        ("a?c", "abc", True),
        ("a?c", "ac", False),
        ("*", "", True),
        ("a*b*c", "axxbyyc", True),
        ("a*b*c", "axxbyy", False),
    ],
)
def test_glob_match(pattern, text, expected):
    """`*` and `?` behave as in a shell glob."""
    assert agents.glob_match(pattern, text) is expected


def test_exact_beats_glob_and_specific_glob_beats_general():
    """An exact rule wins; among globs, the one with more literal characters wins."""
    exact = {"test-engineer": "exact"}
    globs = sorted([("t*", "general"), ("test-*", "specific")], key=lambda g: -agents.glob_specificity(g[0]))
    assert agents.find_rule("Test Engineer", exact, globs) == "exact"
    assert agents.find_rule("test-runner", exact, globs) == "specific"
    assert agents.find_rule("tool", exact, globs) == "general"


def test_plugin_agents_match_their_full_then_bare_name():
    """`plugin:name` matches a rule for `plugin:name` first, then one for `name`."""
    assert agents.find_rule("feature-dev:code-explorer", {"code-explorer": 1}, []) == 1
    assert agents.find_rule("feature-dev:code-explorer", {"code-explorer": 1, "feature-dev:code-explorer": 2}, []) == 2


def test_frontmatter_parser_tolerates_invalid_yaml(tmp_path):
    """Descriptions with colons (invalid YAML) do not stop `model:` being read."""
    path = tmp_path / "a.md"
    path.write_text(
        "---\nname: reviewer\ndescription: Use when: reviewing: code\nmodel: 'haiku'\n---\nbody model: opus\n"
    )
    assert agents.read_frontmatter(path) == {
        "name": "reviewer",
        "description": "Use when: reviewing: code",
        "model": "haiku",
    }
    path.write_text("no frontmatter\nmodel: opus\n")
    assert agents.read_frontmatter(path) == {}
