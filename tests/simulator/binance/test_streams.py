"""The Binance user data stream through unmodified ccxt.pro.binanceusdm."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import ccxt
import pytest

from simulator.faults import (
    AbortStream,
    CloseStream,
    DelayFrame,
    DropFrame,
    DuplicateFrame,
    During,
    Fault,
    OnCall,
    ReplaceFrame,
    StreamTarget,
)
from simulator.server import RunningBinance
from simulator.testing import watching_binance

pytestmark = pytest.mark.virtual_time
BTC = "BTC/USDT:USDT"


async def test_a_market_fill_and_an_algo_stop_are_pushed_as_binance_sends_them(binance_venue: RunningBinance) -> None:
    rest, pro, first = await watching_binance(binance_venue)

    order = await rest.create_order(BTC, "market", "buy", 0.01)
    [pushed] = await asyncio.wait_for(first, 10)
    assert (pushed["id"], pushed["status"], pushed["filled"], pushed["clientOrderId"]) == (
        order["id"], "closed", 0.01, order["clientOrderId"])

    second = asyncio.ensure_future(pro.watch_orders())
    stop = await rest.create_order(BTC, "market", "sell", 0.01, None, {"stopLossPrice": 55000, "reduceOnly": True})
    pushed_stop = [o for o in await asyncio.wait_for(second, 10) if o["id"] == stop["id"]]
    assert [(o["status"], o["triggerPrice"], o["reduceOnly"]) for o in pushed_stop] == [("open", 55000.0, True)]


def _order_frames(venue: RunningBinance) -> list[tuple[str, str, dict[str, object]]]:
    sent = [r.fields["frame"] for r in venue.venue.trace.records if r.kind == "ws.out"]
    return [(f["e"], f["o"]["X"], f["o"]) for f in sent if isinstance(f, dict) and f["e"] in ("ALGO_UPDATE",
                                                                                               "ORDER_TRADE_UPDATE")]


async def test_a_fired_stop_is_pushed_through_its_algo_lifecycle(binance_venue: RunningBinance) -> None:
    # Binance's ALGO_UPDATE comes with every status change: TRIGGERING when the price reaches the stop,
    # TRIGGERED once its order is in the book ("ai"), FINISHED when that order is done ("aq", "ap").
    rest, pro, _ = await watching_binance(binance_venue)
    await rest.create_order(BTC, "market", "buy", 0.01)
    stop = await rest.create_order(BTC, "market", "sell", 0.01, None, {"stopLossPrice": 55000, "reduceOnly": True})
    watched = asyncio.ensure_future(pro.watch_orders())
    await asyncio.sleep(0.5)
    binance_venue.engine.set_price("BTCUSDT", "54000")
    await asyncio.sleep(1)

    mine = stop["clientOrderId"]  # the algo's clientAlgoId, and its order's client id once placed
    frames = [(e, x, o) for e, x, o in _order_frames(binance_venue) if mine in (o.get("caid"), o.get("c"))]
    assert [(e, x) for e, x, _ in frames] == [
        ("ALGO_UPDATE", "NEW"), ("ALGO_UPDATE", "TRIGGERING"), ("ALGO_UPDATE", "TRIGGERED"),
        ("ORDER_TRADE_UPDATE", "NEW"), ("ORDER_TRADE_UPDATE", "FILLED"), ("ALGO_UPDATE", "FINISHED")]
    new, triggering, triggered, placed, filled, finished = (o for _, _, o in frames)
    assert new["ai"] == triggering["ai"] == "" and "aq" not in triggering and triggering["tt"] > 0
    assert triggered["ai"] == finished["ai"] == str(placed["i"]) == str(filled["i"])
    assert (triggered["aq"], finished["aq"], finished["ap"]) == ("0.000", "0.010", filled["ap"])
    # ccxt.pro closes the algo order it watched: it no longer looks like a working stop.
    seen = [o["status"] for o in await asyncio.wait_for(watched, 10) if o["id"] == stop["id"]]
    assert seen[-1] == "closed"


async def test_a_stop_with_nothing_left_to_reduce_is_rejected_when_it_fires(binance_venue: RunningBinance) -> None:
    rest, _, _ = await watching_binance(binance_venue)
    await rest.create_order(BTC, "market", "buy", 0.01)
    await rest.create_order(BTC, "market", "sell", 0.01, None, {"stopLossPrice": 55000, "reduceOnly": True})
    await rest.create_order(BTC, "market", "sell", 0.01, None, {"reduceOnly": True})  # closed by hand
    binance_venue.engine.set_price("BTCUSDT", "54000")
    await asyncio.sleep(1)

    algo = [(x, o["rm"]) for e, x, o in _order_frames(binance_venue) if e == "ALGO_UPDATE"]
    assert algo == [("NEW", ""), ("TRIGGERING", ""), ("REJECTED", "Reduce Only reject")]


async def test_a_dropped_push_never_arrives(binance_venue: RunningBinance) -> None:
    # A market order pushes its accepted state, its fill, then the account: lose the first two.
    binance_venue.faults.add(Fault("order pushes lost", StreamTarget("/private/ws"), DropFrame(), OnCall(1, 2)))
    rest, _, first = await watching_binance(binance_venue)

    await rest.create_order(BTC, "market", "buy", 0.01)
    second = await rest.create_order(BTC, "market", "buy", 0.01)

    pushed = await asyncio.wait_for(first, 10)
    assert [o["id"] for o in pushed] == [second["id"]]


async def test_an_unknown_listen_key_is_refused(binance_venue: RunningBinance) -> None:
    ws_url = binance_venue.base_url.replace("http", "ws", 1) + "/private/ws?listenKey=nope"
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await session.ws_connect(ws_url)


async def test_the_classic_listen_key_url_serves_the_same_stream_and_the_same_faults(
    binance_venue: RunningBinance,
) -> None:
    """A bot not on ccxt may connect to /ws/<listenKey>; a fault named on /private/ws reaches it too."""
    rest = binance_venue.rest_client()
    await rest.load_markets()
    key = (await rest.fapiPrivatePostListenKey())["listenKey"]
    binance_venue.faults.add(Fault("first update lost", StreamTarget("/private/ws", "ORDER_TRADE_UPDATE"), DropFrame()))
    ws_url = binance_venue.base_url.replace("http", "ws", 1) + f"/ws/{key}"
    async with aiohttp.ClientSession() as session, session.ws_connect(ws_url) as ws:
        await asyncio.wait_for(binance_venue.venue.streams.wait_listening(binance_venue.account.account_id), 10)
        await rest.create_order(BTC, "market", "buy", 0.01)
        events = []
        while "ACCOUNT_UPDATE" not in events:
            events.append(json.loads((await asyncio.wait_for(ws.receive(), 10)).data)["e"])

    assert events.count("ORDER_TRADE_UPDATE") == 1  # of the two (NEW, FILLED), the fault took the first


async def test_watch_positions_starts_from_the_snapshot_and_hears_account_updates(
    binance_venue: RunningBinance,
) -> None:
    rest, pro = binance_venue.rest_client(), binance_venue.pro_client()
    await rest.load_markets()
    pro.set_markets_from_exchange(rest)

    assert await asyncio.wait_for(pro.watch_positions(), 10) == []  # the REST snapshot, before any fill
    update = asyncio.ensure_future(pro.watch_positions())
    await asyncio.wait_for(binance_venue.venue.streams.wait_listening(binance_venue.account.account_id), 10)
    await rest.create_order(BTC, "market", "buy", 0.01)

    [position] = await asyncio.wait_for(update, 10)
    assert (position["symbol"], position["side"], position["contracts"]) == (BTC, "long", 0.01)


async def test_watch_my_trades_hears_the_fill(binance_venue: RunningBinance) -> None:
    rest, _, trades = await watching_binance(binance_venue, "watch_my_trades")

    order = await rest.create_order(BTC, "market", "buy", 0.01)

    [trade] = await asyncio.wait_for(trades, 10)
    assert (trade["order"], trade["side"], trade["amount"], trade["price"]) == (order["id"], "buy", 0.01, 60000.0)


async def test_watch_ticker_subscribes_to_the_mini_ticker_and_hears_price_moves(
    binance_venue: RunningBinance,
) -> None:
    pro = binance_venue.pro_client()
    await pro.load_markets()
    first = asyncio.ensure_future(pro.watch_ticker(BTC))
    for _ in range(100):  # until the subscription is in place: wait on the condition, not on time
        if binance_venue.venue.market_streams.is_subscribed("btcusdt@miniTicker"):
            break
        await asyncio.sleep(0.01)

    binance_venue.engine.set_price("BTCUSDT", "61000")

    ticker = await asyncio.wait_for(first, 10)
    assert (ticker["symbol"], ticker["last"], ticker["open"]) == (BTC, 61000.0, 60000.0)


async def test_the_venue_pings_every_3_minutes_and_drops_a_client_that_never_pongs(
    binance_venue: RunningBinance,
) -> None:
    url = binance_venue.base_url.replace("http", "ws", 1) + "/market/ws"
    async with aiohttp.ClientSession() as session:
        silent = await session.ws_connect(url, autoping=False)  # sees the pings, never answers
        connected = binance_venue.engine.now_ms()

        ping = await asyncio.wait_for(silent.receive(), 600)
        assert (ping.type, binance_venue.engine.now_ms() - connected) == (aiohttp.WSMsgType.PING, 180_000)
        closed = await asyncio.wait_for(silent.receive(), 600)
        assert closed.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)
        assert binance_venue.engine.now_ms() - connected == 270_000  # the pong was due within 90 s


async def test_ccxt_pro_answers_the_pings_and_keeps_its_streams_for_hours(binance_venue: RunningBinance) -> None:
    rest, pro = binance_venue.rest_client(), binance_venue.pro_client()
    await rest.load_markets()
    pro.set_markets_from_exchange(rest)
    watching = asyncio.ensure_future(pro.watch_ticker(BTC))
    for _ in range(100):
        if binance_venue.venue.market_streams.is_subscribed("btcusdt@miniTicker"):
            break
        await asyncio.sleep(0.01)

    await asyncio.sleep(3 * 3600)
    binance_venue.engine.set_price("BTCUSDT", "61000")

    assert (await asyncio.wait_for(watching, 10))["last"] == 61000.0
    records = binance_venue.venue.trace.records
    [market] = [r.fields["conn"] for r in records if r.kind == "ws.open" and r.fields["path"].startswith("/market")]
    assert not [r for r in records if r.kind == "ws.close" and r.fields["conn"] == market]  # through 60 pings


async def test_a_duplicated_and_a_malformed_push_through_the_frame_router(binance_venue: RunningBinance) -> None:
    # Binance events are targeted by their "e": the fill's ORDER_TRADE_UPDATE goes out twice, and the
    # ACCOUNT_UPDATE after it arrives as text that is not JSON.
    binance_venue.faults.add(Fault("fill twice", StreamTarget("/private/ws", "ORDER_TRADE_UPDATE"), DuplicateFrame(),
                                   OnCall(2)))
    binance_venue.faults.add(Fault("garbled", StreamTarget("/private/ws", "ACCOUNT_UPDATE"), ReplaceFrame("{not json")))
    rest, pro, first = await watching_binance(binance_venue)

    await rest.create_order(BTC, "market", "buy", 0.01)
    await asyncio.sleep(1)

    assert [o["status"] for o in await asyncio.wait_for(first, 10)][-1] == "closed"
    sent = [r.fields["frame"] for r in binance_venue.venue.trace.records if r.kind == "ws.out"]
    kinds = [f if isinstance(f, str) else f["e"] for f in sent]
    assert kinds == ["ORDER_TRADE_UPDATE", "ORDER_TRADE_UPDATE", "ORDER_TRADE_UPDATE", "{not json"]
    assert not binance_venue.venue.internal_errors


@pytest.mark.parametrize("effect", [AbortStream(), CloseStream()], ids=["abort", "close"])
async def test_a_stream_cut_on_the_fill_fails_the_watch_and_a_new_watch_hears_again(
    binance_venue: RunningBinance, effect: AbortStream | CloseStream
) -> None:
    binance_venue.faults.add(Fault("cut", StreamTarget("/private/ws", "ORDER_TRADE_UPDATE"), effect))
    rest, pro, first = await watching_binance(binance_venue)

    await rest.create_order(BTC, "market", "buy", 0.01)
    with pytest.raises(ccxt.NetworkError):
        await asyncio.wait_for(first, 10)

    again = asyncio.ensure_future(pro.watch_orders())
    await asyncio.wait_for(binance_venue.venue.streams.wait_listening(binance_venue.account.account_id), 10)
    order = await rest.create_order(BTC, "market", "buy", 0.01)
    assert order["id"] in [o["id"] for o in await asyncio.wait_for(again, 10)]


async def test_a_venue_that_stops_answering_pings_is_dropped_by_ccxt_pro(binance_venue: RunningBinance) -> None:
    # ccxt.pro pings Binance at the protocol level every keepAlive (180 s) and gives up after two
    # unanswered: the venue's pongs are held back from the first ping on.
    binance_venue.faults.add(Fault("no pong", StreamTarget("/market/ws/0", "pong"), DropFrame(), During(0, 10_000_000)))
    pro = binance_venue.pro_client()
    await pro.load_markets()
    watching = asyncio.ensure_future(pro.watch_ticker(BTC))
    started = asyncio.get_running_loop().time()

    with pytest.raises(ccxt.RequestTimeout, match="ping-pong keepalive"):
        await asyncio.wait_for(watching, 3_600)
    waited = asyncio.get_running_loop().time() - started
    keep_alive_s = pro.streaming["keepAlive"] / 1000
    assert 2 * keep_alive_s <= waited <= 4 * keep_alive_s
    assert any(r.kind == "fault" and r.fields.get("topic") == "pong" for r in binance_venue.venue.trace.records)


async def test_a_delayed_push_arrives_that_much_later_on_binance(binance_venue: RunningBinance) -> None:
    binance_venue.faults.add(Fault("late", StreamTarget("/private/ws", "ORDER_TRADE_UPDATE"), DelayFrame(ms=2_000),
                                   OnCall(1, 5)))
    rest, _, first = await watching_binance(binance_venue)
    loop = asyncio.get_running_loop()

    sent_at = loop.time()
    order = await rest.create_order(BTC, "market", "buy", 0.01)

    assert order["id"] in [o["id"] for o in await asyncio.wait_for(first, 10)]
    assert loop.time() - sent_at >= 2.0


async def test_faults_on_every_frame_leave_protocol_pongs_alone(binance_venue: RunningBinance) -> None:
    # ccxt.pro pings every 180 s; a fault on any frame must wait for a frame, not spend itself on a pong.
    binance_venue.faults.add(Fault("cut on the next frame", StreamTarget("*"), CloseStream(), OnCall(1)))
    rest, _, first = await watching_binance(binance_venue)
    await asyncio.sleep(400)

    await rest.create_order(BTC, "market", "buy", 0.01)

    with pytest.raises(ccxt.NetworkError):
        await asyncio.wait_for(first, 10)
    told = [r.fields["told"] for r in binance_venue.venue.trace.records if r.kind == "fault"]
    assert told == ["the connection closed (1001)"]


async def _subscribed(venue: RunningBinance, *streams: str) -> None:
    for _ in range(100):  # until the subscriptions are in place: wait on the condition, not on time
        if all(venue.venue.market_streams.is_subscribed(s) for s in streams):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never subscribed: {streams}")


async def test_watch_order_book_follows_the_diff_stream_from_the_rest_snapshot(binance_venue: RunningBinance) -> None:
    rest, pro = binance_venue.rest_client(), binance_venue.pro_client()
    await rest.load_markets()
    nominal = float(binance_venue.engine.instrument("BTCUSDT").max_market_qty)
    book = await asyncio.wait_for(pro.watch_order_book(BTC), 10)  # REST depth, then the diff stream
    assert (book["bids"][0], book["asks"][0]) == ([59999.9, nominal], [60000.0, nominal])

    changed = asyncio.ensure_future(pro.watch_order_book(BTC))
    await rest.create_order(BTC, "limit", "buy", 0.5, 59999.8)
    book = await asyncio.wait_for(changed, 10)
    assert book["bids"][1] == [59999.8, nominal + 0.5]
    moved = asyncio.ensure_future(pro.watch_order_book(BTC))
    await asyncio.sleep(0)
    binance_venue.engine.set_price("BTCUSDT", "60000.5")
    book = await asyncio.wait_for(moved, 10)  # every level shifted: the deltas keep ccxt's copy exact
    truth = binance_venue.engine.book("BTCUSDT", 1000)
    assert book["bids"][:1000] == [[float(p), float(q)] for p, q in truth.bids]
    assert book["asks"][:1000] == [[float(p), float(q)] for p, q in truth.asks]
    assert book["nonce"] == binance_venue.engine.book_seq("BTCUSDT")


async def test_trades_candles_and_the_best_bid_and_ask_are_pushed(binance_venue: RunningBinance) -> None:
    rest, pro = binance_venue.rest_client(), binance_venue.pro_client()
    await rest.load_markets()
    trades = asyncio.ensure_future(pro.watch_trades(BTC))
    candles = asyncio.ensure_future(pro.watch_ohlcv(BTC, "1m"))
    tops = asyncio.ensure_future(pro.watch_bids_asks([BTC]))
    await _subscribed(binance_venue, "btcusdt@trade", "btcusdt@kline_1m", "btcusdt@bookTicker")
    await asyncio.sleep(1)
    binance_venue.engine.set_price("BTCUSDT", "60010.0")
    await rest.create_order(BTC, "market", "buy", 0.01)
    [mine] = await rest.fetch_my_trades(BTC)

    [trade] = await asyncio.wait_for(trades, 10)
    assert (trade["id"], trade["side"], trade["amount"], trade["price"]) == (mine["id"], "buy", 0.01, 60010.0)
    top = (await asyncio.wait_for(tops, 10))[BTC]
    assert (top["bid"], top["ask"]) == (60009.9, 60010.0)
    [candle] = await asyncio.wait_for(candles, 10)
    assert candle[1:5] == [60000.0, 60010.0, 60000.0, 60010.0]


async def test_a_closed_kline_is_sent_again_closed_and_unknown_streams_are_refused(
        binance_venue: RunningBinance) -> None:
    url = binance_venue.base_url.replace("http", "ws", 1) + "/market/ws/1"
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        await ws.send_json({"method": "SUBSCRIBE", "params": ["ethusdt@kline_1m", "ethusdt@depth5@100ms"], "id": 1})
        assert json.loads((await asyncio.wait_for(ws.receive(), 5)).data) == {"result": None, "id": 1}
        await ws.send_json({"method": "SUBSCRIBE", "params": ["ethusdt@markPrice@1s"], "id": 2})
        refused = json.loads((await asyncio.wait_for(ws.receive(), 5)).data)
        assert refused["error"]["code"] == 2 and "markPrice" in refused["error"]["msg"]
        binance_venue.engine.set_price("ETHUSDT", "3010.00")
        first = [json.loads((await asyncio.wait_for(ws.receive(), 5)).data) for _ in range(2)]
        await asyncio.sleep(61)
        binance_venue.engine.set_price("ETHUSDT", "3020.00")
        later = [json.loads((await asyncio.wait_for(ws.receive(), 5)).data) for _ in range(3)]
    klines = [m["k"] for m in first + later if m["e"] == "kline"]
    assert [(k["x"], k["c"]) for k in klines] == [(False, "3010.00"), (True, "3010.00"), (False, "3020.00")]
    depth = [m for m in later if m["e"] == "depthUpdate"][0]
    assert len(depth["b"]) == len(depth["a"]) == 5 and depth["a"][0][0] == "3020.00"


async def test_the_first_diff_may_move_every_level_and_a_late_subscriber_starts_clean(
        binance_venue: RunningBinance) -> None:
    rest = binance_venue.rest_client()
    await rest.load_markets()

    async def exact(pro: object, change: object) -> None:
        moved = asyncio.ensure_future(pro.watch_order_book(BTC))  # type: ignore[attr-defined]
        await asyncio.sleep(0)
        change()  # type: ignore[operator]
        book = await asyncio.wait_for(moved, 10)
        truth = binance_venue.engine.book("BTCUSDT", 1000)
        assert book["bids"][:1000] == [[float(p), float(q)] for p, q in truth.bids]
        assert book["asks"][:1000] == [[float(p), float(q)] for p, q in truth.asks]

    first = binance_venue.pro_client()
    await asyncio.wait_for(first.watch_order_book(BTC), 10)
    await exact(first, lambda: binance_venue.engine.set_price("BTCUSDT", "60000.5"))  # the very first diff
    await first.close()
    await asyncio.sleep(1)
    binance_venue.engine.set_price("BTCUSDT", "61000.0")  # nobody follows the diff stream now
    late = binance_venue.pro_client()
    await asyncio.wait_for(late.watch_order_book(BTC), 10)
    await exact(late, lambda: binance_venue.engine.set_price("BTCUSDT", "60000.5"))  # back where the last diff was
    await late.close()
