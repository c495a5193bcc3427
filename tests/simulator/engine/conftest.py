from __future__ import annotations

import random
from decimal import Decimal

import pytest

from simulator.catalog import default_instruments
from simulator.clock import ManualClock
from simulator.engine import Account, Engine


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def engine(clock: ManualClock) -> Engine:
    engine = Engine(clock=clock, rng=random.Random(7))
    for instrument, price in default_instruments():
        engine.add_instrument(instrument, price)
    return engine


@pytest.fixture
def account(engine: Engine) -> Account:
    return engine.add_account(api_key="key", api_secret="secret", balance=Decimal(10_000))
