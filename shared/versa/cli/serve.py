"""`versa serve`: the render handler and the preview studio on a local port."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from types import FrameType
from typing import Any

from versa.cli.main import DEFAULT_HOST, DEFAULT_PORT
from versa.cli.main import settings as cli_settings


def register(sub: Any) -> None:
    p = sub.add_parser("serve", help="serve packs locally through the Lambda handler, with the preview studio")
    p.add_argument("--packs", help="directory of pack directories (default: the packs_dir setting, env VERSA_PACKS_DIR)")
    p.add_argument("--host", default=DEFAULT_HOST)
    p.add_argument("--port", type=int, default=DEFAULT_PORT)
    p.add_argument("--no-signatures", action="store_true", help="accept unsigned creative URLs (demos only)")
    p.add_argument(
        "--visitor-cookie",
        action="store_true",
        help="read and set the first-party visitor cookie as the CDN does with VisitorCookie on (env VERSA_VISITOR_COOKIE)",
    )
    p.add_argument(
        "--workers", type=int, default=0, metavar="N",
        help="processes accepting from one listening socket (default 0: one per CPU core, at most "
        f"{MAX_DEFAULT_WORKERS}); each has its own memo, render pool and generation worker",
    )
    p.set_defaults(func=cmd_serve)


MAX_DEFAULT_WORKERS = 4


def worker_count(requested: int) -> int:
    """How many processes serve: `requested`, or one per CPU core (at most MAX_DEFAULT_WORKERS) for 0;
    always 1 where processes cannot be forked."""
    if not hasattr(os, "fork"):
        return 1
    if requested > 0:
        return requested
    return max(1, min(MAX_DEFAULT_WORKERS, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                      else os.cpu_count() or 1))


def cmd_serve(args: argparse.Namespace) -> int:
    settings = cli_settings(
        packs_dir=args.packs,
        require_signature=False if args.no_signatures else None,
        visitor_cookie=True if args.visitor_cookie else None,
    )
    packs = settings.packs_dir
    if not packs.is_dir():
        print(f"versa: error: --packs {packs}: no such directory", file=sys.stderr)
        return 1
    # Powertools is configured by its own variables: quiet metrics and tracing (no CloudWatch or X-Ray
    # here) unless the caller says otherwise. They are read when versa.web.api is first imported.
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

    if args.workers < 0:
        print(f"versa: error: --workers {args.workers}: a number of processes, 1 or more (0: one per core)",
              file=sys.stderr)
        return 2
    from versa.composition import build_keyring
    from versa.web.server import listening_socket

    try:
        sock = listening_socket(args.host, args.port)
    except OSError as exc:
        print(f"versa: error: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1
    build_keyring(settings)  # a development key is created once, before the workers read it
    children = _fork_workers(worker_count(args.workers) - 1, settings, sock)
    try:
        return _serve_main(args, settings, sock, children)
    finally:
        _stop_workers(children)


def _fork_workers(count: int, settings: Any, sock: Any) -> list[int]:
    """Start `count` worker processes serving from `sock` (forked before this process starts any
    thread or opens any store); each stops on SIGTERM or when this process is gone."""
    children = []
    parent = os.getpid()
    for _ in range(count):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child (tests see it from outside)
            code = 1
            try:
                server, service, _ = _start_serving(settings, sock)
                _wait_for_stop(parent=parent)
                server.shutdown()
                from versa.composition import close_service

                close_service(service)
                code = 0
            finally:
                os._exit(code)
        children.append(pid)
    return children


def _stop_workers(children: list[int]) -> None:
    for pid in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    for pid in children:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def _start_serving(settings: Any, sock: Any) -> tuple[Any, Any, Any]:
    """This process's HTTP server on `sock`, its service and its studio (None without one)."""
    from versa.composition import build_service
    from versa.web import api
    from versa.web.server import dispatcher, serve

    service = build_service(
        settings, metrics=api.PowertoolsMetrics(), log=api._log, draw_fallbacks=True, count_impressions=True
    )
    api.configure(lambda: service)
    studio = None
    try:
        from versa.web.studio import Studio

        studio = Studio(service, settings, copy=service.copy, dispatch=dispatcher(api.lambda_handler))
    except ModuleNotFoundError as exc:
        if exc.name != "versa.web.studio":
            raise
    host, port = sock.getsockname()[:2]
    server = serve(api.lambda_handler, host, port, studio, visitor_cookie=settings.visitor_cookie, sock=sock)
    return server, service, studio


def _serve_main(args: argparse.Namespace, settings: Any, sock: Any, children: list[int]) -> int:
    packs = settings.packs_dir
    server, service, studio = _start_serving(settings, sock)
    print(f"Versa is serving {packs} at {server.url} ({len(children) + 1} process{'es' if children else ''})")
    if studio is not None:
        print(f"  preview studio   {server.url}/")
    from versa.composition import painter_line, writer_line

    print(f"  {writer_line(settings)}", flush=True)
    print(f"  {painter_line(settings)}", flush=True)
    from versa.decide.variants import splits_on_visitor
    from versa.signing.urls import creative_path

    for brand in service.brands():
        try:
            pack = service.current_pack(brand)
        except Exception as exc:  # one broken pack must never keep the healthy brands from being served
            print(f"  {brand}: not served until fixed — {exc}", flush=True)
            print(f"versa: pack {brand!r} failed to load: {exc}", file=sys.stderr, flush=True)
            continue
        for creative, spec in pack.model.creatives.items():
            # A split creative's URL carries vid (a page or an email tool fills it; empty: the cookie or
            # the default arm).
            query = {"vid": ""} if splits_on_visitor(spec) else {}
            print(f"  {brand}/{creative:<14} {server.url}{service.sign(creative_path(brand, creative, 'png'), query)}")
    print("Press Ctrl+C to stop.", flush=True)
    _wait_for_stop()
    print("versa: stopping", flush=True)
    server.shutdown()
    server.server_close()
    from versa.composition import close_service

    line = close_service(service)
    if line:
        print(f"versa: {line}", flush=True)
    return 0


def _wait_for_stop(parent: int | None = None) -> None:
    """Block until SIGINT (Ctrl-C) or SIGTERM (or, for a worker, until its `parent` process is gone);
    a second signal stops the process at once."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    while not stop.wait(1.0):
        if parent is not None and os.getppid() != parent:
            return
