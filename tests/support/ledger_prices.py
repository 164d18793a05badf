"""An independent price computation for the ledger end-to-end tests.

Stdlib only; deliberately NOT ``cco_hooks.pricing``: the tests compare the ledger (priced by
``cco_hooks.pricing``) with Claude Code's own ``cost-state`` and with this, which reads the reference
price table (``tests/fixtures/claude-code-2.1.328-prices.json``, Claude Code 2.1.328's catalog)
and applies the rules written in that file:

- prompt tokens of one request = input + cache_creation + cache_read;
- cache writes: ``cache_creation.ephemeral_1h_input_tokens`` at ``cache_write_1h``, the rest of
  ``cache_creation_input_tokens`` at ``cache_write_5m``;
- a tier with ``long_prompt``: a request whose prompt tokens exceed ``above_prompt_tokens`` pays the
  long-prompt rates for every token (output too). Per request, never on summed tokens.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

PER_MILLION = 1_000_000


class ReferencePrices:
    def __init__(self, path: Path | str) -> None:
        data = json.loads(Path(path).read_text())
        self.tiers: dict[str, dict[str, Any]] = data["pricing_tiers"]
        self.aliases: dict[str, str] = data["aliases"]
        self.model_tier: dict[str, str] = {}
        for model in data["models"]:
            self.model_tier[model["id"]] = model["pricing"]
            self.model_tier[model["first_party_id"]] = model["pricing"]

    def alias_model(self, alias: str) -> str:
        return self.aliases[alias]

    def request_cost(self, model: str, usage: dict[str, Any]) -> float:
        """USD of one API request as the API reported its ``usage``."""
        tier = self.tiers[self.model_tier[model]]
        input_tokens = usage.get("input_tokens") or 0
        output_tokens = usage.get("output_tokens") or 0
        cache_read = usage.get("cache_read_input_tokens") or 0
        creation = usage.get("cache_creation_input_tokens") or 0
        one_hour = (usage.get("cache_creation") or {}).get("ephemeral_1h_input_tokens") or 0
        five_min = creation - one_hour
        rates = tier
        long_prompt = tier.get("long_prompt")
        if long_prompt and input_tokens + creation + cache_read > long_prompt["above_prompt_tokens"]:
            rates = long_prompt
        return (
            input_tokens * rates["input"]
            + output_tokens * rates["output"]
            + cache_read * rates["cache_read"]
            + five_min * rates["cache_write_5m"]
            + one_hour * rates["cache_write_1h"]
        ) / PER_MILLION

    def is_long_prompt(self, model: str, usage: dict[str, Any]) -> bool:
        long_prompt = self.tiers[self.model_tier[model]].get("long_prompt")
        prompt = sum(
            usage.get(k) or 0 for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
        )
        return bool(long_prompt) and prompt > long_prompt["above_prompt_tokens"]

    def cost(self, model: str, usages: Iterable[dict[str, Any]]) -> float:
        """The sum of per-request costs of ``usages`` all run on ``model``."""
        return sum(self.request_cost(model, u) for u in usages)
