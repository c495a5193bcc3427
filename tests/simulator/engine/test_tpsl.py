from __future__ import annotations

from decimal import Decimal as D

import pytest

from simulator.engine import (
    Account,
    Engine,
    OrderStatus,
    Rejection,
    RejectReason,
    Side,
    StopOrderType,
    TriggerDirection,
)
from simulator.engine.values import CancelType, TpslMode
from tests.simulator.engine.helpers import market


def _guards(engine: Engine, account: Account, symbol: str) -> dict[StopOrderType, object]:
    return {o.stop_order_type: o for o in engine.orders.open_for(account.account_id) if o.symbol == symbol}


def test_attached_sl_and_tp_become_whole_position_orders(engine: Engine, account: Account) -> None:
    engine.place_order(account.account_id, market("GIGAUSDT", Side.SELL, "920", stop_loss=D("0.02100")))
    position = engine.position(account.account_id, "GIGAUSDT")
    assert (position.stop_loss, position.take_profit) == (D("0.02100"), None)
    (sl,) = engine.orders.open_for(account.account_id)
    assert sl.stop_order_type is StopOrderType.STOP_LOSS
    assert (sl.side, sl.qty, sl.reduce_only, sl.close_on_trigger) == (Side.BUY, 0, True, True)
    assert sl.trigger_direction is TriggerDirection.RISES_TO and sl.status is OrderStatus.UNTRIGGERED


def test_the_stop_loss_closes_whatever_the_position_has_become(engine: Engine, account: Account) -> None:
    engine.place_order(account.account_id, market("BTCUSDT", Side.BUY, "0.01", stop_loss=D(58000), take_profit=D(65000)))
    engine.place_order(account.account_id, market("BTCUSDT", Side.BUY, "0.02"))
    engine.set_price("BTCUSDT", "57000")
    assert engine.position(account.account_id, "BTCUSDT").is_flat
    by_kind = {o.stop_order_type: o for o in engine.orders.all_for(account.account_id) if o.stop_order_type.value}
    assert by_kind[StopOrderType.STOP_LOSS].status is OrderStatus.FILLED
    assert by_kind[StopOrderType.STOP_LOSS].filled_qty == D("0.03")
    tp = by_kind[StopOrderType.TAKE_PROFIT]
    assert (tp.status, tp.cancel_type) == (OrderStatus.DEACTIVATED, CancelType.BY_TPSL_CLEAR)


def test_trading_stop_sets_amends_and_clears(engine: Engine, account: Account) -> None:
    engine.place_order(account.account_id, market("ETHUSDT", Side.BUY, "1"))
    engine.set_position_tpsl(account.account_id, "ETHUSDT", stop_loss=D(2800), take_profit=None)
    (sl,) = engine.orders.open_for(account.account_id)
    engine.set_position_tpsl(account.account_id, "ETHUSDT", stop_loss=D(2850), take_profit=D(3300))
    guards = _guards(engine, account, "ETHUSDT")
    assert guards[StopOrderType.STOP_LOSS].order_id == sl.order_id  # amended in place
    assert guards[StopOrderType.STOP_LOSS].trigger_price == D(2850)  # type: ignore[attr-defined]
    engine.set_position_tpsl(account.account_id, "ETHUSDT", stop_loss=D(0), take_profit=None)
    assert set(_guards(engine, account, "ETHUSDT")) == {StopOrderType.TAKE_PROFIT}
    position = engine.position(account.account_id, "ETHUSDT")
    assert (position.stop_loss, position.take_profit) == (None, D(3300))


def test_trading_stop_refusals(engine: Engine, account: Account) -> None:
    with pytest.raises(Rejection) as caught:
        engine.set_position_tpsl(account.account_id, "ETHUSDT", stop_loss=D(2800), take_profit=None)
    assert caught.value.reason is RejectReason.NO_POSITION_FOR_TPSL
    engine.place_order(account.account_id, market("ETHUSDT", Side.BUY, "1"))
    with pytest.raises(Rejection) as caught:
        engine.set_position_tpsl(account.account_id, "ETHUSDT", stop_loss=D(3100), take_profit=None)
    assert caught.value.reason is RejectReason.STOP_LOSS_WRONG_SIDE
    engine.set_position_tpsl(account.account_id, "ETHUSDT", stop_loss=D(2800), take_profit=None)
    with pytest.raises(Rejection) as caught:
        engine.set_position_tpsl(account.account_id, "ETHUSDT", stop_loss=D(2800), take_profit=None)
    assert caught.value.reason is RejectReason.TPSL_NOT_MODIFIED


def test_cancelling_the_stop_loss_order_unguards_the_position(engine: Engine, account: Account) -> None:
    engine.place_order(account.account_id, market("ETHUSDT", Side.SELL, "1", stop_loss=D(3200)))
    (sl,) = engine.orders.open_for(account.account_id)
    engine.cancel_order(account.account_id, "ETHUSDT", order_id=sl.order_id)
    assert engine.position(account.account_id, "ETHUSDT").stop_loss is None
    engine.set_price("ETHUSDT", "3300")
    assert engine.position(account.account_id, "ETHUSDT").size == D(-1)


def test_partial_tpsl_closes_only_its_size(engine: Engine, account: Account) -> None:
    engine.place_order(account.account_id, market("ETHUSDT", Side.BUY, "2"))
    engine.place_partial_tpsl(
        account.account_id, "ETHUSDT", stop_loss=D(2900), take_profit=None, sl_size=D("0.5"), tp_size=None
    )
    (sl,) = engine.orders.open_for(account.account_id)
    assert (sl.stop_order_type, sl.tpsl_mode, sl.qty) == (StopOrderType.PARTIAL_STOP_LOSS, TpslMode.PARTIAL, D("0.5"))
    engine.set_price("ETHUSDT", "2890")
    assert engine.position(account.account_id, "ETHUSDT").size == D("1.5")


def test_a_refused_partial_tpsl_leaves_no_leg_behind(engine: Engine, account: Account) -> None:
    engine.place_order(account.account_id, market("ETHUSDT", Side.BUY, "2"))
    with pytest.raises(Rejection) as caught:
        engine.place_partial_tpsl(
            account.account_id, "ETHUSDT", stop_loss=D(2900), take_profit=D("3100.005"), sl_size=D(1), tp_size=D(1)
        )
    assert caught.value.reason is RejectReason.PRICE_OFF_TICK
    assert engine.orders.open_for(account.account_id) == []
