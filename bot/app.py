"""The bot assembled from its configuration, and its supervisor loop.

``Bot.run`` resumes unfinished intents and reconciles with the venue on startup and then every
sync interval, until told to stop. It is the one place that catches broadly: a failed cycle is
logged and the next one re-reads everything; only ``Halt`` ends the loop.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import random
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from bot.adapters.binance import BinanceVenue
from bot.adapters.bybit import BybitVenue
from bot.clock import Clock, SystemClock
from bot.config import BotConfig
from bot.errors import Halt, Rejected, Throttled
from bot.lock import DatabaseLock
from bot.opener import PositionOpener
from bot.policy import Policy
from bot.reconcile import SyncRules
from bot.repository import EventSink, IntentRecord, PositionRecord, Repository
from bot.synchronizer import Synchronizer, filled_stop
from bot.values import PositionId, Side, VenueOrderId
from bot.venue import Venue

log = logging.getLogger("bot")


def build_venue(config: BotConfig, client_options: Mapping[str, Any] | None = None) -> Venue:
    v = config.venue
    if v.name == "bybit":
        return BybitVenue(api_key=v.api_key, secret=v.api_secret, rest_url=v.rest_url, ws_url=v.ws_url,
                          testnet=v.testnet, client_options=client_options)
    if v.name == "binance":
        return BinanceVenue(api_key=v.api_key, secret=v.api_secret, rest_url=v.rest_url, ws_url=v.ws_url,
                            testnet=v.testnet, client_options=client_options)
    raise Halt(f"the bot doesn't (yet) support venue {v.name!r}")


_DUE_WITHIN_S = 0.001
# Past this many failed passes in a row the retry delay has long reached the interval (5 s x 2**6 is
# 320 s); the exponent stops growing so that no outage, however long, overflows it.
_MAX_DOUBLINGS = 16


class Pass(enum.Enum):
    """How a supervisor pass's reconcile ended, which decides when the next pass comes."""

    SYNCED = "synced"  # the next pass an interval later
    FAILED = "failed"  # retried sooner
    THROTTLED = "throttled"  # the venue limits our rate: an interval later, never sooner


class Bot:
    def __init__(self, config: BotConfig, venue: Venue, repo: Repository, *, clock: Clock, rng: random.Random,
                 policy: Policy | None = None) -> None:
        self.config = config
        self.venue = venue
        self.repo = repo
        self._lock: DatabaseLock | None = None
        policy = policy or Policy(sync_interval_s=config.sync_interval_s)
        self.policy = policy
        self.clock = clock
        self.opener = PositionOpener(venue, repo, clock=clock, rng=rng, policy=policy, prefix=config.client_prefix)
        rules = SyncRules(client_prefix=config.client_prefix, stop_fraction=config.default_stop_fraction,
                          settle_ms=int(config.sync_settle_s * 1000))
        self.sync = Synchronizer(venue, repo, self.opener, rules=rules, clock=clock, rng=rng, policy=policy)
        # (open position, its stop) pairs whose stop was pushed filled, as last seen
        self._stopped_out: set[tuple[PositionId, VenueOrderId]] = set()

    @classmethod
    async def start(cls, config: BotConfig, *, clock: Clock | None = None, rng: random.Random | None = None,
                    client_options: Mapping[str, Any] | None = None, on_event: EventSink | None = None) -> Bot:
        """Connect to the venue and open the database; ``rng`` defaults to the config's seed or fresh entropy."""
        clock = clock or SystemClock()
        rng = rng or random.Random(config.seed)  # seed None: fresh entropy, ids never repeat across runs
        lock = DatabaseLock.take(config.database)
        venue: Venue | None = None
        try:
            venue = build_venue(config, client_options)
            await venue.start()
        except BaseException:
            if venue is not None:
                await venue.close()  # its client's connections, which a failed start leaves open
            lock.release()
            raise
        repo = Repository.open(str(config.database), clock, on_event)
        log.info("bot started venue=%s database=%s unfinished=%d open_positions=%d", venue.name, config.database,
                 len(repo.unfinished()), len(repo.open_positions()))
        bot = cls(config, venue, repo, clock=clock, rng=rng)
        bot._lock = lock
        return bot

    async def close(self) -> None:
        await self.venue.close()
        self.repo.close()
        if self._lock is not None:
            self._lock.release()
        log.info("bot stopped")

    # ------------------------------------------------------------------ commands

    async def open(self, symbol: str, side: Side, qty: Decimal) -> IntentRecord:
        """Open a protected position within the configured limits."""
        limits = self.config.symbol(symbol)
        if qty > limits.max_qty:
            raise Rejected(f"{qty} {symbol} exceeds max_qty {limits.max_qty}; lower qty or raise the limit")
        held = len(self.repo.open_positions()) + len(self.repo.unfinished())
        if held >= self.config.max_open_positions:
            raise Rejected(f"{held} positions open or opening, max_open_positions is {self.config.max_open_positions}")
        return await self.opener.open(symbol, side, qty, limits.stop_fraction)

    async def close_symbol(self, symbol: str) -> PositionRecord:
        position = self.repo.open_position_on(symbol)
        if position is None:
            raise Rejected(f"the database holds no open {symbol} position; `status` lists what it holds")
        return await self.opener.close(position.position_id, reason="requested")

    # ------------------------------------------------------------------ supervision

    async def step(self) -> Pass:
        """One supervisor pass: resume unfinished intents, then reconcile. Failures wait for the next pass.
        Returns how the reconcile ended.

        The one broad catch in the bot: whatever a part raises, the other part still runs and the
        next pass re-reads everything; only ``Halt`` stops the bot.
        """
        try:
            await self.opener.resume()
        except Halt:
            raise
        except Exception:  # noqa: BLE001 - top-level supervisor
            log.exception("resuming intents failed; the next pass retries")
        try:
            actions = await self.sync.cycle()
        except Halt:
            raise
        except Throttled:
            log.warning("the sync pass was rate limited; the next pass waits the interval", exc_info=True)
            return Pass.THROTTLED
        except Exception:  # noqa: BLE001 - top-level supervisor
            log.exception("the sync pass failed; the next pass retries")
            return Pass.FAILED
        if actions:
            log.info("sync applied %d action(s): %s", len(actions), ", ".join(type(a).__name__ for a in actions))
        return Pass.SYNCED

    async def run(self, stop: asyncio.Event) -> None:
        """Supervise until ``stop`` is set: a pass now, then one every sync interval (start to start),
        one at once when the venue pushes a stop of ours filled, and a failed pass retried sooner
        (unless the venue was limiting our rate)."""
        loop = asyncio.get_running_loop()
        interval = self.config.sync_interval_s
        due = loop.time()
        failures = 0
        while not stop.is_set():
            outcome = await self.step()
            now = loop.time()
            while due <= now + _DUE_WITHIN_S:  # a pass that overran its interval skips the missed ticks
                due += interval
            failures = failures + 1 if outcome is Pass.FAILED else 0
            if failures:
                due = min(due, self._retry_at(now, failures))
            await self._until_next_pass(stop, due)

    def _retry_at(self, now: float, failures: int) -> float:
        """When to retry after ``failures`` failed passes in a row: ``sync_retry_s`` after, doubling, within
        an interval. Waiting out the interval would leave the database that much longer behind the venue
        (a stopped-out position past a minute, found by the fuzzer). Never sooner than an interval after
        the latest flat reading, though (a pass may have taken one before it failed): two flat readings
        close a position out, and only an interval between them outlasts a list that lags."""
        interval = self.config.sync_interval_s
        at = now + min(interval, self.policy.sync_retry_s * 2 ** min(failures - 1, _MAX_DOUBLINGS))
        latest_ms = max((readings[-1] for readings in self.sync.flat_readings.values() if readings), default=None)
        if latest_ms is not None:
            at = max(at, now + (latest_ms - self.clock.now_ms()) / 1000 + interval)
        return at

    async def _until_next_pass(self, stop: asyncio.Event, due: float) -> None:
        # A stop that fired took its position with it; waiting out the interval would leave the
        # database ahead of the venue that much longer (and a failed pass would double it).
        loop = asyncio.get_running_loop()
        # Under a millisecond counts as due: float seconds can leave a sliver no timer ever waits out.
        while not stop.is_set() and (remaining := due - loop.time()) > _DUE_WITHIN_S:
            # Asked before looking, so a push landing after the look still wakes the wait; looked at
            # before waiting, so a push that landed during the pass counts too.
            pushed = asyncio.ensure_future(self.venue.next_push(remaining))
            if self._newly_stopped_out():
                pushed.cancel()
                await asyncio.gather(pushed, return_exceptions=True)
                return
            stopping = asyncio.ensure_future(stop.wait())
            try:
                await asyncio.wait({stopping, pushed}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in (stopping, pushed):
                    waiter.cancel()
                await asyncio.gather(stopping, pushed, return_exceptions=True)

    def _newly_stopped_out(self) -> bool:
        """Whether a stop of an open position was pushed filled since the last time this said so."""
        fired = {(p.position_id, report.venue_order_id) for p in self.repo.open_positions()
                 if (report := filled_stop(self.venue, p))}
        new = fired - self._stopped_out
        self._stopped_out = fired
        return bool(new)
