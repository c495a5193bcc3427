"""WebSocket streams through unmodified ccxt.pro, and raw frames ccxt would never send."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from simulator.bybit.auth import sign
from simulator.server import RunningVenue
from tests.simulator.bybit import rawhttp

pytestmark = pytest.mark.virtual_time

BTC = "BTC/USDT:USDT"
TIMEOUT = 10


async def _soon(coro: Any) -> Any:
    return await asyncio.wait_for(coro, TIMEOUT)


async def test_watch_orders_receives_every_state_change(bybit_venue: RunningVenue, bybit_pro: Any) -> None:
    watching = asyncio.ensure_future(bybit_pro.watch_orders(BTC))
    await _soon(bybit_venue.venue.streams.wait_subscribed("order"))
    created = await bybit_pro.create_order(BTC, "limit", "buy", 0.01, 59000)
    (first,) = await _soon(watching)
    assert (first["id"], first["status"], first["price"], first["amount"]) == (created["id"], "open", 59000.0, 0.01)
    bybit_venue.engine.set_price("BTCUSDT", "58900")
    updates = await _soon(bybit_pro.watch_orders(BTC))
    assert updates[-1]["status"] == "closed" and updates[-1]["filled"] == 0.01
    assert updates[-1]["fee"] == {"cost": pytest.approx(0.118), "currency": "USDT"}


async def test_watch_my_trades_receives_executions(bybit_venue: RunningVenue, bybit_pro: Any) -> None:
    watching = asyncio.ensure_future(bybit_pro.watch_my_trades(BTC))
    await _soon(bybit_venue.venue.streams.wait_subscribed("execution"))
    created = await bybit_pro.create_order(BTC, "market", "sell", 0.01)
    (trade,) = await _soon(watching)
    assert (trade["order"], trade["side"], trade["price"], trade["amount"]) == (created["id"], "sell", 60000.0, 0.01)
    assert trade["fee"]["cost"] == pytest.approx(0.33)


async def test_watch_positions_snapshot_then_pushes(bybit_venue: RunningVenue, bybit_pro: Any) -> None:
    await bybit_pro.create_order(BTC, "market", "buy", 0.01)
    snapshot = await _soon(bybit_pro.watch_positions())  # first call: REST snapshot (linear and inverse)
    assert [(p["symbol"], p["side"], p["contracts"]) for p in snapshot] == [(BTC, "long", 0.01)]
    watching = asyncio.ensure_future(bybit_pro.watch_positions())
    await _soon(bybit_venue.venue.streams.wait_subscribed("position"))
    bybit_venue.engine.set_price("BTCUSDT", "59000")  # moves the mark: no position push by itself
    await bybit_pro.create_order(BTC, "market", "buy", 0.01)
    pushed = await _soon(watching)
    assert pushed[-1]["contracts"] == 0.02 and pushed[-1]["entryPrice"] == 59500.0


async def test_watch_ticker_gets_a_snapshot_then_deltas(bybit_venue: RunningVenue, bybit_pro: Any) -> None:
    first = await _soon(bybit_pro.watch_ticker(BTC))
    assert first["last"] == 60000.0
    bybit_venue.engine.set_price("BTCUSDT", "60123.4")
    moved = await _soon(bybit_pro.watch_ticker(BTC))
    assert (moved["last"], moved["high"], moved["low"]) == (60123.4, 60123.4, 60000.0)
    assert moved["bid"] == 60123.3


async def _private(venue: RunningVenue, session: aiohttp.ClientSession) -> aiohttp.ClientWebSocketResponse:
    ws = await session.ws_connect(venue.base_url.replace("http", "ws") + "/v5/private")
    expires = venue.engine.now_ms() + 10_000
    await ws.send_json({"op": "auth", "args": [venue.api_key, expires, sign(venue.api_secret, f"GET/realtime{expires}")]})
    reply = await _soon(ws.receive_json())
    assert reply["success"] is True and reply["op"] == "auth" and reply["conn_id"]
    return ws


async def test_private_ping_pong_and_duplicate_subscribe(bybit_venue: RunningVenue) -> None:
    async with aiohttp.ClientSession() as session:
        ws = await _private(bybit_venue, session)
        await ws.send_json({"req_id": 7, "op": "ping"})
        pong = await _soon(ws.receive_json())
        assert (pong["op"], pong["req_id"]) == ("pong", "7") and int(pong["args"][0]) > 0
        await ws.send_json({"op": "subscribe", "req_id": 1, "args": ["order"]})
        assert (await _soon(ws.receive_json()))["success"] is True
        await ws.send_json({"op": "subscribe", "req_id": 2, "args": ["order"]})
        again = await _soon(ws.receive_json())
        assert again == {"success": False, "ret_msg": "error:already subscribed,topic:order",
                         "conn_id": again["conn_id"], "req_id": "2", "op": "subscribe"}


async def test_public_ping_is_answered_as_bybit_does(bybit_venue: RunningVenue) -> None:
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(bybit_venue.base_url.replace("http", "ws") + "/v5/public/linear")
        await ws.send_json({"req_id": 3, "op": "ping"})
        pong = await _soon(ws.receive_json())
        assert {k: pong[k] for k in ("success", "ret_msg", "req_id", "op")} == {
            "success": True, "ret_msg": "pong", "req_id": "3", "op": "ping"}


@pytest.mark.parametrize(
    "frame",
    ["not json", "[1, 2]", json.dumps({"op": "subscribe", "args": "order"}), json.dumps({"op": "fly"}),
     json.dumps({"op": "auth", "args": ["k"]}), "\x00\xff",
     # hostile: numbers too long to convert, nesting too deep to parse, non-finite or non-ASCII auth args
     '{"op": "ping", "x": ' + "9" * 5000 + "}", "[" * 30000,
     '{"op": "auth", "args": ["harness-key", Infinity, "x"]}', '{"op": "auth", "args": ["harness-key", 1e400, "x"]}',
     json.dumps({"op": "auth", "args": ["harness-key", 99999999999999, "\u00e9"]}),
     json.dumps({"op": "subscribe", "args": ["\ud800"]})],
)
async def test_garbage_frames_get_error_replies_and_the_connection_survives(bybit_venue: RunningVenue, frame: str) -> None:
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(bybit_venue.base_url.replace("http", "ws") + "/v5/private")
        await ws.send_str(frame)
        answer = await _soon(ws.receive_json())
        assert answer["success"] is False and answer["ret_msg"]
        await ws.send_json({"req_id": 1, "op": "ping"})
        assert (await _soon(ws.receive_json()))["op"] == "pong"
    assert bybit_venue.venue.internal_errors == []


async def test_private_topics_need_auth_and_a_bad_signature_is_refused(bybit_venue: RunningVenue) -> None:
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(bybit_venue.base_url.replace("http", "ws") + "/v5/private")
        await ws.send_json({"op": "subscribe", "args": ["order"]})
        assert (await _soon(ws.receive_json()))["success"] is False
        expires = bybit_venue.engine.now_ms() + 10_000
        await ws.send_json({"op": "auth", "args": [bybit_venue.api_key, expires, "0" * 64]})
        refused = await _soon(ws.receive_json())
        assert (refused["success"], refused["op"]) == (False, "auth")


async def test_a_second_order_watch_for_one_symbol_meets_bybits_duplicate_refusal(
    bybit_venue: RunningVenue, bybit_pro: Any
) -> None:
    """Real Bybit refuses a repeated topic, and ccxt then fails the symbol-specific watch: a trap bots must know."""
    import ccxt

    everything = asyncio.ensure_future(bybit_pro.watch_orders())
    await _soon(bybit_venue.venue.streams.wait_subscribed("order"))
    with pytest.raises(ccxt.ExchangeError, match="already subscribed,topic:order"):
        await _soon(bybit_pro.watch_orders(BTC))
    await bybit_pro.create_order(BTC, "market", "buy", 0.01)
    assert (await _soon(everything))[-1]["symbol"] == BTC


async def test_private_pushes_follow_bybits_rules(bybit_venue: RunningVenue) -> None:
    """A resting order still produces a position message; a price move alone produces no wallet
    message; a closing fill's execution carries its realised PnL."""
    from decimal import Decimal

    from simulator.engine import OrderRequest, OrderType, Side, Symbol

    engine, account_id = bybit_venue.engine, bybit_venue.account.account_id

    def order(side: Side, kind: OrderType, price: str | None = None) -> OrderRequest:
        return OrderRequest(symbol=Symbol("ETHUSDT"), side=side, order_type=kind, qty=Decimal(1),
                            price=Decimal(price) if price else None)

    async with aiohttp.ClientSession() as session:
        ws = await _private(bybit_venue, session)
        await ws.send_json({"op": "subscribe", "args": ["position", "wallet", "execution"]})
        await _soon(ws.receive_json())
        engine.place_order(account_id, order(Side.BUY, OrderType.LIMIT, "2500"))
        # A resting limit order changes no position, yet Bybit sends a position message (and the wallet's order margin).
        first = [await _soon(ws.receive_json()) for _ in range(2)]
        assert sorted(m["topic"] for m in first) == ["position", "wallet"]
        position = next(m for m in first if m["topic"] == "position")["data"][0]
        assert (position["size"], position["side"], position["entryPrice"]) == ("0", "", "0")
        engine.place_order(account_id, order(Side.BUY, OrderType.MARKET))
        opened = [await _soon(ws.receive_json()) for _ in range(3)]
        assert [m["topic"] for m in opened] == ["execution", "position", "wallet"]
        engine.set_price("ETHUSDT", "3100")  # unrealised PnL only: no wallet message
        engine.place_order(account_id, order(Side.SELL, OrderType.MARKET))
        closed = [await _soon(ws.receive_json()) for _ in range(3)]
        assert [m["topic"] for m in closed] == ["execution", "position", "wallet"]
        execution = closed[0]["data"][0]
        assert (execution["execPnl"], execution["closedSize"], execution["feeCurrency"]) == ("100", "1", "USDT")


async def test_ticker_deltas_carry_only_what_changed_with_the_tick_direction(bybit_venue: RunningVenue) -> None:
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(bybit_venue.base_url.replace("http", "ws") + "/v5/public/linear")
        await ws.send_json({"op": "subscribe", "req_id": "t", "args": ["tickers.ETHUSDT"]})
        ack = await _soon(ws.receive_json())
        assert (ack["success"], ack["op"], ack["req_id"]) == (True, "subscribe", "t")
        snapshot = await _soon(ws.receive_json())
        assert snapshot["type"] == "snapshot" and snapshot["data"]["lastPrice"] == "3000.00"
        bybit_venue.engine.set_price("ETHUSDT", "2990")
        delta = await _soon(ws.receive_json())
        assert delta["type"] == "delta" and delta["cs"] > snapshot["cs"]
        assert delta["data"]["lastPrice"] == "2990.00" and delta["data"]["tickDirection"] == "MinusTick"
        assert "fundingRate" not in delta["data"] and delta["data"]["symbol"] == "ETHUSDT"
        # An order that changes the best bid moves the ticker too: a delta with the new size, and
        # nothing for an order away from the top.
        await rawhttp.post(bybit_venue, "/v5/order/create", {"category": "linear", "symbol": "ETHUSDT", "side": "Buy",
                                                              "orderType": "Limit", "qty": "1", "price": "2900"})
        await rawhttp.post(bybit_venue, "/v5/order/create", {"category": "linear", "symbol": "ETHUSDT", "side": "Buy",
                                                              "orderType": "Limit", "qty": "1", "price": "2989.99"})
        top = await _soon(ws.receive_json())
        assert top["data"] == {"symbol": "ETHUSDT", "bid1Size": "725.00", "tickDirection": "ZeroMinusTick"}, top


async def test_an_unencodable_topic_is_echoed_safely_on_the_public_stream(bybit_venue: RunningVenue) -> None:
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(bybit_venue.base_url.replace("http", "ws") + "/v5/public/linear")
        await ws.send_str(json.dumps({"op": "subscribe", "args": ["\ud800"]}))
        answer = await _soon(ws.receive_json())
        assert answer["success"] is False and answer["ret_msg"] == "error:handler not found,topic:?"
        await ws.send_json({"req_id": 2, "op": "ping"})
        assert (await _soon(ws.receive_json()))["ret_msg"] == "pong"
    assert bybit_venue.venue.internal_errors == []


async def test_watch_order_book_trades_and_ohlcv_follow_the_venue(bybit_venue: RunningVenue, bybit_rest: Any,
                                                                   bybit_pro: Any) -> None:
    nominal = float(bybit_venue.engine.instrument("BTCUSDT").max_market_qty)
    book = await _soon(bybit_pro.watch_order_book(BTC, 50))  # the snapshot
    assert (book["bids"][0], book["asks"][0], len(book["bids"])) == ([59999.9, nominal], [60000.0, nominal], 50)
    trades = asyncio.ensure_future(bybit_pro.watch_trades(BTC))
    candles = asyncio.ensure_future(bybit_pro.watch_ohlcv(BTC, "1m"))
    await bybit_venue.venue.streams.wait_subscribed(f"kline.1.{BTC.split('/')[0]}USDT")

    await bybit_rest.create_order(BTC, "limit", "buy", 0.5, 59999.9)
    book = await _soon(bybit_pro.watch_order_book(BTC, 50))  # a delta: the resting buy joins its level
    assert book["bids"][0] == [59999.9, nominal + 0.5] and book["asks"][0] == [60000.0, nominal]
    await asyncio.sleep(1)
    moved = asyncio.ensure_future(bybit_pro.watch_order_book(BTC, 50))
    await asyncio.sleep(0)
    bybit_venue.engine.set_price("BTCUSDT", "60010.0")
    book = await _soon(moved)
    await bybit_rest.create_order(BTC, "market", "buy", 0.01)

    assert [(t["side"], t["amount"], t["price"]) for t in await _soon(trades)] == [("buy", 0.01, 60010.0)]
    [candle] = await _soon(candles)
    assert candle[1:] == [60000.0, 60010.0, 60000.0, 60010.0, 0.01]
    assert book["asks"][0] == [60010.0, nominal] and book["bids"][0] == [60009.9, nominal]
    assert len(book["bids"]) == 50 and book["bids"][-1] == [60005.0, nominal]  # levels past the depth: deleted
    assert [59999.9, nominal + 0.5] not in book["bids"]  # the resting buy is 100 ticks down now


async def test_a_closed_candle_is_sent_again_confirmed(bybit_venue: RunningVenue) -> None:
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(bybit_venue.base_url.replace("http", "ws") + "/v5/public/linear")
        await ws.send_json({"op": "subscribe", "req_id": "k", "args": ["kline.1.ETHUSDT", "orderbook.1.ETHUSDT"]})
        assert (await _soon(ws.receive_json()))["success"] is True
        first = {m["topic"]: m for m in [await _soon(ws.receive_json()), await _soon(ws.receive_json())]}
        assert first["orderbook.1.ETHUSDT"]["type"] == "snapshot"
        assert first["kline.1.ETHUSDT"]["data"][0]["confirm"] is False
        await asyncio.sleep(61)
        bybit_venue.engine.set_price("ETHUSDT", "3010")
        pushed = [await _soon(ws.receive_json()) for _ in range(3)]
        klines = [m["data"][0] for m in pushed if m["topic"] == "kline.1.ETHUSDT"]
        assert [(k["confirm"], k["close"]) for k in klines] == [(True, "3000.00"), (False, "3010.00")]
        assert klines[1]["start"] == klines[0]["end"] + 1 + 60_000 * (klines[1]["start"] - klines[0]["start"] > 60_000)
        [top] = [m for m in pushed if m["topic"] == "orderbook.1.ETHUSDT"]
        assert top["type"] == "snapshot" and top["data"]["a"] == [["3010.00", "724.00"]]


async def test_two_subscribers_hear_one_market(bybit_venue: RunningVenue, bybit_rest: Any) -> None:
    async with aiohttp.ClientSession() as session:
        url = bybit_venue.base_url.replace("http", "ws") + "/v5/public/linear"
        sockets = [await session.ws_connect(url) for _ in range(2)]
        snapshots = []
        for n, ws in enumerate(sockets):
            await ws.send_json({"op": "subscribe", "req_id": f"t{n}", "args": ["publicTrade.BTCUSDT",
                                                                                "orderbook.50.BTCUSDT"]})
            assert (await _soon(ws.receive_json()))["success"] is True
            snapshots.append(await _soon(ws.receive_json()))
            assert snapshots[-1]["type"] == "snapshot"
        await bybit_rest.create_order(BTC, "limit", "buy", 0.01, 50000)  # outside the 50 levels: no message
        await bybit_rest.create_order(BTC, "market", "buy", 0.01)
        bybit_venue.engine.set_price("BTCUSDT", "60010.0")
        await bybit_rest.create_order(BTC, "market", "buy", 0.01)
        heard = [[await _soon(ws.receive_json()) for _ in range(3)] for ws in sockets]  # a trade, the move, a trade
    ticks = [[row["L"] for m in got if m["topic"].startswith("publicTrade") for row in m["data"]] for got in heard]
    assert ticks[0] == ticks[1] == ["ZeroPlusTick", "PlusTick"]
    books = [[m["data"] for m in got if m["topic"].startswith("orderbook")] for got in heard]
    assert [d["seq"] for d in books[0]] == [d["seq"] for d in books[1]]  # one book state, one version
    assert len(books[0]) == 1 and books[0][0]["u"] == snapshots[0]["data"]["u"] + 1  # in sequence, no gap


async def test_every_candle_closed_in_a_quiet_spell_is_sent_confirmed(bybit_venue: RunningVenue) -> None:
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(bybit_venue.base_url.replace("http", "ws") + "/v5/public/linear")
        await ws.send_json({"op": "subscribe", "req_id": "k", "args": ["kline.1.ETHUSDT"]})
        assert (await _soon(ws.receive_json()))["success"] is True
        opened = (await _soon(ws.receive_json()))["data"][0]["start"]
        await asyncio.sleep(5 * 60)
        bybit_venue.engine.set_price("ETHUSDT", "3010")
        pushed = [(await _soon(ws.receive_json()))["data"][0] for _ in range(6)]
    assert [(k["start"] - opened) // 60_000 for k in pushed] == [0, 1, 2, 3, 4, 5]
    assert [k["confirm"] for k in pushed] == [True] * 5 + [False]
