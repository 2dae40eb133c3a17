"""`versa serve`: the render handler and the preview studio on a local port."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("serve", help="serve packs locally through the Lambda handler, with the preview studio")
    p.add_argument("--packs", default="examples/packs", help="directory of pack directories")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--no-signatures", action="store_true", help="accept unsigned creative URLs (demos only)")
    p.set_defaults(func=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    packs = Path(args.packs)
    if not packs.is_dir():
        print(f"versa: error: --packs {packs}: no such directory", file=sys.stderr)
        return 1
    # Local defaults: quiet metrics/tracing (no CloudWatch or X-Ray here), packs from --packs.
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ["VERSA_PACKS_DIR"] = str(packs)
    if args.no_signatures:
        os.environ["VERSA_REQUIRE_SIGNATURE"] = "false"

    from versa.composition import build_service
    from versa.settings import Settings
    from versa.web import api
    from versa.web.server import serve

    settings = Settings()
    service = build_service(settings, metrics=api.PowertoolsMetrics(), log=api._log)
    api.configure(lambda: service)
    studio = None
    try:
        from versa.web.studio import Studio

        studio = Studio(service, settings)
    except ModuleNotFoundError as exc:
        if exc.name != "versa.web.studio":
            raise
    try:
        server = serve(api.lambda_handler, args.host, args.port, studio)
    except OSError as exc:
        print(f"versa: error: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1
    print(f"Versa is serving {packs} at {server.url}")
    if studio is not None:
        print(f"  preview studio   {server.url}/")
    from versa.signing.signer import signed_url
    from versa.signing.urls import creative_path

    for brand in service.packs.brands():
        try:
            pack = service.packs.current(brand)
        except Exception as exc:  # one broken pack must never keep the healthy brands from being served
            print(f"  {brand}: not served until fixed — {exc}", flush=True)
            print(f"versa: pack {brand!r} failed to load: {exc}", file=sys.stderr, flush=True)
            continue
        for creative in pack.model.creatives:
            print(f"  {brand}/{creative:<14} {server.url}{signed_url(creative_path(brand, creative, 'png'), {}, service.keyring)}")
    print("Press Ctrl+C to stop.", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.shutdown()
    return 0
