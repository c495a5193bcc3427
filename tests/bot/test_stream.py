"""The bot's order stream (``bot/adapters/stream.py``) outlives what ccxt.pro does not recover from."""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal

import pytest

from bot.adapters.stream import REWATCH_S, SILENT_REWATCHES_BEFORE_RECONNECT, OrderStream
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


async def test_closing_the_stream_as_a_push_arrives_still_stops_it() -> None:
    # asyncio.wait_for (3.11) returns a result that lands in the same instant as its cancellation and
    # drops the cancellation: one cancel was not always enough, and a restart hung on the old bot.
    loop = asyncio.get_running_loop()

    class Pro:  # only what OrderStream calls; the real client is exercised by the tests above
        future: asyncio.Future[list[dict[str, object]]] | None = None

        async def watch_orders(self) -> list[dict[str, object]]:
            self.future = loop.create_future()
            return await self.future

    pro = Pro()
    stream = OrderStream(pro, logging.getLogger("test.stream"))
    stream.start()
    await asyncio.sleep(0)
    await asyncio.sleep(0)  # the stream now waits on the watch
    assert pro.future is not None
    pro.future.set_result([])  # a push arrives ...
    await asyncio.wait_for(stream.close(), 10)  # ... as the stream is closed

    assert stream._task is not None and stream._task.done()
