"""Binance USD-M futures: the wire layer over the shared engine."""
