"""An independent price computation for the ledger end-to-end tests.

Stdlib only; deliberately NOT ``cco_hooks.pricing``: the tests compare the ledger (priced by
``cco_hooks.pricing``) with Claude Code's own ``cost-state`` and with this, which reads the reference
price table (``tests/fixtures/claude-code-2.1.328-prices.json``, Claude Code 2.1.328's catalog)
and applies the rules written in that file:

- prompt tokens of one request = input + cache_creation + cache_read;
- cache writes: ``cache_creation.ephemeral_1h_input_tokens`` at ``cache_write_1h``, the rest of
  ``cache_creation_input_tokens`` at ``cache_write_5m``;
- a tier with ``long_prompt``: a request whose prompt tokens exceed ``above_prompt_tokens`` pays the
  long-prompt rates for every token (output too). Per request, never on summed tokens — and per
  iteration when ``usage.iterations`` lists "message" iterations whose counts add up to the
  request's (rule ``iterations``);
- ``speed: "fast"`` on a model of ``fast_rates``: those rates, no long-prompt tier; another speed
  but "standard" is fast too from the release ``unknown_speed_is_fast_since`` (2.1.332) on;
- ``inference_geo: "us"``: the token cost × 1.1; web search requests
  (``server_tool_use.web_search_requests`` × ``web_search``) added after.
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
        self.fast_rates: dict[str, dict[str, Any]] = data.get("fast_rates", {})
        self.unknown_speed_is_fast_since: str = data["unknown_speed_is_fast_since"]
        self.model_tier: dict[str, str] = {}
        for model in data["models"]:
            self.model_tier[model["id"]] = model["pricing"]
            self.model_tier[model["first_party_id"]] = model["pricing"]

    def alias_model(self, alias: str) -> str:
        return self.aliases[alias]

    def request_cost(self, model: str, usage: dict[str, Any], claude_code_version: str | None = None) -> float:
        """USD of one API request as the API reported its ``usage``, as the Claude Code release
        ``claude_code_version`` prices it (it decides what a speed other than standard/fast costs)."""
        tier = self.tiers[self.model_tier[model]]
        long_prompt = tier.get("long_prompt")
        if self.priced_as_fast(usage.get("speed"), claude_code_version) and model in self.fast_rates:
            tokens = self._tokens_cost(self.fast_rates[model], usage)
        elif long_prompt:
            tokens = 0.0
            for part in self._iterations(usage) or [usage]:
                prompt = sum(
                    part.get(k) or 0 for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
                )
                tokens += self._tokens_cost(long_prompt if prompt > long_prompt["above_prompt_tokens"] else tier, part)
        else:
            tokens = self._tokens_cost(tier, usage)
        if usage.get("inference_geo") == "us":
            tokens = tokens * 1.1
        web_searches = (usage.get("server_tool_use") or {}).get("web_search_requests") or 0
        return tokens + web_searches * tier["web_search"]

    def priced_as_fast(self, speed: Any, claude_code_version: str | None) -> bool:
        """Rule ``unknown_speed``: "fast" is fast; another speed but "standard" is fast from the
        release in ``unknown_speed_is_fast_since`` on."""
        if speed == "fast":
            return True
        if speed in (None, "", "standard") or claude_code_version is None:
            return False
        release = tuple(int(p) for p in claude_code_version.split()[0].split(".")[:3])
        return release >= tuple(int(p) for p in self.unknown_speed_is_fast_since.split("."))

    @staticmethod
    def _tokens_cost(rates: dict[str, Any], usage: dict[str, Any]) -> float:
        creation = usage.get("cache_creation_input_tokens") or 0
        one_hour = min((usage.get("cache_creation") or {}).get("ephemeral_1h_input_tokens") or 0, creation)
        return (
            (usage.get("input_tokens") or 0) * rates["input"]
            + (usage.get("output_tokens") or 0) * rates["output"]
            + (usage.get("cache_read_input_tokens") or 0) * rates["cache_read"]
            + (creation - one_hour) * rates["cache_write_5m"]
            + one_hour * rates["cache_write_1h"]
        ) / PER_MILLION

    @staticmethod
    def _iterations(usage: dict[str, Any]) -> list[dict[str, Any]] | None:
        """The "message" iterations as usages to price one by one, or ``None`` (price the request)."""
        if not isinstance(usage.get("iterations"), list):
            return None
        messages = [i for i in usage["iterations"] if isinstance(i, dict) and i.get("type") == "message"]
        keys = ("input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")
        for key in keys:
            values = [m.get(key) for m in messages]
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 for v in values):
                return None
            if sum(values) != (usage.get(key) or 0):
                return None
        if not messages:
            return None

        # the request's 1h writes no iteration claims go to the iterations' unattributed writes, in order
        def split(u: dict[str, Any]) -> tuple[int, int, int]:
            creation = u.get("cache_creation_input_tokens") or 0
            detail = u.get("cache_creation") or {}
            one_hour = max(0, min(detail.get("ephemeral_1h_input_tokens") or 0, creation))
            five = max(0, min(detail.get("ephemeral_5m_input_tokens") or 0, creation - one_hour))
            return creation, one_hour, five

        left = max(0, split(usage)[1] - sum(split(m)[1] for m in messages))
        parts = []
        for m in messages:
            creation, one_hour, five = split(m)
            moved = min(left, creation - five - one_hour)
            left -= moved
            parts.append(
                dict(
                    m, cache_creation={"ephemeral_1h_input_tokens": one_hour + moved, "ephemeral_5m_input_tokens": five}
                )
            )
        return parts

    def is_long_prompt(self, model: str, usage: dict[str, Any]) -> bool:
        long_prompt = self.tiers[self.model_tier[model]].get("long_prompt")
        prompt = sum(
            usage.get(k) or 0 for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
        )
        return bool(long_prompt) and prompt > long_prompt["above_prompt_tokens"]

    def cost(self, model: str, usages: Iterable[dict[str, Any]], claude_code_version: str | None = None) -> float:
        """The sum of per-request costs of ``usages`` all run on ``model``."""
        return sum(self.request_cost(model, u, claude_code_version) for u in usages)
