"""A user's own subject, loaded by ``--subject tests.scenarios.user_subject:make``: here, our bot under another name."""

from __future__ import annotations

from scenarios.subjects.ours import OurBot


class MyBot(OurBot):
    name = "my-bot"


def make(seed: int) -> MyBot:
    return MyBot(seed)
