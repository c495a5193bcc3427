"""Margin arithmetic: what a wallet is worth and what an order would lock."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal

from simulator.engine.accounts import Wallet, WalletView
from simulator.engine.market import MarketState
from simulator.engine.orders import Order
from simulator.engine.positions import Position
from simulator.engine.values import OrderStatus, OrderType, Symbol

# One flat maintenance rate stands in for the venues' risk tiers: each venue shows one tier, this rate
# up to RISK_LIMIT_VALUE (a position value the engine does not cap).
MAINTENANCE_RATE = Decimal("0.005")
RISK_LIMIT_VALUE = Decimal(100_000_000)


def order_initial_margin(order: Order, leverage: Decimal) -> Decimal:
    """Margin a resting order locks; only plain limit orders that may add exposure lock any."""
    # A conditional order locks nothing until it triggers; once triggered and resting, it is a limit order.
    if order.reduce_only or order.status is OrderStatus.UNTRIGGERED or order.order_type is not OrderType.LIMIT:
        return Decimal(0)
    return order.leaves_qty * order.price / leverage


def wallet_view(
    wallet: Wallet,
    positions: Iterable[Position],
    markets: Mapping[Symbol, MarketState],
    open_orders: Iterable[Order],
    leverage_of: Callable[[Symbol], Decimal],
) -> WalletView:
    upl = position_im = position_mm = Decimal(0)
    for p in positions:
        if p.is_flat:
            continue
        upl += p.unrealised_pnl(markets[p.symbol].mark_price)
        position_im += p.initial_margin
        position_mm += p.value * MAINTENANCE_RATE
    order_im = sum(
        (order_initial_margin(o, leverage_of(o.symbol)) for o in open_orders), Decimal(0)
    )
    return WalletView(
        account_id=wallet.account_id,
        coin=wallet.coin,
        balance=wallet.balance,
        cum_realised_pnl=wallet.cum_realised_pnl,
        unrealised_pnl=upl,
        position_im=position_im,
        position_mm=position_mm,
        order_im=order_im,
    )
