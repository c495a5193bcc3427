"""The standalone venue, started the way the README says, traded against by ccxt."""

from __future__ import annotations

import asyncio
import json
import signal
import ssl
import sys
import urllib.error
import urllib.request
from pathlib import Path

import ccxt.async_support as ccxt_async
import pytest

from simulator.ccxt_config import binance_config, bybit_config
from simulator.tls import BINANCE_HOSTS, real_url_session


async def test_serve_prints_its_url_trades_with_ccxt_and_stops_on_sigint() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "simulator", "serve", "--venue", "bybit", "--host", "127.0.0.1", "--port", "0",
        "--api-key", "KEY", "--api-secret", "SECRET", "--balance", "2500", "--seed", "5", "--trace",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        banner = [(await asyncio.wait_for(proc.stdout.readline(), 20)).decode() for _ in range(6)]
        base_url = banner[0].rsplit(" ", 1)[-1].strip()
        assert base_url.startswith("http://127.0.0.1:")
        [token_line] = [line for line in banner if "X-Sim-Token" in line]
        token = token_line.rsplit(" ", 1)[-1].strip()
        client = ccxt_async.bybit(bybit_config(base_url, "KEY", "SECRET"))
        try:
            assert (await client.fetch_balance())["USDT"]["total"] == 2500.0
            await client.create_order("ETH/USDT:USDT", "market", "buy", 0.1)
            price = json.dumps({"symbol": "ETHUSDT", "price": "3100"}).encode()
            unsigned = urllib.request.Request(f"{base_url}/sim/price", data=price, method="POST")
            with pytest.raises(urllib.error.HTTPError) as refused:
                await asyncio.to_thread(urllib.request.urlopen, unsigned)
            assert refused.value.code == 401  # the control routes want the printed token
            request = urllib.request.Request(f"{base_url}/sim/price", data=price, method="POST",
                                             headers={"X-Sim-Token": token})
            await asyncio.to_thread(urllib.request.urlopen, request)
            (position,) = await client.fetch_positions()
            assert (position["contracts"], position["unrealizedPnl"]) == (0.1, 10.0)
            traced = urllib.request.Request(f"{base_url}/sim/trace", headers={"X-Sim-Token": token})
            with await asyncio.to_thread(urllib.request.urlopen, traced) as answer:
                kinds = [r["kind"] for r in json.loads(answer.read())["records"]]
            assert "execution" in kinds and "rest.request" in kinds
        finally:
            await client.close()
    finally:
        proc.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(proc.wait(), 20)
    assert code == 0, (await proc.stderr.read()).decode() if proc.stderr else code


async def test_a_busy_port_is_reported_with_the_fix() -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "simulator", "serve", "--venue", "bybit", "--port", str(port),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        _, err = await asyncio.wait_for(proc.communicate(), 20)
    finally:
        server.close()
    assert proc.returncode == 1
    assert f"cannot serve on 127.0.0.1:{port}" in err.decode() and "pick another --port" in err.decode()


async def test_serve_binance_answers_ccxt_binanceusdm() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "simulator", "serve", "--venue", "binance", "--port", "0", "--api-key", "KEY",
        "--api-secret", "SECRET", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        first = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode()
        assert first.startswith("binance venue serving at http://127.0.0.1:")
        client = ccxt_async.binanceusdm(binance_config(first.rsplit(" ", 1)[-1].strip(), "KEY", "SECRET"))
        try:
            assert "TOWNS/USDT:USDT" in await client.load_markets()
            order = await client.create_order("TOWNS/USDT:USDT", "market", "buy", 1000)
            assert (order["status"], order["filled"]) == ("closed", 1000.0)
        finally:
            await client.close()
    finally:
        proc.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(proc.wait(), 20)
    assert code == 0


async def test_serve_with_tls_keeps_binances_real_urls_and_exception_classes(tmp_path: Path) -> None:
    ca_file = tmp_path / "ca.pem"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "simulator", "serve", "--venue", "binance", "--port", "0", "--api-key", "KEY",
        "--api-secret", "SECRET", "--tls", "--ca-file", str(ca_file),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        first = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode()
        assert first.startswith("binance venue serving at https://127.0.0.1:")
        base_url = first.rsplit(" ", 1)[-1].strip()
        tls_line = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode()
        assert str(ca_file) in tls_line and "fapi.binance.com" in tls_line

        # By address, trusting the CA it wrote:
        direct = ccxt_async.binanceusdm({**binance_config(base_url, "KEY", "SECRET"),
                                         "ssl_context": ssl.create_default_context(cafile=str(ca_file))})
        # By Binance's own URLs, resolved to the local server: production's exception classes.
        session = real_url_session(BINANCE_HOSTS, int(base_url.rsplit(":", 1)[1]), ca_file=str(ca_file))
        real = ccxt_async.binanceusdm({"apiKey": "KEY", "secret": "SECRET", "session": session,
                                       "options": {"fetchCurrencies": False}})
        try:
            assert (await direct.fetch_balance())["USDT"]["total"] == 10_000.0
            assert real.urls["api"]["fapiPrivate"].startswith("https://fapi.binance.com/")
            with pytest.raises(ccxt_async.InsufficientFunds, match="-2019"):
                await real.create_order("TOWNS/USDT:USDT", "market", "buy", 4_000_000)
            order = await real.create_order("TOWNS/USDT:USDT", "market", "buy", 1000)
            assert order["status"] == "closed"
        finally:
            await direct.close()
            await real.close()
            await session.close()
    finally:
        proc.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(proc.wait(), 20)
    assert code == 0, (await proc.stderr.read()).decode() if proc.stderr else code
