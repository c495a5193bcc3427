"""Instruments and tickers in Bybit v5's field shapes."""

from __future__ import annotations

from typing import Any

from simulator.bybit.wire import plain
from simulator.engine.instruments import Instrument
from simulator.engine.market import MarketState


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


def ticker_item(inst: Instrument, market: MarketState, *, now_ms: int) -> dict[str, Any]:
    price = inst.format_price
    interval_ms = inst.funding_interval_min * 60_000
    next_funding = (now_ms // interval_ms + 1) * interval_ms
    tick = inst.tick_size
    return {
        "symbol": inst.symbol,
        "lastPrice": price(market.last_price),
        "indexPrice": price(market.index_price),
        "markPrice": price(market.mark_price),
        "prevPrice24h": price(market.prev_price_24h),
        "price24hPcnt": f"{market.price_24h_pcnt:.6f}",
        "highPrice24h": price(market.high_price_24h),
        "lowPrice24h": price(market.low_price_24h),
        "prevPrice1h": price(market.prev_price_24h),
        "openInterest": "0",
        "openInterestValue": "0.00",
        "turnover24h": plain(market.turnover_24h),
        "volume24h": plain(market.volume_24h),
        "fundingRate": plain(market.funding_rate),
        "nextFundingTime": str(next_funding),
        "predictedDeliveryPrice": "",
        "basisRate": "",
        "deliveryFeeRate": "",
        "deliveryTime": "0",
        # A one-tick spread around the last price, with nominal depth: there is no order book.
        "ask1Size": "1",
        "bid1Price": price(max(market.last_price - tick, tick)),
        "ask1Price": price(market.last_price),
        "bid1Size": "1",
        "basis": "",
        "preOpenPrice": "",
        "preQty": "",
        "curPreListingPhase": "",
        "fundingIntervalHour": str(inst.funding_interval_min // 60),
        "basisRateYear": "",
        "fundingCap": "0.005",
    }
