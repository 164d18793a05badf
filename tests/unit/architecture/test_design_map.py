"""docs/design.md's module map is the tree: every module it names exists, and every module is named."""

import re

from tests.support.locations import REPO

DESIGN = REPO / "docs" / "design.md"


def mapped_modules() -> set[str]:
    text = DESIGN.read_text(encoding="utf-8")
    section = text.split("## Module map", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `(cco_hooks/[\w/]+\.py)` \|", section, flags=re.M))


def tree_modules() -> set[str]:
    found = set()
    for path in (REPO / "cco_hooks").rglob("*.py"):
        if path.name == "__init__.py" and not path.read_text(encoding="utf-8").strip():
            continue  # an empty package marker has no concern of its own
        found.add(path.relative_to(REPO).as_posix())
    return found


def test_the_map_lists_modules():
    """The map is found and read (a renamed heading would make the next test pass vacuously)."""
    assert len(mapped_modules()) >= 20


def test_every_module_is_in_the_map_and_every_mapped_module_exists():
    mapped, tree = mapped_modules(), tree_modules()
    assert sorted(tree - mapped) == [], "modules missing from docs/design.md's module map"
    assert sorted(mapped - tree) == [], "docs/design.md names modules that do not exist"
