"""The engine: one exchange's books, accounts and positions behind venue-agnostic commands.

Every timestamp comes from the injected clock and every id from the injected RNG.
Each public command runs as one batch: listeners receive the batch's events, in the
order they happened, after the command has finished changing state.
"""

from __future__ import annotations

import contextlib
import dataclasses
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal

from simulator.clock import Clock, now_ms
from simulator.engine.accounts import Account, Wallet, WalletView
from simulator.engine.amend import Amendment, amend
from simulator.engine.book import Book, book
from simulator.engine.events import (
    EngineEvent,
    OrderChanged,
    PositionChanged,
    TickerChanged,
    WalletChanged,
)
from simulator.engine.funding import Funding
from simulator.engine.ids import IdSource
from simulator.engine.instruments import Instrument
from simulator.engine.margin import order_initial_margin, wallet_view
from simulator.engine.market import MarketState
from simulator.engine.matching import Matcher
from simulator.engine.orders import Order, OrderRequest
from simulator.engine.positions import Position
from simulator.engine.rejections import Rejection, RejectReason
from simulator.engine.store import OrderStore
from simulator.engine.tape import Candle, Tape
from simulator.engine.tpsl import TpslBook
from simulator.engine.validation import (
    check_min_notional,
    check_price,
    check_qty,
    check_tpsl,
    check_trigger,
)
from simulator.engine.values import (
    AccountId,
    CancelType,
    ClientOrderId,
    OrderStatus,
    OrderType,
    Side,
    Symbol,
    TimeInForce,
    VenueOrderId,
)
from simulator.faults.plan import FaultPlan

Listener = Callable[[Sequence[EngineEvent]], None]


POSITION_HISTORY = 200  # versions kept per position for stale-list faults
DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineConfig:
    closed_window: int = 500
    default_leverage: Decimal = Decimal(10)
    # Market orders carry a protection price this far beyond the last price (seen in real Bybit orders: 1%).
    market_protection: Decimal = Decimal("0.01")


class Engine:
    def __init__(self, *, clock: Clock, rng: random.Random, config: EngineConfig | None = None) -> None:
        self.clock = clock
        self.config = config or EngineConfig()
        self.ids = IdSource(rng)
        self.orders = OrderStore(closed_window=self.config.closed_window)
        self._instruments: dict[Symbol, Instrument] = {}
        self._markets: dict[Symbol, MarketState] = {}
        self._tapes: dict[Symbol, Tape] = {}
        self._accounts: dict[AccountId, Account] = {}
        self._by_key: dict[str, Account] = {}
        self._wallets: dict[AccountId, Wallet] = {}
        self._positions: dict[tuple[AccountId, Symbol], Position] = {}
        self._leverage: dict[tuple[AccountId, Symbol], Decimal] = {}
        self._listeners: list[Listener] = []
        # The consistency faults of the venue's read side (set by the wire layer that owns the plan).
        self.faults: FaultPlan | None = None
        # Recent versions of each position, for the query model's stale position lists.
        self._position_history: dict[tuple[AccountId, Symbol], list[tuple[int, Position]]] = {}
        self._pending: list[EngineEvent] = []
        self._depth = 0
        self._seq = 0
        self._book_seqs: dict[Symbol, int] = {}
        self._days: dict[str, tuple[tuple[int, tuple[int, int, bool]], Candle]] = {}
        self._tpsl = TpslBook(self)
        self.funding = Funding(self)
        self._matcher = Matcher(self)

    # ---------------------------------------------------------------- setup

    def add_instrument(self, instrument: Instrument, price: Decimal) -> None:
        if instrument.symbol in self._instruments:
            raise ValueError(f"instrument {instrument.symbol} is already listed")
        self._instruments[instrument.symbol] = instrument
        self._markets[instrument.symbol] = MarketState.steady(instrument.symbol, Decimal(price), ms=self.now_ms())
        self._tapes[instrument.symbol] = Tape(self.now_ms(), Decimal(price))
        self.funding.listed(instrument.symbol, self.now_ms())

    def add_account(
        self, *, api_key: str, api_secret: str, balance: Decimal = Decimal(0), read_only: bool = False
    ) -> Account:
        if api_key in self._by_key:
            raise ValueError(f"api key {api_key!r} already belongs to account {self._by_key[api_key].account_id}")
        uid = self.ids.uid()
        account = Account(
            account_id=AccountId(str(uid)), uid=uid, api_key=api_key, api_secret=api_secret, read_only=read_only
        )
        self._accounts[account.account_id] = account
        self._by_key[api_key] = account
        self._wallets[account.account_id] = Wallet(account_id=account.account_id)
        if balance:
            self.deposit(account.account_id, Decimal(balance))
        return account

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    # ---------------------------------------------------------------- queries

    def now_ms(self) -> int:
        return now_ms(self.clock)

    def instrument(self, symbol: str) -> Instrument:
        inst = self._instruments.get(Symbol(symbol))
        if inst is None:
            raise Rejection(RejectReason.UNKNOWN_SYMBOL, symbol=symbol)
        return inst

    def instruments(self) -> list[Instrument]:
        return sorted(self._instruments.values(), key=lambda i: i.symbol)

    def tape(self, symbol: str) -> Tape:
        """The instrument's price and trade history since listing (klines are built from it)."""
        return self._tapes[self.instrument(symbol).symbol]

    def day(self, symbol: str) -> Candle:
        """The last 24 hours up to and including now, as 24 h tickers report them (from the listing
        if it is younger)."""
        now = self.now_ms()
        tape = self.tape(symbol)
        # Every ticker push of an instant asks again (one per connection): the window costs O(moves in a day).
        key = (now, tape.version)
        cached = self._days.get(symbol)
        if cached is None or cached[0] != key:
            cached = self._days[symbol] = (key, tape.window(now - DAY_MS, now + 1))
        return cached[1]

    def book(self, symbol: str, depth: int) -> Book:
        """The order book as the venue shows it (see ``engine/book.py``: a view; matching does not walk it)."""
        inst = self.instrument(symbol)
        return book(inst, self._markets[inst.symbol].last_price, self.orders.open_in_symbol_oldest_first(inst.symbol),
                    depth=depth)

    def book_seq(self, symbol: str) -> int:
        """The book's update id: it grows whenever the book may have changed (Bybit's ``u``, Binance's
        ``lastUpdateId``)."""
        return self._book_seqs.get(self.instrument(symbol).symbol, 0) + 1

    def market(self, symbol: str) -> MarketState:
        return self._markets[self.instrument(symbol).symbol]

    def account(self, account_id: AccountId) -> Account:
        return self._accounts[account_id]

    def account_by_key(self, api_key: str) -> Account | None:
        return self._by_key.get(api_key)

    def accounts(self) -> list[Account]:
        return list(self._accounts.values())

    def wallet(self, account_id: AccountId) -> Wallet:
        return self._wallets[account_id]

    def wallet_view(self, account_id: AccountId) -> WalletView:
        return wallet_view(
            self._wallets[account_id],
            self.positions(account_id),
            self._markets,
            self.orders.open_for(account_id),
            lambda symbol: self.leverage(account_id, symbol),
        )

    def leverage(self, account_id: AccountId, symbol: Symbol) -> Decimal:
        default = min(self.config.default_leverage, self._instruments[symbol].max_leverage)
        return self._leverage.get((account_id, symbol), default)

    def position(self, account_id: AccountId, symbol: str) -> Position:
        sym = self.instrument(symbol).symbol
        existing = self._positions.get((account_id, sym))
        if existing is not None:
            return existing
        return Position(
            account_id=account_id, symbol=sym, leverage=self.leverage(account_id, sym), created_ms=0, updated_ms=0
        )

    def positions(self, account_id: AccountId) -> list[Position]:
        """Every position the account has touched (traded or configured), flat ones included, by symbol."""
        return sorted((p for (a, _), p in self._positions.items() if a == account_id), key=lambda p: p.symbol)

    def all_positions(self) -> list[Position]:
        return sorted(self._positions.values(), key=lambda p: (p.account_id, p.symbol))

    # ---------------------------------------------------------------- commands

    def deposit(self, account_id: AccountId, amount: Decimal) -> None:
        with self._batch():
            self._wallets[account_id] = self._wallets[account_id].deposit(Decimal(amount))
            self._emit(WalletChanged(self.wallet_view(account_id)))

    def set_funding_rate(self, symbol: str, rate: Decimal | str) -> None:
        """The rate the next funding instants settle at (and the tickers show); 0.0001 until set."""
        with self._batch():
            sym = self.instrument(symbol).symbol
            self._markets[sym] = dataclasses.replace(self._markets[sym], funding_rate=Decimal(rate),
                                                     updated_ms=self.now_ms(), seq=self._markets[sym].seq + 1)
            self._emit(TickerChanged(self._markets[sym]))

    def set_price(self, symbol: str, price: Decimal | str | int) -> None:
        """Move the market: triggers conditional orders and fills resting limit orders that now cross."""
        with self._batch():
            inst = self.instrument(symbol)
            sym = inst.symbol
            # Prices live on the tick grid, as every venue quotes them; anything else is a test bug.
            check_price(Decimal(price), inst)
            self._markets[sym] = self._markets[sym].moved_to(Decimal(price), ms=self.now_ms())
            self._tapes[sym].moved(self.now_ms(), Decimal(price),
                                   orders_resting=bool(self.orders.open_in_symbol_oldest_first(sym)))
            self._emit(TickerChanged(self._markets[sym]))
            # A mark move alone changes no balance: venues push no wallet event for unrealised PnL.
            self._matcher.sweep(sym)

    def place_order(self, account_id: AccountId, req: OrderRequest) -> Order:
        with self._batch():
            inst = self.instrument(req.symbol)
            if inst.status != "Trading":
                raise Rejection(RejectReason.SYMBOL_NOT_TRADING, symbol=inst.symbol, status=inst.status)
            last = self._markets[inst.symbol].last_price
            check_qty(req, inst)
            if req.order_type is OrderType.LIMIT:
                assert req.price is not None, "a wire layer must refuse a limit order without a price"
                check_price(req.price, inst)
            if req.trigger_price is not None:
                check_price(req.trigger_price, inst)
                check_trigger(req, last)
            if req.order_type is OrderType.LIMIT and req.price is not None:
                reference = req.price
            else:
                reference = req.trigger_price if req.trigger_price is not None else last
            check_min_notional(req, inst, reference)
            for guard in (req.stop_loss, req.take_profit):
                if guard:
                    check_price(guard, inst)
            check_tpsl(req.side, reference, stop_loss=req.stop_loss, take_profit=req.take_profit)
            if req.client_order_id is not None and self.orders.open_by_client_id(account_id, req.client_order_id):
                raise Rejection(RejectReason.DUPLICATE_CLIENT_ORDER_ID, client_order_id=req.client_order_id)
            qty = req.qty
            if req.reduce_only and not req.is_conditional:
                qty = self._reducible(account_id, inst.symbol, req.side, qty)
            if not req.reduce_only and not req.is_conditional:
                self._check_margin(account_id, inst, req.side, qty, reference)
            order = self._new_order(account_id, inst, req, qty, last)
            self.orders.add(order)
            self._emit(OrderChanged(order))
            if order.status is OrderStatus.NEW:
                self._matcher.work(order)
            placed = self.orders.get(order.order_id)
            assert placed is not None
            if placed.status.is_open and _locks_margin(placed):
                self._emit(WalletChanged(self.wallet_view(account_id)))
            return placed

    def cancel_order(
        self,
        account_id: AccountId,
        symbol: str,
        *,
        order_id: VenueOrderId | None = None,
        client_order_id: ClientOrderId | None = None,
    ) -> Order:
        with self._batch():
            sym = self.instrument(symbol).symbol
            order = self.find_order(account_id, order_id=order_id, client_order_id=client_order_id)
            if order is None or order.symbol != sym or not order.status.is_open:
                raise Rejection(RejectReason.ORDER_NOT_FOUND, order_id=order_id, client_order_id=client_order_id)
            return self._cancel(order, CancelType.BY_USER)

    def amend_order(
        self, account_id: AccountId, symbol: str, change: Amendment, *,
        order_id: VenueOrderId | None = None, client_order_id: ClientOrderId | None = None,
    ) -> Order:
        """Change an open order's qty, limit price or trigger price in place (``simulator.engine.amend``)."""
        with self._batch():
            return amend(self, account_id, symbol, change, order_id=order_id, client_order_id=client_order_id)

    def cancel_all(
        self, account_id: AccountId, symbol: str | None = None, *, which: Callable[[Order], bool] = lambda o: True
    ) -> list[Order]:
        with self._batch():
            sym = None if symbol is None else self.instrument(symbol).symbol
            return [
                self._cancel(o, CancelType.BY_USER)
                for o in self.orders.open_for(account_id, sym)
                if which(o) and self.orders.get(o.order_id).status.is_open  # type: ignore[union-attr]
            ]

    def set_leverage(self, account_id: AccountId, symbol: str, leverage: Decimal) -> None:
        with self._batch():
            inst = self.instrument(symbol)
            if not inst.min_leverage <= leverage <= inst.max_leverage:
                raise Rejection(
                    RejectReason.LEVERAGE_OUT_OF_RANGE, leverage=leverage,
                    min_leverage=inst.min_leverage, max_leverage=inst.max_leverage,
                )
            if not inst.is_multiple(leverage, inst.leverage_step):
                raise Rejection(RejectReason.LEVERAGE_OFF_STEP, leverage=leverage, step=inst.leverage_step)
            if leverage == self.leverage(account_id, inst.symbol):
                raise Rejection(RejectReason.LEVERAGE_NOT_MODIFIED, leverage=leverage)
            self._leverage[(account_id, inst.symbol)] = leverage
            self._put_position(
                dataclasses.replace(self.position(account_id, inst.symbol), leverage=leverage, updated_ms=self.now_ms())
            )
            self._emit(WalletChanged(self.wallet_view(account_id)))

    def set_position_tpsl(
        self, account_id: AccountId, symbol: str, *, stop_loss: Decimal | None, take_profit: Decimal | None
    ) -> None:
        """Set (or, with 0, clear) the stop-loss and take-profit that guard the whole position."""
        with self._batch():
            self._tpsl.set_full(account_id, self.instrument(symbol), stop_loss=stop_loss, take_profit=take_profit)

    def place_partial_tpsl(
        self, account_id: AccountId, symbol: str, *, stop_loss: Decimal | None, take_profit: Decimal | None,
        sl_size: Decimal | None, tp_size: Decimal | None,
    ) -> None:
        with self._batch():
            self._tpsl.place_partial(
                account_id, self.instrument(symbol), stop_loss=stop_loss, take_profit=take_profit,
                sl_size=sl_size, tp_size=tp_size,
            )

    def restart(self) -> None:
        """A venue restart: after it, closed orders are served by history only."""
        self.orders.forget_recent_closed()

    def queried_positions(self, positions: list[Position]) -> list[Position]:
        """``positions`` as a client's query sees them: as they were a lag ago, when the plan says so."""
        lag = self.faults.position_lag() if self.faults is not None else None
        if lag is None:
            return positions
        name, ms = lag
        as_of = self.now_ms() - ms
        seen = []
        for current in positions:
            history = self._position_history.get((current.account_id, current.symbol), [])
            older = [p for at, p in history if at <= as_of]
            shown = older[-1] if older else dataclasses.replace(current, size=Decimal(0), entry_price=Decimal(0))
            if shown.size != current.size:
                self.faults.note(name, symbol=current.symbol, told=f"size {shown.size} (as {ms} ms ago)",  # type: ignore[union-attr]
                                 actual=str(current.size))
            seen.append(shown)
        return seen

    def queryable(self, orders: list[Order]) -> list[Order]:
        """``orders`` as a client's query sees them: the query model's consistency faults applied."""
        if self.faults is None:
            return orders
        now = self.now_ms()
        return [o for o in orders if not self.faults.hidden_from_queries(o.created_ms, now, str(o.order_id))]

    def find_order(
        self,
        account_id: AccountId,
        *,
        order_id: VenueOrderId | None = None,
        client_order_id: ClientOrderId | None = None,
    ) -> Order | None:
        if order_id is not None:
            order = self.orders.get(order_id)
            return order if order is not None and order.account_id == account_id else None
        if client_order_id is not None:
            return self.orders.open_by_client_id(account_id, client_order_id) or self.orders.latest_by_client_id(
                account_id, client_order_id
            )
        return None

    # ---------------------------------------------------------------- internals

    @contextlib.contextmanager
    def _batch(self) -> Iterator[None]:
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            if self._depth == 0 and self._pending:
                batch, self._pending = tuple(self._pending), []
                for listener in list(self._listeners):
                    listener(batch)

    def _emit(self, event: EngineEvent) -> None:
        self._pending.append(event)
        # What can change a book: a price move, or an order of the symbol changing.
        if isinstance(event, TickerChanged):
            self._book_seqs[event.market.symbol] = self._book_seqs.get(event.market.symbol, 0) + 1
        elif isinstance(event, OrderChanged):
            self._book_seqs[event.order.symbol] = self._book_seqs.get(event.order.symbol, 0) + 1

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _emit_order(self, order: Order) -> None:
        self._emit(OrderChanged(order))

    def _settle(self, account_id: AccountId, realised_gross: Decimal, fee: Decimal) -> None:
        self._wallets[account_id] = self._wallets[account_id].settle(realised_gross, fee)

    def _put_position(self, position: Position) -> None:
        self._positions[(position.account_id, position.symbol)] = position
        history = self._position_history.setdefault((position.account_id, position.symbol), [])
        history.append((self.now_ms(), position))
        del history[:-POSITION_HISTORY]
        self._emit(PositionChanged(position))

    def _update(self, order: Order) -> Order:
        self.orders.update(order)
        self._emit(OrderChanged(order))
        return order

    def protection_price(self, inst: Instrument, side: Side) -> Decimal:
        last = self._markets[inst.symbol].last_price
        factor = 1 + self.config.market_protection * side.sign
        return min(max(inst.round_price(last * factor), inst.min_price), inst.max_price)

    def _new_order(
        self, account_id: AccountId, inst: Instrument, req: OrderRequest, qty: Decimal, last: Decimal
    ) -> Order:
        now = self.now_ms()
        if req.order_type is OrderType.LIMIT:
            assert req.price is not None
            price = req.price
        else:
            price = Decimal(0) if req.is_conditional else self.protection_price(inst, req.side)
        tif = req.time_in_force or (TimeInForce.IOC if req.order_type is OrderType.MARKET else TimeInForce.GTC)
        return Order(
            order_id=self.ids.order_id(),
            client_order_id=req.client_order_id,
            account_id=account_id,
            symbol=inst.symbol,
            side=req.side,
            order_type=req.order_type,
            price=price,
            qty=qty,
            time_in_force=tif,
            status=OrderStatus.UNTRIGGERED if req.is_conditional else OrderStatus.NEW,
            created_ms=now,
            updated_ms=now,
            last_price_on_created=last,
            reduce_only=req.reduce_only,
            close_on_trigger=req.close_on_trigger,
            trigger_price=req.trigger_price,
            trigger_direction=req.trigger_direction,
            stop_order_type=self._tpsl.stop_order_type_for(req),
            take_profit=req.take_profit,
            stop_loss=req.stop_loss,
            tpsl_mode=self._tpsl.mode_for(req),
        )

    def _reducible(self, account_id: AccountId, symbol: Symbol, side: Side, qty: Decimal) -> Decimal:
        position = self.position(account_id, symbol)
        if position.is_flat or position.side is side:
            raise Rejection(
                RejectReason.REDUCE_ONLY_NOTHING_TO_REDUCE, side=side.value, position_size=position.size
            )
        return min(qty, position.qty)

    def _check_margin(self, account_id: AccountId, inst: Instrument, side: Side, qty: Decimal, price: Decimal,
                      *, credit: Decimal = Decimal(0)) -> None:
        position = self.position(account_id, inst.symbol)
        increase = qty if position.side is not side.opposite else max(Decimal(0), qty - position.qty)
        if increase == 0:
            return
        required = increase * price / self.leverage(account_id, inst.symbol) + qty * price * inst.taker_fee_rate
        available = self.wallet_view(account_id).available + credit
        if required > available:
            raise Rejection(RejectReason.INSUFFICIENT_BALANCE, required=required, available=available)

    def _cancel(self, order: Order, cancel_type: CancelType, *, reject_reason: str = "EC_PerCancelRequest") -> Order:
        cancelled = self._update(
            order.transition(
                OrderStatus.CANCELLED, ms=self.now_ms(), cancel_type=cancel_type, reject_reason=reject_reason
            )
        )
        if order.is_position_tpsl:
            self._tpsl.forget(order)
        if _locks_margin(order):
            self._emit(WalletChanged(self.wallet_view(order.account_id)))
        return cancelled


def _locks_margin(order: Order) -> bool:
    """Whether the order, while open, holds initial margin (so placing or cancelling it moves the wallet)."""
    return order_initial_margin(order, Decimal(1)) > 0
