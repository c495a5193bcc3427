from __future__ import annotations

import random
from decimal import Decimal as D

import pytest

from simulator.catalog import default_instruments
from simulator.clock import ManualClock
from simulator.engine import (
    Account,
    ClientOrderId,
    Engine,
    EngineConfig,
    Executed,
    OrderChanged,
    OrderStatus,
    PositionChanged,
    Rejection,
    RejectReason,
    Side,
    TimeInForce,
    TriggerDirection,
    WalletChanged,
)
from tests.simulator.engine.helpers import limit, market, stop_market


def test_a_market_order_fills_at_the_last_price_and_pays_the_taker_fee(engine: Engine, account: Account) -> None:
    order = engine.place_order(account.account_id, market("BTCUSDT", Side.BUY, "0.01"))
    assert order.status is OrderStatus.FILLED
    assert order.avg_price == D(60000)
    # The order shows the protection price: 1% through the last price, on the tick grid.
    assert order.price == D("60600.0")
    assert order.time_in_force is TimeInForce.IOC
    assert order.cum_exec_fee == D("0.01") * D(60000) * D("0.00055")
    position = engine.position(account.account_id, "BTCUSDT")
    assert (position.size, position.entry_price) == (D("0.01"), D(60000))
    assert engine.wallet(account.account_id).balance == D(10000) - order.cum_exec_fee


def test_a_limit_order_rests_then_fills_as_maker_when_the_price_crosses(engine: Engine, account: Account) -> None:
    order = engine.place_order(account.account_id, limit("ETHUSDT", Side.BUY, "1", "2900"))
    assert order.status is OrderStatus.NEW
    assert engine.wallet_view(account.account_id).order_im == D(2900) / D(10)
    engine.set_price("ETHUSDT", "2950")
    assert engine.orders.get(order.order_id).status is OrderStatus.NEW  # type: ignore[union-attr]
    engine.set_price("ETHUSDT", "2899")
    filled = engine.orders.get(order.order_id)
    assert filled is not None and filled.status is OrderStatus.FILLED
    assert filled.avg_price == D(2900)
    assert filled.cum_exec_fee == D(2900) * D("0.0002")


def test_a_marketable_post_only_order_is_cancelled(engine: Engine, account: Account) -> None:
    order = engine.place_order(
        account.account_id, limit("ETHUSDT", Side.BUY, "1", "3100", time_in_force=TimeInForce.POST_ONLY)
    )
    assert (order.status, order.reject_reason) == (OrderStatus.CANCELLED, "EC_PostOnlyWillTakeLiquidity")


@pytest.mark.parametrize(
    ("qty", "reason"),
    [("0.0015", RejectReason.QTY_OFF_STEP), ("0", RejectReason.QTY_OFF_STEP), ("200", RejectReason.QTY_ABOVE_MAX)],
)
def test_qty_filters(engine: Engine, account: Account, qty: str, reason: RejectReason) -> None:
    with pytest.raises(Rejection) as caught:
        engine.place_order(account.account_id, market("BTCUSDT", Side.BUY, qty))
    assert caught.value.reason is reason


def test_min_notional_is_checked_against_the_last_price(engine: Engine, account: Account) -> None:
    with pytest.raises(Rejection) as caught:
        engine.place_order(account.account_id, market("GIGAUSDT", Side.SELL, "200"))
    assert caught.value.reason is RejectReason.BELOW_MIN_NOTIONAL
    assert caught.value.detail["min_notional"] == D(5)


def test_an_unknown_symbol_is_refused(engine: Engine, account: Account) -> None:
    with pytest.raises(Rejection) as caught:
        engine.place_order(account.account_id, market("NOPEUSDT", Side.BUY, "1"))
    assert caught.value.reason is RejectReason.UNKNOWN_SYMBOL


def test_an_order_beyond_the_available_balance_is_refused_and_changes_nothing(
    engine: Engine, account: Account
) -> None:
    with pytest.raises(Rejection) as caught:
        engine.place_order(account.account_id, market("BTCUSDT", Side.BUY, "2"))
    assert caught.value.reason is RejectReason.INSUFFICIENT_BALANCE
    assert engine.orders.all_for(account.account_id) == []
    assert engine.position(account.account_id, "BTCUSDT").is_flat


def test_reduce_only_needs_an_opposite_position_and_is_clamped_to_it(engine: Engine, account: Account) -> None:
    with pytest.raises(Rejection) as caught:
        engine.place_order(account.account_id, market("GIGAUSDT", Side.BUY, "920", reduce_only=True))
    assert caught.value.reason is RejectReason.REDUCE_ONLY_NOTHING_TO_REDUCE
    engine.place_order(account.account_id, market("GIGAUSDT", Side.SELL, "920"))
    close = engine.place_order(account.account_id, market("GIGAUSDT", Side.BUY, "5000", reduce_only=True))
    assert (close.status, close.qty) == (OrderStatus.FILLED, D(920))
    assert engine.position(account.account_id, "GIGAUSDT").is_flat


def test_a_client_order_id_is_unique_among_open_orders_only(engine: Engine, account: Account) -> None:
    cid = ClientOrderId("entry-1")
    first = engine.place_order(account.account_id, limit("ETHUSDT", Side.BUY, "1", "2000", client_order_id=cid))
    with pytest.raises(Rejection) as caught:
        engine.place_order(account.account_id, limit("ETHUSDT", Side.BUY, "1", "2000", client_order_id=cid))
    assert caught.value.reason is RejectReason.DUPLICATE_CLIENT_ORDER_ID
    engine.cancel_order(account.account_id, "ETHUSDT", client_order_id=cid)
    again = engine.place_order(account.account_id, limit("ETHUSDT", Side.BUY, "1", "2000", client_order_id=cid))
    assert again.order_id != first.order_id
    assert engine.find_order(account.account_id, client_order_id=cid) == again


def test_cancelling_a_closed_or_foreign_order_is_order_not_found(engine: Engine, account: Account) -> None:
    other = engine.add_account(api_key="other", api_secret="s", balance=D(1000))
    filled = engine.place_order(account.account_id, market("ETHUSDT", Side.BUY, "0.1"))
    resting = engine.place_order(account.account_id, limit("ETHUSDT", Side.BUY, "0.1", "2000"))
    for who, order_id in ((account.account_id, filled.order_id), (other.account_id, resting.order_id)):
        with pytest.raises(Rejection) as caught:
            engine.cancel_order(who, "ETHUSDT", order_id=order_id)
        assert caught.value.reason is RejectReason.ORDER_NOT_FOUND


def test_a_stop_market_order_triggers_only_when_the_price_crosses_its_way(engine: Engine, account: Account) -> None:
    engine.place_order(account.account_id, market("BTCUSDT", Side.BUY, "0.01"))
    stop = engine.place_order(
        account.account_id,
        stop_market("BTCUSDT", Side.SELL, "0.01", "58000", TriggerDirection.FALLS_TO, reduce_only=True),
    )
    assert stop.status is OrderStatus.UNTRIGGERED
    engine.set_price("BTCUSDT", "61000")
    engine.set_price("BTCUSDT", "58000.1")
    assert engine.orders.get(stop.order_id).status is OrderStatus.UNTRIGGERED  # type: ignore[union-attr]
    engine.set_price("BTCUSDT", "57900")
    fired = engine.orders.get(stop.order_id)
    assert fired is not None and fired.status is OrderStatus.FILLED and fired.avg_price == D(57900)
    assert engine.position(account.account_id, "BTCUSDT").is_flat


@pytest.mark.parametrize(
    ("direction", "trigger", "reason"),
    [
        (TriggerDirection.RISES_TO, "59000", RejectReason.TRIGGER_NOT_ABOVE_PRICE),
        (TriggerDirection.FALLS_TO, "61000", RejectReason.TRIGGER_NOT_BELOW_PRICE),
    ],
)
def test_a_trigger_on_the_wrong_side_is_refused(
    engine: Engine, account: Account, direction: TriggerDirection, trigger: str, reason: RejectReason
) -> None:
    with pytest.raises(Rejection) as caught:
        engine.place_order(account.account_id, stop_market("BTCUSDT", Side.BUY, "0.01", trigger, direction))
    assert caught.value.reason is reason


def test_a_triggered_reduce_only_stop_with_no_position_is_deactivated(engine: Engine, account: Account) -> None:
    stop = engine.place_order(
        account.account_id,
        stop_market("ETHUSDT", Side.SELL, "1", "2900", TriggerDirection.FALLS_TO, reduce_only=True),
    )
    engine.set_price("ETHUSDT", "2800")
    assert engine.orders.get(stop.order_id).status is OrderStatus.DEACTIVATED  # type: ignore[union-attr]


def test_leverage_must_change_and_stay_in_range(engine: Engine, account: Account) -> None:
    with pytest.raises(Rejection) as caught:
        engine.set_leverage(account.account_id, "BTCUSDT", D(10))
    assert caught.value.reason is RejectReason.LEVERAGE_NOT_MODIFIED
    with pytest.raises(Rejection) as caught:
        engine.set_leverage(account.account_id, "GIGAUSDT", D(50))
    assert caught.value.reason is RejectReason.LEVERAGE_OUT_OF_RANGE
    engine.set_leverage(account.account_id, "BTCUSDT", D(5))
    order = engine.place_order(account.account_id, market("BTCUSDT", Side.BUY, "0.1"))
    assert engine.wallet_view(account.account_id).position_im == order.cum_exec_value / 5


def test_the_recent_closed_window_keeps_only_the_newest(clock: ManualClock) -> None:
    engine = Engine(clock=clock, rng=random.Random(1), config=EngineConfig(closed_window=3))
    for instrument, price in default_instruments():
        engine.add_instrument(instrument, price)
    account = engine.add_account(api_key="k", api_secret="s", balance=D(10_000))
    orders = []
    for _ in range(5):
        clock.advance_ms(1)
        orders.append(engine.place_order(account.account_id, market("ETHUSDT", Side.BUY, "0.01")))
    resting = engine.place_order(account.account_id, limit("ETHUSDT", Side.BUY, "0.01", "2000"))
    view = engine.orders.in_realtime_view(account.account_id)
    assert [o.order_id for o in view] == [resting.order_id] + [o.order_id for o in reversed(orders[2:])]
    engine.restart()
    assert [o.order_id for o in engine.orders.in_realtime_view(account.account_id)] == [resting.order_id]
    assert len(engine.orders.all_for(account.account_id)) == 6


def test_listeners_get_one_batch_per_command_in_causal_order(engine: Engine, account: Account) -> None:
    batches: list[tuple[object, ...]] = []
    engine.subscribe(lambda batch: batches.append(tuple(batch)))
    engine.place_order(account.account_id, market("ETHUSDT", Side.BUY, "0.1"))
    assert len(batches) == 1
    kinds = [type(e) for e in batches[0]]
    assert kinds == [OrderChanged, OrderChanged, Executed, PositionChanged, WalletChanged]
    statuses = [e.order.status for e in batches[0] if isinstance(e, OrderChanged)]
    assert statuses == [OrderStatus.NEW, OrderStatus.FILLED]


def _trace(seed: int) -> list[str]:
    clock = ManualClock()
    engine = Engine(clock=clock, rng=random.Random(seed))
    for instrument, price in default_instruments():
        engine.add_instrument(instrument, price)
    account = engine.add_account(api_key="k", api_secret="s", balance=D(10_000))
    out: list[str] = []
    engine.subscribe(lambda batch: out.extend(repr(e) for e in batch))
    engine.place_order(account.account_id, market("BTCUSDT", Side.BUY, "0.01", stop_loss=D(59000)))
    clock.advance_ms(250)
    engine.set_price("BTCUSDT", "58000")
    return out


def test_same_seed_same_trace_and_another_seed_other_ids() -> None:
    assert _trace(3) == _trace(3)
    assert _trace(3) != _trace(4)


def test_a_triggered_conditional_limit_rests_like_any_limit_order(engine: Engine, account: Account) -> None:
    conditional = limit("BTCUSDT", Side.BUY, "1", "60500")
    from dataclasses import replace

    order = engine.place_order(
        account.account_id, replace(conditional, trigger_price=D(61000), trigger_direction=TriggerDirection.RISES_TO)
    )
    assert engine.wallet_view(account.account_id).order_im == 0  # nothing locked before the trigger
    engine.set_price("BTCUSDT", "61000")
    resting = engine.orders.get(order.order_id)
    assert resting is not None and resting.status is OrderStatus.NEW
    assert engine.wallet_view(account.account_id).order_im == D(60500) / D(10)
    with pytest.raises(Rejection) as caught:
        engine.place_order(account.account_id, limit("BTCUSDT", Side.BUY, "1", "60000"))
    assert caught.value.reason is RejectReason.INSUFFICIENT_BALANCE


def test_a_triggered_reduce_only_order_dies_with_the_position(engine: Engine, account: Account) -> None:
    from dataclasses import replace

    engine.place_order(account.account_id, market("ETHUSDT", Side.BUY, "1"))
    take = replace(limit("ETHUSDT", Side.SELL, "1", "3200", reduce_only=True),
                   trigger_price=D(3100), trigger_direction=TriggerDirection.RISES_TO)
    order = engine.place_order(account.account_id, take)
    engine.set_price("ETHUSDT", "3100")
    assert engine.orders.get(order.order_id).status is OrderStatus.NEW  # type: ignore[union-attr]
    engine.place_order(account.account_id, market("ETHUSDT", Side.SELL, "3"))  # close and flip short
    gone = engine.orders.get(order.order_id)
    assert gone is not None and gone.status is OrderStatus.CANCELLED


def test_attached_tpsl_prices_must_sit_on_the_tick_grid(engine: Engine, account: Account) -> None:
    with pytest.raises(Rejection) as caught:
        engine.place_order(account.account_id, limit("BTCUSDT", Side.BUY, "0.01", "59000", take_profit=D("70000.05")))
    assert caught.value.reason is RejectReason.PRICE_OFF_TICK
    assert engine.orders.all_for(account.account_id) == []


def test_order_margin_uses_the_leverage_the_account_actually_has(clock: ManualClock) -> None:
    engine = Engine(clock=clock, rng=random.Random(1), config=EngineConfig(default_leverage=D(50)))
    for instrument, price in default_instruments():
        engine.add_instrument(instrument, price)
    account = engine.add_account(api_key="k", api_secret="s", balance=D(10_000))
    engine.place_order(account.account_id, limit("GIGAUSDT", Side.BUY, "100000", "0.019"))
    assert engine.leverage(account.account_id, "GIGAUSDT") == 25  # capped by the instrument
    assert engine.wallet_view(account.account_id).order_im == D("1900") / 25


def test_leverage_and_prices_keep_to_their_steps(engine: Engine, account: Account) -> None:
    with pytest.raises(Rejection) as caught:
        engine.set_leverage(account.account_id, "BTCUSDT", D("5.555"))
    assert caught.value.reason is RejectReason.LEVERAGE_OFF_STEP
    with pytest.raises(Rejection) as caught:
        engine.set_price("BTCUSDT", "60000.05")
    assert caught.value.reason is RejectReason.PRICE_OFF_TICK
