"""Every identifier the venue issues comes from the run's seeded RNG."""

from __future__ import annotations

import random
import uuid

from simulator.engine.values import ExecId, VenueOrderId


class IdSource:
    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def order_id(self) -> VenueOrderId:
        return VenueOrderId(self.uuid())

    def exec_id(self) -> ExecId:
        return ExecId(self.uuid())

    def child(self) -> IdSource:
        """An independent stream of ids, seeded from this one.

        Wire layers take their connection and message ids from a child, so how many
        sockets a client happens to open never shifts the order ids the engine issues.
        """
        return IdSource(random.Random(self._rng.getrandbits(64)))

    def uid(self) -> int:
        return self._rng.randrange(100_000_000, 999_999_999)
