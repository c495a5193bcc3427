"""Bybit v5 (unified trading account, USDT linear) wire layer over the venue engine."""
