"""Every Binance USD-M endpoint the simulator serves."""

from simulator.binance.handlers import account, algo, market, trade

ROUTES = (*market.ROUTES, *trade.ROUTES, *algo.ROUTES, *account.ROUTES)
