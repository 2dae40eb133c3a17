"""`versa warm PACK [CREATIVE]`: write every piece of copy a pack can ask for before a send.

It enumerates the generation keys (`versa.generate.warm`), skips those already done in the copy store
`versa serve` uses, prints the count and the estimate, asks (unless `--yes`, or the estimate is within
`--budget`), then either generates locally, through the same worker, writer, guardrails and store as
the in-process queue (`versa.generate.worker.GenerationWorker`, at most `--concurrency` at once), or
with `--remote` leases each key in the deployed table and enqueues it to the deployed queue for the
generator. Ctrl-C lets the generations in flight finish and stores them (a second Ctrl-C abandons
them); running the same command again resumes. It ends with a summary. The runs themselves are in
`versa.cli.warm_run`.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from versa.cli.main import CliError
from versa.cli.main import settings as cli_settings
from versa.cli.warm_run import Events, LocalRun, OnePack, Outcome, RemoteRun
from versa.generate.warm import (
    CharCounter,
    Estimate,
    Plan,
    Prices,
    Tally,
    TokenCounter,
    breakdown,
    estimate,
    generating_creatives,
    plan,
    visual_cost,
    visual_creatives,
    visual_requests,
    warm_requests,
)
from versa.ports import (
    CopyItem,
    CopyStore,
    CopyWriter,
    GenerationRequest,
)

if TYPE_CHECKING:
    from versa.pack.model import Pack
    from versa.settings import Settings

DEFAULT_CONCURRENCY = 4
MAX_CONCURRENCY = 32
DEFAULT_ENCODING = "o200k_base"
"""tiktoken's encoding for a model it does not know (an approximation for other models' tokenizers)."""
TIKTOKEN_TIMEOUT = 15.0
"""Seconds tiktoken may take to load (or download) its encoding before the estimate falls back."""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "warm", help="generate every copy key of a pack before a send (count, estimate, confirm, generate, resume)"
    )
    p.add_argument("pack", help="pack directory, or a brand of the packs directory")
    p.add_argument("creative", nargs="?", help="one creative (default: every creative with generated copy)")
    p.add_argument("-y", "--yes", action="store_true", help="start without asking")
    p.add_argument("--budget", type=float, metavar="AMOUNT",
                   help="start without asking when the estimated cost is within AMOUNT; refuse when over (needs prices)")
    p.add_argument("--price-in", type=float, metavar="PRICE", help="price of a million prompt tokens (env VERSA_COPY_PRICE_IN)")
    p.add_argument("--price-out", type=float, metavar="PRICE",
                   help="price of a million completion tokens (env VERSA_COPY_PRICE_OUT)")
    p.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY, metavar="N",
                   help=f"generations at once (default {DEFAULT_CONCURRENCY}, at most {MAX_CONCURRENCY})")
    p.add_argument("--tokenizer", choices=["auto", "chars"], default="auto",
                   help="auto: tiktoken when its encoding is available, else characters ÷ 4; chars: characters ÷ 4")
    p.add_argument("--model", help="the model that writes (default: VERSA_COPY_MODEL)")
    p.add_argument("--retry-rejected", action="store_true",
                   help="ask again for keys whose generation failed within the hour (a reviewer's rejection stays)")
    p.add_argument("--remote", action="store_true",
                   help="enqueue to the deployed generation queue instead of generating here")
    p.add_argument("--queue-url", help="the deployed queue (default: VERSA_GENERATION_QUEUE); with --remote")
    p.add_argument("--dry-run", action="store_true", help="print the count and the estimate, generate nothing")
    p.add_argument("--json", action="store_true", help="with --dry-run: the plan and every request as JSON")
    p.add_argument("--packs", help="directory of pack directories, for a brand given as PACK (env VERSA_PACKS_DIR)")
    p.set_defaults(func=cmd_warm)


# ------------------------------------------------------------------------------------ the command


def cmd_warm(args: argparse.Namespace) -> int:
    from versa.composition import build_copy

    if not 1 <= args.concurrency <= MAX_CONCURRENCY:
        raise CliError(f"--concurrency: {args.concurrency} is not between 1 and {MAX_CONCURRENCY}")
    if args.json and not args.dry_run:
        raise CliError("--json goes with --dry-run")
    settings = cli_settings(
        packs_dir=args.packs, copy_model=args.model, generation_queue=args.queue_url,
        copy_price_in=args.price_in, copy_price_out=args.price_out,
    )
    if settings.copy_kill_switch:
        raise CliError("VERSA_COPY_KILL_SWITCH is on: no copy is generated (turn it off to warm)")
    pack = _load(args.pack, settings)
    with_visuals = set(visual_creatives(pack))
    ids = [args.creative] if args.creative else [
        cid for cid in pack.model.creatives if cid in with_visuals or cid in generating_creatives(pack)]
    for cid in ids:
        creative = pack.model.creative(cid)
        if not any(slot.generate for slot in creative.copy_slots.values()) and cid not in with_visuals:
            raise CliError(f"{pack.brand}/{cid}: no copy or visual slot generates (no `generate` block): "
                           "nothing to warm")
    if not ids:
        raise CliError(f"{pack.brand}: no creative has a copy or visual slot that generates: nothing to warm")

    writer, writer_desc, model = _writer(settings, remote=args.remote, check=not args.dry_run)
    requests = warm_requests(pack, args.creative, model=model)
    visuals = visual_requests(pack, args.creative, model=settings.visual_model) if (
        args.creative is None or args.creative in with_visuals) else []
    store = build_copy(settings)
    now = datetime.now(UTC)
    every = [*requests, *visuals]
    todo = plan(every, _stored(store, [r.key for r in every], now), now, retry_rejected=args.retry_rejected)
    copy_todo = [r for r in todo.todo if r.kind == "copy"]
    visual_todo = [r for r in todo.todo if r.kind == "visual"]
    counter, counted_note = _counter(args.tokenizer, model)
    expected = _estimate(pack, copy_todo, counter, model) if model else Estimate(requests=len(copy_todo))
    prices = Prices(settings.copy_price_in, settings.copy_price_out) if (
        settings.copy_price_in is not None and settings.copy_price_out is not None) else None
    cost = prices.cost(expected.prompt_tokens, expected.completion_tokens) if prices else (0.0 if not model else None)
    if not copy_todo:
        cost = 0.0
    visual_price, missing = visual_cost(visual_todo, settings.visual_price, settings.visual_model)
    cost = None if cost is None or visual_price is None else cost + visual_price
    where = f"{pack.brand}/{args.creative}" if args.creative else f"{pack.brand} ({', '.join(ids)})"

    if args.json:
        doc = _plan_json(where, every, todo, expected, counter, cost, model)
        doc["visuals"] = {"model": settings.visual_model, "keys": len(visuals), "todo": len(visual_todo),
                          "cost": visual_price, "missing_prices": missing}
        print(json.dumps(doc, indent=2, ensure_ascii=False))
        return 0
    _print_plan(where, requests, todo, expected, counter, counted_note, prices, cost, writer_desc, model, settings)
    if visuals:
        _print_visuals(visuals, visual_todo, visual_price, missing, settings)
    if args.dry_run:
        return 0
    if not todo.todo:
        print("nothing to generate: every key is done or skipped")
        return 0
    _go_ahead(args, cost)

    started = time.monotonic()
    tally = Tally()
    for why, n in todo.skipped.items():
        tally.add_skip(why, n)
    if args.remote:
        from versa.composition import build_queue

        outcome = RemoteRun(store, build_queue(settings, store), settings.copy_lease_seconds, todo.retake).run(
            todo.todo, tally
        )
    else:
        from versa.composition import build_worker

        events = Events()
        worker = build_worker(settings, store, OnePack(pack), writer=writer, metrics=events, log=events.log)
        outcome = LocalRun(worker, store, events, settings.copy_lease_seconds, todo.retake,
                           concurrency=args.concurrency).run(todo.todo, tally)
    _print_summary(tally, expected, prices, outcome, time.monotonic() - started, settings, model)
    if outcome.interrupted:
        return 130
    return 1 if outcome.stopped or outcome.fatal else 0


def _load(ref: str, settings: Settings) -> Pack:
    from versa.pack.loader import load_pack
    from versa.render.checks import PACK_CHECKS

    path = Path(ref)
    if not path.is_dir():
        candidate = settings.packs_dir / ref
        if not candidate.is_dir():
            raise CliError(f"{ref}: not a pack directory, nor a brand of the packs directory {settings.packs_dir}")
        path = candidate
    return load_pack(path, checks=PACK_CHECKS)


def _writer(settings: Settings, *, remote: bool, check: bool = True) -> tuple[CopyWriter | None, str, str | None]:
    """(the writer for a local run, one line naming who writes, the model the keys are made with).
    With `check`, a model the server does not know or a refused key is a WriterUnavailable now."""
    if remote:
        if not settings.generation_queue:
            raise CliError("--remote needs the deployed generation queue: --queue-url or VERSA_GENERATION_QUEUE")
        if not settings.copy_table:
            raise CliError("--remote needs the deployed copy table (VERSA_COPY_TABLE): keys are leased and "
                           "skipped there, where the generator reads them")
        if not settings.copy_model:
            raise CliError("--remote needs the deployed generator's model (--model or VERSA_COPY_MODEL): the copy "
                           "is stored under keys that name it")
        where = f"the deployed generator (model {settings.copy_model}) through {settings.generation_queue}"
        return None, where, settings.copy_model
    from versa.composition import build_writer

    writer = build_writer(settings)
    ask = getattr(writer, "check", None)
    if check and callable(ask):
        ask()  # an unknown model or a refused key says so now, not after the first call
    if writer.model is None:
        return writer, ("the offline writer (VERSA_COPY_MODEL unset): no model is asked; each key stores its "
                        "slot's default, marked not generated"), None
    return writer, f"model {writer.model} at {settings.openai_base_url or 'OpenAI'}", writer.model


def _stored(store: CopyStore, keys: Sequence[str], now: datetime) -> dict[str, CopyItem | None]:
    """What the store holds under each key: usable copy read in batches, the rest one by one."""
    found: dict[str, CopyItem | None] = dict(store.get_many(keys, now=now))
    for key in keys:
        if key not in found:
            found[key] = store.get(key)
    return found


def _estimate(pack: Pack, requests: Sequence[GenerationRequest], counter: TokenCounter, model: str | None) -> Estimate:
    from versa.generate.brief import BriefError
    from versa.generate.write import prepare
    from versa.render.scene import FontBook

    fonts = FontBook()  # the fit guardrail is never run here: only the prompt is built
    total = Estimate()
    for request in requests:
        try:
            write = prepare(pack, request, model=model, fonts=fonts).write
        except BriefError:
            total += Estimate(requests=1)
            continue
        total += estimate(write, counter)
    return total


# ------------------------------------------------------------------------------------ tokenizer


class TiktokenCounter:
    """Tokens as tiktoken's encoding counts them."""

    def __init__(self, encoding: Any, name: str) -> None:
        self._encoding = encoding
        self.name = f"tiktoken {name}"

    def count(self, text: str) -> int:
        return len(self._encoding.encode(text, disallowed_special=()))


def tiktoken_counter(model: str | None, *, timeout: float = TIKTOKEN_TIMEOUT) -> tuple[TokenCounter | None, str]:
    """tiktoken's counter for `model` (its own encoding, or DEFAULT_ENCODING for a model tiktoken does
    not know), and a note; None and why when tiktoken is missing or its encoding cannot be had. tiktoken
    downloads an encoding on first use and caches it only once its checksum matches, so a failed
    download (no internet) leaves nothing in its cache; it is tried in a thread given `timeout` seconds,
    since a network that drops packets would otherwise hang the command."""
    try:
        import tiktoken
    except ImportError:
        return None, "tiktoken is not installed (pip install 'versa[cli]')"
    try:
        name = tiktoken.encoding_name_for_model(model) if model else DEFAULT_ENCODING
        note = ""
    except KeyError:
        name, note = DEFAULT_ENCODING, f"an approximation: tiktoken does not know {model!r}"
    box: dict[str, Any] = {}

    def load() -> None:
        try:
            box["encoding"] = tiktoken.get_encoding(name)
        except Exception as exc:  # requests' ConnectionError, a checksum mismatch, a read-only cache...
            box["error"] = exc

    thread = threading.Thread(target=load, name="tiktoken-load", daemon=True)
    thread.start()
    thread.join(timeout)
    if "encoding" not in box:
        error = box.get("error")
        why = type(error).__name__ if error else f"no answer within {timeout:g} s"
        return None, f"tiktoken's {name} encoding is not available offline and could not be downloaded ({why})"
    return TiktokenCounter(box["encoding"], name), note


def _counter(choice: str, model: str | None) -> tuple[TokenCounter, str]:
    if choice == "chars" or model is None:
        return CharCounter(), ""
    counter, note = tiktoken_counter(model)
    if counter is None:
        return CharCounter(), note
    return counter, note


# -------------------------------------------------------------------------------------- output


def _n(value: int) -> str:
    return f"{value:,}"


def _money(value: float) -> str:
    return f"{value:,.4f}"


def _plan_json(
    where: str, requests: Sequence[GenerationRequest], todo: Plan, expected: Estimate, counter: TokenCounter,
    cost: float | None, model: str | None,
) -> dict[str, Any]:
    return {
        "pack": where,
        "model": model,
        "keys": len(requests),
        "by_slot": breakdown(requests),
        "todo": len(todo.todo),
        "skipped": todo.skipped,
        "estimate": {"tokenizer": counter.name, "prompt_tokens": expected.prompt_tokens,
                     "completion_tokens": expected.completion_tokens, "cost": cost},
        "requests": [asdict(r) for r in requests],
        "todo_keys": [r.key for r in todo.todo],
    }


def _print_plan(
    where: str, requests: Sequence[GenerationRequest], todo: Plan, expected: Estimate, counter: TokenCounter,
    counted_note: str, prices: Prices | None, cost: float | None, writer: str, model: str | None,
    settings: Settings,
) -> None:
    parts = ", ".join(f"{name} {n}" for name, n in breakdown(requests).items())
    print(f"versa warm {where}: {len(requests)} copy key(s) ({parts})")
    print(f"  writer     {writer}")
    skipped = "; ".join(f"{n} {why}" for why, n in todo.skipped.items())
    print(f"  to write   {len(todo.todo)}" + (f" (skipped {todo.skipped_total}: {skipped})" if skipped else ""))
    if not todo.todo:
        return
    if model is None:
        print("  estimate   no tokens, no cost (the offline writer)")
        return
    how = counter.name + (f"; {counted_note}" if counted_note else "")
    print(f"  estimate   {_n(expected.prompt_tokens)} prompt token(s), at most {_n(expected.completion_tokens)} "
          f"completion token(s) ({how})")
    if prices is None or cost is None:
        print("  cost       unknown: give the prices per million tokens (--price-in/--price-out or "
              "VERSA_COPY_PRICE_IN/VERSA_COPY_PRICE_OUT)")
    else:
        print(f"  cost       about {_money(cost)} at {prices.input:g} in / {prices.output:g} out per million tokens")
    if expected.tokens > settings.copy_daily_tokens:
        print(f"  note       over the daily token budget (VERSA_COPY_DAILY_TOKENS={settings.copy_daily_tokens}): "
              "the run stops when the brand reaches it; run again after midnight UTC to finish")


def _print_visuals(
    visuals: Sequence[GenerationRequest], todo: Sequence[GenerationRequest], price: float | None,
    missing: Sequence[str], settings: Settings,
) -> None:
    """The visual half of the plan: scenes by aspect class, who paints them and what they cost."""
    aspects = Counter(r.aspect for r in visuals)
    print(f"  visuals    {len(visuals)} scene key(s) (" + ", ".join(f"{a} {n}" for a, n in sorted(aspects.items()))
          + f"), {len(todo)} to paint")
    if settings.visual_model is None:
        print("  painter    the offline painter (VERSA_VISUAL_MODEL unset): placeholder scenes, no cost")
        return
    print(f"  painter    model {settings.visual_model}")
    if price is None:
        print("  cost       unknown for visuals: VERSA_VISUAL_PRICES has no price for " + ", ".join(missing))
    else:
        print(f"  cost       visuals about {_money(price)} ({len(todo)} image(s) at the VERSA_VISUAL_PRICES table)")


def _go_ahead(args: argparse.Namespace, cost: float | None) -> None:
    """Return when the run may start; raise CliError when it may not."""
    if args.yes:
        return
    if args.budget is not None:
        if cost is None:
            raise CliError("--budget: the cost is unknown without prices (--price-in/--price-out or "
                           "VERSA_COPY_PRICE_IN/VERSA_COPY_PRICE_OUT); nothing was generated")
        if cost > args.budget:
            raise CliError(f"the estimated cost {_money(cost)} is over --budget {args.budget:g}: nothing was "
                           "generated (raise --budget, warm one creative, or pass --yes)")
        return
    print("Start? [y/N] ", end="", flush=True)
    answer = sys.stdin.readline()
    if answer.strip().lower() not in ("y", "yes"):
        if not answer:
            raise CliError("not confirmed (no answer on standard input): pass --yes, or --budget AMOUNT with prices")
        raise CliError("not confirmed: nothing was generated")


def _print_summary(
    tally: Tally, expected: Estimate, prices: Prices | None, outcome: Outcome, seconds: float, settings: Settings,
    model: str | None,
) -> None:
    rejected = sum(tally.rejected.values())
    head = (f"enqueued {tally.enqueued}" if tally.enqueued else
            f"generated {tally.generated}" + (f", defaults stored {tally.defaults}" if tally.defaults else "")
            + (f", scenes stored {tally.scenes}" if tally.scenes else ""))
    print(f"summary: {head}, rejected {rejected}, skipped {sum(tally.skipped.values())}, "
          f"not done {outcome.not_done} ({seconds:.1f} s)")
    for label, groups in (("rejected", tally.rejected), ("skipped", tally.skipped), ("errors", tally.errors)):
        for why, n in sorted(groups.items(), key=lambda kv: (-kv[1], kv[0])):
            print(f"  {label:<9} {n:>5}  {why}")
            label = ""
    if not tally.enqueued and model is not None:
        spent = f"{_n(tally.prompt_tokens)} in, {_n(tally.completion_tokens)} out"
        print(f"  tokens    {spent} (estimated {_n(expected.prompt_tokens)} in, at most "
              f"{_n(expected.completion_tokens)} out)")
        if prices is not None:
            print(f"  cost      {_money(prices.cost(tally.prompt_tokens, tally.completion_tokens))}")
        else:
            print("  cost      unknown (no prices given)")
    if outcome.stopped:
        print(f"  stopped   {outcome.stopped}")
    if outcome.fatal:
        print(f"  failed    {outcome.fatal}")
    if outcome.not_done:
        print(f"  resume    run the same command again (done keys are skipped): {_command()}")
    if tally.enqueued:
        print("  the deployed generator writes them; `versa copy list` against the table shows what it wrote")


def _command() -> str:
    argv = sys.argv[1:]
    return "versa " + shlex.join(argv) if argv[:1] == ["warm"] else "versa warm PACK [CREATIVE]"


__all__ = ["register", "tiktoken_counter"]
