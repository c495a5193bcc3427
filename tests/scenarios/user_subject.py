"""A user's own subject, loaded by ``--subject tests.scenarios.user_subject:make``: here, our bot under another name."""

from __future__ import annotations

import asyncio

from scenarios.subjects.ours import OurBot


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
