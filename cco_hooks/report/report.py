"""Until the callers import ``cco_hooks.report.command``: ``run_report`` where they look for it."""

from cco_hooks.report.command import run_report

__all__ = ["run_report"]
