"""The generation worker: what runs one queued `GenerationRequest` to stored copy, within the spending
bounds. The in-process queue (`versa.adapters.local_queue`) calls `GenerationWorker.run` on its own
thread; nothing here runs on the request path.

For each request: the kill switch, the brand's daily token budget and the rate limit are checked first,
through a `SpendingLedger` (this process's tallies, `Spending`, or counters every generator shares on
AWS); a stop is logged, counted and leaves the lease to expire, so the slot keeps its default and a later
miss asks again. Then the lease is read back, the brand's current pack loaded, `generate_copy` run
with the configured writer, and its outcome written over the lease with a conditional write (the
lease's version), so a generator whose lease was replaced cannot overwrite its successor.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from versa.generate.review import review_required, visual_review_required
from versa.generate.visual import generate_visual
from versa.generate.write import Outcome, generate_copy
from versa.pack.model import Pack
from versa.ports import (
    AssetStore,
    CopyItem,
    CopyStatus,
    CopyStore,
    CopyWriter,
    GenerationRequest,
    PackStore,
    SpendingLedger,
    VisualWriter,
    WriterUnavailable,
)
from versa.render.scene import FontBook

SceneCheck = Callable[[Pack, str, str, str, str], list[str]]
"""(pack, creative, visual slot, stored asset key, aspect class) -> problems: what the worker runs on a stored scene
before it is offered for review (the text-contrast check)."""

COPY_TTL = timedelta(days=7)
"""How long written copy serves before it is written again, unless the slot's `generate.ttl` says."""
FAILURE_TTL = timedelta(hours=1)
"""How long a failed generation (no candidate passed, the writer failed) keeps the slot on its default
before a miss asks again."""


class Counter(Protocol):
    def count(self, name: str, value: float = 1, /, **props: Any) -> None: ...


@dataclass(frozen=True)
class Limits:
    """The spending bounds (`VERSA_COPY_KILL_SWITCH`, `VERSA_COPY_DAILY_TOKENS`, `VERSA_COPY_PER_MINUTE`)."""

    kill_switch: bool = False
    daily_tokens: int = 200_000
    per_minute: int = 30


class Attempt(StrEnum):
    """What one run of a generation request came to (`GenerationWorker.attempt`)."""

    written = "written"
    """Copy, or a failure that keeps the default, was stored under the lease."""
    stopped = "stopped"
    """A spending bound (kill switch, budget, rate) stopped it before a writer was asked: the lease
    expires and a later miss asks again."""
    skipped = "skipped"
    """Nothing to do: the key is no longer pending (written meanwhile, or never leased)."""
    lost = "lost"
    """The lease was replaced while writing: the successor's write stands."""
    unavailable = "unavailable"
    """The writer cannot write as configured (no model, an unknown model, a refused key)."""


class Spending(SpendingLedger):
    """The in-process ledger: per-brand tokens spent today (UTC) and the generations started in the last
    minute (a sliding window), in this process. Thread-safe."""

    def __init__(self, limits: Limits, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._lock = threading.Lock()
        self._day: date | None = None
        self._spent: dict[str, int] = {}
        self._starts: deque[float] = deque()

    def admit(self, brand: str, today: date) -> str | None:
        """None when a generation for `brand` may start now (and counts it against the rate), else the
        bound that stops it: "kill-switch", "budget" or "rate"."""
        if self.limits.kill_switch:
            return "kill-switch"
        with self._lock:
            if self._day != today:
                self._day, self._spent = today, {}
            if self._spent.get(brand, 0) >= self.limits.daily_tokens:
                return "budget"
            now = self._clock()
            while self._starts and self._starts[0] <= now - 60:
                self._starts.popleft()
            if len(self._starts) >= self.limits.per_minute:
                return "rate"
            self._starts.append(now)
            return None

    def spend(self, brand: str, today: date, tokens: int) -> None:
        with self._lock:
            if self._day != today:
                self._day, self._spent = today, {}
            self._spent[brand] = self._spent.get(brand, 0) + tokens

    def spent(self, brand: str, today: date | None = None) -> int:
        with self._lock:
            if today is not None and self._day != today:
                return 0
            return self._spent.get(brand, 0)


class GenerationWorker:
    """Runs generation requests to stored copy (see the module doc)."""

    def __init__(
        self,
        packs: PackStore,
        store: CopyStore,
        writer: CopyWriter,
        fonts: FontBook,
        *,
        limits: Limits | None = None,
        ledger: SpendingLedger | None = None,
        kill_switch: Callable[[], bool] | None = None,
        metrics: Counter | None = None,
        log: Callable[..., None] | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        painter: VisualWriter | None = None,
        assets: AssetStore | None = None,
        contrast: SceneCheck | None = None,
    ) -> None:
        self.packs = packs
        self.store = store
        self.writer = writer
        self.fonts = fonts
        self.limits = limits or Limits()
        self.spending: SpendingLedger = ledger or Spending(self.limits)
        self.kill_switch = kill_switch or (lambda: False)
        """A kill switch read at each request (on AWS: an SSM parameter), besides `limits.kill_switch`."""
        self.metrics = metrics
        self.log = log or (lambda *a, **k: None)
        self.now = now
        self.painter = painter
        """Paints visual slots' scenes (None: visual requests find the writer unavailable)."""
        self.assets = assets
        """Where painted scenes are stored (content-addressed)."""
        self.contrast = contrast
        """The text-contrast check over a stored scene (`versa.authoring.scenes.contrast_problems`, handed
        in by the composition root, since generate may not import authoring); None: not checked."""

    def _count(self, name: str, value: float = 1, **props: Any) -> None:
        if self.metrics is not None:
            self.metrics.count(name, value, **props)

    def run(self, request: GenerationRequest) -> bool:
        """Generate and store the copy for `request`; True when something was written under its key
        (copy, or a failure that keeps the default). Never raises."""
        try:
            return self.attempt(request) is Attempt.written
        except Exception as exc:  # a worker thread must survive anything one request does
            self._count("CopyGenerationErrors", brand=request.brand, reason=repr(exc))
            self.log("copy generation crashed", key=request.key, error=repr(exc))
            return False

    def attempt(self, request: GenerationRequest) -> Attempt:
        """Generate and store the copy for `request` and say what came of it. Raises what the stores,
        the pack or the ledger raise (StoreUnavailable, UnknownBrand, PackError...): a queue consumer
        decides whether to retry."""
        now = self.now()
        today = now.date()
        stop = "kill-switch" if self.limits.kill_switch or self.kill_switch() else None
        stop = stop or self.spending.admit(request.brand, today)
        if stop is not None:
            self._count("CopyGenerationStopped", brand=request.brand, bound=stop)
            self.log("copy generation stopped", bound=stop, brand=request.brand, key=request.key,
                     spent=self.spending.spent(request.brand, today))
            return Attempt.stopped
        lease = self.store.get(request.key)
        if lease is None or lease.status is not CopyStatus.pending:
            return Attempt.skipped  # written meanwhile, or never leased: nothing to do
        pack = self.packs.current(request.brand)
        if request.kind == "visual":
            return self._attempt_visual(pack, request, lease)
        try:
            outcome = generate_copy(pack, request, self.writer, fonts=self.fonts)
        except WriterUnavailable as exc:
            self._count("CopyWriterUnavailable", brand=request.brand)
            self.log("copy writer unavailable", error=str(exc))
            return Attempt.unavailable
        self.spending.spend(request.brand, today, outcome.tokens)
        if outcome.tokens:
            self._count("CopyTokens", outcome.tokens, brand=request.brand, model=self.writer.model)
        review = review_required(pack.model, request.creative, request.slot)
        item = self._item(request, outcome, lease.version, review=review)
        written = self.store.put_result(item, expected_version=lease.version)
        if not written:
            self._count("CopyWriteLost", brand=request.brand, key=request.key)
            return Attempt.lost
        if outcome.passed:
            self._count("CopyGenerated" if outcome.generated else "CopyDefaulted", brand=request.brand,
                        slot=request.slot)
        else:
            self._count("CopyGenerationFailed", brand=request.brand, slot=request.slot, failure=outcome.failure)
            self.log("copy generation failed", key=request.key, failure=outcome.failure,
                     rejections=[r.to_json() for r in outcome.rejections])
        return Attempt.written

    def _attempt_visual(self, pack: Pack, request: GenerationRequest, lease: CopyItem) -> Attempt:
        """Paint, guard and store one visual slot's scene under the lease (see `generate_visual`): the
        image into the asset store, its key as the item's text, `review` unless the slot turns review
        off; a failure (brief, writer, guardrails, text contrast) stored `rejected` with its reasons."""
        if self.painter is None or self.assets is None:
            self._count("VisualWriterUnavailable", brand=request.brand)
            self.log("visual writer unavailable", error="no painter or asset store configured")
            return Attempt.unavailable
        try:
            outcome = generate_visual(pack, request, self.painter)
        except WriterUnavailable as exc:
            self._count("VisualWriterUnavailable", brand=request.brand)
            self.log("visual writer unavailable", error=str(exc))
            return Attempt.unavailable
        meta: dict[str, Any] = {**outcome.meta(), "writer": type(self.painter).__name__, "slot": request.slot,
                                "brand": request.brand, "creative": request.creative, "locale": request.locale,
                                "vary": {**request.vary, "aspect": request.aspect}}
        now = self.now()
        asset_key: str | None = None
        failure = outcome.failure
        if outcome.passed and outcome.image is not None:
            asset_key = self.assets.put(request.brand, outcome.image, "png")
            problems = (self.contrast(pack, request.creative, request.slot, asset_key, request.aspect)
                        if self.contrast else [])
            if problems:
                self.assets.reject(asset_key)
                meta["rejections"] = [*meta["rejections"], *({"text": asset_key, "check": "contrast", "reason": p}
                                                             for p in problems)]
                failure = "text over the scene fails WCAG AA contrast: " + "; ".join(problems[:3])
        if failure is None and asset_key is not None:
            creative = pack.model.creatives[request.creative]
            spec = creative.visuals[request.slot].generate
            ttl = timedelta(seconds=spec.ttl) if spec else COPY_TTL
            review = visual_review_required(pack.model, request.creative, request.slot)
            item = CopyItem(request.key, CopyStatus.review if review else CopyStatus.generated, text=asset_key,
                            version=lease.version + 1, expires_at=now + ttl, meta=meta, brand=request.brand)
        else:
            meta["asset"] = asset_key
            item = CopyItem(request.key, CopyStatus.rejected, version=lease.version + 1,
                            expires_at=now + FAILURE_TTL, reason=failure or "painting failed", meta=meta,
                            brand=request.brand)
        if not self.store.put_result(item, expected_version=lease.version):
            self._count("CopyWriteLost", brand=request.brand, key=request.key)
            return Attempt.lost
        if item.status is CopyStatus.rejected:
            self._count("VisualGenerationFailed", brand=request.brand, slot=request.slot)
            self.log("visual generation failed", key=request.key, failure=item.reason)
        else:
            self._count("VisualGenerated" if outcome.generated else "VisualPlaceholder", brand=request.brand,
                        slot=request.slot, quality=meta.get("quality"))
        return Attempt.written

    def _item(self, request: GenerationRequest, outcome: Outcome, version: int, *, review: bool = False) -> CopyItem:
        """The stored outcome: passing copy (status `review` when a model wrote it and the slot requires
        review, else `generated`), or the failure; with brand, creative, locale and vary_by values for
        listings and review."""
        now = self.now()
        meta = {**outcome.meta(), "writer": type(self.writer).__name__, "slot": request.slot,
                "tokens": outcome.tokens, "brand": request.brand, "creative": request.creative,
                "locale": request.locale, "vary": dict(request.vary)}
        if outcome.passed:
            ttl = request.constraints.get("ttl")
            fresh = timedelta(seconds=ttl) if isinstance(ttl, int) and not isinstance(ttl, bool) else COPY_TTL
            status = CopyStatus.review if review and outcome.generated else CopyStatus.generated
            return CopyItem(request.key, status, text=outcome.text, version=version + 1,
                            expires_at=now + fresh, meta=meta, brand=request.brand)
        return CopyItem(request.key, CopyStatus.rejected, text=None, version=version + 1,
                        expires_at=now + FAILURE_TTL, reason=outcome.failure or "generation failed", meta=meta,
                        brand=request.brand)


__all__ = ["COPY_TTL", "FAILURE_TTL", "Attempt", "GenerationWorker", "Limits", "SceneCheck", "Spending"]
