"""Price table and per-request cost, by Claude Code's own rules.

Stdlib only and import-light (no ``json``/``re``): the hooks price spawns with it.

Rules (those of Claude Code 2.1.328 and 2.1.332 — the same in both — which reproduce its ``costUSD``)
--------------------------------------------------------------------------------------------------------
The cost of ONE API request, rates in USD per million tokens::

    tokens = input × input + output × output + cache_read × cache_read
             + (cache_creation − 1h part) × cache_write_5m + 1h part × cache_write_1h
    cost   = tokens × (1.1 if usage.inference_geo == "us" else 1)
             + web_search_requests × web_search   (USD per request, never multiplied)

- Cache writes: ``cache_creation_input_tokens`` is the total (nothing else is: a missing total is 0
  whatever ``cache_creation`` says); the 1h part is ``cache_creation.ephemeral_1h_input_tokens``
  clamped to that total.
- Long prompt: when the model's tier has a ``long_prompt`` block and this request's prompt
  (input + cache_creation + cache_read) is above its ``above_prompt_tokens``, every token of the
  request (output too) is priced at the long-prompt rates. Per request: summing a run's tokens first
  and pricing once is wrong.
- Iterations: for such a tier, when ``usage.iterations`` holds entries of type "message" whose
  input, output, cache-read and cache-creation counts are all numbers ≥ 0 and each add up to the
  request's, each iteration is priced as its own request (the long-prompt test per iteration). The
  request's 1h cache writes that no iteration claims fill, in order, the iterations' cache writes
  that carry no 5m/1h attribution. Otherwise the request is priced whole.
- Fast mode: ``usage.speed == "fast"`` on a model with ``fast`` rates prices every token at those
  rates, with no long-prompt tier (web search and the geo multiplier as above). A model without
  fast rates keeps its standard rules. Any other ``speed`` value: 2.1.328 prices it as standard,
  2.1.332 as fast (and flags the session's cost as partly unknown); we follow the version written on
  the transcript line (``UNKNOWN_SPEED_IS_FAST_SINCE``; 2.1.329–2.1.331 not checked).

Where we deliberately differ from Claude Code
----------------------------------------------
- A model with no known price: Claude Code prices it at the main loop model's catalog rates (else
  a default, the Opus-class 5/25 rates) and flags the session's cost as partly unknown
  (``hasUnknownModelCost``); we record it unpriced (``cost`` returns ``None``), never a guess.
- Organisation pricing (the ``modelPricing`` setting, in 2.1.328 and 2.1.332) is not supported.
  Claude Code takes it only from policy settings of a trusted origin — the managed settings file
  (``/etc/claude-code/managed-settings.json`` on Linux, a fixed path), the macOS plist or Windows
  HKLM policy, or remote managed settings under conditions — or from a host application that
  manages the model provider; it is ignored in user, project, local and ``--settings`` files. It
  holds a ``multiplier`` applied to every cost, and ``overrides`` rows (input, output, cacheRead,
  cacheWrite, the one write rate for 5m and 1h) charged exactly as written, without the fast-mode
  or US (``inference_geo``) surcharges. The hooks price at list rates; a price override file
  (below) can reproduce contracted rates, but has no multiplier.
- Rates Claude Code fetches at run time for a served model catalog, when an account has one (with
  them, a time-limited "price this model as that one" map), are not seen by the hooks; the shipped
  table is the catalog built into the release.

The table
---------
``cco_hooks/data/prices.json`` ships with the package; it carries its ``date`` and ``source`` and covers
every model of Claude Code 2.1.328's catalog. A user override file — by default
``${CLAUDE_CONFIG_DIR:-~/.claude}/cco-hooks/prices.json``, or the path of the config key
``pricing.file`` — has the same shape, every key optional::

    {
      "date": "2027-01-15",                   # shown by `cco-hooks pricing`
      "source": "our negotiated rates",
      "tiers": {                              # USD per million tokens (web_search: USD per request)
        "my_tier": {"input": 2.7, "output": 13.5, "cache_write_5m": 3.375,
                    "cache_write_1h": 5.4, "cache_read": 0.27, "web_search": 0.01,
                    "long_prompt": {"above_prompt_tokens": 200000, "input": 5.4, "output": 20.25,
                                    "cache_write_5m": 6.75, "cache_write_1h": 10.8,
                                    "cache_read": 0.54}},
        "tier_3_15": {"cache_read": 0.25}     # a shipped tier: only the keys given change
      },
      "models": {
        "claude-opus-6": {"tier": "my_tier", "first_party_id": "claude-opus-6-20270101",
                          "display_name": "Opus 6"},
        "claude-sonnet-5-5": {"input": 1.8, "output": 9, "cache_write_5m": 2.25,
                              "cache_write_1h": 3.6, "cache_read": 0.09},  # inline rates
        "claude-opus-5-5": {"fast": "my_fast_tier"},   # fast-mode rates: a tier's name, or
        "claude-opus-5": {"fast": {"input": 9, "output": 45, "cache_write_5m": 11.25,
                                   "cache_write_1h": 18, "cache_read": 0.9}}   # inline rates
      },
      "aliases": {"opus": "claude-opus-6"}   # alias → model ID (the counterfactual's model)
    }

A model's ``fast`` (rates for ``speed: "fast"``) may be given alone to change only those; a
``long_prompt`` block in fast rates is ignored, as Claude Code ignores it.
A tier needs ``input``, ``output``, ``cache_write_5m``, ``cache_write_1h`` and ``cache_read`` (finite,
≥ 0); ``web_search`` defaults to 0.01 USD per request (the catalog's value for every tier). Invalid
entries are skipped and listed in ``Prices.warnings`` (``cco-hooks pricing`` prints them), never fatal.

A model with no known price is unpriced: ``Prices.cost`` returns ``None``, never 0 and never a guess
(model IDs are matched exactly after removing only well-known decorations: a date suffix, a Bedrock
``region.anthropic.`` prefix and ``-v1:0`` suffix, a Vertex ``@date``, a ``[1m]`` context tag).
"""

import _stat as stat  # stat.py is this C module with one more import

from cco_hooks import claude_code, coerce, fastjson, files, paths
from cco_hooks.fastos import os

SHIPPED_TABLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "prices.json")
OVERRIDE_BASENAME = "prices.json"

RATE_KEYS = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")
LONG_PROMPT_KEY = "long_prompt"
DEFAULT_WEB_SEARCH = 0.01
_PER_MILLION = 1_000_000

USAGE_KEYS = ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h", "web_search_requests")
# Present in a normalised usage only when the API sent them; never summed across requests.
EXTRA_USAGE_KEYS = ("inference_geo", "speed", "iterations")
US_GEO_MULTIPLIER = 1.1  # Claude Code: usage with inference_geo "us" costs 1.1× (web search excepted)
FAST_KEY = "fast"


def default_override_path(env: dict | None = None) -> str:
    return os.path.join(paths.state_dir(env), OVERRIDE_BASENAME)


# --------------------------------------------------------------------------- usage


def _count(value) -> int:
    """A token count from untrusted JSON: a non-negative int, else 0."""
    return coerce.count(value) or 0


def _cache_split(usage: dict) -> tuple:
    """``(cache_creation, one_hour, five_minute)`` as Claude Code reads them: the total is
    ``cache_creation_input_tokens`` alone; the 1h part is clamped into it, the 5m part into the rest."""
    creation = _count(usage.get("cache_creation_input_tokens"))
    detail = usage.get("cache_creation")
    if not isinstance(detail, dict):
        return creation, 0, 0
    one_hour = min(_count(detail.get("ephemeral_1h_input_tokens")), creation)
    five_minute = min(_count(detail.get("ephemeral_5m_input_tokens")), creation - one_hour)
    return creation, one_hour, five_minute


_ITERATION_SUMS = ("input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")


def _token_number(value):
    """An iteration's count as Claude Code accepts it: a finite number ≥ 0 (else ``None``)."""
    value = coerce.number(value)
    return value if value is not None and value >= 0 else None


def _iteration_parts(usage: dict, one_hour_total: int) -> list | None:
    """The ``usage.iterations`` entries of type "message" as normalised usages, when Claude Code
    prices them one by one: every one has the four counts and each count sums to the request's.
    The request's 1h cache writes not attributed to any iteration go, in order, to the iterations'
    unattributed cache writes (as Claude Code does). ``None`` when the request is priced whole."""
    iterations = usage.get("iterations")
    if not isinstance(iterations, list):
        return None
    messages = [it for it in iterations if isinstance(it, dict) and it.get("type") == "message"]
    if not messages:
        return None
    for key in _ITERATION_SUMS:
        total = 0
        for it in messages:
            value = _token_number(it.get(key))
            if value is None:
                return None
            total += value
        request_value = usage.get(key)
        if total != (0 if request_value is None else request_value):
            return None
    splits = [_cache_split(it) for it in messages]
    unattributed_1h = max(0, one_hour_total - sum(split[1] for split in splits))
    parts = []
    for it, (creation, one_hour, five_minute) in zip(messages, splits, strict=True):
        extra = min(unattributed_1h, creation - five_minute - one_hour)
        unattributed_1h -= extra
        parts.append(
            {
                "input": _count(it.get("input_tokens")),
                "output": _count(it.get("output_tokens")),
                "cache_read": _count(it.get("cache_read_input_tokens")),
                "cache_write_5m": creation - one_hour - extra,
                "cache_write_1h": one_hour + extra,
            }
        )
    return parts


# From this Claude Code release on, a ``speed`` other than "standard" and "fast" is priced as fast
# (and flagged as an unknown cost); 2.1.328 prices it as standard.
UNKNOWN_SPEED_IS_FAST_SINCE = (2, 1, 332)


def _version_tuple(version) -> tuple | None:
    if not isinstance(version, str) or len(version) > 40:
        return None
    parts = version.strip().split(".")[:3]
    try:
        return tuple(int(p) for p in parts)
    except ValueError:
        return None


def _priced_speed(speed, claude_code_version) -> str | None:
    """The speed Claude Code prices a request at: "fast", or ``None`` for standard."""
    if speed == "fast":
        return "fast"
    if speed == "standard" or not isinstance(speed, str) or not speed:
        return None
    version = _version_tuple(claude_code_version)
    return "fast" if version is not None and version >= UNKNOWN_SPEED_IS_FAST_SINCE else None


def normalize_usage(usage, claude_code_version: str | None = None) -> dict:
    """An API ``usage`` object (as in transcripts) → ``{input, output, cache_read, cache_write_5m,
    cache_write_1h, web_search_requests}`` of non-negative ints (garbage counts as 0), plus, only
    when they change the price, ``inference_geo: "us"``, ``speed: "fast"`` and ``iterations`` (the
    per-iteration usages the long-prompt rule prices one by one). ``claude_code_version`` (of the
    transcript line) decides how a speed other than "standard"/"fast" is priced."""
    if not isinstance(usage, dict):
        return dict.fromkeys(USAGE_KEYS, 0)
    if "input_tokens" not in usage and "output_tokens" not in usage and "input" in usage:
        # already normalised
        out = {k: _count(usage.get(k)) for k in USAGE_KEYS}
        for key in EXTRA_USAGE_KEYS:
            if usage.get(key) is not None:
                out[key] = usage[key]
        return out
    # _cache_split, inlined: this runs for every request the hooks price
    creation = _count(usage.get("cache_creation_input_tokens"))
    one_hour = 0
    detail = usage.get("cache_creation")
    if detail and isinstance(detail, dict):
        one_hour = min(_count(detail.get("ephemeral_1h_input_tokens")), creation)
    web = 0
    server = usage.get("server_tool_use")
    if isinstance(server, dict):
        web = _count(server.get("web_search_requests"))
    out = {
        "input": _count(usage.get("input_tokens")),
        "output": _count(usage.get("output_tokens")),
        "cache_read": _count(usage.get("cache_read_input_tokens")),
        "cache_write_5m": creation - one_hour,
        "cache_write_1h": one_hour,
        "web_search_requests": web,
    }
    # Kept only with the one value Claude Code prices differently ("standard", "global", … are not)
    if usage.get("inference_geo") == "us":
        out["inference_geo"] = "us"
    speed = usage.get("speed")
    if speed is not None and speed != "standard" and _priced_speed(speed, claude_code_version) == "fast":
        out["speed"] = "fast"
    if usage.get("iterations"):  # Claude Code writes an empty list for most requests
        parts = _iteration_parts(usage, one_hour)
        if parts is not None:
            out["iterations"] = parts
    return out


def prompt_tokens(n: dict) -> int:
    return n["input"] + n["cache_write_5m"] + n["cache_write_1h"] + n["cache_read"]


def is_empty(n: dict) -> bool:
    for k in USAGE_KEYS:
        if n.get(k):
            return False
    return True


# --------------------------------------------------------------------------- model IDs


def _strip_date(name: str) -> str:
    # "-20251001" (8 digits) or "-latest" at the end
    if len(name) > 9 and name[-9] == "-" and name[-8:].isdigit():
        return name[:-9]
    if name.endswith("-latest"):
        return name[:-7]
    return name


def _strip_bedrock_version(name: str) -> str:
    # "...-v1:0" / "...-v2"
    dash = name.rfind("-v")
    if dash > 0:
        tail = name[dash + 2 :]
        if tail and tail.replace(":", "").isdigit() and tail[0].isdigit():
            return name[:dash]
    return name


def normalize_model_id(model) -> str | None:
    """Remove the known decorations of a model ID; ``None`` for anything that is not a string."""
    if not isinstance(model, str):
        return None
    name = model.strip().lower()
    if not name or len(name) > 200:
        return None
    bracket = name.find("[")
    if bracket > 0:
        name = name[:bracket]
    slash = name.rfind("/")  # Bedrock ARN / inference profile
    if slash >= 0:
        name = name[slash + 1 :]
    marker = name.find("anthropic.")
    if marker >= 0:
        name = name[marker + len("anthropic.") :]
    at = name.find("@")  # Vertex "claude-haiku-4-5@20251001"
    if at > 0:
        name = name[:at]
    name = _strip_bedrock_version(name)
    name = _strip_date(name)
    return name or None


# --------------------------------------------------------------------------- the table


def _rate(value) -> float | None:
    """A price from a table: a number in [0, 1e9], else ``None``."""
    value = coerce.number(value)
    return value if value is not None and 0 <= value <= 1e9 else None


def _valid_rates(raw, where: str, warnings: list, need_threshold: bool = False) -> dict | None:
    if not isinstance(raw, dict):
        warnings.append(f"{where}: not an object; ignored")
        return None
    out = {}
    for key in RATE_KEYS:
        rate = _rate(raw.get(key))
        if rate is None:
            warnings.append(f"{where}: '{key}' missing or not a non-negative number; ignored")
            return None
        out[key] = rate
    web = raw.get("web_search", DEFAULT_WEB_SEARCH)
    out["web_search"] = _rate(web) if _rate(web) is not None else DEFAULT_WEB_SEARCH
    if need_threshold:
        above = raw.get("above_prompt_tokens")
        if isinstance(above, bool) or not isinstance(above, int) or above < 0:
            warnings.append(f"{where}: 'above_prompt_tokens' missing or not a non-negative integer; ignored")
            return None
        out["above_prompt_tokens"] = above
    return out


def _valid_tier(raw, where: str, warnings: list) -> dict | None:
    tier = _valid_rates(raw, where, warnings)
    if tier is None:
        return None
    long_prompt = raw.get(LONG_PROMPT_KEY)
    if long_prompt is not None:
        lp = _valid_rates(long_prompt, where + ".long_prompt", warnings, need_threshold=True)
        if lp is None:
            return None
        lp.pop("web_search", None)
        tier[LONG_PROMPT_KEY] = lp
    return tier


def _token_cost(n: dict, rates: dict) -> float:
    """USD of a normalised usage's tokens at ``rates`` (web search is priced apart)."""
    return (
        n["input"] / _PER_MILLION * rates["input"]
        + n["output"] / _PER_MILLION * rates["output"]
        + n["cache_read"] / _PER_MILLION * rates["cache_read"]
        + n["cache_write_5m"] / _PER_MILLION * rates["cache_write_5m"]
        + n["cache_write_1h"] / _PER_MILLION * rates["cache_write_1h"]
    )


class Prices:
    """A loaded price table: ``cost()``, ``resolve()``, ``table_rows()``."""

    def __init__(self) -> None:
        self.date: str | None = None
        self.source: str | None = None
        self.tiers: dict = {}
        self.models: dict = {}  # model id → {"tier", "first_party_id", "display_name", "origin"}
        # alias → model ID: Claude Code's own map, which a price file's "aliases" may override
        self.aliases: dict = dict(claude_code.ALIAS_MODEL_ID)
        self.override_path: str | None = None
        self.override_date: str | None = None
        self.override_source: str | None = None
        self.warnings: list = []
        self._index: dict = {}

    # -- building
    def _merge(self, data, origin: str) -> None:
        if not isinstance(data, dict):
            self.warnings.append(f"{origin}: the price table must be a JSON object; ignored")
            return
        tiers = data.get("tiers", {})
        if not isinstance(tiers, dict):
            self.warnings.append(f"{origin}: 'tiers' must be an object; ignored")
            tiers = {}
        for name, raw in tiers.items():
            where = f"{origin}: tier '{name}'"
            if isinstance(raw, dict) and name in self.tiers:
                merged = dict(self.tiers[name])
                merged.update(raw)
                raw = merged
            tier = _valid_tier(raw, where, self.warnings)
            if tier is not None:
                self.tiers[name] = tier
        models = data.get("models", {})
        if isinstance(models, list):  # the catalog's own list shape
            models = {m.get("id"): dict(m, tier=m.get("pricing")) for m in models if isinstance(m, dict)}
        if not isinstance(models, dict):
            self.warnings.append(f"{origin}: 'models' must be an object; ignored")
            models = {}
        for model_id, raw in models.items():
            where = f"{origin}: model '{model_id}'"
            if not isinstance(model_id, str) or not model_id.strip() or not isinstance(raw, dict):
                self.warnings.append(f"{where}: must map a model ID to an object; ignored")
                continue
            model_id = model_id.strip().lower()
            entry = dict(self.models.get(model_id, {}))
            if any(key in raw for key in RATE_KEYS):
                tier = _valid_tier(raw, where, self.warnings)
                if tier is None:
                    continue
                tier_name = "custom:" + model_id
                self.tiers[tier_name] = tier
                entry["tier"] = tier_name
            elif "tier" in raw:
                if not isinstance(raw["tier"], str) or raw["tier"] not in self.tiers:
                    self.warnings.append(f"{where}: unknown tier {raw['tier']!r}; ignored")
                    continue
                entry["tier"] = raw["tier"]
            if "tier" not in entry:
                self.warnings.append(f"{where}: needs a 'tier' or its own rates; ignored")
                continue
            if FAST_KEY in raw:
                fast = self._fast_tier(raw[FAST_KEY], model_id, where)
                if fast is not None:
                    entry[FAST_KEY] = fast
            for key in ("first_party_id", "display_name", "family"):
                if isinstance(raw.get(key), str):
                    entry[key] = raw[key]
            entry["origin"] = origin
            self.models[model_id] = entry
        aliases = data.get("aliases", {})
        if isinstance(aliases, dict):
            for alias, model_id in aliases.items():
                if isinstance(alias, str) and isinstance(model_id, str) and model_id.strip():
                    self.aliases[alias.strip().lower()] = model_id.strip()
        self._reindex()

    def _fast_tier(self, raw, model_id: str, where: str) -> str | None:
        """The tier name of a model's fast-mode rates: a tier's name, or inline rates (without a
        long-prompt block: Claude Code prices fast mode without one)."""
        if isinstance(raw, str):
            if raw in self.tiers:
                return raw
            self.warnings.append(f"{where}: unknown fast tier {raw!r}; fast mode keeps its earlier rates")
            return None
        rates = _valid_rates(raw, where + ".fast", self.warnings)
        if rates is None:
            return None
        name = "fast:" + model_id
        self.tiers[name] = rates
        return name

    def _reindex(self) -> None:
        index = {}
        for model_id, entry in self.models.items():
            for name in (model_id, entry.get("first_party_id")):
                if isinstance(name, str):
                    index[name.lower()] = model_id
                    norm = normalize_model_id(name)
                    if norm:
                        index.setdefault(norm, model_id)
        self._index = index

    # -- lookups
    def resolve(self, model) -> str | None:
        """The table's model ID for any spelling Claude Code writes (dated, first-party, Bedrock,
        Vertex, alias), or ``None`` when the model is not in the table."""
        if not isinstance(model, str):
            return None
        key = model.strip().lower()
        hit = self._index.get(key)
        if hit is not None:
            return hit
        norm = normalize_model_id(key)
        hit = self._index.get(norm) if norm else None
        if hit is None and key in self.aliases:
            target = self.aliases[key].lower()
            hit = self._index.get(target) or self._index.get(normalize_model_id(target) or "")
        return hit

    def alias_model(self, alias) -> str | None:
        """The model an Agent-tool alias runs (``opus`` → ``claude-opus-5-5``)."""
        if not isinstance(alias, str):
            return None
        return self.aliases.get(alias.strip().lower())

    def tier_of(self, model) -> dict | None:
        model_id = self.resolve(model)
        if model_id is None:
            return None
        return self.tiers.get(self.models[model_id]["tier"])

    def rates(self, model, prompt: int = 0, speed: str | None = None) -> dict | None:
        """The rates one request of ``prompt`` prompt tokens pays on ``model`` (``None``: unknown).
        ``speed`` "fast" gives the model's fast rates when it has them (no long-prompt tier then)."""
        model_id = self.resolve(model)
        if model_id is None:
            return None
        entry = self.models[model_id]
        tier = self.tiers.get(entry["tier"])
        if tier is None:
            return None
        if speed == "fast" and entry.get(FAST_KEY) in self.tiers:
            fast = dict(self.tiers[entry[FAST_KEY]])
            fast["web_search"] = tier["web_search"]
            return fast
        long_prompt = tier.get(LONG_PROMPT_KEY)
        if long_prompt is not None and prompt > long_prompt["above_prompt_tokens"]:
            rates = dict(long_prompt)
            rates["web_search"] = tier["web_search"]
            return rates
        return tier

    def cost(self, model, usage) -> float | None:
        """USD of one API request; ``usage`` is the API's usage object (or a normalised one).
        ``None`` when the model has no known price."""
        price = self.pricer(model)
        return None if price is None else price(normalize_usage(usage))

    def pricer(self, model):
        """The function that prices one *normalised* usage on ``model`` (what ``cost`` computes,
        without normalising again), or ``None`` when the model has no known price. Pricing a
        transcript's requests, the model is resolved once, not once per request."""
        model_id = self.resolve(model)
        if model_id is None:
            return None
        entry = self.models[model_id]
        tier = self.tiers.get(entry["tier"])
        if tier is None:
            return None
        fast = self.tiers.get(entry.get(FAST_KEY))  # the model's fast rates, when it has them
        long_prompt = tier.get(LONG_PROMPT_KEY)
        above = long_prompt["above_prompt_tokens"] if long_prompt is not None else None
        web_search = tier["web_search"]

        def price(n: dict) -> float:
            if fast is not None and n.get("speed") == "fast":
                tokens = _token_cost(n, fast)
            elif long_prompt is None:
                tokens = _token_cost(n, tier)
            else:
                tokens = 0.0
                for part in n.get("iterations") or (n,):
                    tokens += _token_cost(part, long_prompt if prompt_tokens(part) > above else tier)
            if n.get("inference_geo") == "us":
                tokens *= US_GEO_MULTIPLIER
            return tokens + n["web_search_requests"] * web_search

        return price

    def as_table(self) -> dict:
        """The merged table in the price-file shape (``cco-hooks pricing --format json``); it loads
        back as an override file."""
        models = {}
        for model_id in sorted(self.models, key=_model_sort_key):
            entry = self.models[model_id]
            models[model_id] = {
                k: entry[k] for k in ("tier", FAST_KEY, "first_party_id", "display_name", "family") if k in entry
            }
        return {
            "format": 1,
            "date": self.override_date or self.date,
            "source": self.source if not self.override_path else f"{self.source}; overrides: {self.override_path}",
            "currency": "USD",
            "unit": "USD per million tokens; web_search USD per request",
            "tiers": {
                name: {k: (dict(v) if isinstance(v, dict) else v) for k, v in tier.items()}
                for name, tier in self.tiers.items()
            },
            "models": models,
            "aliases": dict(self.aliases),
        }

    def table_rows(self) -> list:
        """One dict per model, for ``cco-hooks pricing``."""
        rows = []
        for model_id in sorted(self.models, key=_model_sort_key):
            entry = self.models[model_id]
            tier = self.tiers.get(entry["tier"], {})
            lp = tier.get(LONG_PROMPT_KEY)
            rows.append(
                {
                    "model": model_id,
                    "first_party_id": entry.get("first_party_id"),
                    "display_name": entry.get("display_name"),
                    "tier": entry["tier"],
                    "input": tier.get("input"),
                    "output": tier.get("output"),
                    "cache_write_5m": tier.get("cache_write_5m"),
                    "cache_write_1h": tier.get("cache_write_1h"),
                    "cache_read": tier.get("cache_read"),
                    "web_search": tier.get("web_search"),
                    "long_prompt": dict(lp) if lp else None,
                    "fast": dict(self.tiers[entry[FAST_KEY]]) if entry.get(FAST_KEY) in self.tiers else None,
                    "origin": entry.get("origin"),
                }
            )
        return rows


# Table order: the aliased families by tier, then the families without an alias.
_FAMILY_ORDER = dict(claude_code.TIER)
_FAMILY_ORDER.update((family, len(claude_code.TIER) + i) for i, family in enumerate(claude_code.FAMILIES_WITHOUT_ALIAS))


def _model_sort_key(model_id: str):
    family_order = _FAMILY_ORDER
    parts = model_id.split("-")
    family = next((p for p in parts if p in family_order), None)
    numbers = tuple(int(p) for p in parts if p.isdigit())
    return (family_order.get(family, 9), numbers, model_id)


_MISSING = object()


def _read_json_file(path: str, warnings: list, what: str):
    """The parsed file; ``_MISSING`` when it does not exist or cannot be used (warned)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        return _MISSING
    except OSError as exc:
        warnings.append(f"{what} {path}: cannot open ({exc.strerror}); ignored")
        return _MISSING
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > 4 * 1024 * 1024:
            warnings.append(f"{what} {path}: not a regular file under 4 MiB; ignored")
            return _MISSING
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
        data = b"".join(chunks)
    except OSError as exc:
        warnings.append(f"{what} {path}: cannot read ({exc.strerror}); ignored")
        return _MISSING
    finally:
        os.close(fd)
    try:
        return fastjson.loads(data.decode("utf-8"))
    except Exception as exc:  # noqa: BLE001 - any garbage: report, never fail
        warnings.append(f"{what} {path}: not valid JSON ({exc}); ignored")
        return _MISSING


def load_prices(override_path: str | None = None, overrides: dict | None = None) -> Prices:
    """The shipped table, then the user's override file, then ``overrides`` (same shape, e.g. from
    the config). ``override_path`` ``None`` means the default path; a missing file is fine."""
    prices = Prices()
    shipped = _read_json_file(SHIPPED_TABLE, prices.warnings, "shipped price table")
    if not isinstance(shipped, dict):
        prices.warnings.append(
            f"the shipped price table {SHIPPED_TABLE} is missing or damaged: every model is unpriced"
        )
    else:
        prices._merge(shipped, "shipped")
        prices.date = shipped.get("date") if isinstance(shipped.get("date"), str) else None
        prices.source = shipped.get("source") if isinstance(shipped.get("source"), str) else None
    override_path = _resolve_override(override_path)
    if override_path:
        data = _read_json_file(override_path, prices.warnings, "price override file")
        if data is not _MISSING:
            prices.override_path = override_path
            prices._merge(data, "override")
            if isinstance(data, dict):
                if isinstance(data.get("date"), str):
                    prices.override_date = data["date"]
                if isinstance(data.get("source"), str):
                    prices.override_source = data["source"]
    if overrides is not None:
        prices._merge(overrides, "config")
    return prices


def _resolve_override(override_path):
    """The override file ``load_prices`` reads: ``None`` means the default path."""
    if override_path is None:
        try:
            return default_override_path()
        except Exception:  # noqa: BLE001
            return None
    if isinstance(override_path, str):
        return os.path.abspath(os.path.expanduser(override_path))
    return None


# --------------------------------------------------------------------------- the hooks' cached table

CACHE_BASENAME = "prices.cache.json"
CACHE_FORMAT = 1
_CACHE_CAP = 4 * 1024 * 1024
# What a loaded table is: kept in the cache as it is (plain JSON values), read back as it was.
_CACHED_FIELDS = {
    "date": (str, type(None)),
    "source": (str, type(None)),
    "override_path": (str, type(None)),
    "override_date": (str, type(None)),
    "override_source": (str, type(None)),
    "tiers": dict,
    "models": dict,
    "aliases": dict,
    "warnings": list,
    "_index": dict,
}


def _stamp(path):
    if path is None:
        return None
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return [path, None]
    return [path, st.st_mtime_ns, st.st_size, st.st_ino]


def load_prices_cached(override_path: str | None = None, env: dict | None = None) -> Prices:
    """``load_prices(override_path)`` for the hooks, which load the table on every settle (~0.5 ms
    of validating and indexing it): the merged table is kept in ``<state dir>/prices.cache.json``,
    stamped with every file it came from (the shipped table, the override file, and the code that
    merges them and names the aliases), and built again when any of them changed. A cache that is
    not ours (a link, a pipe, another user's) or not what we wrote is not used."""
    override = _resolve_override(override_path)
    stamp = [_stamp(path) for path in (SHIPPED_TABLE, override, __file__, claude_code.__file__)]
    try:
        cache_path = os.path.join(paths.state_dir(env), CACHE_BASENAME)
    except Exception:  # noqa: BLE001 - no state dir: nothing to cache in
        return load_prices(override_path)
    try:
        cached = files.read_own_json_object(cache_path, _CACHE_CAP)
    except files.UnsafeFile:
        return load_prices(override_path)
    if (
        isinstance(cached, dict)
        and cached.get("format") == CACHE_FORMAT
        and cached.get("stamp") == stamp
        and all(isinstance(cached.get(name), kind) for name, kind in _CACHED_FIELDS.items())
    ):
        prices = Prices()
        for name in _CACHED_FIELDS:
            setattr(prices, name, cached[name])
        return prices
    prices = load_prices(override_path)
    table = {name: getattr(prices, name) for name in _CACHED_FIELDS}
    try:
        files.write_private(cache_path, fastjson.dumps(dict(table, format=CACHE_FORMAT, stamp=stamp)))
    except (OSError, files.UnsafeFile):
        pass  # an unwritable state dir only costs the time saved
    return prices
