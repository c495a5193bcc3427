"""Balance, leverage, position mode, positions and trades through ccxt; authentication errors."""

from __future__ import annotations

from typing import Any

import ccxt
import pytest

from simulator.server import RunningVenue
from tests.simulator.bybit import rawhttp

pytestmark = pytest.mark.virtual_time

BTC = "BTC/USDT:USDT"


async def test_fetch_balance_reports_the_funded_wallet_and_margin_in_use(bybit_rest: Any) -> None:
    balance = await bybit_rest.fetch_balance()
    assert balance["USDT"] == {"free": 10000.0, "used": 0.0, "total": 10000.0, "debt": 0.0}
    await bybit_rest.create_order(BTC, "market", "buy", 0.01)
    await bybit_rest.create_order(BTC, "limit", "buy", 0.01, 50000)
    usdt = (await bybit_rest.fetch_balance())["USDT"]
    # Position IM 600/10, order IM 500/10, fee 0.33 paid from the wallet.
    assert usdt["total"] == pytest.approx(9999.67)
    assert usdt["used"] == pytest.approx(110.0)
    assert usdt["free"] == pytest.approx(9889.67)


async def test_set_leverage_applies_and_an_unchanged_leverage_is_bad_request(bybit_rest: Any) -> None:
    await bybit_rest.set_leverage(5, BTC)
    await bybit_rest.create_order(BTC, "market", "buy", 0.01)
    (position,) = await bybit_rest.fetch_positions([BTC])
    assert position["leverage"] == 5.0
    assert position["initialMargin"] == pytest.approx(120.0)
    with pytest.raises(ccxt.BadRequest, match="110043"):
        await bybit_rest.set_leverage(5, BTC)


async def test_leverage_beyond_the_instrument_maximum_is_refused(bybit_rest: Any) -> None:
    with pytest.raises(ccxt.BadRequest, match=r"110013.*cannot set leverage \[5000\] gt maxLeverage \[2500\]"):
        await bybit_rest.set_leverage(50, "GIGA/USDT:USDT")


async def test_one_way_mode_is_no_change_and_hedge_mode_fails_loudly(bybit_rest: Any) -> None:
    with pytest.raises(ccxt.NoChange, match="110025"):
        await bybit_rest.set_position_mode(False, BTC)
    with pytest.raises(ccxt.BadRequest, match=r"doesn't \(yet\) support hedge mode"):
        await bybit_rest.set_position_mode(True, BTC)


async def test_fetch_positions_and_my_trades_after_a_round_trip(bybit_venue: RunningVenue, bybit_rest: Any) -> None:
    await bybit_rest.create_order(BTC, "market", "buy", 0.02)
    bybit_venue.engine.set_price("BTCUSDT", "61000")
    (position,) = await bybit_rest.fetch_positions()
    assert (position["side"], position["contracts"], position["entryPrice"]) == ("long", 0.02, 60000.0)
    assert (position["markPrice"], position["unrealizedPnl"], position["notional"]) == (61000.0, 20.0, 1200.0)
    await bybit_rest.create_order(BTC, "market", "sell", 0.02, params={"reduceOnly": True})
    trades = await bybit_rest.fetch_my_trades(BTC)
    assert [(t["side"], t["price"], t["amount"]) for t in trades] == [("buy", 60000.0, 0.02), ("sell", 61000.0, 0.02)]
    assert all(t["takerOrMaker"] == "taker" for t in trades)
    total = (await bybit_rest.fetch_balance())["USDT"]["total"]
    assert total == pytest.approx(10000 + 20 - 0.66 - 0.671)


@pytest.mark.parametrize(
    ("auth", "code", "text"),
    [
        ({"api_key": "nobody"}, 10003, "API key is invalid."),
        ({"secret": "wrong"}, 10004, "error sign!"),
        ({"timestamp": 1}, 10002, "recv_window"),
        ({"timestamp": 1, "api_key": "nobody"}, 10002, "req_timestamp[1]"),  # the window is checked before the key
    ],
)
async def test_authentication_errors(bybit_venue: RunningVenue, auth: dict[str, Any], code: int, text: str) -> None:
    status, body = await rawhttp.get(bybit_venue, "/v5/account/wallet-balance", {"accountType": "UNIFIED"}, **auth)
    assert (status, body["retCode"]) == (200, code)
    assert text in body["retMsg"]
    assert body["result"] == {} and body["retExtInfo"] == {}


async def test_a_stale_timestamp_is_invalid_nonce_through_ccxt(bybit_venue: RunningVenue) -> None:
    client = bybit_venue.rest_client()
    await client.load_markets()
    client.options["timeDifference"] = 10_000  # ccxt signs with now - timeDifference
    with pytest.raises(ccxt.InvalidNonce, match="10002"):
        await client.fetch_balance()


async def test_a_read_only_key_may_read_but_not_trade(bybit_venue: RunningVenue) -> None:
    bybit_venue.engine.add_account(api_key="reader", api_secret="reader-secret", read_only=True)
    client = bybit_venue.rest_client(apiKey="reader", secret="reader-secret")
    assert (await client.fetch_balance())["USDT"]["total"] == 0.0
    with pytest.raises(ccxt.PermissionDenied, match="10005"):
        await client.create_order(BTC, "market", "buy", 0.01)
    # Bybit's gateway checks permission before the signature.
    status, body = await rawhttp.post(
        bybit_venue, "/v5/order/create", {"category": "linear"}, api_key="reader", secret="not-the-secret"
    )
    assert body["retCode"] == 10005


async def test_a_timestamp_within_the_receive_window_is_accepted(bybit_venue: RunningVenue) -> None:
    ts = bybit_venue.engine.now_ms() - 4000
    _, body = await rawhttp.get(bybit_venue, "/v5/account/wallet-balance", {"accountType": "UNIFIED"}, timestamp=ts)
    assert body["retCode"] == 0
    _, body = await rawhttp.get(
        bybit_venue, "/v5/account/wallet-balance", {"accountType": "UNIFIED"}, timestamp=ts, recv_window="3000"
    )
    assert body["retCode"] == 10002


async def test_fee_rates_are_the_instruments_own_for_one_symbol_or_all(bybit_rest: Any) -> None:
    await bybit_rest.load_markets()

    one = await bybit_rest.fetch_trading_fee("BTC/USDT:USDT")
    every = await bybit_rest.fetch_trading_fees()  # ccxt sends no category: linear, as Bybit's example

    assert (one["maker"], one["taker"]) == (0.0002, 0.00055)
    assert one["info"] == {"symbol": "BTCUSDT", "takerFeeRate": "0.00055", "makerFeeRate": "0.0002"}
    assert sorted(every) == ["BTC/USDT:USDT", "ETH/USDT:USDT", "GIGA/USDT:USDT"]
    # The rate charged on a fill is the rate told.
    await bybit_rest.create_order("BTC/USDT:USDT", "market", "buy", 0.01)
    [trade] = await bybit_rest.fetch_my_trades("BTC/USDT:USDT")
    assert trade["fee"]["cost"] == pytest.approx(0.01 * 60000 * one["taker"])


async def test_cross_margin_is_set_and_isolated_is_refused_by_name(bybit_rest: Any) -> None:
    import ccxt

    answer = await bybit_rest.set_margin_mode("cross")
    assert answer["retCode"] == 0 and answer["result"] == {"reasons": []}
    assert (await bybit_rest.fetch_margin_mode("BTC/USDT:USDT"))["marginMode"] == "cross"
    with pytest.raises(ccxt.BadRequest, match="doesn't \\(yet\\) support setMarginMode=ISOLATED_MARGIN"):
        await bybit_rest.set_margin_mode("isolated")
