"""``python -m bot``: run the execution core against a venue, open or close a position, show what it holds.

    python -m bot run --config bot.toml            # resume, reconcile, then every sync interval until Ctrl-C
    python -m bot open --config bot.toml GIGA/USDT:USDT short 920
    python -m bot close --config bot.toml GIGA/USDT:USDT
    python -m bot status --config bot.toml

Exit status: 0 done, 1 refused or failed (the message says why), 2 bad usage or configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path

from bot.app import Bot
from bot.config import ConfigError, load
from bot.errors import BotError, Halt
from bot.lifecycle import IntentState
from bot.repository import Repository
from bot.values import Side


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="The execution core under test.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="resume and reconcile on startup and every sync interval until stopped")
    run.add_argument("--once", action="store_true", help="one pass, then exit")
    opening = commands.add_parser("open", help="open one protected position and exit")
    opening.add_argument("symbol")
    opening.add_argument("side", choices=[s.value for s in Side])
    opening.add_argument("qty", type=_qty)
    closing = commands.add_parser("close", help="close the open position on a symbol and exit")
    closing.add_argument("symbol")
    commands.add_parser("status", help="print intents and positions from the database (no venue call)")
    for sub in (run, opening, closing, commands.choices["status"]):
        sub.add_argument("--config", required=True, help="the bot's TOML file (see docs/bot.md)")
        sub.add_argument("--log-level", default="INFO")
    return parser


def _qty(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"qty must be a number, got {text!r}") from None
    if not value.is_finite() or value <= 0:
        raise argparse.ArgumentTypeError(f"qty must be positive, got {text!r}")
    return value


async def _main(args: argparse.Namespace) -> int:
    config = load(args.config)
    if args.command == "status":
        return _status(config.database)
    bot = await Bot.start(config)
    try:
        if args.command == "run":
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            if args.once:
                await bot.step()
            else:
                print(f"bot running against {bot.venue.name}; sync every {config.sync_interval_s} s; Ctrl-C stops",
                      flush=True)
                await bot.run(stop)
            return 0
        if args.command == "open":
            record = await bot.open(args.symbol, Side(args.side), args.qty)
            print(f"intent {record.intent.intent_id}: {record.state.value}"
                  + (f" ({record.reason})" if record.reason else ""))
            return 0 if record.state is IntentState.OPEN else 1
        position = await bot.close_symbol(args.symbol)
        print(f"position {position.position_id} {position.symbol}: closed ({position.close_reason})")
        return 0
    finally:
        await bot.close()


def _status(database: Path) -> int:
    if not database.exists():
        print(f"no database at {database} yet: the bot has not run with this config", file=sys.stderr)
        return 1
    repo = Repository.open(str(database), _NoClock())
    try:
        for r in repo.intents():
            print(f"intent {r.intent.intent_id} {r.intent.symbol} {r.intent.side.value} {r.intent.qty}:"
                  f" {r.state.value}" + (f" ({r.reason})" if r.reason else ""))
        for p in repo.positions():
            state = "open" if p.is_open else f"closed ({p.close_reason})"
            print(f"position {p.position_id} {p.symbol} {p.side.value} {p.qty} @ {p.entry_price}"
                  f" stop {p.stop_price} [{p.stop_order_id}]: {state}")
    finally:
        repo.close()
    return 0


class _NoClock:
    def now_ms(self) -> int:
        raise AssertionError("status only reads the database")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        return asyncio.run(_main(args))
    except ConfigError as error:
        print(f"configuration: {error}", file=sys.stderr)
        return 2
    except Halt as error:
        print(f"halted: {error}", file=sys.stderr)
        return 1
    except BotError as error:
        print(f"failed: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
