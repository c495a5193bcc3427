"""Listen keys: 60 minutes of life, kept by PUT, announced with listenKeyExpired when they lapse.

Raw sockets show the venue's wire; ccxt.pro shows what a client that keeps its key alive (and one
whose key lapses anyway) goes through.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import ccxt
import pytest
import pytest_asyncio

from simulator.server import RunningBinance
from simulator.testing import watching_binance

pytestmark = pytest.mark.virtual_time
BTC = "BTC/USDT:USDT"
MINUTE = 60.0


@pytest_asyncio.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as opened:
        yield opened


async def listen_key(session: aiohttp.ClientSession, venue: RunningBinance, method: str) -> tuple[int, Any]:
    async with session.request(method, venue.base_url + "/fapi/v1/listenKey",
                               headers={"X-MBX-APIKEY": venue.api_key}) as response:
        return response.status, await response.json()


async def user_stream(session: aiohttp.ClientSession, venue: RunningBinance, key: str) -> Any:
    ws_url = venue.base_url.replace("http", "ws", 1) + f"/private/ws?listenKey={key}"
    ws = await session.ws_connect(ws_url)
    await asyncio.wait_for(venue.venue.streams.wait_listening(venue.account.account_id), 10)
    return ws


async def next_event(ws: Any, timeout_s: float = 10) -> dict[str, Any]:
    message = await asyncio.wait_for(ws.receive(), timeout_s)
    assert message.type is aiohttp.WSMsgType.TEXT, f"expected a text frame, got {message.type} {message.data!r}"
    event: dict[str, Any] = json.loads(message.data)
    return event


async def test_post_returns_the_live_key_and_put_extends_it(
    binance_venue: RunningBinance, session: aiohttp.ClientSession,
) -> None:
    status, first = await listen_key(session, binance_venue, "POST")
    assert status == 200 and len(first["listenKey"]) == 64
    await asyncio.sleep(50 * MINUTE)
    assert await listen_key(session, binance_venue, "POST") == (200, first)  # the same key, extended
    await asyncio.sleep(50 * MINUTE)
    assert await listen_key(session, binance_venue, "PUT") == (200, first)  # 100 min after creation, still live
    keys = binance_venue.venue.listen_keys
    account = binance_venue.account.account_id
    live = keys.live(account, binance_venue.engine.now_ms())
    assert live is not None and live.expires_ms == binance_venue.engine.now_ms() + 60 * 60_000


async def test_a_key_left_alone_lapses_with_listen_key_expired_and_the_stream_goes_quiet(
    binance_venue: RunningBinance, session: aiohttp.ClientSession,
) -> None:
    _, opened = await listen_key(session, binance_venue, "POST")
    key = opened["listenKey"]
    ws = await user_stream(session, binance_venue, key)
    started = binance_venue.engine.now_ms()

    expired = await next_event(ws, timeout_s=2 * 3600)
    assert expired == {"e": "listenKeyExpired", "E": str(started + 60 * 60_000), "listenKey": key}
    assert not ws.closed  # Binance keeps the socket; it just carries nothing more

    rest = binance_venue.rest_client()
    await rest.create_order(BTC, "market", "buy", 0.01)
    with pytest.raises(TimeoutError):
        await next_event(ws, timeout_s=30)

    assert await listen_key(session, binance_venue, "PUT") == (400, {
        "code": -1125, "msg": "This listenKey does not exist."})
    _, renewed = await listen_key(session, binance_venue, "POST")
    assert renewed["listenKey"] != key
    fresh = await user_stream(session, binance_venue, renewed["listenKey"])
    await rest.create_order(BTC, "market", "buy", 0.01)
    assert (await next_event(fresh))["e"] == "ORDER_TRADE_UPDATE"
    await ws.close()
    await fresh.close()


async def test_a_lapsed_key_refuses_new_connections(
    binance_venue: RunningBinance, session: aiohttp.ClientSession,
) -> None:
    _, opened = await listen_key(session, binance_venue, "POST")
    await asyncio.sleep(61 * MINUTE)
    ws_url = binance_venue.base_url.replace("http", "ws", 1) + f"/private/ws?listenKey={opened['listenKey']}"
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await session.ws_connect(ws_url)
    assert refused.value.status == 400


async def test_delete_closes_the_stream(binance_venue: RunningBinance, session: aiohttp.ClientSession) -> None:
    _, opened = await listen_key(session, binance_venue, "POST")
    ws = await user_stream(session, binance_venue, opened["listenKey"])

    assert await listen_key(session, binance_venue, "DELETE") == (200, {})

    message = await asyncio.wait_for(ws.receive(), 10)
    assert message.type is aiohttp.WSMsgType.CLOSE
    assert binance_venue.venue.listen_keys.live(binance_venue.account.account_id, binance_venue.engine.now_ms()) is None


async def test_a_connection_ends_at_24_hours(binance_venue: RunningBinance, session: aiohttp.ClientSession) -> None:
    _, opened = await listen_key(session, binance_venue, "POST")
    ws = await user_stream(session, binance_venue, opened["listenKey"])
    connected = binance_venue.engine.now_ms()

    async def keep_alive() -> None:
        while True:
            await asyncio.sleep(30 * MINUTE)
            await listen_key(session, binance_venue, "PUT")

    keeper = asyncio.ensure_future(keep_alive())
    message = await asyncio.wait_for(ws.receive(), 25 * 3600)
    keeper.cancel()
    assert message.type is aiohttp.WSMsgType.CLOSE
    assert binance_venue.engine.now_ms() - connected == 24 * 3600_000


async def test_ccxt_pro_renews_once_then_lets_an_idle_key_lapse(binance_venue: RunningBinance) -> None:
    # ccxt 4.5.90's keep_alive_listen_key re-arms only for clients it finds with safe_dict, and its
    # clients are not dicts: after the first PUT (20 min) nothing renews the key until the next
    # watch call re-authenticates. One long-pending watch_orders goes deaf at 80 min (ccxt#6760).
    rest, pro, watching = await watching_binance(binance_venue)

    await asyncio.sleep(5 * 3600)
    await rest.create_order(BTC, "market", "buy", 0.01)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(asyncio.shield(watching), 60)

    records = binance_venue.venue.trace.records
    [posted] = [r.at_ms for r in records if r.kind == "rest.request" and r.fields.get("method") == "POST"
                and r.fields.get("path") == "/fapi/v1/listenKey"]
    puts = [r.at_ms for r in records if r.kind == "rest.request" and r.fields.get("method") == "PUT"]
    expired = [r for r in records if r.kind == "ws.out" and r.fields["frame"].get("e") == "listenKeyExpired"]
    [put] = puts  # ccxt's delay, then its own rate limiter's spacing
    assert 20 * 60_000 <= put - posted < 20 * 60_000 + 1_000
    assert [int(r.fields["frame"]["E"]) for r in expired] == [put + 60 * 60_000]
    watching.cancel()


async def test_a_client_that_calls_watch_again_keeps_its_key(binance_venue: RunningBinance) -> None:
    # Each watch call re-authenticates once 20 min 10 s have passed, and a POST extends the live key.
    rest, pro = binance_venue.rest_client(), binance_venue.pro_client()
    await rest.load_markets()
    pro.set_markets_from_exchange(rest)
    for _ in range(30):  # 5 hours
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(pro.watch_orders(), 10 * MINUTE)
    watching = asyncio.ensure_future(pro.watch_orders())
    order = await rest.create_order(BTC, "market", "buy", 0.01)
    [pushed] = await asyncio.wait_for(watching, 10)
    assert pushed["id"] == order["id"]


async def test_ccxt_pro_after_a_lapsed_key_fails_its_keepalive_then_recovers_with_a_new_key(
    binance_venue: RunningBinance,
) -> None:
    account = binance_venue.account.account_id
    rest, pro, watching = await watching_binance(binance_venue)

    lapsed = binance_venue.venue.streams.lapse(account)
    await rest.create_order(BTC, "market", "buy", 0.01)  # never pushed: the stream carries nothing now

    # ccxt.pro ignores listenKeyExpired; its next keepalive (20 min) is refused and fails the waiting watch.
    with pytest.raises(ccxt.BaseError, match="-1125"):
        await asyncio.wait_for(watching, 21 * MINUTE)

    again = asyncio.ensure_future(pro.watch_orders())
    await asyncio.wait_for(binance_venue.venue.streams.wait_listening(account), 10)
    live = binance_venue.venue.listen_keys.live(account, binance_venue.engine.now_ms())
    assert live is not None and live.key != lapsed
    order = await rest.create_order(BTC, "market", "buy", 0.01)
    [pushed] = await asyncio.wait_for(again, 10)
    assert pushed["id"] == order["id"]
