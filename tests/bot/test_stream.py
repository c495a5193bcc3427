"""The bot's order stream (``bot/adapters/stream.py``) outlives what ccxt.pro does not recover from."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from bot.adapters.stream import REWATCH_S, SILENT_REWATCHES_BEFORE_RECONNECT
from bot.lifecycle import IntentState
from bot.values import Side
from simulator.faults import DropFrame, Fault, OnCall, StreamTarget
from tests.bot.test_opener_bybit import decided_source
from tests.bot.world import GIGA, World

pytestmark = pytest.mark.virtual_time


async def test_a_lost_auth_reply_costs_the_stream_one_reconnect_not_its_life(world: World) -> None:
    # ccxt.pro waits for the auth reply forever on that socket and never asks again: without a fresh
    # connection, every order would be confirmed by REST alone for as long as the bot runs.
    world.running.faults.add(Fault("auth lost", StreamTarget("/v5/private", "auth"), DropFrame(), OnCall(1)))
    bot = await world.bot(subscribed=False)
    streams = world.running.venue.streams
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(streams.wait_subscribed("order"), REWATCH_S)  # deaf, as ccxt leaves it

    await asyncio.wait_for(streams.wait_subscribed("order"), SILENT_REWATCHES_BEFORE_RECONNECT * REWATCH_S)
    record = await bot.opener.open(GIGA, Side.SHORT, Decimal(920), Decimal("0.02"))

    assert record.state is IntentState.OPEN
    assert decided_source(bot.repo, record.intent.intent_id) == "push"


async def test_the_stream_outlives_its_connection_closed_under_a_pending_watch(world: World) -> None:
    # Closing ccxt.pro's sockets cancels the futures waiting on them: a cancellation the stream did
    # not ask for is a failure to recover from, not a reason to stop.
    bot = await world.bot()
    await asyncio.sleep(1)
    await bot.venue._rest.close_ws_clients()
    await asyncio.sleep(5)

    assert not bot.venue._stream._task.done()
    record = await bot.opener.open(GIGA, Side.SHORT, Decimal(920), Decimal("0.02"))
    assert record.state is IntentState.OPEN
    assert decided_source(bot.repo, record.intent.intent_id) == "push"
