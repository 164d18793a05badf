"""Agent names as Claude Code matches them, glob rules, and agent-file frontmatter.

Claude Code matches ``subagent_type`` case- and separator-insensitively (``"Rust Specialist"``
finds ``rust-specialist``); plugin agents are ``plugin:name``. Rules are matched the same way.

Stdlib only, no ``re`` or ``fnmatch`` (both import ``re``, ~6 ms): imported by the PreToolUse hook.
"""

from cco_hooks import files
from cco_hooks.fastos import os

_SEPARATORS = str.maketrans({" ": "-", "_": "-", "\t": "-"})
GLOB_CHARS = "*?"


def normalize_agent_name(name):
    """``"Python Pro"``, ``python_pro`` and ``PYTHON-PRO`` all become ``python-pro``."""
    if not isinstance(name, str):
        return ""
    parts = name.strip().lower().translate(_SEPARATORS).split("-")
    return "-".join(p for p in parts if p)


def is_glob(pattern):
    return any(c in pattern for c in GLOB_CHARS)


def glob_match(pattern, text):
    """Shell-style match of ``*`` (any run) and ``?`` (one character); iterative, linear-ish."""
    p = t = 0
    star_p = -1
    star_t = 0
    while t < len(text):
        if p < len(pattern) and (pattern[p] == "?" or pattern[p] == text[t]):
            p += 1
            t += 1
        elif p < len(pattern) and pattern[p] == "*":
            star_p = p
            star_t = t
            p += 1
        elif star_p >= 0:
            p = star_p + 1
            star_t += 1
            t = star_t
        else:
            return False
    while p < len(pattern) and pattern[p] == "*":
        p += 1
    return p == len(pattern)


def glob_specificity(pattern):
    """More literal characters = more specific; the most specific matching glob wins."""
    return sum(1 for c in pattern if c not in GLOB_CHARS)


def candidate_names(agent_type):
    """The names a rule may match, most specific first: ``plugin:name`` then ``name``."""
    full = normalize_agent_name(agent_type)
    names = [full]
    if ":" in full:
        bare = full.rsplit(":", 1)[1]
        if bare:
            names.append(bare)
    return names


def find_rule(agent_type, exact, globs):
    """Exact rules beat globs; among globs the most specific wins (``globs`` come pre-sorted)."""
    names = candidate_names(agent_type)
    for name in names:
        rule = exact.get(name)
        if rule is not None:
            return rule
    for pattern, rule in globs:
        for name in names:
            if glob_match(pattern, name):
                return rule
    return None


def read_frontmatter(path, limit=65536):
    """``name``/``model``/... from an agent file's leading ``---`` block, as plain strings.

    A line parser, not YAML: real agent files often hold descriptions that are not valid YAML
    (unquoted colons), and only top-level ``key: value`` lines matter here.
    """
    raw = files.read_head(path, limit)  # never a pipe or a device put in place of an agent file
    if raw is None:
        return {}
    head = raw.decode("utf-8", "replace")
    lines = head.splitlines()
    if not lines or lines[0].strip() != "---":
        return {}
    fields = {}
    for line in lines[1:]:
        if line.strip() == "---":
            return fields
        if not line or line[0] in " \t#" or ":" not in line:
            continue
        key, _, value = line.partition(":")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        fields[key.strip()] = value
    return {}  # no closing ---: not frontmatter


def agent_files(directory):
    """Every ``*.md`` under an agents directory (Claude Code also reads subdirectories)."""
    found = []
    stack = [directory]
    while stack:
        current = stack.pop()
        try:
            entries = list(os.scandir(current))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                elif entry.name.endswith(".md") and entry.is_file():
                    found.append(entry.path)
            except OSError:
                continue
    found.sort()
    return found
