"""Where orders and executions live, and the windows through which they can be queried."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from simulator.engine.fills import Execution
from simulator.engine.orders import Order
from simulator.engine.values import AccountId, ClientOrderId, Symbol, VenueOrderId

MAX_CLOSED_WINDOW = 1_000_000


class OrderStore:
    """All orders ever accepted, plus each account's window of recently closed orders.

    The window models Bybit's "recent 500 closed orders" served by its real-time
    query: older closed orders are reachable only through history.
    """

    def __init__(self, *, closed_window: int) -> None:
        if closed_window < 0:
            raise ValueError(f"closed_window must be >= 0, was {closed_window}")
        self._closed_window = closed_window
        self._orders: dict[VenueOrderId, Order] = {}
        self._position: dict[VenueOrderId, int] = {}  # acceptance sequence number
        self._by_account: dict[AccountId, list[VenueOrderId]] = {}
        self._open_by_client: dict[tuple[AccountId, ClientOrderId], VenueOrderId] = {}
        self._by_client: dict[tuple[AccountId, ClientOrderId], VenueOrderId] = {}
        self._recent_closed: dict[AccountId, deque[VenueOrderId]] = {}
        # Open orders in acceptance order (dicts keep insertion order): matching walks these.
        self._open: dict[VenueOrderId, None] = {}
        self._executions: dict[AccountId, list[Execution]] = {}

    @property
    def closed_window(self) -> int:
        return self._closed_window

    def add(self, order: Order) -> None:
        if order.order_id in self._orders:
            raise ValueError(f"order id {order.order_id} was issued twice")
        self._orders[order.order_id] = order
        self._position[order.order_id] = len(self._position)
        self._by_account.setdefault(order.account_id, []).append(order.order_id)
        if order.client_order_id is not None:
            self._by_client[(order.account_id, order.client_order_id)] = order.order_id
        self._index(order, previous=None)

    def update(self, order: Order) -> Order:
        previous = self._orders[order.order_id]
        self._orders[order.order_id] = order
        self._index(order, previous=previous)
        return previous

    def _index(self, order: Order, *, previous: Order | None) -> None:
        key = (order.account_id, order.client_order_id) if order.client_order_id is not None else None
        if order.status.is_open:
            self._open[order.order_id] = None
            if key is not None:
                self._open_by_client[key] = order.order_id
            return
        self._open.pop(order.order_id, None)
        if key is not None and self._open_by_client.get(key) == order.order_id:
            del self._open_by_client[key]
        if previous is None or previous.status.is_open:
            window = self._recent_closed.setdefault(
                order.account_id, deque(maxlen=self._closed_window or None)
            )
            if self._closed_window:
                window.append(order.order_id)

    def get(self, order_id: VenueOrderId) -> Order | None:
        return self._orders.get(order_id)

    def open_by_client_id(self, account_id: AccountId, client_id: ClientOrderId) -> Order | None:
        order_id = self._open_by_client.get((account_id, client_id))
        return None if order_id is None else self._orders[order_id]

    def latest_by_client_id(self, account_id: AccountId, client_id: ClientOrderId) -> Order | None:
        order_id = self._by_client.get((account_id, client_id))
        return None if order_id is None else self._orders[order_id]

    def all_for(self, account_id: AccountId) -> list[Order]:
        """Every order of the account, newest first."""
        return [self._orders[i] for i in reversed(self._by_account.get(account_id, []))]

    def open_for(self, account_id: AccountId, symbol: Symbol | None = None) -> list[Order]:
        """Open orders, newest first."""
        found = (self._orders[i] for i in reversed(self._open))
        return [o for o in found if o.account_id == account_id and (symbol is None or o.symbol == symbol)]

    def open_in_symbol_oldest_first(self, symbol: Symbol) -> list[Order]:
        """Open orders of every account in one symbol, in acceptance order (the matching order)."""
        return [o for o in (self._orders[i] for i in self._open) if o.symbol == symbol]

    def recent_closed_for(self, account_id: AccountId) -> list[Order]:
        """The closed orders still inside the real-time window, most recently closed first."""
        return [self._orders[i] for i in reversed(self._recent_closed.get(account_id, ()))]

    def in_realtime_view(self, account_id: AccountId) -> list[Order]:
        """What the real-time query can see: open orders plus the recent-closed window, newest first."""
        visible = self.open_for(account_id)
        visible += [self._orders[i] for i in self._recent_closed.get(account_id, ())]
        return sorted(visible, key=lambda o: self._position[o.order_id], reverse=True)

    def resize_closed_window(self, size: int) -> None:
        """Serve only the newest ``size`` closed orders to real-time queries from now on (0: none)."""
        if not 0 <= size <= MAX_CLOSED_WINDOW:
            raise ValueError(f"the closed-order window must be 0 to {MAX_CLOSED_WINDOW}, was {size}")
        resized = {account_id: deque(list(window)[-size:] if size else [], maxlen=size or None)
                   for account_id, window in self._recent_closed.items()}
        self._closed_window = size
        self._recent_closed = resized

    def forget_recent_closed(self) -> None:
        """After a venue restart closed orders are served by history only."""
        for window in self._recent_closed.values():
            window.clear()

    def add_execution(self, execution: Execution) -> None:
        self._executions.setdefault(execution.account_id, []).append(execution)

    def executions_for(self, account_id: AccountId) -> list[Execution]:
        """Executions, newest first."""
        return list(reversed(self._executions.get(account_id, [])))

    def all_orders(self) -> Iterable[Order]:
        return self._orders.values()
