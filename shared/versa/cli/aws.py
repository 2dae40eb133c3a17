"""`versa publish`, `versa rollback`, `versa versions`: packs on S3 for the deployed stack.

Credentials and region come from the usual AWS configuration; `--endpoint-url` (or
VERSA_AWS_ENDPOINT_URL) points at another endpoint, such as a local moto server.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--bucket", help="pack bucket (env VERSA_PACK_BUCKET)")
    p.add_argument("--prefix", help="key prefix in the bucket (env VERSA_PACK_PREFIX)")
    p.add_argument("--distribution", help="CloudFront distribution to invalidate (env VERSA_DISTRIBUTION_ID)")
    p.add_argument("--endpoint-url", help=argparse.SUPPRESS)  # env VERSA_AWS_ENDPOINT_URL


def register(sub: Any) -> None:
    p = sub.add_parser("publish", help="validate, lint and publish a pack to S3, then flip its pointer")
    p.add_argument("pack")
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
    return Publisher(config.pack_bucket, prefix=config.pack_prefix, client=s3,
                     distribution_id=config.distribution_id, cloudfront_client=cloudfront)




def _report(result: Any, verb: str) -> None:
    change = "pointer flipped" if result.pointer_changed else "pointer already there"
    print(f"{verb} {result.brand} {result.version} (previous: {result.previous or 'none'}; {change})")
    for key in result.fallbacks:
        print(f"  fallback {key}")
    if result.invalidation_id:
        print(f"  CloudFront invalidation {result.invalidation_id} for /v1/{result.brand}/*")


def cmd_publish(args: argparse.Namespace) -> int:
    _report(_publisher(args).publish(args.pack), "published")
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    _report(_publisher(args).rollback(args.brand, args.to), "rolled back")
    return 0


def cmd_versions(args: argparse.Namespace) -> int:
    infos = _publisher(args).versions(args.brand)
    if not infos:
        print(f"{args.brand}: nothing published", file=sys.stderr)
        return 1
    for info in infos:
        mark = "*" if info.current else " "
        print(f"{mark} {info.version}  {info.uploaded_at:%Y-%m-%d %H:%M:%S %Z}")
    return 0
