"""Venue adapters over ccxt: the only place the bot touches ccxt."""
