"""``cco-hooks pricing``: the price table in use, shipped prices plus the config's override file.

Named ``pricing_cmd`` so it is never mistaken for ``cco_hooks.pricing``, the price table itself.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable

from cco_hooks import paths, pricing
from cco_hooks.config import build as config_build


def run_pricing(fmt: str, project_dir: str | None, env: dict, out: Callable[[str], None]) -> int:
    """Print the prices as a table, or as JSON in the shape of an override file; then any warnings."""
    project = paths.project_dir(env=env, chosen=project_dir, default=os.getcwd())
    routing = config_build.build_routing(project, env)
    prices = pricing.load_prices(override_path=routing["pricing_file"])
    if fmt == "json":
        out(json.dumps(prices.as_table(), indent=2))
    else:
        out(pricing.format_pricing_table(prices))
    for warning in prices.warnings:
        out(f"warning: {warning}")
    return 0
