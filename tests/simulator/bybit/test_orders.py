"""The order lifecycle through unmodified ccxt (``ccxt.async_support.bybit``, default options)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import ccxt
import pytest

from simulator.engine import OrderStatus
from simulator.server import RunningVenue

pytestmark = pytest.mark.virtual_time

BTC = "BTC/USDT:USDT"
GIGA = "GIGA/USDT:USDT"


async def test_create_answers_minimally_and_the_order_is_found_closed(bybit_rest: Any) -> None:
    created = await bybit_rest.create_order(BTC, "market", "buy", 0.01)
    assert created["id"] and created["status"] is None and created["amount"] is None
    assert len(created["id"]) == 36 and created["id"].count("-") == 4
    closed = await bybit_rest.fetch_closed_order(created["id"], BTC)
    assert (closed["status"], closed["side"], closed["type"]) == ("closed", "buy", "market")
    assert (closed["filled"], closed["average"], closed["remaining"]) == (0.01, 60000.0, 0.0)
    assert closed["fee"] == {"cost": 0.33, "currency": "USDT"}
    assert closed["timeInForce"] == "IOC"
    assert closed["clientOrderId"] is None


async def test_market_sell_opens_a_short_and_reduce_only_buy_closes_it(bybit_rest: Any) -> None:
    await bybit_rest.create_order(GIGA, "market", "sell", 920)
    (short,) = await bybit_rest.fetch_positions([GIGA])
    assert (short["side"], short["contracts"], short["entryPrice"]) == ("short", 920.0, 0.0195)
    close = await bybit_rest.create_order(GIGA, "market", "buy", 920, params={"reduceOnly": True})
    closed = await bybit_rest.fetch_closed_order(close["id"], GIGA)
    assert closed["reduceOnly"] is True and closed["filled"] == 920
    (flat,) = await bybit_rest.fetch_positions([GIGA])
    assert flat["contracts"] == 0 and flat["side"] is None
    assert await bybit_rest.fetch_positions() == []


async def test_reduce_only_without_a_position_is_invalid_order(bybit_rest: Any) -> None:
    with pytest.raises(ccxt.InvalidOrder, match="110017"):
        await bybit_rest.create_order(GIGA, "market", "buy", 920, params={"reduceOnly": True})


async def test_client_order_id_round_trips_and_duplicates_are_refused(bybit_rest: Any) -> None:
    await bybit_rest.create_order(BTC, "limit", "buy", 0.01, 50000, params={"clientOrderId": "entry-1"})
    with pytest.raises(ccxt.InvalidOrder, match="OrderLinkedID is duplicate"):
        await bybit_rest.create_order(BTC, "limit", "buy", 0.01, 50000, params={"clientOrderId": "entry-1"})
    (resting,) = await bybit_rest.fetch_open_orders(BTC)
    assert (resting["clientOrderId"], resting["price"], resting["status"]) == ("entry-1", 50000.0, "open")
    (found,) = await bybit_rest.fetch_open_orders(BTC, params={"orderLinkId": "entry-1"})
    assert found["id"] == resting["id"]
    # ccxt sends the literal orderId=None here, and orderId outranks orderLinkId in Bybit's lookup.
    with pytest.raises(ccxt.OrderNotFound):
        await bybit_rest.fetch_open_order(None, BTC, {"orderLinkId": "entry-1"})


async def test_attached_stop_loss_and_take_profit_guard_the_position(bybit_venue: RunningVenue, bybit_rest: Any) -> None:
    created = await bybit_rest.create_order(BTC, "market", "buy", 0.01, params={"stopLoss": 55000, "takeProfit": 65000})
    entry = await bybit_rest.fetch_closed_order(created["id"], BTC)
    assert (entry["stopLossPrice"], entry["takeProfitPrice"]) == (55000.0, 65000.0)
    (position,) = await bybit_rest.fetch_positions([BTC])
    assert (position["stopLossPrice"], position["takeProfitPrice"]) == (55000.0, 65000.0)
    guards = await bybit_rest.fetch_open_orders(BTC)
    assert sorted(g["triggerPrice"] for g in guards) == [55000.0, 65000.0]
    assert {g["info"]["stopOrderType"] for g in guards} == {"StopLoss", "TakeProfit"}
    bybit_venue.engine.set_price("BTCUSDT", "54990")
    (position,) = await bybit_rest.fetch_positions([BTC])
    assert position["contracts"] == 0
    assert await bybit_rest.fetch_open_orders(BTC) == []
    history = await bybit_rest.fetch_canceled_and_closed_orders(BTC)
    by_kind = {o["info"]["stopOrderType"]: o["status"] for o in history}
    assert by_kind == {"": "closed", "StopLoss": "closed", "TakeProfit": "canceled"}


async def test_a_conditional_stop_waits_for_its_trigger_direction(bybit_venue: RunningVenue, bybit_rest: Any) -> None:
    await bybit_rest.create_order(BTC, "market", "buy", 0.02)
    stop = await bybit_rest.create_order(
        BTC, "market", "sell", 0.02, params={"triggerPrice": 58000, "triggerDirection": "descending", "reduceOnly": True}
    )
    (pending,) = await bybit_rest.fetch_open_orders(BTC)
    assert (pending["id"], pending["triggerPrice"], pending["status"]) == (stop["id"], 58000.0, "open")
    assert pending["info"]["orderStatus"] == "Untriggered"
    bybit_venue.engine.set_price("BTCUSDT", "62000")
    assert len(await bybit_rest.fetch_open_orders(BTC)) == 1
    bybit_venue.engine.set_price("BTCUSDT", "57950")
    fired = await bybit_rest.fetch_closed_order(stop["id"], BTC)
    assert (fired["filled"], fired["average"]) == (0.02, 57950.0)


async def test_a_trigger_on_the_wrong_side_is_refused(bybit_rest: Any) -> None:
    with pytest.raises(ccxt.InvalidOrder, match="110093"):
        await bybit_rest.create_order(
            BTC, "market", "sell", 0.01, params={"triggerPrice": 61000, "triggerDirection": "descending"}
        )


async def test_trading_stop_sets_the_position_stop_loss(bybit_venue: RunningVenue, bybit_rest: Any) -> None:
    await bybit_rest.create_order(GIGA, "market", "sell", 920)
    await bybit_rest.load_markets()
    response = await bybit_rest.private_post_v5_position_trading_stop(
        {"category": "linear", "symbol": "GIGAUSDT", "stopLoss": "0.02100", "tpslMode": "Full", "positionIdx": 0}
    )
    assert response["retCode"] == 0
    (position,) = await bybit_rest.fetch_positions([GIGA])
    assert position["stopLossPrice"] == 0.021
    bybit_venue.engine.set_price("GIGAUSDT", "0.02150")
    (position,) = await bybit_rest.fetch_positions([GIGA])
    assert position["contracts"] == 0


async def test_stop_loss_and_take_profit_prices_together_go_through_trading_stop(bybit_venue: RunningVenue, bybit_rest: Any) -> None:
    await bybit_rest.create_order(BTC, "market", "buy", 0.02)
    await bybit_rest.create_order(BTC, "market", "sell", 0.01, params={"stopLossPrice": 55000, "takeProfitPrice": 65000})
    orders = bybit_venue.engine.orders.open_for(bybit_venue.account.account_id)
    assert sorted((o.stop_order_type.value, o.qty) for o in orders) == [
        ("PartialStopLoss", Decimal("0.01")), ("PartialTakeProfit", Decimal("0.01")),
    ]


async def test_cancel_order_and_the_cancelled_order_history(bybit_rest: Any) -> None:
    resting = await bybit_rest.create_order(BTC, "limit", "sell", 0.01, 70000)
    cancelled = await bybit_rest.cancel_order(resting["id"], BTC)
    assert cancelled["id"] == resting["id"]
    (gone,) = await bybit_rest.fetch_canceled_orders(BTC)
    assert (gone["id"], gone["status"], gone["filled"]) == (resting["id"], "canceled", 0.0)
    with pytest.raises(ccxt.OrderNotFound):
        await bybit_rest.fetch_closed_order(resting["id"], BTC)
    with pytest.raises(ccxt.OrderNotFound, match="110001"):
        await bybit_rest.cancel_order(resting["id"], BTC)


async def test_cancel_all_orders_cancels_only_the_symbol_asked(bybit_venue: RunningVenue, bybit_rest: Any) -> None:
    await bybit_rest.create_order(BTC, "limit", "buy", 0.01, 50000)
    await bybit_rest.create_order(BTC, "limit", "buy", 0.01, 51000)
    await bybit_rest.create_order("ETH/USDT:USDT", "limit", "buy", 0.1, 2000)
    cancelled = await bybit_rest.cancel_all_orders(BTC)
    assert len(cancelled) == 2
    (left,) = await bybit_rest.fetch_open_orders()
    assert left["symbol"] == "ETH/USDT:USDT"
    statuses = {o.status for o in bybit_venue.engine.orders.all_for(bybit_venue.account.account_id) if o.symbol == "BTCUSDT"}
    assert statuses == {OrderStatus.CANCELLED}


async def test_a_resting_limit_fills_as_maker_when_the_price_crosses(bybit_venue: RunningVenue, bybit_rest: Any) -> None:
    order = await bybit_rest.create_order("ETH/USDT:USDT", "limit", "buy", 1, 2950)
    assert (await bybit_rest.fetch_open_order(order["id"], "ETH/USDT:USDT"))["status"] == "open"
    bybit_venue.engine.set_price("ETHUSDT", "2940")
    (trade,) = await bybit_rest.fetch_my_trades("ETH/USDT:USDT")
    assert (trade["price"], trade["amount"], trade["takerOrMaker"]) == (2950.0, 1.0, "maker")
    assert trade["fee"]["cost"] == pytest.approx(0.59)


async def test_insufficient_balance_is_insufficient_funds(bybit_rest: Any) -> None:
    with pytest.raises(ccxt.InsufficientFunds, match="110007"):
        await bybit_rest.create_order(BTC, "market", "buy", 5)


async def test_fetch_closed_orders_lists_filled_orders_newest_first_and_honours_limit(bybit_rest: Any) -> None:
    first = await bybit_rest.create_order(BTC, "market", "buy", 0.01)
    second = await bybit_rest.create_order(BTC, "market", "sell", 0.01)
    resting = await bybit_rest.create_order(BTC, "limit", "buy", 0.01, 50000)
    await bybit_rest.cancel_order(resting["id"], BTC)
    closed = await bybit_rest.fetch_closed_orders(BTC)
    # ccxt sorts ascending; the cancelled order is not "Filled", so the filter leaves it out.
    assert [o["id"] for o in closed] == [first["id"], second["id"]]
    (latest,) = await bybit_rest.fetch_closed_orders(BTC, limit=1)
    assert latest["id"] == second["id"]


async def test_every_page_that_holds_anything_carries_a_cursor_and_the_one_after_the_last_is_empty(
        bybit_rest: Any) -> None:
    """As the recorded answers show (one open order, and a cursor all the same), and as ccxt's
    cursor pagination needs: a client reads pages until one comes back empty."""
    for price in (50000, 50100, 50200):
        await bybit_rest.create_order(BTC, "limit", "buy", 0.01, price)

    def page(cursor: str | None) -> Any:
        params = {"category": "linear", "symbol": "BTCUSDT", "limit": 2, **({"cursor": cursor} if cursor else {})}
        return bybit_rest.private_get_v5_order_realtime(params)

    first = (await page(None))["result"]
    second = (await page(first["nextPageCursor"]))["result"]
    after = (await page(second["nextPageCursor"]))["result"]

    assert (len(first["list"]), len(second["list"]), len(after["list"])) == (2, 1, 0)
    assert first["nextPageCursor"] and second["nextPageCursor"] and after["nextPageCursor"] == ""
    orders = await bybit_rest.fetch_open_orders(BTC, params={"paginate": True})  # ccxt's own pagination
    assert len(orders) == 3
