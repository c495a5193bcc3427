"""Instruments and tickers in Bybit v5's field shapes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from simulator.bybit.wire import plain
from simulator.engine.book import Book
from simulator.engine.instruments import Instrument
from simulator.engine.market import MarketState
from simulator.engine.tape import Candle
from simulator.engine.venue import Engine

HOUR_MS = 3_600_000


def instrument_item(inst: Instrument, *, symbol_id: int) -> dict[str, Any]:
    return {
        "symbol": inst.symbol,
        "symbolId": symbol_id,
        "contractType": "LinearPerpetual",
        "status": inst.status,
        "baseCoin": inst.base_coin,
        "quoteCoin": inst.quote_coin,
        "launchTime": str(inst.launch_time_ms),
        "deliveryTime": "0",
        "deliveryFeeRate": "",
        "priceScale": str(inst.price_scale),
        "leverageFilter": {
            "minLeverage": plain(inst.min_leverage),
            "maxLeverage": f"{inst.max_leverage:.2f}",
            "leverageStep": plain(inst.leverage_step),
        },
        "priceFilter": {
            "minPrice": inst.format_price(inst.min_price),
            "maxPrice": inst.format_price(inst.max_price),
            "tickSize": inst.format_price(inst.tick_size),
        },
        "lotSizeFilter": {
            "maxOrderQty": inst.format_qty(inst.max_qty),
            "minOrderQty": inst.format_qty(inst.min_qty),
            "qtyStep": inst.format_qty(inst.qty_step),
            "postOnlyMaxOrderQty": inst.format_qty(inst.max_qty),
            "maxMktOrderQty": inst.format_qty(inst.max_market_qty),
            "minNotionalValue": plain(inst.min_notional),
        },
        "unifiedMarginTrade": True,
        "fundingInterval": inst.funding_interval_min,
        "settleCoin": inst.settle_coin,
        "copyTrading": "both",
        "upperFundingRate": "0.005",
        "lowerFundingRate": "-0.005",
        "isPreListing": False,
        "preListingInfo": None,
        "riskParameters": {"priceLimitRatioX": "0.01", "priceLimitRatioY": "0.02"},
        "displayName": "",
        "symbolType": "",
    }


TICKER_FIELDS = (
    "symbol", "lastPrice", "indexPrice", "markPrice", "prevPrice24h", "price24hPcnt", "highPrice24h",
    "lowPrice24h", "prevPrice1h", "openInterest", "openInterestValue", "turnover24h", "volume24h",
    "fundingRate", "nextFundingTime", "predictedDeliveryPrice", "basisRate", "deliveryFeeRate",
    "deliveryTime", "ask1Size", "bid1Price", "ask1Price", "bid1Size", "basis",
)


def ticker_now(engine: Engine, inst: Instrument) -> dict[str, Any]:
    """The instrument's ticker as it stands at the engine's now."""
    now = engine.now_ms()
    return ticker_item(inst, engine.market(inst.symbol), engine.day(inst.symbol),
                       engine.tape(inst.symbol).price_at(now - HOUR_MS), engine.book(inst.symbol, 1), now_ms=now)


def ticker_item(inst: Instrument, market: MarketState, day: Candle, hour_ago: Decimal, top: Book, *,
                now_ms: int) -> dict[str, Any]:
    """A ticker: its 24 h figures over the rolling day up to now (``day``), ``hour_ago`` the price an
    hour before, the best bid and ask from the book's ``top``."""
    price = inst.format_price
    interval_ms = inst.funding_interval_min * 60_000
    next_funding = (now_ms // interval_ms + 1) * interval_ms
    return {
        "symbol": inst.symbol,
        "lastPrice": price(market.last_price),
        "indexPrice": price(market.index_price),
        "markPrice": price(market.mark_price),
        "prevPrice24h": price(day.open),
        "price24hPcnt": f"{(market.last_price - day.open) / day.open:.6f}",
        "highPrice24h": price(day.high),
        "lowPrice24h": price(day.low),
        "prevPrice1h": price(hour_ago),
        "openInterest": "0",
        "openInterestValue": "0.00",
        "turnover24h": plain(day.turnover),
        "volume24h": plain(day.volume),
        "fundingRate": plain(market.funding_rate),
        "nextFundingTime": str(next_funding),
        "predictedDeliveryPrice": "",
        "basisRate": "",
        "deliveryFeeRate": "",
        "deliveryTime": "0",
        "ask1Size": inst.format_qty(top.best_ask[1]),
        "bid1Price": price(top.best_bid[0]),
        "ask1Price": price(top.best_ask[0]),
        "bid1Size": inst.format_qty(top.best_bid[1]),
        "basis": "",
        "preOpenPrice": "",
        "preQty": "",
        "curPreListingPhase": "",
        "fundingIntervalHour": str(inst.funding_interval_min // 60),
        "basisRateYear": "",
        "fundingCap": "0.005",
    }
