"""Bybit v5 REST endpoints, one module per API group."""

from __future__ import annotations

from simulator.bybit.handlers import account, amend, batch, market, position, trade
from simulator.bybit.routing import Route

ROUTES: tuple[Route, ...] = (*market.ROUTES, *account.ROUTES, *trade.ROUTES, *batch.ROUTES, *amend.ROUTES,
                             *position.ROUTES)
