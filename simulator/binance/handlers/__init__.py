"""Every Binance USD-M endpoint the simulator serves."""

from simulator.binance.handlers import account, algo, batch, candles, market, public_trades, trade

ROUTES = (*market.ROUTES, *candles.ROUTES, *public_trades.ROUTES, *trade.ROUTES, *batch.ROUTES, *algo.ROUTES,
          *account.ROUTES)
