"""`versa publish`, `versa rollback`, `versa versions`: packs on S3 for the deployed stack.

Credentials and region come from the usual AWS configuration; `--endpoint-url` (or
VERSA_AWS_ENDPOINT_URL) points at another endpoint, such as a local moto server. Publishes, rollbacks
and repairs of one brand take turns (`--wait` seconds for another to finish); `versa publish --repair
BRAND` brings a brand's CDN fallbacks back to its pointer's version after a failed operation.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--bucket", help="pack bucket (env VERSA_PACK_BUCKET)")
    p.add_argument("--prefix", help="key prefix in the bucket (env VERSA_PACK_PREFIX)")
    p.add_argument("--distribution", help="CloudFront distribution to invalidate (env VERSA_DISTRIBUTION_ID)")
    p.add_argument("--endpoint-url", help=argparse.SUPPRESS)  # env VERSA_AWS_ENDPOINT_URL
    p.add_argument("--wait", type=float, default=60.0, metavar="SECONDS",
                   help="how long to wait while another publish of the brand holds its lock (default 60)")


def register(sub: Any) -> None:
    p = sub.add_parser("publish", help="validate, lint and publish a pack to S3, then flip its pointer")
    p.add_argument("pack", metavar="PACK", help="the pack directory (with --repair: a brand, or its pack directory)")
    p.add_argument("--repair", action="store_true",
                   help="publish nothing: if the brand's last publish or rollback did not complete, rewrite "
                        "its CDN fallbacks from the version its pointer names")
    _common(p)
    p.set_defaults(func=cmd_publish)
    p = sub.add_parser("rollback", help="point a brand back at an earlier published version")
    p.add_argument("brand")
    p.add_argument("--to", required=True, metavar="VERSION")
    _common(p)
    p.set_defaults(func=cmd_rollback)
    p = sub.add_parser("versions", help="list a brand's published versions")
    p.add_argument("brand")
    _common(p)
    p.set_defaults(func=cmd_versions)


def _publisher(args: argparse.Namespace) -> Any:
    from versa.cli.main import CliError, settings
    from versa.publish.s3 import Publisher

    config = settings(pack_bucket=args.bucket, pack_prefix=args.prefix, distribution_id=args.distribution,
                      aws_endpoint_url=args.endpoint_url)
    if not config.pack_bucket:
        raise CliError("--bucket is required (or set VERSA_PACK_BUCKET; the stack's Bucket output)")
    import boto3

    endpoint = config.aws_endpoint_url
    s3 = boto3.client("s3", endpoint_url=endpoint)
    cloudfront = boto3.client("cloudfront", endpoint_url=endpoint) if config.distribution_id else None
    if args.wait < 0:
        raise CliError(f"--wait: {args.wait} is negative (seconds to wait for the brand's lock, 0 or more)")
    return Publisher(config.pack_bucket, prefix=config.pack_prefix, client=s3,
                     distribution_id=config.distribution_id, cloudfront_client=cloudfront, lock_wait=args.wait,
                     lock_poll=min(2.0, max(args.wait / 10, 0.1)))




def _report(result: Any, verb: str) -> None:
    change = "pointer flipped" if result.pointer_changed else "pointer already there"
    print(f"{verb} {result.brand} {result.version} (previous: {result.previous or 'none'}; {change})")
    if result.repaired:
        print("  the brand's last operation had not completed: its fallbacks now match the pointer again")
    for key in result.fallbacks:
        print(f"  fallback {key}")
    for key in result.pruned:
        print(f"  deleted stale fallback {key}")
    if result.invalidation_id:
        print(f"  CloudFront invalidation {result.invalidation_id} for /v1/{result.brand}/*")


def _brand_of(arg: str) -> str:
    """A brand name, or the brand of the pack directory `arg`."""
    from versa.pack.loader import load_pack
    from versa.render.checks import PACK_CHECKS

    path = Path(arg)
    return load_pack(path, checks=PACK_CHECKS).brand if (path / "pack.yaml").is_file() else arg


def _print_diff(published: Any, release: Any) -> None:
    """What the release changes against the published version, on stderr, before the pointer moves
    (`versa diff`'s summary; a diff that cannot be made is said and does not stop the publish)."""
    from versa.authoring.diff import diff_packs
    from versa.errors import VersaError

    if published is None or release.model is None:
        print(f"{release.brand}: nothing published yet to compare with", file=sys.stderr)
        return
    try:
        diff = diff_packs(published, release.model, old_version="published", new_version=release.version)
    except VersaError as exc:
        print(f"{release.brand}: could not compare with the published version ({exc})", file=sys.stderr)
        return
    for line in diff.summary():
        print(line, file=sys.stderr)


def cmd_publish(args: argparse.Namespace) -> int:
    publisher = _publisher(args)
    if not args.repair:
        _report(publisher.publish(args.pack, before_flip=_print_diff), "published")
        return 0
    brand = _brand_of(args.pack)
    status = publisher.status(brand)
    result = publisher.repair(brand)
    if status.version is None:
        for key in result.pruned:
            print(f"  deleted fallback {key} (left by a failed first publish)")
        if not result.pruned:
            print(f"{brand}: nothing published, nothing to repair", file=sys.stderr)
            return 1
        return 0
    if not result.fallbacks:
        print(f"{brand} {result.version}: fallbacks already match the pointer; nothing to repair")
        return 0
    last = status.journal.describe() if status.journal else "no journal (published before the lock existed)"
    print(f"repaired {brand} {result.version} (last operation: {last})")
    for key in result.fallbacks:
        print(f"  fallback {key}")
    for key in result.pruned:
        print(f"  deleted stale fallback {key}")
    if result.invalidation_id:
        print(f"  CloudFront invalidation {result.invalidation_id} for /v1/{brand}/*")
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    _report(_publisher(args).rollback(args.brand, args.to), "rolled back")
    return 0


def cmd_versions(args: argparse.Namespace) -> int:
    publisher = _publisher(args)
    infos = publisher.versions(args.brand)
    if not infos:
        print(f"{args.brand}: nothing published", file=sys.stderr)
        return 1
    for info in infos:
        mark = "*" if info.current else " "
        print(f"{mark} {info.version}  {info.uploaded_at:%Y-%m-%d %H:%M:%S %Z}")
    status = publisher.status(args.brand)
    if status.journal is not None and status.journal.held(datetime.now(UTC)):
        print(f"{args.brand}: {status.journal.holder or 'a publisher'} holds the brand's lock "
              f"({status.journal.describe()}) until {status.journal.expires_at}", file=sys.stderr)
    elif status.repair_due:
        last = status.journal.describe() if status.journal else "no journal"
        print(f"{args.brand}: fallbacks may not match the pointer (last operation: {last}); "
              f"run `versa publish --repair {args.brand}`", file=sys.stderr)
    return 0
