"""A local, faithful fake of crypto derivatives venues that unmodified ccxt talks to.

The engine (``simulator.engine``) is venue-agnostic; each venue's wire layer
(``simulator.bybit``) translates its REST and WebSocket protocol onto it.
"""
