"""The render function outside its requests: warm-up when the handler module loads, and the SnapStart
runtime hooks.

`warm_up` runs the composition root once, at import of functions/render/app.py (Lambda's init phase,
which runs before the first request and at full CPU): the signing keys are read (SSM), the origin secret
is read (Secrets Manager), the renderer and its encoders are imported. None of that is in a library
import: only the handler module calls it. A failure is logged and left for the first request, which
builds the service again and answers as it would have.

With SnapStart (template parameter `SnapStart`), Lambda snapshots the initialized process once per
published version and restores copies of it instead of cold starts. `install_snapstart_hooks` registers
(through `snapshot_restore_py`, part of the Python 3.12+ managed runtimes; absent elsewhere, where
nothing is registered):

- before the snapshot, `before_snapshot`: the warm-up, then every brand's current pack (its bundle
  downloaded to /tmp, which is in the snapshot) and one render of each creative, so fonts, layouts and
  the encoders are loaded in the snapshot;
- after each restore, `after_restore`: new random seeds (every restored copy would otherwise draw the
  same numbers) and everything remembered by the clock forgotten (`RenderService.forget_time_bound`:
  the request memo, the pack pointers' revalidation times, the origin secret's cache). It must finish
  within Lambda's 10 s restore limit: it makes no network call (the pointers and the secret are read
  again by the next request). AWS credentials need nothing: a SnapStart function's SDK clients get
  them from the runtime's credentials endpoint, which they refresh themselves. The signing keys are
  read once per process, as without SnapStart.
"""

from __future__ import annotations

import gc
import random
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from versa.web.service import RenderService

MAX_WARM_BRANDS = 50
"""Brands whose packs are loaded before a snapshot (the first ones listed)."""


def warm_up(service: Callable[[], RenderService], log: Callable[..., None]) -> list[str]:
    """Build the service (keys read), read the origin secret and import the renderer and encoders;
    returns what was warmed, never raises (a failure is logged: the first request tries again)."""
    done: list[str] = []
    try:
        svc = service()
        done.append("service")
        if svc.origin is not None:
            svc.origin.values()
            done.append("origin-secret")
        import versa.render.encode
        import versa.render.engine  # noqa: F401

        done.append("renderer")
    except Exception as exc:  # never fail the init: the first request builds the service again
        log("warm-up failed", error=repr(exc), warmed=done)
    return done


def warm_packs(svc: RenderService, log: Callable[..., None], *, limit: int = MAX_WARM_BRANDS) -> list[str]:
    """Load each brand's current pack and draw each of its creatives once (its fallback, which needs
    no request: fonts, assets and the encoder get loaded); returns the brands loaded, never raises."""
    loaded: list[str] = []
    try:
        brands = svc.brands()[:limit]
    except Exception as exc:
        log("warm-up: brands unavailable", error=repr(exc))
        return loaded
    for brand in brands:
        try:
            pack = svc.current_pack(brand)
            for creative in pack.model.creatives:
                svc.renderer.render_fallback(pack, creative, None)
            loaded.append(brand)
        except Exception as exc:  # one broken pack must not keep the others out of the snapshot
            log("warm-up: pack not loaded", brand=brand, error=repr(exc))
    return loaded


def before_snapshot(service: Callable[[], RenderService], log: Callable[..., None]) -> None:
    """The SnapStart hook before the snapshot: warm up, load the packs, collect garbage."""
    if "service" in warm_up(service, log):
        warm_packs(service(), log)
    gc.collect()


def after_restore(service: Callable[[], RenderService], log: Callable[..., None]) -> None:
    """The SnapStart hook after a restore: reseed, forget the time-bound caches. Never raises (a
    failing hook fails the restore)."""
    random.seed()  # from os.urandom: each restored copy draws its own numbers
    try:
        service().forget_time_bound()
    except Exception as exc:
        log("after-restore failed", error=repr(exc))


def install_snapstart_hooks(service: Callable[[], RenderService], log: Callable[..., None]) -> bool:
    """Register the hooks with the runtime's `snapshot_restore_py`; False where it is not installed
    (local runs, tests, a runtime without SnapStart support)."""
    try:
        from snapshot_restore_py import (  # type: ignore[import-not-found]  # Lambda runtime only
            register_after_restore,
            register_before_snapshot,
        )
    except ImportError:
        return False
    register_before_snapshot(before_snapshot, service, log)
    register_after_restore(after_restore, service, log)
    return True
