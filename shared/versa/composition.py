"""The composition root: settings in, a wired RenderService out. Called once per process.

Zero settings run the embedded default (directory packs, SQLite copy, offline writer, dev key); the
bucket, table and queue settings switch each port to its AWS adapter, exactly as the stack sets them.
AWS clients are created lazily, with bounded timeouts and retries, so a cold start that never touches
S3 never pays for a client.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from versa.pack.model import Pack
from versa.ports import (
    AssetStore,
    CopyStore,
    CopyWriter,
    GenerationQueue,
    OriginSecrets,
    PackStore,
    SpendingLedger,
    VisualWriter,
    WriterUnavailable,
)
from versa.settings import Settings
from versa.signing.signer import Keyring
from versa.web.request_memo import RequestMemo
from versa.web.service import Metrics, RenderService, ServiceConfig

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    from versa.generate.worker import Counter, GenerationWorker, SceneCheck
    from versa.relevance.store import RelevanceStore
    from versa.render.engine import Renderer
    from versa.render.scene import FontBook


def boto_client(service: str, settings: Settings) -> Any:
    """A boto3 client with Versa's bounded timeouts and retries (and the endpoint override, if any)."""
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=settings.aws_connect_timeout,
        read_timeout=settings.aws_read_timeout,
        retries={"max_attempts": settings.aws_max_attempts, "mode": "standard"},
        tcp_keepalive=True,
    )
    make: Any = boto3.client  # typed per service name; the name is a variable here
    return make(service, endpoint_url=settings.aws_endpoint_url, config=config)


def fallback_drawer(renderer: Renderer) -> Callable[[Pack], Pack]:
    """What `versa serve`'s pack store does with each pack it loads: draw the fallback of every
    creative that gives no `fallback` file, at each of its sizes, from its default context
    (`versa.render.fallback`; bounded in time, a failure is the pack's load error naming the creative)."""
    from datetime import UTC, datetime

    from versa.render.fallback import with_drawn_fallbacks

    def prepare(pack: Pack) -> Pack:
        return with_drawn_fallbacks(pack, renderer=renderer, now=datetime.now(UTC))

    return prepare


def build_packs(
    settings: Settings, metrics: Metrics | None = None, *, prepare: Callable[[Pack], Pack] | None = None
) -> PackStore:
    """The pack store the settings name, loading packs with the renderer's checks. `prepare` finishes
    each pack a directory store loads (`fallback_drawer`); the S3 store (the Lambda's) takes none:
    the CDN's fallbacks are drawn by `versa publish`, never on the request path."""
    from versa.render.checks import PACK_CHECKS

    if settings.pack_bucket:
        from versa.adapters.s3_packs import S3PackStore

        def on_event(name: str, /, **props: str) -> None:
            if metrics is not None and name == "pack_stale":  # serving the last good pack
                metrics.count("PackStale", 1, **props)

        return S3PackStore(
            settings.pack_bucket,
            checks=PACK_CHECKS,
            prefix=settings.pack_prefix,
            client_factory=lambda: boto_client("s3", settings),
            revalidate_seconds=settings.pack_revalidate_seconds,
            failure_seconds=settings.pack_failure_seconds,
            on_event=on_event,
        )
    from versa.adapters.directory import DirectoryPackStore

    return DirectoryPackStore(
        settings.packs_dir, checks=PACK_CHECKS, failure_seconds=settings.pack_failure_seconds, prepare=prepare
    )


def build_copy(settings: Settings) -> CopyStore:
    if settings.copy_table:
        from versa.adapters.dynamo_copy import DynamoCopyStore

        return DynamoCopyStore(settings.copy_table, client_factory=lambda: boto_client("dynamodb", settings))
    from versa.adapters.sqlite_copy import SQLiteCopyStore

    settings.state_dir.mkdir(parents=True, exist_ok=True)
    return SQLiteCopyStore(settings.copy_db)


def build_relevance(settings: Settings) -> RelevanceStore:
    """The relevance loop's counts and snapshots: DynamoDB when a table is configured, else SQLite."""
    if settings.relevance_table:
        from versa.adapters.dynamo_relevance import DynamoRelevanceStore

        return DynamoRelevanceStore(settings.relevance_table, client_factory=lambda: boto_client("dynamodb", settings))
    from versa.adapters.sqlite_relevance import SQLiteRelevanceStore

    return SQLiteRelevanceStore(settings.relevance_db)


def build_queue(
    settings: Settings,
    copy: CopyStore,
    packs: PackStore | None = None,
    fonts: FontBook | None = None,
    *,
    metrics: Metrics | None = None,
    log: Callable[..., None] | None = None,
    assets: AssetStore | None = None,
) -> GenerationQueue:
    """SQS when a queue is configured; else the in-process queue, whose worker thread runs the writer
    the settings name within the spending bounds (`versa.generate.worker`)."""
    if settings.generation_queue:
        from versa.adapters.sqs_queue import SqsQueue

        return SqsQueue(settings.generation_queue, client_factory=lambda: boto_client("sqs", settings))
    from versa.adapters.local_queue import InProcessQueue

    worker = build_worker(settings, copy, packs or build_packs(settings, metrics), fonts, metrics=metrics, log=log,
                          assets=assets)
    return InProcessQueue(worker.run)


def build_worker(
    settings: Settings,
    copy: CopyStore,
    packs: PackStore,
    fonts: FontBook | None = None,
    *,
    writer: CopyWriter | None = None,
    metrics: Counter | None = None,
    log: Callable[..., None] | None = None,
    painter: VisualWriter | None = None,
    assets: AssetStore | None = None,
) -> GenerationWorker:
    """The generation worker the settings name: their writer (or `writer`), within their spending
    bounds (kill switch, daily tokens, rate), and their painter and asset store for visual slots (or
    `painter`, `assets`). The in-process queue runs it; so does `versa warm`."""
    from versa.generate.worker import GenerationWorker, Limits
    from versa.render.scene import FontBook

    fonts = fonts or FontBook(settings.font_dirs)
    assets = assets or build_assets(settings)
    return GenerationWorker(
        packs, copy, writer or build_writer(settings), fonts,
        limits=Limits(settings.copy_kill_switch, settings.copy_daily_tokens, settings.copy_per_minute),
        metrics=metrics, log=log,
        painter=painter or build_painter(settings), assets=assets, contrast=scene_check(assets, fonts),
    )


def build_assets(settings: Settings) -> AssetStore:
    """The store of generated images: S3 under the pack bucket's `generated/` prefix when
    VERSA_PACK_BUCKET is set (as deployed: the generator writes, the render function reads), else the
    local folder under VERSA_STATE_DIR (`generated/BRAND/...`)."""
    if settings.pack_bucket:
        from versa.adapters.s3_assets import S3AssetStore

        return S3AssetStore(settings.pack_bucket, prefix=settings.pack_prefix,
                            client_factory=lambda: boto_client("s3", settings))
    from versa.adapters.local_assets import LocalAssetStore

    return LocalAssetStore(settings.generated_dir)


def build_painter(settings: Settings) -> VisualWriter:
    """The visual writer the settings name: the Images API painter when VERSA_VISUAL_MODEL is set
    (`build_visual_writer`: its key from the secret or OPENAI_API_KEY), else the offline placeholder
    painter."""
    writer = build_visual_writer(settings)
    if writer is not None:
        return writer
    from versa.adapters.offline_painter import OfflinePainter

    return OfflinePainter()


def scene_check(assets: AssetStore, fonts: FontBook) -> SceneCheck:
    """The text-contrast guardrail the worker runs on a stored scene (`versa.authoring.scenes`)."""
    from versa.authoring.scenes import contrast_problems

    def check(pack: Pack, creative: str, slot: str, key: str, aspect: str) -> list[str]:
        return contrast_problems(pack, creative, slot, key, aspect, assets=assets, fonts=fonts)

    return check


def close_service(service: RenderService, *, grace: float | None = None) -> str | None:
    """Stop what the composition started beside the request path, for a process that is stopping
    (`versa serve` on Ctrl-C or SIGTERM): the in-process copy worker drops its queued generations and
    gives a running one `grace` seconds (default: the queue's) before abandoning it. Returns the line
    to log (None when there is no in-process worker: SQS consumers stop on their own)."""
    from versa.adapters.local_queue import SHUTDOWN_GRACE_SECONDS, InProcessQueue

    queue = service.queue
    if not isinstance(queue, InProcessQueue):
        return None
    closed = queue.close(SHUTDOWN_GRACE_SECONDS if grace is None else grace)
    return closed.describe(service.config.copy_lease_seconds)


def writer_line(settings: Settings) -> str:
    """One line saying which writer generates copy in this process (printed by `versa serve`)."""
    if settings.generation_queue:
        return "copy writer      the generation queue's consumer (SQS)"
    if settings.copy_kill_switch:
        return "copy writer      stopped (VERSA_COPY_KILL_SWITCH): slots keep their defaults"
    if settings.copy_model:
        where = settings.openai_base_url or "OpenAI"
        return f"copy writer      model {settings.copy_model} at {where}"
    return "copy writer      offline (VERSA_COPY_MODEL unset): slots keep their defaults"


def painter_line(settings: Settings) -> str:
    """One line saying what paints visual slots' scenes in this process (printed by `versa serve`)."""
    if settings.generation_queue:
        return "visual painter   the generation queue's consumer (SQS)"
    if settings.visual_model:
        return f"visual painter   model {settings.visual_model} at {settings.openai_base_url or 'OpenAI'}"
    return "visual painter   offline (VERSA_VISUAL_MODEL unset): placeholder scenes, reviewed like any other"


def build_writer(settings: Settings) -> CopyWriter:
    """The copy writer the settings name: the OpenAI writer when VERSA_COPY_MODEL is set, else the
    offline writer. An OpenAI key or URL without a model raises WriterUnavailable rather than quietly
    writing defaults. (The flow wires it to the generation worker.)"""
    if settings.copy_model:
        from versa.adapters.openai_writer import OpenAIWriter

        return OpenAIWriter.from_settings(settings)
    if settings.openai_api_key or settings.openai_base_url:
        raise WriterUnavailable(
            "OPENAI_API_KEY or OPENAI_BASE_URL is set but VERSA_COPY_MODEL is not: name the model that "
            "writes copy (Versa has no built-in model), or unset them to use the offline writer"
        )
    from versa.adapters.local_queue import OfflineWriter

    return OfflineWriter()


def build_visual_writer(settings: Settings) -> VisualWriter | None:
    """The Images API painter when VERSA_VISUAL_MODEL is set, else None (the caller paints offline). Its
    key comes from the Secrets Manager secret VERSA_OPENAI_SECRET_ID when one is named (read now, so a
    missing secret fails the cold start; rebuilt when the secret changes), else OPENAI_API_KEY /
    OPENAI_BASE_URL; without any, WriterUnavailable names what is missing."""
    if not settings.visual_model:
        return None
    from versa.adapters.openai_visuals import OpenAIVisualWriter

    if not settings.openai_secret_id:
        return OpenAIVisualWriter.from_settings(settings)
    from versa.adapters.parameters import RotatingKeyPainter, SecretsManagerValue

    secret = SecretsManagerValue(settings.openai_secret_id, max_age=settings.openai_secret_max_age,
                                 client_factory=lambda: boto_client("secretsmanager", settings))
    painter = RotatingKeyPainter(settings.visual_model, secret.value,
                                 lambda key: OpenAIVisualWriter.from_settings(settings, api_key=key))
    painter.current()  # the key is read at cold start: a missing secret is said at once
    return painter


def build_keyring(settings: Settings) -> Keyring:
    if settings.signing_key_parameter:
        from aws_lambda_powertools.utilities.parameters import SSMProvider

        from versa.signing.devkeys import keyring_from_json

        provider = SSMProvider(boto3_client=boto_client("ssm", settings))
        return keyring_from_json(str(provider.get(settings.signing_key_parameter, decrypt=True, max_age=300)))
    from versa.signing.devkeys import load_or_create_dev_keyring

    return load_or_create_dev_keyring(settings.state_dir)


def build_renderer(settings: Settings, *, fast: bool = True, assets: AssetStore | None = None) -> Renderer:
    """The image renderer with the settings' font directories, memo bounds and output cap, reading
    generated scenes from `assets` (default: the settings' asset store)."""
    from versa.render.engine import Renderer

    return Renderer(
        settings.font_dirs,
        assets=assets or build_assets(settings),
        memo_size=settings.memo_items,
        memo_bytes=settings.memo_bytes,
        max_output_bytes=settings.max_output_bytes,
        max_work=settings.max_render_work,
        fast=fast,
    )


def build_origin(settings: Settings, metrics: Metrics | None = None) -> OriginSecrets | None:
    """The origin secret's store when one is configured (deployed), else None: no origin check."""
    if not settings.origin_secret_id:
        return None
    from versa.adapters.origin_secret import SecretsManagerOriginSecrets

    def on_event(name: str, /, **props: str) -> None:
        if metrics is not None:  # "origin_secret_stale" / "origin_secret_unavailable"
            metrics.count("OriginSecretStale" if name == "origin_secret_stale" else "OriginSecretUnavailable",
                          1, **props)

    return SecretsManagerOriginSecrets(
        settings.origin_secret_id,
        max_age=settings.origin_secret_max_age,
        client_factory=lambda: boto_client("secretsmanager", settings),
        on_event=on_event,
    )


def build_service(
    settings: Settings | None = None,
    *,
    metrics: Metrics | None = None,
    log: Callable[..., None] | None = None,
    draw_fallbacks: bool = False,
    count_impressions: bool = False,
) -> RenderService:
    """Wire every port from settings (read from the environment when not given). `draw_fallbacks`
    (`versa serve`): a directory store draws the fallbacks its packs do not give when it loads them.
    `count_impressions` (`versa serve`): the service counts its own impressions into the relevance store
    (in AWS the CDN's real-time logs do). The relevance store is opened on first use."""
    from versa.render.html import HtmlPages
    from versa.web.allocations import CachedSnapshots

    settings = settings or Settings()
    copy = build_copy(settings)
    keyring = build_keyring(settings)
    assets = build_assets(settings)
    renderer = build_renderer(settings, assets=assets)
    packs = build_packs(settings, metrics, prepare=fallback_drawer(renderer) if draw_fallbacks else None)
    queue = build_queue(settings, copy, packs, renderer.fonts, metrics=metrics, log=log, assets=assets)
    relevance = functools.cache(lambda: build_relevance(settings))
    service = RenderService(
        packs,
        copy,
        queue,
        renderer,
        keyring,
        config=ServiceConfig.from_settings(settings),
        metrics=metrics,
        html=HtmlPages(keyring),
        origin=build_origin(settings, metrics),
        log=log,
        memo=RequestMemo(settings.request_memo_items, settings.request_memo_bytes, settings.request_memo_seconds)
        if settings.request_memo_items and settings.request_memo_seconds else None,
        allocations=CachedSnapshots(
            lambda scope, epoch: relevance().snapshot(scope, epoch), settings.allocation_cache_seconds, log=log
        ),
        credit=lambda scope, counts: relevance().add(scope, counts),
        impressions=(lambda scope, counts: relevance().add(scope, counts)) if count_impressions else None,
    )
    from versa.adapters.local_queue import InProcessQueue

    if isinstance(queue, InProcessQueue):
        queue.on_done = service.copy_written  # a written key is read again at once
    return service


# ------------------------------------------------------------------------------ the generator


@dataclass(frozen=True)
class Generator:
    """What the deployed generator (the SQS consumer, `versa.consumer.generator`) runs: the worker with
    its stores, writer, ledger and kill switch; the pack store (a message naming a brand it does not
    know is poison); the idempotency records (None: no duplicate suppression beyond the lease); how long
    a generation key is remembered as done (the lease's length)."""

    worker: GenerationWorker
    packs: PackStore
    idempotency: DynamoDBPersistenceLayer | None
    remember_seconds: int
    worst_seconds: Mapping[str, float] = field(default_factory=dict)
    """The longest one generation of each kind may take (every attempt timing out; a visual's moderation
    call too): a record is not started with less time left in the invocation (it is retried instead)."""


class GeneratorMisconfigured(WriterUnavailable):
    """The generator cannot start as configured (no model, no key): every message would fail alike."""


def build_ledger(settings: Settings) -> SpendingLedger:
    """The spending ledger: shared counters in the generator's state table when one is configured (every
    generator on AWS), else this process's tallies."""
    if settings.generator_table:
        from versa.adapters.dynamo_spending import DynamoSpendingLedger

        return DynamoSpendingLedger(
            settings.generator_table, daily_tokens=settings.copy_daily_tokens, per_minute=settings.copy_per_minute,
            client_factory=lambda: boto_client("dynamodb", settings),
        )
    from versa.generate.worker import Limits, Spending

    return Spending(Limits(settings.copy_kill_switch, settings.copy_daily_tokens, settings.copy_per_minute))


def build_kill_switch(settings: Settings, log: Callable[..., None] | None = None,
                      metrics: Metrics | None = None) -> Callable[[], bool] | None:
    """The kill switch read at each generation (the SSM parameter the settings name), or None."""
    if not settings.copy_kill_switch_parameter:
        return None
    from versa.adapters.parameters import SsmKillSwitch

    def on_event(name: str, /, **props: str) -> None:
        if metrics is not None:
            metrics.count("KillSwitchUnreadable", 1, **props)
        if log is not None:
            log("kill switch unreadable: generation stopped", **props)

    return SsmKillSwitch(settings.copy_kill_switch_parameter, max_age=settings.copy_kill_switch_max_age,
                         client_factory=lambda: boto_client("ssm", settings), on_event=on_event)


def build_generator_writer(settings: Settings) -> CopyWriter:
    """The deployed generator's writer: the OpenAI writer for VERSA_COPY_MODEL, its key from the Secrets
    Manager secret VERSA_OPENAI_SECRET_ID (read now, so a missing secret fails the cold start, and again
    after its max age) or else OPENAI_API_KEY / OPENAI_BASE_URL. Raises GeneratorMisconfigured without a
    model or a key: the generator never falls back to writing defaults."""
    if not settings.copy_model:
        raise GeneratorMisconfigured(
            "VERSA_COPY_MODEL is not set: the generator needs the model that writes copy (Versa has no "
            "built-in model); messages are retried, then go to the dead-letter queue"
        )
    from versa.adapters.openai_writer import OpenAIWriter

    if not settings.openai_secret_id:
        if not (settings.openai_api_key or settings.openai_base_url):
            raise GeneratorMisconfigured("neither VERSA_OPENAI_SECRET_ID nor OPENAI_API_KEY is set: no API key")
        return OpenAIWriter.from_settings(settings)
    from versa.adapters.parameters import RotatingKeyWriter, SecretsManagerValue

    secret = SecretsManagerValue(settings.openai_secret_id, max_age=settings.openai_secret_max_age,
                                 client_factory=lambda: boto_client("secretsmanager", settings))
    model = settings.copy_model

    def make(key: str) -> CopyWriter:
        return OpenAIWriter(model=model, api_key=key, base_url=settings.openai_base_url,
                            timeout=settings.copy_timeout, attempts=settings.copy_attempts)

    writer = RotatingKeyWriter(model, secret.value, make)
    writer.current()  # the key is read at cold start: a missing secret is said at once
    return writer


def build_generator(
    settings: Settings | None = None,
    *,
    metrics: Metrics | None = None,
    log: Callable[..., None] | None = None,
) -> Generator:
    """Wire the deployed generator from settings (the environment when not given): S3 packs, DynamoDB
    copy, the writer (`build_generator_writer`), the shared ledger and kill switch, the idempotency
    records in the generator's state table. Raises GeneratorMisconfigured (no model or key) and
    StoreUnavailable (the key's secret unreadable)."""
    from versa.generate.worker import GenerationWorker, Limits
    from versa.render.scene import FontBook

    settings = settings or Settings()
    writer = build_generator_writer(settings)
    packs = build_packs(settings, metrics)
    fonts = FontBook(settings.font_dirs)
    assets = build_assets(settings)
    worker = GenerationWorker(
        packs, build_copy(settings), writer, fonts,
        limits=Limits(settings.copy_kill_switch, settings.copy_daily_tokens, settings.copy_per_minute),
        ledger=build_ledger(settings), kill_switch=build_kill_switch(settings, log, metrics),
        metrics=metrics, log=log,
        # Visual requests: the painter VERSA_VISUAL_MODEL names (hook: its key from the same secret as the
        # copy writer's) and the asset store (hook: S3 `generated/` when deployed).
        painter=build_painter(settings), assets=assets, contrast=scene_check(assets, fonts),
    )
    idempotency = None
    if settings.generator_table:
        from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

        idempotency = DynamoDBPersistenceLayer(
            table_name=settings.generator_table, key_attr="pk", expiry_attr="expires_at",
            boto3_client=boto_client("dynamodb", settings),
        )
    worst = {
        "copy": settings.copy_timeout * settings.copy_attempts + 5,
        "visual": 2 * settings.visual_timeout * settings.visual_attempts + 5,
    }
    return Generator(worker, packs, idempotency, settings.copy_lease_seconds, worst)
