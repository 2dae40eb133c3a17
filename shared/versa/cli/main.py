"""The `versa` command line: validate, lint, explain and render packs; sign URLs; serve locally.

Every command has `--help`. Errors are printed as one clear message (never a traceback) and the exit
status is non-zero: 1 for a problem with the input, 2 for a usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from versa.errors import Issue, PackError, VersaError

if TYPE_CHECKING:
    from versa.settings import Settings

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
"""Where `versa serve` listens unless told otherwise (and so the base of the URLs `versa sign` prints)."""


class CliError(VersaError):
    """A problem with what the user asked for, reported as one line."""


def settings(**flags: Any) -> Settings:
    """The command's settings: the environment (`VERSA_*`), with the flags given (not None) on top."""
    from versa.settings import load_settings

    return load_settings(flags)


def _debug() -> bool:
    from versa.settings import SettingsError, load_settings

    try:
        return load_settings().debug
    except SettingsError:
        return False


# ---------------------------------------------------------------------------------- context flags


def add_context_flags(p: argparse.ArgumentParser) -> None:
    from versa.context.attributes import CLIENTS, DEVICES

    g = p.add_argument_group("simulated request (as signed send-time values, so they always win)")
    g.add_argument("--country", help="ISO 3166 country code, e.g. DE")
    g.add_argument("--tz", help="IANA time zone, e.g. Europe/Berlin")
    g.add_argument("--device", choices=DEVICES)
    g.add_argument("--lang", help="preferred language, e.g. de (negotiated against the pack's locales)")
    g.add_argument("--client", choices=CLIENTS, help="email client class")
    g.add_argument("--at", help="local or zoned date-time, e.g. 2026-12-01T19:30 (default: now)")
    g.add_argument(
        "--param", action="append", default=[], metavar="NAME=VALUE", help="a declared parameter (repeatable)"
    )
    g.add_argument("--vid", metavar="ID", help="a visitor id (its bucket picks the arm of a split; without one, the default arm)")


def simulated_request(args: argparse.Namespace, default_tz: str) -> tuple[dict[str, str], datetime]:
    """The query a preview would sign for these flags, and the clock."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    query: dict[str, str] = {}
    for name in ("country", "tz", "device", "lang", "client"):
        value = getattr(args, name)
        if value:
            query[name] = value
    zone_name = args.tz or default_tz
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CliError(f"--tz: unknown time zone {zone_name!r} (use an IANA name like Europe/Berlin)") from None
    if args.at:
        try:
            at = datetime.fromisoformat(args.at)
        except ValueError:
            raise CliError(f"--at: {args.at!r} is not a date-time like 2026-12-01T19:30") from None
        now = (at if at.tzinfo else at.replace(tzinfo=zone)).astimezone(UTC)
    else:
        now = datetime.now(UTC)
    query["at"] = now.isoformat()
    if getattr(args, "vid", None):
        query["vid"] = args.vid
    for item in args.param:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise CliError(f"--param: {item!r} is not NAME=VALUE")
        query[name] = value
    return query, now


def resolve_simulated(pack: Any, creative_id: str, args: argparse.Namespace) -> Any:
    from versa.context.resolve import SIGNED_OVERRIDES, resolve
    from versa.decide.rules import context_options

    query, now = simulated_request(args, pack.model.default_tz)
    declared = pack.model.creative(creative_id).params
    for item in args.param:
        name = item.partition("=")[0]
        if name not in declared:
            known = ", ".join(sorted(declared)) or "none"
            raise CliError(f"--param: {name!r} is not a parameter of {creative_id} (declared: {known})")
    signed = frozenset(query) | SIGNED_OVERRIDES
    options = context_options(pack.model, creative_id, signed_names=signed)
    return resolve({}, query, now, options)


# --------------------------------------------------------------------------------------- commands


def _load(path: str) -> Any:
    from versa.pack.loader import load_pack
    from versa.render.checks import PACK_CHECKS

    return load_pack(Path(path), checks=PACK_CHECKS)


def cmd_validate(args: argparse.Namespace) -> int:
    from versa.pack.loader import folder_issue

    pack = _load(args.pack)
    mismatch = folder_issue(pack, Path(args.pack).resolve().name)
    if mismatch is not None:
        raise PackError([mismatch], pack=pack.brand)
    creatives = ", ".join(pack.model.creatives)
    print(f"{args.pack}: ok — brand {pack.brand}, version {pack.version}, creatives: {creatives}")
    return 0


def cmd_lint(args: argparse.Namespace) -> int:
    from versa.authoring.lint import lint
    from versa.context.attributes import DEFAULT_KEYABLE

    pack = _load(args.pack)
    keyable = set(DEFAULT_KEYABLE) | set(settings().keyable_extra) | set(args.keyable or [])
    from versa.pack.loader import locate_in_pack

    issues = locate_in_pack(pack.root, lint(pack, keyable=keyable))
    if args.json:
        print(json.dumps([issue.__dict__ for issue in issues], indent=2))
    else:
        for issue in issues:
            print(f"{issue.severity}: {issue}")
    errors = sum(1 for i in issues if i.severity == "error")
    warnings = len(issues) - errors
    print(f"{args.pack}: {errors} error(s), {warnings} warning(s)", file=sys.stderr)
    return 1 if errors else 0


def pack_json_schema() -> dict[str, Any]:
    """The JSON Schema of pack.yaml: the model's schema, widened to the shorthands the loader accepts
    before validation (a plain-string copy default, a single font size, gradient stops as colours or
    [colour, position] pairs), with an empty `when` as the default and creative ids checked."""
    from versa.pack.model import PackModel

    schema = PackModel.model_json_schema()
    defs = schema["$defs"]
    stops = defs["Gradient"]["properties"]["stops"]
    stops["items"] = {
        "anyOf": [
            stops["items"],
            {"type": "string"},
            {"type": "array", "prefixItems": [{"type": "string"}, {"type": "number"}], "minItems": 2, "maxItems": 2},
        ]
    }
    default = defs["CopySlot"]["properties"]["default"]
    defs["CopySlot"]["properties"]["default"] = {
        "description": default.pop("description", ""),
        "anyOf": [{"type": "string"}, default],
    }
    for name in ("TextLayer", "ButtonLayer", "CountdownLayer"):
        size = defs[name]["properties"]["size"]
        described = {k: size.pop(k) for k in ("description", "default", "title") if k in size}
        defs[name]["properties"]["size"] = {**described, "anyOf": [{"type": "integer"}, size]}
    padding = defs["ContainerLayer"]["properties"]["padding"]
    described = {k: padding.pop(k) for k in ("description", "default", "title") if k in padding}
    pair = {"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 2, "maxItems": 2}
    defs["ContainerLayer"]["properties"]["padding"] = {**described, "anyOf": [{"type": "integer"}, pair, padding]}
    defs["Rule"]["properties"]["when"]["default"] = {}
    schema["properties"]["creatives"]["additionalProperties"] = False
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Versa rule pack (pack.yaml)"
    return schema


def cmd_schema(args: argparse.Namespace) -> int:
    print(json.dumps(pack_json_schema(), indent=2))
    return 0


def size_flag(pack: Any, creative_id: str, value: str | None) -> tuple[int, int] | None:
    """`--size WxH` as one of the creative's sizes (None when not given); CliError naming the sizes."""
    from versa.pack.model import parse_size, size_name

    if value is None:
        return None
    try:
        size = parse_size(value)
    except ValueError as exc:
        raise CliError(f"--size: {exc}") from None
    sizes = pack.model.creative(creative_id).all_sizes
    if size not in sizes:
        raise CliError(f"--size: {value} is not a size of {creative_id} (sizes: {', '.join(map(size_name, sizes))})")
    return size


def cmd_decide(args: argparse.Namespace) -> int:
    from versa.decide.rules import decide

    pack = _load(args.pack)
    pack.model.creative(args.creative)
    size = size_flag(pack, args.creative, args.size)
    ctx = resolve_simulated(pack, args.creative, args)
    decision = decide(pack.model, args.creative, ctx, size=size)
    if args.json:
        out = decision.to_json()
        out["context"] = ctx.provenance()
        print(json.dumps(out, indent=2, ensure_ascii=False, default=str))
        return 0
    local = ctx.now.astimezone(ctx.zone)
    print(f"{pack.brand}/{args.creative} for {ctx.country or '??'} {ctx.device} {ctx.client} "
          f"at {local:%a %Y-%m-%d %H:%M} {ctx.tz} ({ctx.daypart}), locale {decision.locale}")
    for t in decision.trace:
        mark = "✓" if t.matched else "·"
        print(f"  {mark} {t.rule:<20} {t.reason}")
    print(f"design key  {decision.design_key} ({decision.size[0]}x{decision.size[1]})")
    until = decision.valid_until.astimezone(ctx.zone).isoformat() if decision.valid_until else "unbounded"
    print(f"valid until {until}")
    print(f"link        {decision.link or '-'}")
    for name, ref in decision.copy.items():
        key = f" [copy key {ref.key}]" if ref.key else ""
        print(f"copy.{name:<8} {ref.default}{key}")
    return 0


def cmd_variants(args: argparse.Namespace) -> int:
    from versa.decide.variants import enumerate_variants

    pack = _load(args.pack)
    creatives = [args.creative] if args.creative else list(pack.model.creatives)
    reports = [enumerate_variants(pack.model, c) for c in creatives]
    if args.json:
        print(json.dumps([r.to_json() for r in reports], indent=2, ensure_ascii=False, default=str))
        return 0
    for report in reports:
        attrs = ", ".join(report.attributes) or "nothing"
        print(f"{report.creative}: {report.summary()} "
              f"({report.combinations} context cells over {attrs} + locale, per size)")
        if report.arms:
            arms = ", ".join(arm.label() for arm in report.arms)
            print(f"  split over vid (the visitor id): {arms}; without an id: the default arm")
        for v in report.variants:
            example = " ".join(f"{k}={val}" for k, val in v.example.items())
            rules = ",".join(v.matched) or "(defaults)"
            size = f"{v.decision.size[0]}x{v.decision.size[1]}"
            print(f"  {v.design_key}  {size:>9}  {v.count:>5}  {rules:<32} {example}")
    return 0


def cmd_sign(args: argparse.Namespace) -> int:
    from datetime import timedelta
    from urllib.parse import parse_qsl, urlencode, urlsplit

    from versa.signing.devkeys import keyring_from_json, load_or_create_dev_keyring
    from versa.signing.esp import parse_merge
    from versa.signing.signer import signed_url

    parts = urlsplit(args.path)
    if not parts.path.startswith("/"):
        raise CliError(f"PATH must start with / (e.g. /v1/acme/winter-sale.png), got {args.path!r}")
    query = parse_qsl(parts.query, keep_blank_values=True)
    if args.keys:
        source = Path(args.keys)
        keyring = keyring_from_json(source.read_text(encoding="utf-8"))
    else:
        state = settings().state_dir
        source = state / "keys.json"
        keyring = load_or_create_dev_keyring(state)
    base = args.base_url.rstrip("/") if args.base_url else ""
    print(f"signed with key {keyring.active_kid} from {source}", file=sys.stderr)
    if args.pin_send:
        query = [(k, v) for k, v in query if k != "send"] + [("send", _pinned_epochs(parts.path))]
        args.path = f"{parts.path}?{urlencode(query)}"
    if args.esp:
        from versa.cli.email import sign_for_esp

        return sign_for_esp(args, keyring, base)
    try:
        merge = parse_merge(args.merge)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    mapped = sorted(name for name, field in merge.items() if field is not None)
    if mapped:
        raise CliError(f"--merge: {', '.join(mapped)} name a field; fields are for --esp (an email tool)")
    expires = datetime.now(UTC) + timedelta(seconds=args.expires) if args.expires else None
    url = signed_url(parts.path, query, keyring, scope=args.scope, expires=expires, merge_names=list(merge))
    print(base + url)
    return 0


def _pinned_epochs(path: str) -> str:
    """`send`'s value for an email send of the creative `path` names: each optimized rule's latest
    allocation epoch in the relevance store (`versa.relevance.serving`); CliError when there is none."""
    from versa.composition import build_relevance
    from versa.pack.loader import load_pack
    from versa.relevance.serving import pin_value
    from versa.relevance.store import scope_of
    from versa.render.checks import PACK_CHECKS

    found = re.fullmatch(r"/v1/([a-z0-9][a-z0-9-]{0,62})/([a-z0-9][a-z0-9-]{0,62})(?:@\d+x\d+)?(?:\.[a-z]{3,4}|/click)", path)
    if found is None:
        raise CliError(f"--pin-send: {path!r} names no creative (allowed /v1/BRAND/CREATIVE.EXT or .../click)")
    brand, creative_id = found.groups()
    conf = settings()
    creative = load_pack(conf.packs_dir / brand, checks=PACK_CHECKS).model.creative(creative_id)
    rules = [rule.id for rule in creative.rules if rule.optimize is not None]
    if not rules:
        raise CliError(f"--pin-send: creative {creative_id!r} of {brand!r} has no optimized rule to pin")
    store = build_relevance(conf)
    epochs = {}
    for rule in rules:
        snapshot = store.snapshot(scope_of(brand, creative_id, rule))
        if snapshot is None:
            raise CliError(f"--pin-send: rule {rule!r} of {brand}/{creative_id} has no allocation yet (run the optimizer)")
        epochs[rule] = snapshot.epoch
    return pin_value(epochs)


# ------------------------------------------------------------------------------------------ main


Handler = Callable[[argparse.Namespace], int]


def build_parser(extra: Sequence[Callable[[Any], None]] = ()) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="versa", description="Versa: rule packs that render the right creative for every request."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("validate", help="load and validate a pack, printing every error at once")
    p.add_argument("pack", help="pack directory (contains pack.yaml)")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("lint", help="errors and warnings a valid pack may still have")
    p.add_argument("pack")
    p.add_argument("--keyable", action="append", metavar="ATTR", help="add an attribute the CDN keys on")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_lint)

    p = sub.add_parser("schema", help="print the JSON Schema of pack.yaml (for editor autocompletion)")
    p.set_defaults(func=cmd_schema)

    p = sub.add_parser("decide", help="decide a creative for a simulated request and explain it")
    p.add_argument("pack")
    p.add_argument("creative")
    add_context_flags(p)
    p.add_argument("--size", default=None, help="one of the creative's sizes, WIDTHxHEIGHT (default: its first)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_decide)

    p = sub.add_parser("variants", help="count and list every distinct design of a creative (exact)")
    p.add_argument("pack")
    p.add_argument("creative", nargs="?")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_variants)

    p = sub.add_parser("sign", help="sign a URL path (the local development key unless --keys)")
    p.add_argument("path", help="e.g. '/v1/acme/winter-sale.png?first_name=Ana'")
    p.add_argument("--scope", help="e.g. debug (needed by the /decision route) or preview")
    p.add_argument("--expires", type=int, metavar="SECONDS", help="valid for this many seconds")
    p.add_argument(
        "--merge", action="append", default=[], metavar="NAME[=FIELD]",
        help="merge parameters left open (template signature); comma-separated or repeated; with --esp, "
        "=FIELD names the email tool's field (default: the tool's usual field for the name)",
    )
    p.add_argument("--esp", choices=("braze", "hubspot", "iterable", "klaviyo", "mailchimp", "salesforce"),
                   help="print an <img> in a click <a>, in this email tool's merge syntax and URL encoding")
    p.add_argument("--pack", metavar="DIR", help="with --esp: the brand's pack (default: the packs directory's)")
    p.add_argument("--alt", help="with --esp: the image's alt text (default: the pack's name)")
    p.add_argument("--base-url", default=f"http://{DEFAULT_HOST}:{DEFAULT_PORT}", help="prefix for the printed URL")
    p.add_argument("--keys", metavar="FILE", help="a keyring JSON file (e.g. the deployed one); default: the dev key")
    p.add_argument("--pin-send", action="store_true",
                   help="an email send: sign send=RULE:EPOCH, each optimized rule's current allocation, so opens "
                   "and clicks of this send keep its arms (sign the image and the click URL alike)")
    p.set_defaults(func=cmd_sign)

    for register in extra:
        register(sub)
    return parser


def _extra_commands() -> list[Callable[[Any], None]]:
    """Commands whose modules bring heavier imports register themselves lazily."""
    found = []
    for module in (
        "versa.cli.render", "versa.cli.serve", "versa.cli.aws", "versa.cli.copy", "versa.cli.visuals", "versa.cli.warm",
        "versa.cli.init", "versa.cli.sheet", "versa.cli.diff", "versa.cli.export", "versa.cli.report", "versa.cli.cost",
    ):
        try:
            mod = __import__(module, fromlist=["register"])
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue
        found.append(mod.register)
    return found


def _fail(message: str, code: int = 1) -> NoReturn:
    print(f"versa: error: {message}", file=sys.stderr)
    raise SystemExit(code)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(_extra_commands())
    args = parser.parse_args(argv)
    func: Handler = args.func
    try:
        return func(args)
    except PackError as exc:
        print(f"versa: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `versa variants ... | head`: the reader left; stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except (VersaError, OSError, ValueError) as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # never a traceback unless asked for
        if _debug():
            raise
        _fail(f"internal error: {type(exc).__name__}: {exc} (set VERSA_DEBUG=1 for a traceback)", 70)


__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "CliError",
    "Issue",
    "add_context_flags",
    "build_parser",
    "main",
    "pack_json_schema",
    "resolve_simulated",
    "settings",
]


if __name__ == "__main__":
    sys.exit(main())
