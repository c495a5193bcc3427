"""``/v5/user``, ``/v5/account`` and ``/v5/asset``: who the key belongs to and what it holds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simulator.bybit.errors import BybitError, invalid
from simulator.bybit.render.trading import wallet_account
from simulator.bybit.routing import Call, get, post

_PERMISSIONS_RW = {
    "ContractTrade": ["Order", "Position"], "Spot": [], "Wallet": ["AccountTransfer"], "Options": [],
    "Derivatives": ["DerivativesTrade"], "CopyTrading": [], "BlockTrade": [], "Exchange": [], "NFT": [],
    "Affiliate": [], "Earn": [],
}


def query_api(call: Call) -> Mapping[str, Any]:
    account = call.account
    assert account is not None
    return {
        "id": str(account.uid),
        "note": "venue-harness",
        "apiKey": account.api_key,
        "readOnly": 1 if account.read_only else 0,
        "secret": "",
        "permissions": _PERMISSIONS_RW,
        "ips": ["*"],
        "type": 1,
        "deadlineDay": -1,
        "expiredAt": "",
        "createdAt": "2025-01-01T00:00:00Z",
        # ccxt reads these two to decide it talks to a unified trading account.
        "unified": 0,
        "uta": 1,
        "userID": account.uid,
        "inviterID": 0,
        "vipLevel": "No VIP",
        "mktMakerLevel": "0",
        "affiliateID": 0,
        "rsaPublicKey": "",
        "isMaster": True,
        "parentUid": "0",
        "kycLevel": "LEVEL_DEFAULT",
        "kycRegion": "",
    }


def account_info(call: Call) -> Mapping[str, Any]:
    return {
        "unifiedMarginStatus": 6,
        "marginMode": "REGULAR_MARGIN",
        "isMasterTrader": False,
        "spotHedgingStatus": "OFF",
        "updatedTime": str(call.now_ms),
        "dcpStatus": "OFF",
        "timeWindow": 10,
        "smpGroup": 0,
    }


def wallet_balance(call: Call) -> Mapping[str, Any]:
    account_type = call.params.text("accountType", required=True)
    if account_type != "UNIFIED":
        raise BybitError(10001, "accountType only support UNIFIED.")
    coins = call.params.text("coin")
    view = call.engine.wallet_view(call.account_id)
    row = wallet_account(view)
    if coins is not None and view.coin not in coins.split(","):
        row["coin"] = []
    return {"list": [row]}


def _chain(coin: str) -> dict[str, str]:
    return {
        "chainType": coin, "confirmation": "12", "withdrawFee": "1", "depositMin": "0", "withdrawMin": "2",
        "chain": coin, "chainDeposit": "1", "chainWithdraw": "1", "minAccuracy": "8",
        "withdrawPercentageFee": "0", "contractAddress": "", "safeConfirmNumber": "12",
    }


def coin_info(call: Call) -> Mapping[str, Any]:
    wanted = call.params.text("coin")
    coins = sorted({"USDT", *(i.base_coin for i in call.engine.instruments())})
    return {
        "rows": [
            {"name": coin, "coin": coin, "remainAmount": "1000000", "chains": [_chain(coin)]}
            for coin in coins
            if wanted is None or coin == wanted
        ]
    }


def fee_rate(call: Call) -> Mapping[str, Any]:
    """The account's maker and taker rates: one symbol's, or every listed symbol's (``fetch_trading_fee(s)``).
    Without a category, linear: Bybit's own example sends none and answers with derivatives rates."""
    call.params.category(default="linear")
    if call.params.text("baseCoin") is not None:
        raise BybitError(10001, "this simulator doesn't (yet) support baseCoin on fee-rate (options only)")
    symbol = call.params.text("symbol")
    listed = call.engine.instruments() if symbol is None else [call.engine.instrument(symbol)]
    return {"list": [{"symbol": i.symbol, "takerFeeRate": str(i.taker_fee_rate), "makerFeeRate": str(i.maker_fee_rate)}
                     for i in listed]}


MARGIN_MODES = frozenset({"ISOLATED_MARGIN", "REGULAR_MARGIN", "PORTFOLIO_MARGIN"})


def set_margin_mode(call: Call) -> Mapping[str, Any]:
    """``set_margin_mode``: the account is in cross margin (REGULAR_MARGIN), and stays so."""
    mode = call.params.text("setMarginMode", required=True)
    if mode not in MARGIN_MODES:
        raise invalid("setMarginMode")
    if mode != "REGULAR_MARGIN":
        raise BybitError(10001, f"this simulator doesn't (yet) support setMarginMode={mode}; the account trades"
                                " in cross margin (REGULAR_MARGIN)")
    return {"reasons": []}


ROUTES = (
    post("/v5/account/set-margin-mode", set_margin_mode),
    get("/v5/user/query-api", query_api, private=True),
    get("/v5/account/fee-rate", fee_rate, private=True),
    get("/v5/account/info", account_info, private=True),
    get("/v5/account/wallet-balance", wallet_balance, private=True),
    get("/v5/asset/coin/query-info", coin_info, private=True),
)
