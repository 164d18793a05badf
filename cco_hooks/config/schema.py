"""The cco-hooks config format, declared once.

These pydantic models validate every native config layer, and ``config/cco-hooks.schema.json`` is
generated from them (``cco-hooks config schema``; a test keeps the file in step). Every key is
optional in a layer: layers are partial and merged, later wins per key and per agent.

Not imported by the hooks: ``cco_hooks.config.build`` uses it when a layer changed.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Mode = Literal["rewrite", "enforce", "observe"]
Effort = Literal["low", "medium", "high", "xhigh", "max"]
ModelSpelling = str  # an alias, a full/dated/provider ID or a CCO spelling; checked semantically

_MODEL_DOC = (
    "haiku | sonnet | opus | fable, or any spelling of them (claude-haiku-5-5, claude-sonnet-4-5-20250929, "
    "sonnet-4.5, claude-haiku-4, Bedrock/Vertex IDs). Always written to Claude Code as the alias."
)


class _Section(BaseModel):
    # Unknown keys are reported as warnings by `cco-hooks config validate`, never fatal.
    model_config = ConfigDict(extra="allow")


class AgentRule(_Section):
    model: ModelSpelling = Field(description=_MODEL_DOC + " `inherit` leaves the model alone.")
    effort: Effort | None = Field(None, description="Reasoning effort to set on the spawn (rewrite mode).")
    mode: Mode | None = Field(None, description="Overrides the top-level mode for this agent.")


class DefaultRule(_Section):
    model: ModelSpelling = Field(
        "inherit", description="Model for agents no rule names. `inherit` leaves them untouched. " + _MODEL_DOC
    )
    effort: Effort | None = None


class Limits(_Section):
    ceiling: ModelSpelling | None = Field(
        None, description="Highest tier any spawn may use (haiku < sonnet < opus < fable)."
    )
    floor: ModelSpelling | None = Field(None, description="Lowest tier any routed spawn may use.")


class LedgerSection(_Section):
    path: str | None = Field(
        None,
        description="Ledger file; CCO_HOOKS_LEDGER wins over it. Ignored in a project's config (.claude/cco-hooks*).",
    )


class PricingSection(_Section):
    file: str | None = Field(
        None,
        description="A price override file (same shape as `cco-hooks pricing --format json`). Ignored in a "
        "project's config (.claude/cco-hooks*).",
    )


class ExportSection(_Section):
    otlp: bool | None = Field(
        None,
        description="Send each settled spawn and session to an OpenTelemetry collector (needs `cco-hooks[otel]`), "
        "configured by the OTEL_* variables Claude Code's own telemetry uses; a hook starts `cco-hooks export` "
        "detached after it settles. Ignored in a project's config (.claude/cco-hooks*).",
    )


class Budget(_Section):
    """Spend caps. From a project's config (.claude/cco-hooks*) only what tightens them applies."""

    daily_usd: float | None = Field(
        None, ge=0, description="Spend cap per day (in `timezone`, UTC by default), all sessions."
    )
    session_usd: float | None = Field(None, ge=0, description="Spend cap per Claude Code session.")
    per_agent: dict[str, float] | None = Field(
        None,
        description="Daily spend cap per agent type, keys matched as routing rules are (normalised, `plugin:name`, "
        "globs); every key that matches an agent caps it, and the agents a key matches share its cap.",
    )
    timezone: str | None = Field(
        None,
        description="Where the caps' day begins: UTC (the default), local (the machine's zone), a fixed offset "
        "such as +05:30, or an IANA name such as Europe/Paris.",
    )
    on_exceed: Literal["deny", "downgrade"] | None = Field(
        None, description="What happens to new spawns once a cap is spent."
    )
    downgrade_to: ModelSpelling | None = Field(None, description="The model for `downgrade` (default haiku).")
    warn_at: float | None = Field(
        None, ge=0, le=1, description="Tell the user when this share of a cap is spent (default 0.8)."
    )


class Config(_Section):
    """One cco-hooks config layer (YAML or JSON)."""

    model_config = ConfigDict(extra="allow", title="cco-hooks config", populate_by_name=True)

    schema_: str | None = Field(None, alias="$schema", description="Editor hint; ignored.")
    version: Literal[1] | None = Field(None, description="Config format version. Always 1.")
    mode: Mode | None = Field(
        None,
        description="rewrite: change the spawn's model; enforce: deny a spawn on another model; observe: change "
        "nothing, record.",
    )
    default: DefaultRule | None = None
    agents: dict[str, ModelSpelling | AgentRule] | None = Field(
        None,
        description="Agent type (case- and separator-insensitive, `plugin:name`, or a glob like `test-*`) → "
        "model or rule.",
    )
    limits: Limits | None = None
    on_error: Literal["allow", "block"] | None = Field(
        None,
        description="allow: a cco-hooks failure lets the spawn proceed unchanged (fail open); block: it denies "
        "the spawn.",
    )
    agent_files: bool | None = Field(
        None, description="Use the `model:` frontmatter of .claude/agents/<name>.md (project, then user) as rules."
    )
    route_fork: bool | None = Field(None, description="Apply rules to `fork` spawns (Claude Code ignores their model).")
    ledger: LedgerSection | None = None
    pricing: PricingSection | None = None
    budget: Budget | None = None
    export: ExportSection | None = None


def json_schema() -> dict:
    schema = Config.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://github.com/cco-hooks/cco-hooks/config/cco-hooks.schema.json"
    return schema
