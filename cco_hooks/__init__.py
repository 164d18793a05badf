"""cco-hooks: route Claude Code subagent spawns to the configured model and account for their cost."""

__version__ = "0.1.0"
