"""Price table and per-request pricing: agreement with Claude Code 2.1.328's own costUSD."""

import json

import pytest

from cco_hooks import pricing, transcript
from cco_hooks.cli.pricing_cmd import format_fitted
from tests.support.locations import FIXTURES, PAYLOADS

REF_PRICES = json.loads((FIXTURES / "claude-code-2.1.328-prices.json").read_text())
SESSION = PAYLOADS / "session-transcript.jsonl"
SUBAGENT = PAYLOADS / "subagent-transcript.jsonl"


@pytest.fixture
def prices(tmp_path):
    return pricing.load_prices(override_path=str(tmp_path / "no-such-prices.json"))


def cost_state():
    for line in SESSION.read_text().splitlines():
        obj = json.loads(line)
        if obj.get("type") == "cost-state":
            return obj
    raise AssertionError("no cost-state line")


def main_loop_requests():
    """The session transcript's own (non-sidechain) assistant requests, each message.id once."""
    seen = {}
    for line in SESSION.read_text().splitlines():
        obj = json.loads(line)
        if obj.get("type") == "assistant" and not obj.get("isSidechain"):
            seen[obj["message"]["id"]] = (obj["message"]["model"], obj["message"]["usage"])
    return list(seen.values())


# --------------------------------------------------------------------------- the shipped table


def test_shipped_table_is_dated_and_sourced(prices):
    assert prices.date == "2026-11-25"
    assert "2.1.328" in prices.source
    assert prices.warnings == []


def test_shipped_table_covers_every_model_of_the_catalog(prices):
    for model in REF_PRICES["models"]:
        assert prices.resolve(model["id"]) == model["id"]
        assert prices.resolve(model["first_party_id"]) == model["id"]
        tier = prices.tier_of(model["id"])
        ref = REF_PRICES["pricing_tiers"][model["pricing"]]
        for key in ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read", "web_search"):
            assert tier[key] == ref[key], (model["id"], key)
        if "long_prompt" in ref:
            assert tier["long_prompt"] == ref["long_prompt"]
        else:
            assert "long_prompt" not in tier
    assert len(prices.models) == len(REF_PRICES["models"])
    assert prices.aliases == REF_PRICES["aliases"]


@pytest.mark.parametrize(
    "spelling",
    [
        "claude-haiku-4-5-20251001",
        "claude-haiku-4-5",
        "CLAUDE-HAIKU-4-5-20251001",
        "us.anthropic.claude-haiku-4-5-20251001-v1:0",
        "anthropic.claude-haiku-4-5-20251001-v1:0",
        "arn:aws:bedrock:us-east-1:123:inference-profile/global.anthropic.claude-haiku-4-5-20251001-v1:0",
        "claude-haiku-4-5@20251001",
    ],
)
def test_dated_and_first_party_ids_resolve_to_haiku_45(prices, spelling):
    assert prices.resolve(spelling) == "claude-haiku-4-5"
    assert prices.models["claude-haiku-4-5"]["tier"] == "haiku_45"
    assert prices.rates(spelling)["input"] == 1


@pytest.mark.parametrize(
    "model",
    [
        "claude-opus-5-6",
        "claude-opus-6",
        "gpt-5",
        "claude",
        "",
        "   ",
        "<synthetic>",
        None,
        5,
        1.5,
        True,
        [],
        {},
        "x" * 500,
    ],
)
def test_unknown_models_are_unpriced_never_guessed(prices, model):
    assert prices.resolve(model) is None
    assert prices.cost(model, {"input_tokens": 1000, "output_tokens": 10}) is None


def test_aliases_resolve(prices):
    assert prices.alias_model("opus") == "claude-opus-5-5"
    assert prices.alias_model("sonnet") == "claude-sonnet-5-5"
    assert prices.alias_model("haiku") == "claude-haiku-5-5"
    assert prices.alias_model("fable") == "claude-fable-5-2"
    assert prices.alias_model(None) is None
    assert prices.resolve("opus") == "claude-opus-5-5"


# --------------------------------------------------------------------------- rules


def usage(i=0, o=0, c5=0, c1=0, cr=0, web=0):
    return {
        "input_tokens": i,
        "output_tokens": o,
        "cache_creation_input_tokens": c5 + c1,
        "cache_read_input_tokens": cr,
        "cache_creation": {"ephemeral_5m_input_tokens": c5, "ephemeral_1h_input_tokens": c1},
        "server_tool_use": {"web_search_requests": web},
    }


def test_each_category_at_its_rate(prices):
    m = "claude-opus-5-5"  # 4 / 20 / 5 / 8 / 0.2
    assert prices.cost(m, usage(i=1_000_000)) == pytest.approx(4, abs=1e-12)
    assert prices.cost(m, usage(o=1_000_000)) == pytest.approx(20, abs=1e-12)
    assert prices.cost(m, usage(c5=1_000_000)) == pytest.approx(5, abs=1e-12)
    assert prices.cost(m, usage(c1=1_000_000)) == pytest.approx(8, abs=1e-12)
    assert prices.cost(m, usage(cr=1_000_000)) == pytest.approx(0.2, abs=1e-12)
    assert prices.cost(m, usage(web=3)) == pytest.approx(0.03, abs=1e-12)
    assert prices.cost(m, usage()) == 0


def test_cache_creation_without_detail_is_all_5m(prices):
    m = "claude-sonnet-5-5"
    assert prices.cost(m, {"cache_creation_input_tokens": 1_000_000}) == pytest.approx(2.5, abs=1e-12)


def test_long_prompt_tier_is_per_request(prices):
    m = "claude-haiku-5-5"
    at = usage(i=100_000, o=1000)
    above = usage(i=100_001, o=1000)
    assert prices.cost(m, at) == pytest.approx(100_000 * 0.1e-6 + 1000 * 0.5e-6, abs=1e-12)
    # above 100k prompt tokens every token of the request (output too) is at the long-prompt rates
    assert prices.cost(m, above) == pytest.approx(100_001 * 0.5e-6 + 1000 * 2.5e-6, abs=1e-12)
    # cache reads and writes count toward the prompt
    assert prices.cost(m, usage(i=10, c5=50_000, cr=50_000)) == pytest.approx(
        10 * 0.5e-6 + 50_000 * 0.625e-6 + 50_000 * 0.05e-6, abs=1e-12
    )
    # tiers without long_prompt never switch
    assert prices.cost("claude-opus-5-5", usage(i=900_000)) == pytest.approx(3.6, abs=1e-12)


@pytest.mark.parametrize("bad", ["12", -5, None, True, [], {}, float("nan"), float("inf"), 1e300])
def test_garbage_usage_counts_as_zero(prices, bad):
    u = {
        "input_tokens": bad,
        "output_tokens": 10,
        "cache_read_input_tokens": bad,
        "cache_creation_input_tokens": bad,
        "cache_creation": bad,
        "server_tool_use": bad,
    }
    assert prices.cost("claude-opus-5-5", u) == pytest.approx(10 * 20e-6, abs=1e-15)


def test_garbage_usage_object(prices):
    for bad in (None, "x", 3, [], True):
        assert prices.cost("claude-opus-5-5", bad) == 0


# --------------------------------------------------------------------------- agreement with Claude Code


def test_opus_cost_matches_claude_codes_cost_state_exactly(prices):
    """claude-opus-5-5 in the session = main loop (session transcript, deduplicated) + the opus
    subagent (subagent transcript, deduplicated). Claude Code's costUSD must come out."""
    main = sum(prices.cost(model, u) for model, u in main_loop_requests())
    sub = transcript.read_usage(str(SUBAGENT))
    assert len(sub.requests) == 2
    subagent = sum(prices.cost(r["model"], r["usage"]) for r in sub.requests)
    expected = cost_state()["modelUsage"]["claude-opus-5-5"]["costUSD"]
    assert main + subagent == pytest.approx(expected, abs=1e-9)
    assert main == pytest.approx(0.00132, abs=1e-12)
    assert subagent == pytest.approx(0.4865, abs=1e-12)


@pytest.mark.parametrize("model", ["claude-haiku-5-5", "claude-sonnet-5-5"])
def test_haiku_and_sonnet_subagents_match_cost_state(prices, model):
    """The haiku and sonnet subagents' transcripts are not in the capture, but their cost-state token
    totals are identical to the opus subagent's (1500+90000 input, 300+700 output, 2000+500 5m,
    10000 1h, 40000 read), i.e. the same two requests: priced per request on their models they must
    give Claude Code's costUSD (haiku: the second request is above 100k prompt tokens)."""
    state = cost_state()["modelUsage"][model]
    sub = transcript.read_usage(str(SUBAGENT))
    totals = sub.totals()
    assert totals["input"] == state["inputTokens"]
    assert totals["output"] == state["outputTokens"]
    assert totals["cache_read"] == state["cacheReadInputTokens"]
    assert totals["cache_write_5m"] == state["cacheCreationEphemeral5mInputTokens"]
    assert totals["cache_write_1h"] == state["cacheCreationEphemeral1hInputTokens"]
    cost = sum(prices.cost(model, r["usage"]) for r in sub.requests)
    assert cost == pytest.approx(state["costUSD"], abs=1e-9)


def test_session_total_matches(prices):
    state = cost_state()
    sub = transcript.read_usage(str(SUBAGENT))
    total = sum(prices.cost(m, u) for m, u in main_loop_requests())
    for model in ("claude-opus-5-5", "claude-haiku-5-5", "claude-sonnet-5-5"):
        total += sum(prices.cost(model, r["usage"]) for r in sub.requests)
    assert total == pytest.approx(state["totalCostUSD"], abs=1e-9)


def test_summing_tokens_first_would_be_wrong_for_haiku(prices):
    sub = transcript.read_usage(str(SUBAGENT))
    per_request = sum(prices.cost("claude-haiku-5-5", r["usage"]) for r in sub.requests)
    summed_first = prices.cost("claude-haiku-5-5", sub.totals())
    assert per_request == pytest.approx(0.0516125, abs=1e-12)
    assert abs(summed_first - per_request) > 1e-3


def test_public_haiku_45_transcript_prices_on_haiku_45(prices):
    from tests.support.locations import PUBLIC_PAYLOADS

    t = transcript.read_usage(str(PUBLIC_PAYLOADS / "transcripts" / "agent-a34e270.jsonl"))
    cost = sum(prices.cost(r["model"], r["usage"]) for r in t.requests)
    expected = (25 * 1 + 96 * 5 + 32450 * 2 + 563234 * 0.1) / 1e6
    assert cost == pytest.approx(expected, abs=1e-9)


# --------------------------------------------------------------------------- overrides


def test_override_file_adds_and_changes_prices(tmp_path):
    path = tmp_path / "prices.json"
    path.write_text(
        json.dumps(
            {
                "date": "2027-01-15",
                "source": "negotiated",
                "tiers": {
                    "my_tier": {"input": 1, "output": 2, "cache_write_5m": 3, "cache_write_1h": 4, "cache_read": 5},
                    "tier_3_15": {"cache_read": 0.25},
                },
                "models": {
                    "claude-opus-6": {
                        "tier": "my_tier",
                        "first_party_id": "claude-opus-6-20270101",
                        "display_name": "Opus 6",
                    },
                    "claude-sonnet-5-5": {
                        "input": 1.8,
                        "output": 9,
                        "cache_write_5m": 2.25,
                        "cache_write_1h": 3.6,
                        "cache_read": 0.09,
                    },
                },
                "aliases": {"opus": "claude-opus-6"},
            }
        )
    )
    prices = pricing.load_prices(override_path=str(path))
    assert prices.warnings == []
    assert prices.override_path == str(path)
    assert prices.cost("claude-opus-6-20270101", usage(i=1_000_000, o=1_000_000)) == pytest.approx(3)
    assert prices.cost("claude-sonnet-5-5", usage(i=1_000_000)) == pytest.approx(1.8)
    assert prices.rates("claude-sonnet-4-5")["cache_read"] == 0.25
    assert prices.rates("claude-sonnet-4-5")["input"] == 3  # the rest of the shipped tier is kept
    assert prices.alias_model("opus") == "claude-opus-6"
    text = format_fitted(prices, 300)
    assert "claude-opus-6" in text and "2027-01-15" in text and str(path) in text


def test_default_override_path_is_in_the_claude_config_dir(tmp_path, monkeypatch):
    config = tmp_path / "cfg"
    (config / "cco-hooks").mkdir(parents=True)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(config))
    (config / "cco-hooks" / "prices.json").write_text(json.dumps({"models": {"claude-new-1": {"tier": "tier_5_25"}}}))
    prices = pricing.load_prices()
    assert prices.resolve("claude-new-1") == "claude-new-1"
    assert pricing.default_override_path() == str(config / "cco-hooks" / "prices.json")


def test_overrides_dict_wins_over_the_file(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"models": {"claude-x": {"tier": "tier_5_25"}}}))
    prices = pricing.load_prices(str(path), overrides={"models": {"claude-x": {"tier": "tier_2_10"}}})
    assert prices.rates("claude-x")["input"] == 2


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        "[]",
        "null",
        json.dumps({"tiers": [], "models": 5, "aliases": "x"}),
        json.dumps({"tiers": {"t": {"input": "1"}}, "models": {"m": {"tier": "nope"}, "n": 3, "": {}}}),
        json.dumps(
            {"tiers": {"t": {"input": -1, "output": 1, "cache_write_5m": 1, "cache_write_1h": 1, "cache_read": 1}}}
        ),
        json.dumps(
            {
                "tiers": {
                    "t": {
                        "input": 1,
                        "output": 1,
                        "cache_write_5m": 1,
                        "cache_write_1h": 1,
                        "cache_read": 1,
                        "long_prompt": {"input": 1},
                    }
                }
            }
        ),
        json.dumps(
            {
                "models": {
                    "claude-opus-5-5": {
                        "input": True,
                        "output": 1,
                        "cache_write_5m": 1,
                        "cache_write_1h": 1,
                        "cache_read": 1,
                    }
                }
            }
        ),
        "\ufeff{}",
    ],
)
def test_bad_override_files_warn_and_keep_the_shipped_prices(tmp_path, content):
    path = tmp_path / "prices.json"
    path.write_text(content)
    prices = pricing.load_prices(override_path=str(path))
    assert prices.warnings
    assert prices.rates("claude-opus-5-5")["input"] == 4
    assert "warning:" in format_fitted(prices, 300)


def test_override_path_that_is_not_a_file(tmp_path):
    prices = pricing.load_prices(override_path=str(tmp_path))
    assert prices.warnings and prices.rates("claude-opus-5-5")["input"] == 4
    prices = pricing.load_prices(override_path="/dev/zero")
    assert prices.rates("claude-opus-5-5")["input"] == 4
    prices = pricing.load_prices(override_path=12345)
    assert prices.rates("claude-opus-5-5")["input"] == 4


def test_as_table_loads_back(prices, tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps(prices.as_table()))
    again = pricing.load_prices(str(path))
    assert again.warnings == []
    assert again.as_table()["tiers"] == prices.as_table()["tiers"]


def test_table_rows_cover_the_catalog_in_family_order(prices):
    rows = prices.table_rows()
    assert len(rows) == len(REF_PRICES["models"])
    assert rows[0]["model"].startswith("claude-3-5-haiku")


# --------------------------------------------------------------------------- every rule of Claude Code
# Expected values are computed here from the reference catalog's numbers (REF_PRICES), by hand.


def ref_tier(model):
    tier = next(m["pricing"] for m in REF_PRICES["models"] if m["id"] == model)
    return REF_PRICES["pricing_tiers"][tier]


def test_shipped_fast_rates_are_the_catalogs(prices):
    for model, ref in REF_PRICES["fast_rates"].items():
        fast = prices.rates(model, speed="fast")
        for key in ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read"):
            assert fast[key] == ref[key], (model, key)
    with_fast = {row["model"] for row in prices.table_rows() if row["fast"]}
    assert with_fast == set(REF_PRICES["fast_rates"])


def test_inference_geo_us_is_1_1_times_the_tokens(prices):
    t = ref_tier("claude-sonnet-5-5")
    usage = {
        "input_tokens": 3_000,
        "output_tokens": 400,
        "cache_creation_input_tokens": 2_000,
        "cache_creation": {"ephemeral_5m_input_tokens": 2_000, "ephemeral_1h_input_tokens": 0},
        "inference_geo": "us",
    }
    tokens = (3_000 * t["input"] + 400 * t["output"] + 2_000 * t["cache_write_5m"]) / 1e6
    assert prices.cost("claude-sonnet-5-5", usage) == pytest.approx(tokens * 1.1, abs=1e-12)
    for other in ("global", "", None, "US", 1):
        assert prices.cost("claude-sonnet-5-5", dict(usage, inference_geo=other)) == pytest.approx(tokens, abs=1e-12)


def test_web_search_is_added_after_the_geo_multiplier(prices):
    t = ref_tier("claude-sonnet-5-5")
    usage = {"input_tokens": 2_000, "output_tokens": 300, "server_tool_use": {"web_search_requests": 3}}
    tokens = (2_000 * t["input"] + 300 * t["output"]) / 1e6
    assert prices.cost("claude-sonnet-5-5", usage) == pytest.approx(tokens + 3 * t["web_search"], abs=1e-12)
    us = dict(usage, inference_geo="us")
    assert prices.cost("claude-sonnet-5-5", us) == pytest.approx(tokens * 1.1 + 3 * t["web_search"], abs=1e-12)


def test_fast_speed_uses_the_models_fast_rates_without_long_prompt(prices):
    fast = REF_PRICES["fast_rates"]["claude-fable-5-2"]
    usage = {"input_tokens": 4_000, "output_tokens": 600, "cache_read_input_tokens": 1_000, "speed": "fast"}
    expected = (4_000 * fast["input"] + 600 * fast["output"] + 1_000 * fast["cache_read"]) / 1e6
    assert prices.cost("claude-fable-5-2", usage) == pytest.approx(expected, abs=1e-12)
    assert prices.cost("claude-fable-5-2", dict(usage, inference_geo="us")) == pytest.approx(expected * 1.1, abs=1e-12)
    t = ref_tier("claude-fable-5-2")
    standard = (4_000 * t["input"] + 600 * t["output"] + 1_000 * t["cache_read"]) / 1e6
    for speed in ("standard", "priority", None):
        assert prices.cost("claude-fable-5-2", dict(usage, speed=speed)) == pytest.approx(standard, abs=1e-12)


def test_fast_speed_on_a_model_without_fast_rates_keeps_its_standard_rules(prices):
    t = ref_tier("claude-haiku-5-5")
    long_prompt = t["long_prompt"]
    usage = {"input_tokens": 120_000, "output_tokens": 600, "speed": "fast"}
    expected = (120_000 * long_prompt["input"] + 600 * long_prompt["output"]) / 1e6
    assert prices.cost("claude-haiku-5-5", usage) == pytest.approx(expected, abs=1e-12)


def test_fast_rates_from_an_override_file(tmp_path):
    path = tmp_path / "prices.json"
    path.write_text(
        json.dumps(
            {
                "tiers": {"f": {"input": 1, "output": 2, "cache_write_5m": 3, "cache_write_1h": 4, "cache_read": 5}},
                "models": {
                    "claude-sonnet-5-5": {"fast": "f"},
                    "claude-haiku-5-5": {
                        "fast": {"input": 7, "output": 8, "cache_write_5m": 9, "cache_write_1h": 10, "cache_read": 11}
                    },
                    "claude-fable-5-2": {"fast": "no-such-tier"},
                },
            }
        )
    )
    prices = pricing.load_prices(override_path=str(path))
    usage = {"input_tokens": 1_000_000, "output_tokens": 1_000_000, "speed": "fast"}
    assert prices.cost("claude-sonnet-5-5", usage) == pytest.approx(1 + 2)
    assert prices.cost("claude-haiku-5-5", usage) == pytest.approx(7 + 8)  # no long prompt in fast mode
    fable = REF_PRICES["fast_rates"]["claude-fable-5-2"]
    assert prices.cost("claude-fable-5-2", usage) == pytest.approx(fable["input"] + fable["output"])
    assert any("no-such-tier" in w for w in prices.warnings)
    assert prices.resolve("claude-sonnet-5-5") == "claude-sonnet-5-5"  # its standard tier is kept
    again = pricing.load_prices(override_path=str(tmp_path / "none.json"), overrides=prices.as_table())
    assert again.cost("claude-haiku-5-5", usage) == pytest.approx(7 + 8)


def _iteration(input_tokens, output_tokens, cache_read=0, creation=0, detail=None):
    it = {
        "type": "message",
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_read_input_tokens": cache_read,
        "cache_creation_input_tokens": creation,
    }
    if detail is not None:
        it["cache_creation"] = {"ephemeral_5m_input_tokens": detail[0], "ephemeral_1h_input_tokens": detail[1]}
    return it


def test_iterations_that_add_up_are_priced_one_by_one_for_the_long_prompt(prices):
    t = ref_tier("claude-haiku-5-5")
    usage = {
        "input_tokens": 70_000,
        "output_tokens": 900,
        "cache_read_input_tokens": 60_000,
        "cache_creation_input_tokens": 0,
        "iterations": [_iteration(40_000, 500, 30_000), _iteration(30_000, 400, 30_000), {"type": "compaction"}],
    }
    # 130,000 prompt tokens in all, 70,000 and 60,000 per iteration: standard rates
    standard = (70_000 * t["input"] + 900 * t["output"] + 60_000 * t["cache_read"]) / 1e6
    assert prices.cost("claude-haiku-5-5", usage) == pytest.approx(standard, abs=1e-12)
    lp = t["long_prompt"]
    whole = (70_000 * lp["input"] + 900 * lp["output"] + 60_000 * lp["cache_read"]) / 1e6
    broken = dict(usage, iterations=[_iteration(40_000, 500, 30_000), _iteration(30_000, 400, 29_999)])
    assert prices.cost("claude-haiku-5-5", broken) == pytest.approx(whole, abs=1e-12)
    missing = dict(usage, iterations=[_iteration(40_000, 500, 30_000), {"type": "message", "input_tokens": 30_000}])
    assert prices.cost("claude-haiku-5-5", missing) == pytest.approx(whole, abs=1e-12)
    assert prices.cost("claude-haiku-5-5", dict(usage, iterations="x")) == pytest.approx(whole, abs=1e-12)


def test_iterations_get_the_unclaimed_1h_cache_writes_in_order(prices):
    t = ref_tier("claude-haiku-5-5")
    lp = t["long_prompt"]
    usage = {
        "input_tokens": 110_000,
        "output_tokens": 900,
        "cache_read_input_tokens": 0,
        "cache_creation_input_tokens": 8_000,
        "cache_creation": {"ephemeral_5m_input_tokens": 3_000, "ephemeral_1h_input_tokens": 5_000},
        "iterations": [
            _iteration(9_000, 400, creation=6_000, detail=(1_000, 0)),
            _iteration(101_000, 500, creation=2_000, detail=(2_000, 0)),
        ],
    }
    # first: 15,000 prompt tokens, standard; its 5,000 unattributed writes take the 5,000 1h writes
    first = (9_000 * t["input"] + 400 * t["output"] + 1_000 * t["cache_write_5m"] + 5_000 * t["cache_write_1h"]) / 1e6
    # second: 103,000 prompt tokens, long-prompt rates
    second = (101_000 * lp["input"] + 500 * lp["output"] + 2_000 * lp["cache_write_5m"]) / 1e6
    assert prices.cost("claude-haiku-5-5", usage) == pytest.approx(first + second, abs=1e-12)


def test_iterations_do_not_matter_without_a_long_prompt_tier(prices):
    t = ref_tier("claude-sonnet-5-5")
    usage = {"input_tokens": 300_000, "output_tokens": 10, "iterations": [_iteration(300_000, 10)]}
    assert prices.cost("claude-sonnet-5-5", usage) == pytest.approx((300_000 * t["input"] + 10 * t["output"]) / 1e6)


def test_1h_writes_are_clamped_to_the_cache_write_total(prices):
    t = ref_tier("claude-sonnet-5-5")
    usage = {
        "input_tokens": 900,
        "output_tokens": 200,
        "cache_creation_input_tokens": 2_000,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 5_000},
    }
    expected = (900 * t["input"] + 200 * t["output"] + 2_000 * t["cache_write_1h"]) / 1e6
    assert prices.cost("claude-sonnet-5-5", usage) == pytest.approx(expected, abs=1e-12)
    # the breakdown without a total writes nothing (Claude Code reads the total only)
    no_total = dict(usage, cache_creation_input_tokens=None)
    assert prices.cost("claude-sonnet-5-5", no_total) == pytest.approx((900 * t["input"] + 200 * t["output"]) / 1e6)


def test_normalize_usage_keeps_only_the_fields_that_change_a_price():
    base = {"input_tokens": 1, "output_tokens": 2, "speed": "standard", "inference_geo": "", "iterations": []}
    assert set(pricing.normalize_usage(base)) == set(pricing.USAGE_KEYS)
    marked = pricing.normalize_usage(dict(base, speed="fast", inference_geo="us"))
    assert marked["speed"] == "fast" and marked["inference_geo"] == "us"
    assert pricing.normalize_usage(marked) == marked  # a normalised usage goes through unchanged


@pytest.mark.parametrize(
    ("version", "fast"),
    [("2.1.328", False), (None, False), ("garbage", False), ("2.1.332", True), ("2.2.0", True)],
)
def test_an_unknown_speed_is_priced_as_the_release_prices_it(prices, version, fast):
    usage = {"input_tokens": 4_000, "output_tokens": 600, "speed": "priority"}
    rates = REF_PRICES["fast_rates"]["claude-fable-5-2"] if fast else ref_tier("claude-fable-5-2")
    expected = (4_000 * rates["input"] + 600 * rates["output"]) / 1e6
    assert REF_PRICES["unknown_speed_is_fast_since"] == "2.1.332"
    assert prices.cost("claude-fable-5-2", pricing.normalize_usage(usage, version)) == pytest.approx(expected)
    # "standard" is standard in every release
    standard = dict(usage, speed="standard")
    assert "speed" not in pricing.normalize_usage(standard, "2.1.332")


# --------------------------------------------------------------------------- the hooks' cached table

USAGES = [
    {"input_tokens": 1200, "output_tokens": 340, "cache_read_input_tokens": 25000, "cache_creation_input_tokens": 900},
    {"input_tokens": 250000, "output_tokens": 10, "inference_geo": "us"},
    {"input_tokens": 10, "output_tokens": 10, "server_tool_use": {"web_search_requests": 2}},
]


def same_table(a, b):
    for name in pricing._CACHED_FIELDS:
        assert getattr(a, name) == getattr(b, name), name
    for model in ("claude-opus-5-5", "claude-sonnet-5-5", "claude-haiku-4-5-20251001", "sonnet", "no-such-model"):
        assert [a.cost(model, u) for u in USAGES] == [b.cost(model, u) for u in USAGES], model


def cache_file(env):
    return pricing.os.path.join(pricing.paths.state_dir(env), pricing.CACHE_BASENAME)


@pytest.fixture
def state(tmp_path):
    return {"CLAUDE_CONFIG_DIR": str(tmp_path / "config")}


def test_the_cached_table_is_the_table_and_is_read_back_without_building_it(state, tmp_path, monkeypatch):
    override = str(tmp_path / "prices.json")
    built = pricing.load_prices_cached(override, state)
    same_table(built, pricing.load_prices(override))
    assert pricing.os.stat(cache_file(state)).st_mode & 0o777 == 0o600
    monkeypatch.setattr(pricing, "load_prices", lambda *a, **k: pytest.fail("built again"))
    same_table(pricing.load_prices_cached(override, state), built)


def test_an_edited_override_file_is_seen_at_once(state, tmp_path):
    override = tmp_path / "prices.json"
    first = pricing.load_prices_cached(str(override), state)
    override.write_text(json.dumps({"models": {"claude-opus-5-5": {"tier": "tier_3_15"}}}))
    changed = pricing.load_prices_cached(str(override), state)
    assert changed.cost("claude-opus-5-5", USAGES[0]) != first.cost("claude-opus-5-5", USAGES[0])
    same_table(changed, pricing.load_prices(str(override)))


@pytest.mark.parametrize("damage", ["", "[]", '{"format": 1}', "not json"])
def test_a_damaged_cache_is_built_again(state, tmp_path, damage):
    override = str(tmp_path / "prices.json")
    pricing.load_prices_cached(override, state)
    with open(cache_file(state), "w") as f:
        f.write(damage)
    same_table(pricing.load_prices_cached(override, state), pricing.load_prices(override))
    assert json.loads(open(cache_file(state)).read())["format"] == pricing.CACHE_FORMAT


def test_a_cache_name_that_is_a_link_is_neither_read_nor_written(state, tmp_path):
    target = tmp_path / "elsewhere.json"
    target.write_text("{}")
    path = cache_file(state)
    pricing.os.makedirs(pricing.os.path.dirname(path))
    pricing.os.symlink(target, path)
    override = str(tmp_path / "prices.json")
    same_table(pricing.load_prices_cached(override, state), pricing.load_prices(override))
    assert target.read_text() == "{}" and pricing.os.path.islink(path)
