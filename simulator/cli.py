"""``python -m simulator serve --venue bybit ...``: a venue for bots in any language."""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import sys
import tempfile
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path

from simulator.catalog import DEFAULT_BALANCE
from simulator.clock import WallClock
from simulator.server import DEFAULT_API_KEY, DEFAULT_API_SECRET, serve_binance, serve_bybit
from virtualtime.trace import NO_TRACE, Trace


def _balance(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"--balance must be a number, got {text!r}") from None
    if not value.is_finite() or value < 0:
        raise argparse.ArgumentTypeError(f"--balance must be a non-negative number, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m simulator", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve a venue until interrupted (Ctrl-C)")
    serve.add_argument("--venue", choices=["bybit", "binance"], required=True, help="which exchange to imitate")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    serve.add_argument("--api-key", default=DEFAULT_API_KEY)
    serve.add_argument("--api-secret", default=DEFAULT_API_SECRET)
    serve.add_argument("--balance", type=_balance, default=DEFAULT_BALANCE, help="USDT the account starts with")
    serve.add_argument("--seed", type=int, default=0, help="seed of every id and random choice")
    serve.add_argument("--control-token", help="token the /sim/ control routes require in X-Sim-Token"
                       " (default: a fresh one, printed at start)")
    serve.add_argument("--trace", action="store_true", help="keep a trace of every request, frame and engine"
                       " change, readable at GET /sim/trace (memory grows with the run)")
    serve.add_argument("--tls", action="store_true", help="speak HTTPS/WSS with a certificate for 127.0.0.1,"
                       " localhost and the venue's real host names, from a throwaway CA")
    serve.add_argument("--ca-file", help="with --tls: where to write the CA certificate clients must trust"
                       " (default: a file in the temp directory, printed at start)")
    return parser


async def _serve(args: argparse.Namespace) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    token = args.control_token or secrets.token_urlsafe(16)
    serve = serve_binance if args.venue == "binance" else serve_bybit
    async with serve(
        seed=args.seed, host=args.host, port=args.port, api_key=args.api_key, api_secret=args.api_secret,
        balance=args.balance, control_token=token, tls=args.tls,
        trace=Trace(WallClock()) if args.trace else NO_TRACE,
    ) as running:
        print(f"{args.venue} venue serving at {running.base_url}", flush=True)
        if running.tls is not None:
            ca_file = Path(args.ca_file or Path(tempfile.gettempdir()) / f"venue-harness-ca-{os.getpid()}.pem")
            try:
                ca_file.write_bytes(running.tls.ca_pem)
            except OSError as error:
                print(f"cannot write the CA certificate to {ca_file}: {error.strerror}; pick another --ca-file",
                      file=sys.stderr, flush=True)
                return 1
            print(f"  TLS       trust the CA in {ca_file}; the certificate also names"
                  f" {', '.join(running.tls_hosts)}", flush=True)
        if args.venue == "bybit":
            ws = running.base_url.replace("http", "ws", 1)
            print(f"  REST      {running.base_url}/v5/...", flush=True)
            print(f"  WS public {ws}/v5/public/linear", flush=True)
            print(f"  WS private {ws}/v5/private", flush=True)
        else:
            ws = running.base_url.replace("http", "ws", 1)
            print(f"  REST      {running.base_url}/fapi/v1/... (v2, v3)", flush=True)
            print(f"  WS user   {ws}/private/ws?listenKey=... or {ws}/ws/<listenKey>"
                  f" (ccxt.pro: urls.api.ws.linear = {ws}/ws)", flush=True)
        print(f"  control   {running.base_url}/sim/... with header X-Sim-Token: {token}", flush=True)
        print(f"  api key {running.api_key!r}, api secret {running.api_secret!r}, seed {args.seed}; Ctrl-C stops",
              flush=True)
        await stop.wait()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.ca_file and not args.tls:
        parser.error("--ca-file is where --tls writes its CA certificate; add --tls, or leave --ca-file out")
    try:
        return asyncio.run(_serve(args))
    except OSError as error:
        print(f"cannot serve on {args.host}:{args.port}: {error.strerror}; pick another --port", file=sys.stderr)
        return 1
