"""Every setting Versa reads, declared once with a default and a description (env prefix `VERSA_`).

With nothing set, Versa runs locally: packs from `examples/packs`, copy in SQLite under the state
folder, the offline copy writer, a development signing key created on first use. Setting the bucket,
table and queue (as the SAM stack does) switches to the AWS adapters. Validated once per cold start.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VERSA_", extra="ignore", frozen=True)

    # where packs come from
    packs_dir: Path = Field(Path("examples/packs"), description="Local directory of pack directories.")
    pack_bucket: str | None = Field(None, description="S3 bucket holding packs/ (switches to the S3 store).")
    pack_prefix: str = Field("", description="Key prefix inside the pack bucket.")
    pack_revalidate_seconds: float = Field(30.0, ge=0, description="How often the S3 pointer is rechecked.")

    # generated copy
    copy_table: str | None = Field(None, description="DynamoDB table of generated copy (switches to DynamoDB).")
    generation_queue: str | None = Field(None, description="SQS queue URL for copy generation requests.")
    copy_lease_seconds: int = Field(600, ge=10, description="How long a pending generation lease holds.")

    # AWS plumbing
    aws_endpoint_url: str | None = Field(None, description="Override endpoint for every AWS client (tests).")
    aws_connect_timeout: float = Field(0.5, gt=0, description="Seconds to connect to S3/DynamoDB/SQS.")
    aws_read_timeout: float = Field(1.0, gt=0, description="Seconds to wait for an S3/DynamoDB/SQS answer.")
    aws_max_attempts: int = Field(2, ge=1, le=5, description="Attempts per AWS call, first included.")

    # signing
    require_signature: bool = Field(True, description="Refuse creative URLs without a valid signature.")
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
    render_budget_ms: int = Field(2000, ge=1, description="A render slower than this serves the fallback.")
    max_output_bytes: int = Field(4_500_000, ge=1024, description="Larger outputs serve the fallback.")
    keyable_extra: Annotated[list[str], NoDecode] = Field(default_factory=list, description="Attributes the deployment adds to the CDN cache key (versa lint then allows them).")

    # local state
    state_dir: Path = Field(Path(".versa"), description="Local state: dev signing key, SQLite copy store.")

    @field_validator("font_dirs", "keyable_extra", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [part for part in value.replace(",", ":").split(":") if part]
        return value

    @property
    def copy_db(self) -> Path:
        return self.state_dir / "copy.sqlite3"


def settings_table() -> list[tuple[str, str, str]]:
    """(env var, default, description) for every setting, in declaration order (a table for docs)."""
    rows = []
    for name, info in Settings.model_fields.items():
        default = info.get_default(call_default_factory=True)
        shown = str(default) if isinstance(default, Path) else ("" if default is None else repr(default))
        rows.append((f"VERSA_{name.upper()}", shown, info.description or ""))
    return rows
