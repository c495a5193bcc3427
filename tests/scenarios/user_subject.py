"""A user's own subject, loaded by ``--subject tests.scenarios.user_subject:make``: here, our bot under another name."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

from scenarios.subjects.ours import OurBot
from virtualtime.trace import Recorder


class MyBot(OurBot):
    name = "my-bot"


def make(seed: int) -> MyBot:
    return MyBot(seed)


class HangsOnRestart(OurBot):
    """A subject that never comes back from a restart."""

    name = "hangs-on-restart"

    async def restart(self) -> None:
        await self.close()
        await asyncio.Event().wait()


def make_hanging(seed: int) -> HangsOnRestart:
    return HangsOnRestart(seed)


class Noting(OurBot):
    """A subject that reports events of its own, under its own actor name."""

    name = "noting"

    async def start(self, venue, workdir: Path, trace: Recorder) -> None:  # type: ignore[no-untyped-def]
        self._notes = trace
        await super().start(venue, workdir, trace)

    async def open(self, symbol: str, side: str, qty: Decimal) -> bool:
        opened = await super().open(symbol, side, qty)
        self._notes.record("naive", "opened", symbol=symbol, ok=opened, note=None)
        return opened


def make_noting(seed: int) -> Noting:
    return Noting(seed)


class CannotStart(OurBot):
    name = "cannot-start"

    async def start(self, venue, workdir: Path, trace: Recorder) -> None:  # type: ignore[no-untyped-def]
        raise RuntimeError("no config file found")


def make_unstartable(seed: int) -> CannotStart:
    return CannotStart(seed)


FLAKY_RUNS = {"closed": 0}


class Flaky(OurBot):
    """Claims a position that does not exist, in its first world only: a bug that does not repeat."""

    name = "flaky"

    def db_positions(self) -> list[tuple[str, str, Decimal]]:
        real = super().db_positions()
        return [*real, ("BTC/USDT:USDT", "long", Decimal(1))] if FLAKY_RUNS["closed"] == 0 else real

    async def close(self) -> None:
        FLAKY_RUNS["closed"] += 1
        await super().close()


def make_flaky(seed: int) -> Flaky:
    return Flaky(seed)


class CannotClose(OurBot):
    name = "cannot-close"

    async def close(self) -> None:
        await super().close()
        raise RuntimeError("database is locked")


def make_unclosable(seed: int) -> CannotClose:
    return CannotClose(seed)


class PhantomCannotClose(CannotClose):
    """Claims a position the venue does not hold, and cannot close: both must be reported."""

    name = "phantom-cannot-close"

    def db_positions(self) -> list[tuple[str, str, Decimal]]:
        return [*super().db_positions(), ("BTC/USDT:USDT", "long", Decimal(1))]


def make_phantom_unclosable(seed: int) -> PhantomCannotClose:
    return PhantomCannotClose(seed)


class Stubborn(OurBot):
    """A sync pass that will not be cancelled (more refusals than the runner's 60 tries)."""

    name = "stubborn"

    async def sync_pass(self) -> None:
        refused = 0
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                refused += 1
                if refused > 70:
                    raise


def make_stubborn(seed: int) -> Stubborn:
    return Stubborn(seed)
