"""Every setting Versa reads, declared once with a default and a description (env prefix `VERSA_`).

With nothing set, Versa runs locally: packs from `examples/packs`, copy in SQLite under the state
folder, the offline copy writer, a development signing key created on first use. Setting the bucket,
table and queue (as the SAM stack does) switches to the AWS adapters. Validated once per cold start.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from versa.errors import VersaError

ENV_PREFIX = "VERSA_"

VISUAL_QUALITIES = ("low", "medium", "high")
"""The quality tiers a visual slot may ask for (the GPT image models' `quality`)."""

DEFAULT_VISUAL_PRICES: dict[str, dict[str, dict[str, float]]] = {
    "gpt-image-1": {
        "1024x1024": {"low": 0.011, "medium": 0.042, "high": 0.167},
        "1536x1024": {"low": 0.016, "medium": 0.063, "high": 0.25},
        "1024x1536": {"low": 0.016, "medium": 0.063, "high": 0.25},
    },
    "gpt-image-1-mini": {
        "1024x1024": {"low": 0.005, "medium": 0.011, "high": 0.036},
        "1536x1024": {"low": 0.006, "medium": 0.015, "high": 0.052},
        "1024x1536": {"low": 0.006, "medium": 0.015, "high": 0.052},
    },
    "gpt-image-1.5": {
        "1024x1024": {"low": 0.009, "medium": 0.034, "high": 0.133},
        "1536x1024": {"low": 0.013, "medium": 0.05, "high": 0.2},
        "1024x1536": {"low": 0.013, "medium": 0.05, "high": 0.2},
    },
}
"""USD per output image as OpenAI published them for its GPT image models (per-image output price by
size and quality; the prompt's few text tokens are not counted). Prices change and models retire:
VERSA_VISUAL_PRICES overrides or adds models (docs/VISUALS.md)."""


DEFAULT_COST_PRICES: dict[str, float] = {
    "cloudfront_request": 0.0100 / 10_000,
    "cloudfront_gb": 0.085,
    "rest_api_request": 3.50 / 1_000_000,
    "http_api_request": 1.00 / 1_000_000,
    "lambda_request": 0.20 / 1_000_000,
    "lambda_gb_second": 0.0000166667,
    "dynamodb_read_unit": 0.125 / 1_000_000,
    "logs_gb": 0.50,
    "xray_trace": 5.00 / 1_000_000,
    "generation": 0.0004,
}
"""USD list prices in us-east-1 (x86 Lambda, the first pricing tier of each service) that `versa cost`
multiplies by; docs/COST.md gives the page each comes from. VERSA_COST_PRICES overrides entries."""


def _copy_prices(table: Mapping[str, Mapping[str, Mapping[str, float]]]) -> dict[str, dict[str, dict[str, float]]]:
    return {model: {size: dict(q) for size, q in sizes.items()} for model, sizes in table.items()}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True, populate_by_name=True)

    # where packs come from
    packs_dir: Path = Field(Path("examples/packs"), description="Local directory of pack directories.")
    pack_bucket: str | None = Field(None, description="S3 bucket holding packs/ (switches to the S3 store).")
    pack_prefix: str = Field("", description="Key prefix inside the pack bucket.")
    pack_revalidate_seconds: float = Field(30.0, ge=0, description="How often the S3 pointer is rechecked.")
    pack_failure_seconds: float = Field(
        10.0, ge=0, description="How long a pack that failed to load is answered from memory before it is read again."
    )

    # generated copy
    copy_table: str | None = Field(None, description="DynamoDB table of generated copy (switches to DynamoDB).")
    generation_queue: str | None = Field(None, description="SQS queue URL for copy generation requests.")
    copy_lease_seconds: int = Field(600, ge=10, description="How long a pending generation lease holds.")
    copy_model: str | None = Field(
        None, description="Model that writes copy (no default: models are retired); unset: the offline writer."
    )
    openai_api_key: SecretStr | None = Field(
        None, validation_alias="OPENAI_API_KEY", description="API key of the OpenAI (or compatible) server."
    )
    openai_base_url: str | None = Field(
        None, validation_alias="OPENAI_BASE_URL", description="Base URL of an OpenAI-compatible server (unset: OpenAI's)."
    )
    copy_timeout: float = Field(30.0, gt=0, le=300, description="Seconds one copy-writing call may take.")
    copy_attempts: int = Field(3, ge=1, le=6, description="Attempts per copy-writing call on 429, 5xx or a timeout.")
    copy_kill_switch: bool = Field(
        False, description="Stop every copy generation at once (serving continues with the slots' defaults)."
    )
    copy_daily_tokens: int = Field(
        200_000, ge=0, description="Tokens one brand may spend on copy per UTC day; then its slots keep their defaults."
    )
    copy_per_minute: int = Field(
        30, ge=0, description="Copy generations this process starts per minute at most; the rest wait for a later miss."
    )
    copy_kill_switch_parameter: str | None = Field(
        None, description="SSM parameter whose value `true` stops every generation (the deployed generator reads"
        " it, cached VERSA_COPY_KILL_SWITCH_MAX_AGE seconds); an unreadable or unknown value also stops."
    )
    copy_kill_switch_max_age: int = Field(
        60, ge=1, le=3600, description="Seconds the kill-switch parameter is cached: a flip takes effect within it."
    )
    generator_table: str | None = Field(
        None, description="DynamoDB table of the generator's state: idempotency records and the spending"
        " ledger every generator shares (unset: per-process tallies)."
    )
    openai_secret_id: str | None = Field(
        None, description="Secrets Manager secret holding the OpenAI API key (the deployed generator; unset:"
        " OPENAI_API_KEY)."
    )
    openai_secret_max_age: int = Field(
        300, ge=1, le=3600, description="Seconds the OpenAI key is cached: a rotation is honoured within it."
    )

    # generated visuals (the OpenAI painter; `versa.adapters.openai_visuals`)
    visual_model: str | None = Field(
        None, description="Images API model that paints visual slots (no default: models are retired); unset: the"
        " offline placeholder painter."
    )
    visual_timeout: float = Field(120.0, gt=0, le=600, description="Seconds one image or moderation call may take.")
    visual_attempts: int = Field(
        3, ge=1, le=6, description="Attempts per image or moderation call on 429, 5xx, a timeout or a dropped connection."
    )
    visual_moderation: Literal["on", "off"] = Field(
        "on", description="on: every prompt goes to the server's moderations endpoint before an image is paid for (a"
        " flagged prompt is rejected; a server without the endpoint stops the painter); off: no moderation call"
        " (servers without one), review still applies."
    )
    visual_prices: Annotated[dict[str, dict[str, dict[str, float]]], NoDecode] = Field(
        default_factory=lambda: _copy_prices(DEFAULT_VISUAL_PRICES),
        json_schema_extra={"shown_default": "OpenAI's published gpt-image-1, -1-mini, -1.5 prices"},
        description='USD per image by model, size and quality, JSON {"model": {"1024x1024": {"low": 0.011}}} merged'
        " over the built-in table (a model given replaces that model's table); versa warm's cost estimate.",
    )

    # relevance loop
    relevance_table: str | None = Field(
        None, description="DynamoDB table of the relevance loop's counts and allocation snapshots (unset: SQLite"
        " under the state folder)."
    )
    allocation_cache_seconds: float = Field(
        60.0, ge=0, le=3600, description="Seconds a render process keeps an allocation snapshot it read (a"
        " reallocation reaches the request path within this)."
    )
    impression_sampling_rate: int = Field(
        100, ge=1, le=100, description="The real-time log configuration's sampling rate (whole percent): each"
        " logged view counts as 100/rate impressions (the stack's ImpressionSamplingRate)."
    )

    # AWS plumbing
    aws_endpoint_url: str | None = Field(None, description="Override endpoint for every AWS client (tests).")
    aws_connect_timeout: float = Field(0.5, gt=0, description="Seconds to connect to S3/DynamoDB/SQS.")
    aws_read_timeout: float = Field(1.0, gt=0, description="Seconds to wait for an S3/DynamoDB/SQS answer.")
    aws_max_attempts: int = Field(2, ge=1, le=5, description="Attempts per AWS call, first included.")

    # signing
    require_signature: bool = Field(True, description="Refuse creative URLs without a valid signature.")
    visitor_cookie: bool = Field(
        False,
        description=(
            "versa serve: read and set the first-party visitor cookie (versa_vid) as the CDN does when the "
            "stack's VisitorCookie consent parameter is on."
        ),
    )
    signing_key_parameter: str | None = Field(
        None, description="SSM parameter (SecureString JSON keyring) with the signing keys."
    )

    # origin secret (deploy): what CloudFront adds as x-versa-origin-secret, read at run time
    origin_secret_id: str | None = Field(
        None,
        description='Secrets Manager secret (JSON {"current", "previous"}) that requests must carry in'
        " x-versa-origin-secret (CloudFront adds it); unset: no origin check (local).",
    )
    origin_secret_max_age: int = Field(
        300, ge=1, le=3600, description="Seconds the origin secret is cached; a rotation is honoured within it."
    )

    # rendering
    font_dirs: Annotated[list[str], NoDecode] = Field(default_factory=list, description="Extra font directories (Lambda: /opt/fonts).")
    memo_items: int = Field(512, ge=0, description="Rendered responses kept in memory per process.")
    memo_bytes: int = Field(64 * 2**20, ge=0, description="Bytes of rendered responses kept in memory.")
    request_memo_items: int = Field(
        2048, ge=0, description="Image requests whose answer is kept to skip deciding them again (0: off)."
    )
    request_memo_bytes: int = Field(
        48 * 2**20, ge=0, description="Bytes the request memo keeps (each answer counts raw and in base64)."
    )
    request_memo_seconds: float = Field(
        60.0, ge=0, description="Longest a remembered request is answered before it is decided again."
    )
    render_budget_ms: int = Field(2000, ge=1, description="A render slower than this serves the fallback.")
    max_output_bytes: int = Field(4_500_000, ge=1024, description="Larger outputs serve the fallback.")
    max_render_work: int = Field(
        48_000_000, ge=1_000_000,
        description="Pixels x frames one render may draw (output size x an animated countdown's frames); "
        "a request over it is refused before drawing (400, or the fallback for email proxies).",
    )
    render_queue: int = Field(
        2, ge=0, description="Renders that may wait for a busy worker; beyond that a request is shed "
        "(503 with Retry-After, or the fallback for email proxies).",
    )
    unknown_brand_seconds: float = Field(
        10.0, ge=0, description="How long an unknown brand is remembered without asking the pack store (0: never).",
    )
    keyable_extra: Annotated[list[str], NoDecode] = Field(default_factory=list, description="Attributes the deployment adds to the CDN cache key (versa lint then allows them).")

    # publishing (the `versa publish` / `rollback` / `versions` commands)
    distribution_id: str | None = Field(
        None, description="CloudFront distribution whose paths versa publish and rollback invalidate."
    )

    # warming (`versa warm`): what its cost estimate multiplies the tokens by
    copy_price_in: float | None = Field(
        None, ge=0, description="Price of a million prompt tokens, for versa warm's cost estimate; unset: cost unknown."
    )
    copy_price_out: float | None = Field(
        None, ge=0, description="Price of a million completion tokens, for versa warm's cost estimate; unset: cost unknown."
    )

    # the synthetic check (functions/synthetic: a signed creative per brand through the CDN)
    synthetic_url: str | None = Field(
        None, description="CDN base URL the synthetic check fetches through (the stack's CdnUrl)."
    )
    synthetic_targets: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        json_schema_extra={"shown_default": ""},
        description="BRAND/CREATIVE[.EXT] the synthetic check fetches (comma-separated); empty: each brand's first creative.",
    )

    # `versa cost`: the monthly estimate's prices and measured figures (docs/COST.md names each source)
    cost_prices: Annotated[dict[str, float], NoDecode] = Field(
        default_factory=lambda: dict(DEFAULT_COST_PRICES),
        json_schema_extra={"shown_default": "built-in table (docs/COST.md)"},
        description="USD prices versa cost multiplies by (JSON merged over the built-in table, docs/COST.md).",
    )
    cost_render_ms: float = Field(
        12.0, gt=0, description="Billed ms of an uncached render on Lambda, for versa cost (docs/COST.md: measured).",
    )
    cost_memory_mb: int = Field(1024, ge=128, le=10240, description="Render function memory for versa cost (the stack's MemorySize).")
    cost_log_bytes: int = Field(
        1500, ge=0, description="Log bytes one origin request writes (access line, EMF metrics, Lambda's REPORT).",
    )
    cost_trace_rate: float = Field(0.01, ge=0, le=1, description="Share of origin requests traced (the stack's TraceSampleRate).")

    # local state and the command line
    state_dir: Path = Field(
        default_factory=lambda: find_state_dir(Path.cwd()),
        json_schema_extra={"shown_default": ".versa (nearest)"},
        description="Local state: dev signing key, SQLite copy store. Unset: the nearest `.versa/` in this "
        "directory or a parent (like git), else one at the enclosing git work tree's top, else here.",
    )
    debug: bool = Field(False, description="The versa command prints a traceback for an internal error.")

    @field_validator("font_dirs", "keyable_extra", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [part for part in value.replace(",", ":").split(":") if part]
        return value

    @field_validator("synthetic_targets", mode="before")
    @classmethod
    def _split_targets(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("cost_prices", mode="before")
    @classmethod
    def _merge_cost_prices(cls, value: object) -> object:
        """A table given (JSON from the environment, or a mapping) is merged over the built-in one."""
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError as exc:
                raise ValueError(f'not JSON ({exc}); expected {{"item": usd}}, items: ' + ", ".join(DEFAULT_COST_PRICES)) from None
        if isinstance(value, Mapping):
            unknown = sorted(set(value) - set(DEFAULT_COST_PRICES))
            if unknown:
                raise ValueError(f"unknown price(s) {', '.join(unknown)}; known: " + ", ".join(DEFAULT_COST_PRICES))
            return {**DEFAULT_COST_PRICES, **value}
        return value

    @property
    def copy_db(self) -> Path:
        return self.state_dir / "copy.sqlite3"

    @field_validator("visual_prices", mode="before")
    @classmethod
    def _merge_prices(cls, value: object) -> object:
        """A table given (JSON from the environment, or a mapping) is merged over the built-in one."""
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError as exc:
                raise ValueError(f'not JSON ({exc}); expected {{"model": {{"WxH": {{"quality": usd}}}}}}') from None
        if isinstance(value, Mapping):
            return {**_copy_prices(DEFAULT_VISUAL_PRICES), **value}
        return value

    @field_validator("visual_prices")
    @classmethod
    def _check_prices(cls, value: dict[str, dict[str, dict[str, float]]]) -> dict[str, dict[str, dict[str, float]]]:
        for model, sizes in value.items():
            for size, qualities in sizes.items():
                if not re.fullmatch(r"[1-9][0-9]{1,4}x[1-9][0-9]{1,4}", size):
                    raise ValueError(f"model {model!r}: size {size!r} is not WIDTHxHEIGHT (e.g. 1024x1536)")
                for quality, usd in qualities.items():
                    if quality not in VISUAL_QUALITIES:
                        raise ValueError(f"model {model!r} size {size}: quality {quality!r} is not one of "
                                         + ", ".join(VISUAL_QUALITIES))
                    if not 0 <= usd < 100:
                        raise ValueError(f"model {model!r} size {size} quality {quality}: {usd} USD is not 0 to 100")
        return value

    def visual_price(self, model: str | None, size: tuple[int, int], quality: str) -> float | None:
        """USD for one image of `model` at `size` and `quality` from the price table; None when the table
        does not say (a cost estimate then says the cost is unknown)."""
        if model is None:
            return None
        return self.visual_prices.get(model, {}).get(f"{size[0]}x{size[1]}", {}).get(quality)

    @property
    def generated_dir(self) -> Path:
        """Where the local asset store keeps generated images (`generated/BRAND/...` below it)."""
        return self.state_dir

    @property
    def relevance_db(self) -> Path:
        return self.state_dir / "relevance.sqlite3"


def find_state_dir(start: Path) -> Path:
    """The project's state folder seen from `start`: the nearest `.versa/` in it or a parent, so
    `versa sign` in a subfolder signs with the key the server uses; when there is none yet, `.versa/`
    at the top of the enclosing git work tree, else in `start`."""
    here = [start, *start.parents]
    for folder in here:
        if (folder / ".versa").is_dir():
            return folder / ".versa"
    for folder in here:
        if (folder / ".git").exists():
            return folder / ".versa"
    return start / ".versa"


class SettingsError(VersaError, ValueError):
    """A setting (from the environment or a command-line flag) has a value it cannot take."""


def env_name(field: str) -> str:
    """The environment variable of a setting: `packs_dir` → `VERSA_PACKS_DIR` (a setting another
    tool shares keeps that tool's name: `openai_api_key` → `OPENAI_API_KEY`)."""
    info = Settings.model_fields.get(field)
    alias = info.validation_alias if info is not None else None
    return alias if isinstance(alias, str) else f"{ENV_PREFIX}{field.upper()}"


def load_settings(overrides: Mapping[str, Any] | None = None) -> Settings:
    """Settings from the environment, with `overrides` (say, command-line flags; None values are
    skipped) on top. Raises SettingsError naming each bad setting, its value and what it allows."""
    given = {name: value for name, value in (overrides or {}).items() if value is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = ".".join(str(part) for part in error["loc"])
            origin = "flag" if name in given else "environment"
            problems.append(f"{env_name(name)}={error['input']!r} ({origin}): {error['msg']}")
        raise SettingsError("invalid setting(s): " + "; ".join(problems)) from None


def settings_table() -> list[tuple[str, str, str]]:
    """(env var, default, description) for every setting, in declaration order (a table for docs)."""
    rows = []
    for name, info in Settings.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        default = info.get_default(call_default_factory=True)
        shown = str(default) if isinstance(default, Path) else ("" if default is None else repr(default))
        shown = str(extra.get("shown_default", shown))
        rows.append((env_name(name), shown, info.description or ""))
    return rows
